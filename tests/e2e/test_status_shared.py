"""/_owt/status and /_owt/metrics describe the whole server behind every front.

Under lighttpd and nginx an owt-fcgi master forks the workers, which share its scoreboard.
Under Apache mod_fcgid, spawn-fcgi + multiwatch and CGI the processes have no common
parent: they share a scoreboard file (``--scoreboard``; lib/owt_scoreboard.h). For each
front: requests held in flight on some processes are listed by whichever process answers
the status request, every worker the front started is listed (and nothing else), the
counters add up across processes, and a process that is killed keeps its counts in the
totals.
"""

from __future__ import annotations

import json
import os
import signal
import tempfile
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import owt_e2e
from conftest_fronts import FRONTS, FrontServer, front_servers, log_of, require_front  # noqa: F401
from test_fronts import send

HOLD = """
import os, time
def run(marker):
    deadline = time.monotonic() + 30
    while not os.path.exists(marker) and time.monotonic() < deadline:
        time.sleep(0.02)
    return str(os.getpid())
"""

HOLDS = {"apache": 1}
"""Requests held at once: mod_fcgid gives a process one request at a time and starts at most
--workers (2) of them, so with one held the status request goes to the other process."""


@pytest.fixture(params=[f for f in FRONTS if f != "cgi"])
def fcgi_front(request: pytest.FixtureRequest, front_servers: Any) -> FrontServer:
    """The shared --workers 2 server of each FastCGI front (CGI: test_cgi_runs_share_one_board)."""
    return front_servers(request.param)


def status(s: FrontServer) -> dict[str, Any]:
    a = send(s.port, "GET", "/_owt/status")
    assert a.status == 200, f"{s.front}: {a.status} {a.body[:300]!r}" + log_of(s)
    return json.loads(a.body)


def try_status(s: FrontServer) -> dict[str, Any] | None:
    """The status, or None when the front failed the request (mod_fcgid may hand one to a
    process that has just died, or is not up yet: a 500)."""
    a = send(s.port, "GET", "/_owt/status")
    return json.loads(a.body) if a.status == 200 else None


def held_paths(st: dict[str, Any]) -> dict[str, int]:
    """In-flight /hold-N requests of a status, and the pid of the worker holding each."""
    return {r["path"]: w["pid"] for w in st["workers"] for r in w["inflight"] if r["path"].startswith("/hold-")}


@pytest.fixture
def marker_dir() -> Iterator[Path]:
    """A directory every worker can look into (Apache started as root runs them as www-data)."""
    d = Path(tempfile.mkdtemp(prefix="owt-hold-"))
    d.chmod(0o755)
    yield d
    for f in d.iterdir():
        f.unlink()
    d.rmdir()


class Holds:
    """n requests that stay in flight until release()."""

    def __init__(self, s: FrontServer, marker: Path, n: int) -> None:
        self.marker = marker
        self.answers: list[Any] = [None] * n
        self.threads = [threading.Thread(target=self._one, args=(s, i), daemon=True) for i in range(n)]
        for t in self.threads:
            t.start()

    def _one(self, s: FrontServer, i: int) -> None:
        query = urllib.parse.urlencode({"code_b64": owt_e2e.b64(HOLD), "kwargs": json.dumps({"marker": str(self.marker)})})
        try:
            self.answers[i] = send(s.port, "GET", f"/hold-{i}?{query}", timeout=40)
        except Exception as exc:  # reported by release()
            self.answers[i] = exc

    def release(self) -> list[int]:
        self.marker.write_text("go")
        for t in self.threads:
            t.join(40)
        pids = []
        for a in self.answers:
            assert not isinstance(a, Exception) and a is not None and a.status == 200, repr(a)
            pids.append(int(a.body))
        return pids


def test_every_worker_and_request_whichever_answers(fcgi_front: FrontServer, marker_dir: Path) -> None:
    s = fcgi_front
    n = HOLDS.get(s.front, 2)
    holds = Holds(s, marker_dir / "go", n)
    seen: dict[str, Any] = {}

    def all_held() -> bool:
        st = try_status(s)
        seen["status"] = st
        return st is not None and len(held_paths(st)) == n and st["totals"]["workers"] == 2

    try:
        owt_e2e.wait_for(all_held, f"{s.front}: status lists 2 workers and the {n} held requests", timeout=30)
        st = seen["status"]
        pids = sorted(w["pid"] for w in st["workers"])
        assert pids == sorted(s.worker_pids()), f"{s.front}: listed {pids}, running {s.worker_pids()}" + log_of(s)
        assert st["pid"] in pids
        assert st["scoreboard"] == ("master" if s.front in ("lighttpd", "nginx") else "shared")
        holders = held_paths(st)
        if s.front == "apache":  # the status came from the process not holding the request
            assert st["pid"] not in holders.values(), st
        assert st["totals"]["busy"] >= n
    finally:
        answered = holds.release()
    assert sorted(answered) == sorted(holders[f"/hold-{i}"] for i in range(n)), (answered, holders)


def test_counters_add_up(fcgi_front: FrontServer) -> None:
    """Every request answered, by any process, is in the totals and the duration histogram."""
    s = fcgi_front
    first = status(s)
    n = 12
    for i in range(n):
        a = send(s.port, "GET", "/count?" + urllib.parse.urlencode({"code": f"lambda: {i}"}))
        assert (a.status, a.body) == (200, str(i).encode())
    after = status(s)
    t0, t1 = first["totals"], after["totals"]
    # The n requests and the first status request itself (counted once it was answered).
    assert t1["requests"] - t0["requests"] == n + 1, (t0, t1)
    assert t1["latency"]["count"] - t0["latency"]["count"] == n + 1, (t0["latency"], t1["latency"])
    assert sum(t1["latency"]["buckets"]) == t1["latency"]["count"]
    assert sum(w["requests"] for w in after["workers"]) <= t1["requests"]
    metrics = send(s.port, "GET", "/_owt/metrics").body.decode()
    for w in after["workers"]:
        assert f'owt_requests_total{{pid="{w["pid"]}"}}' in metrics
        assert f'owt_request_duration_seconds_count{{pid="{w["pid"]}"}}' in metrics


@pytest.mark.parametrize("front", ["spawn-fcgi", "apache"])
def test_a_killed_process_keeps_its_counts(front: str, marker_dir: Path) -> None:
    """No common parent: the slot of a process killed with SIGKILL is reclaimed by the next
    status request, and what it had answered stays in the totals."""
    require_front(front)
    s = FrontServer(front, ("-v",), name=f"shared-kill-{front}")
    s.start()
    try:
        holds = Holds(s, marker_dir / "go", 1)
        def ready() -> bool:
            st = try_status(s)
            return st is not None and len(held_paths(st)) == 1 and st["totals"]["workers"] == 2

        owt_e2e.wait_for(ready, f"{front}: two processes, one holding a request", timeout=30)
        [victim] = holds.release()
        before = status(s)
        served = next(w["requests"] for w in before["workers"] if w["pid"] == victim)
        assert served >= 1, before
        os.kill(victim, signal.SIGKILL)

        # The status that no longer lists it is the one looked at: until mod_fcgid notices the
        # death, it may still send a request to the dead process's socket (a 500: reliability.md,
        # "Known limits"), the next status request included.
        seen: list[dict[str, Any]] = []

        def gone() -> bool:
            st = try_status(s)
            if st is None or victim in [w["pid"] for w in st["workers"]]:
                return False
            seen.append(st)
            return True

        owt_e2e.wait_for(gone, f"{front}: the killed process leaves the status", timeout=20)
        after = seen[-1]
        assert after["totals"]["requests"] > before["totals"]["requests"], (before["totals"], after["totals"])
        assert all(w["pid"] in s.worker_pids() for w in after["workers"]), (after["workers"], s.worker_pids())
    finally:
        s.stop()


def test_cgi_runs_share_one_board(marker_dir: Path) -> None:
    """Under CGI each request is a process: one in flight is listed by the process answering
    /_owt/status, and the totals count every run that has ended."""
    require_front("cgi")
    s = FrontServer("cgi", ("-v",), name="shared-cgi")
    s.start()
    try:
        first = status(s)
        for i in range(3):
            assert send(s.port, "GET", "/count?" + urllib.parse.urlencode({"code": f"lambda: {i}"})).status == 200
        holds = Holds(s, marker_dir / "go", 1)
        owt_e2e.wait_for(lambda: len(held_paths(status(s))) == 1, "cgi: the held request is listed", timeout=30)
        st = status(s)
        assert st["scoreboard"] == "shared" and st["totals"]["workers"] == 2, st  # the holder and this run
        holder = held_paths(st)["/hold-0"]
        assert holder != st["pid"]
        [answered] = holds.release()
        assert answered == holder
        after = status(s)
        # 3 runs, the held one, and the status runs in between have ended and count.
        assert after["totals"]["requests"] >= first["totals"]["requests"] + 5, (first["totals"], after["totals"])
        assert [w["pid"] for w in after["workers"]] == [after["pid"]]  # only the run answering now
    finally:
        s.stop()


class LighttpdMaxProcs:
    """spawn/lighttpd.conf with "max-procs" => 2 and no --workers: lighttpd itself starts two
    owt-fcgi processes, each on a socket of its own (owt-fcgi.sock-0, -1) in one directory."""

    def __init__(self, tmp: Path) -> None:
        self.state = tmp
        self.port = owt_e2e.free_port()
        wrapper = tmp / "owt-fcgi.sh"
        wrapper.write_text(f"#!/bin/sh\nexec '{owt_e2e.OWT_BIN}' -v --cache-dir '{tmp}/cache' \"$@\"\n")
        wrapper.chmod(0o755)
        (tmp / "www").mkdir()
        (tmp / "errors").mkdir()
        conf = (owt_e2e.SRCDIR / "spawn" / "lighttpd.conf").read_text()
        assert '"max-procs"           => 1,' in conf
        for key, value in {"@ADDRESS@": "127.0.0.1", "@PORT@": str(self.port), "@STATE_DIR@": str(tmp),
                           "@MAX_BODY_KB@": "16448", "@OWT_CMD@": str(wrapper)}.items():
            conf = conf.replace(key, value)
        conf = conf.replace('"max-procs"           => 1,', '"max-procs"           => 2,')
        (tmp / "lighttpd.conf").write_text(conf)
        self.stderr = open(tmp / "stderr.log", "wb")
        env = dict(os.environ, PATH=owt_e2e._tool_path(), OWT_ADAPTORS_HOME=str(owt_e2e.SRCDIR / "adaptors"))
        self.proc = owt_e2e.subprocess.Popen(["lighttpd", "-D", "-f", str(tmp / "lighttpd.conf")],
                                             stdout=self.stderr, stderr=self.stderr, env=env,
                                             start_new_session=True)
        self.front = "lighttpd-max-procs"

    def log_tail(self, lines: int = 40) -> str:
        return owt_e2e.tail(self.state / "stderr.log", lines)

    def owt_pids(self) -> list[int]:
        return [p for p in owt_e2e.session_members(self.proc.pid) if owt_e2e.proc_comm(p) == "owt-fcgi"]

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(10)
        finally:
            for p in owt_e2e.session_members(self.proc.pid):
                os.kill(p, signal.SIGKILL)
            self.stderr.close()


def test_lighttpd_max_procs_without_a_master(marker_dir: Path, tmp_path: Path) -> None:
    """lighttpd bin-path with max-procs 2 and no --workers: two unrelated processes on two
    sockets in one directory find the default scoreboard beside them."""
    owt_e2e.require_binary()
    owt_e2e.require_tools("lighttpd")
    s = LighttpdMaxProcs(tmp_path)
    try:
        owt_e2e.wait_for(lambda: len(s.owt_pids()) == 2, "lighttpd starts two owt-fcgi processes", timeout=20)
        holds = Holds(s, marker_dir / "go", 2)  # type: ignore[arg-type]
        seen: dict[str, Any] = {}

        def listed() -> bool:
            seen["st"] = st = status(s)  # type: ignore[arg-type]
            return st["totals"]["workers"] == 2 and len(held_paths(st)) == 2

        try:
            owt_e2e.wait_for(listed, "both processes and both held requests listed", timeout=30)
        finally:
            answered = holds.release()
        st = seen["st"]
        assert st["scoreboard"] == "shared"
        assert sorted(w["pid"] for w in st["workers"]) == sorted(s.owt_pids())
        assert sorted(answered) == sorted(held_paths(st).values())
        assert (tmp_path / "owt-fcgi.scoreboard").is_file()
    finally:
        s.stop()
