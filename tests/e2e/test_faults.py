"""Faults through nginx -> owt-fcgi master (2 workers of 4 threads): each costs at most its
own request, except a crash, which costs its worker's requests in flight.

While a second client sends a steady stream of hello requests, each faulty request
gets its documented status, every hello succeeds (but one that was in flight on a
worker that crashed: docs/concurrency.md), and the master replaces what died.
Also: garbage input, SIGHUP and SIGTERM under load, --max-requests, --max-rss, a client
leaving mid-stream, a 20,000-request RSS soak, the timeout under lighttpd (fd 0) and in
CGI mode, and the master's --listen / --pidfile / --socket-mode / refusal checks.

Measurements go to tests/artifacts/faults.json (the numbers in docs/reliability.md).
"""

from __future__ import annotations

import base64
import datetime as dt
import http.client
import json
import os
import random
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

import fcgi_client
import owt_e2e
from conftest_nginx import LighttpdServer, NginxServer, fresh_nginx, lighttpd_front, nginx_front  # noqa: F401
from e2e_cases import code
from owt_e2e import ARTIFACTS, OWT_BIN, OwtServer, b64, get, http_send, rss_kib

TIMEOUT = 2
KILL_GRACE = 1
def _sanitized() -> bool:
    try:
        return b"__asan_init" in OWT_BIN.read_bytes()
    except OSError:
        return False


# AddressSanitizer reserves terabytes of shadow address space at start: under RLIMIT_AS
# a sanitized worker cannot even start, so the address-space limit is for plain builds.
SANITIZED = _sanitized()
MAIN_OPTIONS = ("-vv", "--threads", "4", "--timeout", str(TIMEOUT), "--kill-grace", str(KILL_GRACE),
                *(() if SANITIZED else ("--memory-limit", "512")))
RECYCLE_OPTIONS = ("-vv", "--max-requests", "50", "--max-rss", "80")
HANG_MARGIN = 2.0  # lib/owt_master.c: the watchdog kills past timeout + kill-grace + this

HELLO = code("""
    def run():
        return 'hello'
""")
HELLO_TARGET = "/hello?" + urllib.parse.urlencode({"code_b64": b64(HELLO)})

RESULTS: dict[str, Any] = {}
FAULTS_JSON = ARTIFACTS / "faults.json"


def target(source: str, path: str = "/fault", **fields: str) -> str:
    return path + "?" + urllib.parse.urlencode({"code_b64": b64(code(source)), **fields})


@pytest.fixture(scope="module", autouse=True)
def _write_measurements() -> Iterator[None]:
    yield
    if not RESULTS:
        return
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    old: dict[str, Any] = {}
    try:
        old = json.loads(FAULTS_JSON.read_text())
    except (OSError, ValueError):
        pass
    old.update(RESULTS)
    old["_run"] = {"when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                   "binary": str(OWT_BIN), "timeout": TIMEOUT, "kill_grace": KILL_GRACE}
    FAULTS_JSON.write_text(json.dumps(old, indent=2, sort_keys=True) + "\n")


@pytest.fixture(scope="module")
def main_server(nginx_front: Callable[..., NginxServer]) -> NginxServer:  # noqa: F811
    return nginx_front(MAIN_OPTIONS)


@pytest.fixture(scope="module", params=["lighttpd", "nginx"])
def fault_server(request: pytest.FixtureRequest, nginx_front: Callable[..., NginxServer],  # noqa: F811
                 lighttpd_front: Callable[..., LighttpdServer]) -> NginxServer:  # noqa: F811
    """The fault table's server, under the default front (lighttpd starting an owt-fcgi
    master) and under nginx in front of an owt-fcgi --listen master."""
    if request.param == "lighttpd":
        return lighttpd_front(MAIN_OPTIONS)  # type: ignore[return-value]
    return nginx_front(MAIN_OPTIONS)


def record(server: Any, name: str, rec: dict[str, Any]) -> None:
    """A measurement for docs/reliability.md, under the front it was made through."""
    RESULTS[f"{name}@{getattr(server, 'front', 'nginx')}"] = rec


@pytest.fixture(scope="module")
def recycle_server(nginx_front: Callable[..., NginxServer]) -> NginxServer:  # noqa: F811
    return nginx_front(RECYCLE_OPTIONS)


# ---- the second client ---------------------------------------------------------------


class HelloStream:
    """Hello requests one after another on keep-alive connections, each one checked."""

    def __init__(self, server: OwtServer, threads: int = 1, pause: float = 0.005,
                 target: str = HELLO_TARGET, expect: bytes = b"hello"):
        self.server = server
        self.pause = pause
        self.target = target
        self.expect = expect
        self.sent = 0
        self.ok = 0
        self.max_latency = 0.0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def _run(self) -> None:
        conn = http.client.HTTPConnection(self.server.address, self.server.port, timeout=30)
        while not self._stop.is_set():
            t0 = time.monotonic()
            try:
                conn.request("GET", self.target)
                r = conn.getresponse()
                body = r.read()
                good = r.status == 200 and body == self.expect
                problem = "" if good else f"{r.status} {body[:200]!r}"
            except (OSError, http.client.HTTPException) as exc:
                good, problem = False, repr(exc)
                conn.close()
                conn = http.client.HTTPConnection(self.server.address, self.server.port, timeout=30)
            latency = time.monotonic() - t0
            with self._lock:
                self.sent += 1
                self.ok += good
                self.max_latency = max(self.max_latency, latency)
                if not good:
                    self.failures.append(f"{time.time():.3f} {problem}")
            if self.pause:
                time.sleep(self.pause)
        conn.close()

    def __enter__(self) -> "HelloStream":
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(60)

    def check(self, crashes: int = 0) -> None:
        """No hello failed, but (for crashes) those in flight on a worker that crashed: each
        stream thread has one hello in flight at a time, so at most one per crash and thread,
        and the web server answers it 502 (or the worker 503, when a request held the GIL for
        good)."""
        gateway = f" {getattr(self.server, 'gateway_error', 502)} "
        in_flight = [f for f in self.failures if gateway in f or " 503 " in f and "will not let go" in f]
        allowed = crashes * len(self._threads)
        unexplained = [f for f in self.failures if f not in in_flight[:allowed]]
        assert self.sent > 0 and not unexplained, (
            f"{len(self.failures)} of {self.sent} hello requests failed ({allowed} may have been in "
            f"flight on a crashed worker): {self.failures[:5]}")

    def summary(self) -> dict[str, Any]:
        return {"hellos_sent": self.sent, "hellos_failed": len(self.failures),
                "hello_max_latency_s": round(self.max_latency, 3)}


# ---- the server's log ------------------------------------------------------------------


def log_events(server: OwtServer) -> list[tuple[float, int, str]]:
    """(unix time, pid, message) of each owt-fcgi log line."""
    out = []
    for line in server.log_text().splitlines():
        parts = line.split(" ", 2)
        if len(parts) < 3 or not parts[1].startswith("owt-fcgi["):
            continue
        try:
            when = dt.datetime.strptime(parts[0], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc)
            pid = int(parts[1][len("owt-fcgi["):].rstrip("]"))
        except ValueError:
            continue
        out.append((when.timestamp(), pid, parts[2]))
    return out


def recovery(server: OwtServer, dead: int, new: int, timeout: float = 5.0) -> float:
    """Seconds from the master seeing ``dead`` end to ``new`` serving FastCGI."""
    deadline = time.monotonic() + timeout
    while True:
        events = log_events(server)
        died = [t for t, _pid, msg in events
                if msg.split(": ", 1)[-1].startswith((f"worker {dead} was killed", f"worker {dead} exited"))]
        ready = [t for t, pid, msg in events if pid == new and "serving FastCGI" in msg]
        if died and ready:
            return round(ready[0] - died[0], 3)
        if time.monotonic() > deadline:
            raise AssertionError(f"no death of {dead} / start of {new} in the log:\n{server.log_tail()}")
        time.sleep(0.05)


def slot_of(status: dict[str, Any], pid: int) -> dict[str, Any]:
    for w in status["workers"]:
        if w["pid"] == pid:
            return w
    raise AssertionError(f"pid {pid} not in /_owt/status: {status}")


# ---- one fault under a hello stream -------------------------------------------------------


def run_fault(server: NginxServer, name: str, source: str, statuses: Sequence[int], *,
              within: float, replaced: bool | None, body_has: bytes | None = None,
              crash: bool = False) -> dict[str, Any]:
    """Send the faulty request while a hello stream runs; check and record what happened.
    crash: the fault ends its worker at once (a hello in flight there dies with it).
    502 in statuses means the front's answer for a backend that closed without a response
    (lighttpd's is 500)."""
    gateway = getattr(server, "gateway_error", 502)
    statuses = [gateway if s == 502 else s for s in statuses]
    server.wait_workers()
    pids_before = server.worker_pids()
    status_before = server.status()
    with HelloStream(server) as hellos:
        time.sleep(0.2)
        t0 = time.monotonic()
        code_, body = server.get(target(source), timeout=within + 30)
        elapsed = time.monotonic() - t0
        time.sleep(0.3)
        if replaced:
            server.wait_workers(exclude=[p for p in pids_before if p not in server.worker_pids()])
        time.sleep(0.3)  # later hellos reach the replacement too
    pids_after = server.wait_workers()
    status_after = server.status()
    gone = sorted(set(pids_before) - set(pids_after))
    new = sorted(set(pids_after) - set(pids_before))
    rec: dict[str, Any] = {
        "status": code_, "seconds_to_answer": round(elapsed, 3),
        "worker_replaced": bool(gone), "other_requests_lost": len(hellos.failures),
        # totals sum the live workers only (see test_status_totals_outlive_a_replaced_worker)
        "timeouts_counted": (status_after["totals"]["timeouts"] - status_before["totals"]["timeouts"]
                             if set(pids_before) == set(pids_after) else None),
        "kills_counted": status_after["totals"]["kills"] - status_before["totals"]["kills"],
        **hellos.summary(),
    }
    if gone and new:
        rec["recovery_s"] = recovery(server, gone[0], new[0])
        rec["respawns_in_slot"] = slot_of(status_after, new[0])["respawns"]
    elif not gone:
        rec["recovery_s"] = 0.0
    record(server, name, rec)
    hellos.check(crashes=1 if crash else 0)
    assert code_ in statuses, f"{name}: got {code_} {body[:300]!r}, want one of {list(statuses)}"
    assert elapsed < within, f"{name}: answered after {elapsed:.2f} s, want < {within} s"
    if body_has is not None:
        assert body_has in body, body[:300]
    if replaced is not None:
        assert bool(gone) == replaced, f"{name}: workers {pids_before} -> {pids_after}"
        if replaced:
            assert len(gone) == 1 and len(new) == 1, f"{name}: one fault, one worker: {pids_before} -> {pids_after}"
            assert rec["respawns_in_slot"] >= 1, status_after
    return rec


def test_hello_stream_alone(fault_server: NginxServer) -> None:
    """The baseline: the second client alone, no failure, both workers up."""
    with HelloStream(fault_server) as hellos:
        time.sleep(0.5)
    hellos.check()
    assert len(fault_server.worker_pids()) == 2
    st = fault_server.status()
    assert st["totals"]["workers"] == 2 and len(st["workers"]) == 2, st


def test_busy_loop_504(fault_server: NginxServer) -> None:
    rec = run_fault(fault_server, "busy_loop", """
        def run():
            while True:
                pass
    """, [504], within=TIMEOUT + 2, replaced=False, body_has=b"Timeout")
    assert rec["timeouts_counted"] == 1


def test_sleep_504(fault_server: NginxServer) -> None:
    rec = run_fault(fault_server, "sleep", """
        import time
        def run():
            time.sleep(10**6)
    """, [504], within=TIMEOUT + 2, replaced=False, body_has=b"Timeout")
    assert rec["timeouts_counted"] == 1


def test_pause_in_c(fault_server: NginxServer) -> None:
    """The watchdog's kick (a signal to that thread) interrupts pause(2): the Python-level
    timeout lands right after it."""
    run_fault(fault_server, "c_pause", """
        import ctypes
        def run():
            ctypes.CDLL(None).pause()
    """, [504, 502], within=TIMEOUT + KILL_GRACE + HANG_MARGIN + 2, replaced=None)


def test_hang_in_c_ignoring_the_timeout(fault_server: NginxServer) -> None:
    """A C call that signals do not end (a self-deadlocked mutex; ctypes lets go of the
    GIL): the worker's hard deadline answers 504 at timeout + kill-grace, the worker drains
    (its other requests finish) and exits, and the master replaces it."""
    rec = run_fault(fault_server, "c_mutex_deadlock", """
        import ctypes
        def run():
            libc = ctypes.CDLL(None)
            m = ctypes.create_string_buffer(64)
            libc.pthread_mutex_lock(m)
            libc.pthread_mutex_lock(m)
    """, [504], within=TIMEOUT + KILL_GRACE + 2, replaced=True, body_has=b"did not stop")
    assert rec["seconds_to_answer"] >= TIMEOUT + KILL_GRACE - 0.2
    assert "did not stop 1 s after its timeout" in fault_server.log_text()


def test_hang_in_c_holding_the_gil(fault_server: NginxServer) -> None:
    """The same deadlock with the GIL held (ctypes.PyDLL): no other request of that worker can
    finish. The stuck one gets 504, those in flight on the same worker 503, and the worker
    exits at once (docs/reliability.md); the other worker's requests are untouched."""
    rec = run_fault(fault_server, "c_mutex_deadlock_gil_held", """
        import ctypes
        def run():
            libc = ctypes.PyDLL(None)
            m = ctypes.create_string_buffer(64)
            libc.pthread_mutex_lock(m)
            libc.pthread_mutex_lock(m)
    """, [504], within=TIMEOUT + KILL_GRACE + 2, replaced=True, body_has=b"did not stop", crash=True)
    assert rec["seconds_to_answer"] >= TIMEOUT + KILL_GRACE - 0.2
    assert "holds the Python interpreter for good" in fault_server.log_text()


def test_a_stopped_worker_is_killed_by_master(fresh_nginx: Callable[..., NginxServer]) -> None:  # noqa: F811
    """A worker that cannot act at all (stopped with SIGSTOP while it holds a request, so
    its own watchdog is frozen too): the master's watchdog kills it at timeout + kill-grace
    + 2 s, and the replacement serves."""
    import concurrent.futures

    server = fresh_nginx(MAIN_OPTIONS)
    server.wait_workers()
    before = server.status()["totals"]["kills"]
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        t0 = time.monotonic()
        answer = pool.submit(server.get, target("""
            import time
            def run():
                time.sleep(1)
                return 'slept'
        """, path="/frozen"), TIMEOUT + KILL_GRACE + HANG_MARGIN + 10)
        deadline = time.monotonic() + 10
        while True:
            busy = [w["pid"] for w in server.status()["workers"]
                    if any(r["path"] == "/frozen" for r in w["inflight"])]
            if busy:
                break
            assert time.monotonic() < deadline, "the request never started"
            time.sleep(0.02)
        os.kill(busy[0], signal.SIGSTOP)
        code_, _ = answer.result()
        elapsed = time.monotonic() - t0
    server.wait_workers(exclude=busy)
    kills = server.status()["totals"]["kills"] - before
    record(server, "worker_stopped", {"status": code_, "seconds_to_answer": round(elapsed, 3),
                                      "kills_counted": kills})
    assert code_ == 502
    assert kills == 1
    assert TIMEOUT + KILL_GRACE + HANG_MARGIN - 0.3 <= elapsed < TIMEOUT + KILL_GRACE + HANG_MARGIN + 3
    assert "a request is busy far past --timeout" in server.log_text()
    assert server.get(HELLO_TARGET)[0] == 200


def test_segfault_502(fault_server: NginxServer) -> None:
    run_fault(fault_server, "segfault", """
        import ctypes
        def run():
            return ctypes.string_at(0)
    """, [502], within=3, replaced=True, crash=True)


def test_segfault_is_not_replayed_to_the_next_worker(main_server: NginxServer) -> None:
    """Right after other requests, a crashing request kills one worker, not two: nginx
    does not send it again to the next worker, also when it failed on a kept connection
    (spawn/nginx.conf: fastcgi_keep_conn on, fastcgi_next_upstream off)."""
    main_server.wait_workers()
    for _ in range(4):  # the connections nginx keeps are warm
        assert main_server.get(HELLO_TARGET)[0] == 200
    before = main_server.worker_pids()
    code_, _ = main_server.get(target("""
        import ctypes
        def run():
            return ctypes.string_at(0)
    """, path="/again"))
    assert code_ == 502
    after = main_server.wait_workers(exclude=[])
    time.sleep(0.3)
    after = main_server.wait_workers()
    assert len(set(before) - set(after)) == 1, f"one crash, one dead worker: {before} -> {after}"


def test_status_totals_outlive_a_replaced_worker(main_server: NginxServer) -> None:
    main_server.wait_workers()
    with HelloStream(main_server, threads=2, pause=0) as hellos:
        deadline = time.monotonic() + 5
        while not all(w["requests"] >= 20 for w in main_server.status()["workers"]):
            assert time.monotonic() < deadline, main_server.status()
            time.sleep(0.05)
    hellos.check()
    before = main_server.status()["totals"]["requests"]
    assert main_server.get(target("""
        import ctypes
        def run():
            return ctypes.string_at(0)
    """, path="/totals"))[0] == 502
    main_server.wait_workers()
    after = main_server.status()["totals"]["requests"]
    RESULTS["status_totals_after_a_crash"] = {"requests_before": before, "requests_after": after}
    assert after >= before, f"totals.requests went from {before} to {after}"


def test_os_exit_502(fault_server: NginxServer) -> None:
    run_fault(fault_server, "os_exit", """
        import os
        def run():
            os._exit(3)
    """, [502], within=3, replaced=True, crash=True)


def test_crash_burst_does_not_hold_back_respawns(fault_server: NginxServer) -> None:
    """8 crashing requests in a row: each costs its own request, and the respawn back-off
    (meant for workers that cannot start) does not stall everyone else."""
    fault_server.wait_workers()
    log_before = len(fault_server.log_text())
    seg = target("""
        import ctypes
        def run():
            return ctypes.string_at(0)
    """, path="/burst")
    with HelloStream(fault_server) as hellos:
        time.sleep(0.2)
        t0 = time.monotonic()
        statuses = [fault_server.get(seg, timeout=30)[0] for _ in range(8)]
        gateway = fault_server.gateway_error
        burst = time.monotonic() - t0
        time.sleep(0.3)
    fault_server.wait_workers()
    record(fault_server, "segfault_burst_8", {"statuses": statuses, "seconds": round(burst, 3), **hellos.summary()})
    hellos.check(crashes=8)
    assert statuses == [gateway] * 8
    assert "died young" not in fault_server.log_text()[log_before:]
    assert hellos.max_latency < 1.5, hellos.summary()


def test_crash_after_starting_a_program_from_c(fault_server: NginxServer) -> None:
    """A program started through libc system() outlives the worker: it must not hold the
    FastCGI connection, or nginx would wait for it before answering 502."""
    rec = run_fault(fault_server, "os_exit_after_libc_system", """
        import ctypes, os
        def run():
            ctypes.CDLL(None).system(b'sleep 3 &')
            os._exit(3)
    """, [502], within=1.0, replaced=True, crash=True)
    assert rec["seconds_to_answer"] < 1.0


@pytest.mark.skipif(SANITIZED, reason="RLIMIT_AS cannot hold AddressSanitizer's shadow memory")
def test_2gb_allocation_under_memory_limit_500(fault_server: NginxServer) -> None:
    run_fault(fault_server, "alloc_2gb", """
        def run():
            block = bytearray(2 * 1024 ** 3)
            return len(block)
    """, [500], within=5, replaced=False, body_has=b"MemoryError")


def _garbage(rnd: random.Random) -> tuple[str, str, bytes, dict[str, str]]:
    """One random request: method, target, body, headers."""
    def junk(n: int) -> str:
        kind = rnd.randrange(5)
        if kind == 0:
            return base64.b64encode(rnd.randbytes(n)).decode()
        if kind == 1:
            return "".join(rnd.choice("abc=+/_-%\\\"'{}[]():;,.\n\t ") for _ in range(n))
        if kind == 2:
            return "".join(chr(rnd.randrange(1, 0x2FFF)) for _ in range(n))
        if kind == 3:
            return rnd.choice(["True", "None", "{}", "[]", "1e999", "{'a': (1,)}", "\"x\"", "nan"])
        return "A" * n
    names = ["code_b64", "code", "kwargs_b64", "kwargs", "fn_name", "adaptor", "use_cache",
             "cache_kwargs", "cache_key_override", "x", "", "code_b64[]", "__proto__"]
    fields = [(rnd.choice(names), junk(rnd.randrange(0, 300))) for _ in range(rnd.randrange(0, 6))]
    path = "/" + urllib.parse.quote("".join(rnd.choice("ab/._-~%") for _ in range(rnd.randrange(0, 30))))
    query = urllib.parse.urlencode(fields)
    if rnd.random() < 0.2:
        query += "&" + "".join(rnd.choice("%&=+;ab") for _ in range(rnd.randrange(1, 40)))
    method = rnd.choice(["GET", "POST", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
    headers: dict[str, str] = {}
    body = b""
    if method in ("POST", "PUT", "PATCH"):
        kind = rnd.randrange(4)
        if kind == 0:
            headers["Content-Type"] = "application/json"
            body = rnd.choice([json.dumps(dict(fields)).encode(), rnd.randbytes(rnd.randrange(0, 2000)),
                               b"[1,2", b"\"just a string\"", b"{\"code\": 5}"])
        elif kind == 1:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = urllib.parse.urlencode(fields).encode() + rnd.randbytes(rnd.randrange(0, 50))
        elif kind == 2:
            headers["Content-Type"] = "multipart/form-data; boundary=" + rnd.choice(["x", "", "\"q\""])
            body = b"--x\r\nContent-Disposition: form-data; name=\"code\"\r\n\r\n" + rnd.randbytes(100)
        else:
            headers["Content-Type"] = rnd.choice(["application/octet-stream", "text/plain", "garbage/;;"])
            body = rnd.randbytes(rnd.randrange(0, 8000))
    if rnd.random() < 0.3:
        headers["X-" + "".join(rnd.choice("abcdef") for _ in range(8))] = junk(50).encode(
            "latin-1", "replace").decode("latin-1").replace("\n", " ").replace("\r", " ")
    return method, path + ("?" + query if query else ""), body, headers


def test_garbage_requests_kill_no_worker(main_server: NginxServer) -> None:
    seed = int(os.environ.get("OWT_FAULTS_SEED", "4"))
    rnd = random.Random(seed)
    main_server.wait_workers()
    pids = main_server.worker_pids()
    respawns = {w["pid"]: w["respawns"] for w in main_server.status()["workers"]}
    statuses: dict[int, int] = {}
    bad = []
    with HelloStream(main_server) as hellos:
        conn = http.client.HTTPConnection(main_server.address, main_server.port, timeout=30)
        for i in range(200):
            method, tgt, body, headers = _garbage(rnd)
            try:
                conn.request(method, tgt, body=body or None, headers=headers)
                r = conn.getresponse()
                r.read()
                statuses[r.status] = statuses.get(r.status, 0) + 1
                if r.status in (502, 503, 504) or r.status < 200:
                    bad.append((i, method, tgt[:120], r.status))
            except (OSError, http.client.HTTPException) as exc:
                bad.append((i, method, tgt[:120], repr(exc)))
                conn.close()
                conn = http.client.HTTPConnection(main_server.address, main_server.port, timeout=30)
        conn.close()
    RESULTS["garbage_200"] = {"seed": seed, "statuses": {str(k): v for k, v in sorted(statuses.items())},
                              "workers_died": len(set(pids) - set(main_server.worker_pids())),
                              "other_requests_lost": len(hellos.failures), **hellos.summary()}
    hellos.check()
    assert not bad, f"seed {seed}: {bad[:10]}"
    assert main_server.worker_pids() == pids
    assert {w["pid"]: w["respawns"] for w in main_server.status()["workers"]} == respawns


def test_client_gone_mid_stream_stops_the_generator(fault_server: NginxServer, tmp_path: Path) -> None:
    interval = 0.2
    marker = tmp_path / "finally.txt"
    source = f"""
        import time
        def run(marker):
            sent = 0
            try:
                for i in range(200):
                    yield f'chunk {{i}}\\n'
                    sent = i
                    time.sleep({interval})
            finally:
                with open(marker, 'w') as f:
                    f.write(f'{{sent}} {{time.time()}}')
    """
    tgt = target(source, path="/stream", kwargs_b64=b64(json.dumps({"marker": str(marker)})))
    sock = socket.create_connection((fault_server.address, fault_server.port), timeout=10)
    sock.sendall(f"GET {tgt} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    got = b""
    while b"chunk 2\n" not in got:
        piece = sock.recv(4096)
        assert piece, got
        got += piece
    sock.close()
    closed = time.time()
    deadline = time.monotonic() + 5
    while not marker.exists() or not marker.read_text():
        assert time.monotonic() < deadline, "the generator's finally did not run within 5 s"
        time.sleep(0.01)
    last, when = marker.read_text().split()
    RESULTS[f"client_gone_mid_stream@{fault_server.front}"] = {"chunk_interval_s": interval, "chunks_seen": 3,
                                          "last_chunk_yielded": int(last),
                                          "finally_after_s": round(float(when) - closed, 3)}
    assert int(last) <= 3, f"the generator went on to chunk {last} after the client left at chunk 2"
    assert float(when) - closed < interval + 0.5
    assert fault_server.get(HELLO_TARGET)[0] == 200


@pytest.mark.skipif(SANITIZED, reason="RSS is not meaningful under AddressSanitizer (its quarantine keeps freed memory)")
def test_rss_soak_20000_warm_requests(main_server: NginxServer) -> None:
    main_server.wait_workers()
    pids = main_server.worker_pids()

    def drive(total: int, threads: int = 2) -> float:
        errors: list[str] = []

        def one(n: int) -> None:
            conn = http.client.HTTPConnection(main_server.address, main_server.port, timeout=30)
            for _ in range(n):
                conn.request("GET", HELLO_TARGET)
                r = conn.getresponse()
                if r.read() != b"hello" or r.status != 200:
                    errors.append(str(r.status))
            conn.close()
        t0 = time.monotonic()
        ts = [threading.Thread(target=one, args=(total // threads,)) for _ in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        assert not errors, errors[:5]
        return time.monotonic() - t0

    drive(2000)
    before = {pid: rss_kib(pid) for pid in pids}
    seconds = drive(20000)
    after = {pid: rss_kib(pid) for pid in pids}
    served = {w["pid"]: w["requests"] for w in main_server.status()["workers"]}
    RESULTS["rss_soak"] = {
        "requests": 20000, "warmup": 2000, "seconds": round(seconds, 2),
        "requests_per_s": round(20000 / seconds),
        "workers": {str(p): {"rss_kib_before": before[p], "rss_kib_after": after[p],
                             "change_pct": round(100.0 * (after[p] - before[p]) / before[p], 2),
                             "requests_served": served.get(p)} for p in pids}}
    assert main_server.worker_pids() == pids, "a worker was replaced during the soak"
    for p in pids:
        assert abs(after[p] - before[p]) <= 0.05 * before[p], RESULTS["rss_soak"]


def test_sighup_under_load_loses_nothing(fault_server: NginxServer) -> None:
    fault_server.wait_workers()
    old = fault_server.worker_pids()
    master = fault_server.master_pid()
    slow: dict[str, Any] = {}

    def slow_request() -> None:
        t0 = time.monotonic()
        slow["status"], slow["body"] = fault_server.get(target("""
            import time
            def run():
                time.sleep(1.5)
                return 'slow done'
        """, path="/slow"), timeout=30)
        slow["seconds"] = time.monotonic() - t0

    with HelloStream(fault_server, threads=2, pause=0.001) as hellos:
        time.sleep(0.3)
        t = threading.Thread(target=slow_request)
        t.start()
        time.sleep(0.3)
        hup = time.monotonic()
        os.kill(master, signal.SIGHUP)
        new = fault_server.wait_workers(exclude=old, timeout=15)
        reloaded = time.monotonic() - hup
        time.sleep(0.5)
        t.join(30)
    RESULTS[f"sighup_under_load@{fault_server.front}"] = {"reload_s": round(reloaded, 3), "in_flight_status": slow.get("status"),
                                    "other_requests_lost": len(hellos.failures), **hellos.summary()}
    hellos.check()
    assert slow.get("status") == 200 and slow.get("body") == b"slow done", slow
    assert not set(new) & set(old)
    assert fault_server.master_pid() == master


def test_sigusr1_to_a_worker_is_a_clean_stop(main_server: NginxServer) -> None:
    old = main_server.wait_workers()
    with HelloStream(main_server, threads=2, pause=0.001) as hellos:
        time.sleep(0.3)
        t0 = time.monotonic()
        os.kill(old[0], signal.SIGUSR1)
        main_server.wait_workers(exclude=[old[0]])
        replaced = time.monotonic() - t0
        time.sleep(0.3)
    RESULTS["sigusr1_worker"] = {"replaced_after_s": round(replaced, 3),
                                 "other_requests_lost": len(hellos.failures), **hellos.summary()}
    hellos.check()
    assert f"worker {old[0]} exited" in main_server.log_text()


# ---- recycling ---------------------------------------------------------------------------


PID_SOURCE = """
    import os
    def run():
        return str(os.getpid())
"""


def test_max_requests_recycles(recycle_server: NginxServer) -> None:
    recycle_server.wait_workers()
    served: dict[int, int] = {}
    errors = []
    conn = http.client.HTTPConnection(recycle_server.address, recycle_server.port, timeout=30)
    for _ in range(160):
        conn.request("GET", target(PID_SOURCE, path="/pid"))
        r = conn.getresponse()
        body = r.read()
        if r.status != 200:
            errors.append((r.status, body[:100]))
            continue
        pid = int(body)
        served[pid] = served.get(pid, 0) + 1
    conn.close()
    RESULTS["max_requests_50"] = {"requests": 160, "distinct_workers": len(served),
                                  "most_by_one_worker": max(served.values()), "failed": len(errors)}
    assert not errors, errors[:5]
    assert max(served.values()) <= 50, served
    assert len(served) >= 4, served
    assert "recycling after 50 requests (--max-requests)" in recycle_server.log_text()


def test_max_rss_recycles(recycle_server: NginxServer) -> None:
    recycle_server.wait_workers()
    code_, body = recycle_server.get(target("""
        import os
        kept = []
        def run():
            kept.append(b'x' * (100 * 1024 * 1024))
            return str(os.getpid())
    """, path="/grow"))
    assert code_ == 200, body
    big = int(body)
    t0 = time.monotonic()
    recycle_server.wait_workers(exclude=[big], timeout=5)
    RESULTS["max_rss_80mb"] = {"status": code_, "recycled_after_s": round(time.monotonic() - t0, 3)}
    assert "over --max-rss 80 MB" in recycle_server.log_text()
    assert recycle_server.get(HELLO_TARGET) == (200, b"hello")


# ---- SIGTERM ----------------------------------------------------------------------------------


def test_sigterm_lets_in_flight_requests_finish(fresh_nginx: Callable[..., NginxServer]) -> None:  # noqa: F811
    srv = fresh_nginx(("-vv",))
    srv.wait_workers()
    master = srv.master_pid()
    result: dict[str, Any] = {}

    def in_flight() -> None:
        t0 = time.monotonic()
        result["status"], result["body"] = srv.get(target("""
            import time
            def run():
                time.sleep(2)
                return 'finished'
        """, path="/long"), timeout=30)
        result["seconds"] = time.monotonic() - t0

    t = threading.Thread(target=in_flight)
    t.start()
    deadline = time.monotonic() + 10
    while not owt_e2e.in_flight(srv, "/long"):
        assert time.monotonic() < deadline and t.is_alive(), f"/long never was in flight: {result}"
        time.sleep(0.02)
    os.kill(master, signal.SIGTERM)
    term = time.monotonic()
    t.join(30)
    deadline = time.monotonic() + 10
    while True:  # one read a round: the master may be reaped between two
        stat = owt_e2e._stat(master)
        if stat is None or stat[0] in ("Z", "X"):
            break
        assert time.monotonic() < deadline, "the master did not exit within 10 s of SIGTERM"
        time.sleep(0.02)
    exited = time.monotonic() - term
    log = srv.log_text()
    RESULTS["sigterm_drain"] = {"in_flight_status": result.get("status"),
                                "in_flight_seconds": round(result.get("seconds", -1), 3),
                                "master_exit_after_sigterm_s": round(exited, 3)}
    assert result.get("status") == 200 and result.get("body") == b"finished", result
    assert "draining" in log and "master exiting" in log
    assert "still running after --grace-timeout" not in log
    srv.stop_after_exit()


def test_request_during_drain_gets_503_at_once(fresh_nginx: Callable[..., NginxServer]) -> None:  # noqa: F811
    srv = fresh_nginx(("-vv",))
    srv.wait_workers()
    master = srv.master_pid()
    result: dict[str, Any] = {}

    def in_flight() -> None:
        result["long"] = srv.get(target("""
            import time
            def run():
                time.sleep(2)
                return 'finished'
        """, path="/long"), timeout=30)[0]

    t = threading.Thread(target=in_flight)
    t.start()
    time.sleep(0.3)
    os.kill(master, signal.SIGTERM)
    time.sleep(0.2)
    t0 = time.monotonic()
    try:
        code_, _ = srv.get(HELLO_TARGET, timeout=30)
    finally:
        waited = time.monotonic() - t0
        t.join(30)
        RESULTS["request_during_drain"] = {"status": locals().get("code_"), "seconds": round(waited, 3),
                                           "in_flight_status": result.get("long")}
        srv.stop_after_exit()
    assert result.get("long") == 200
    assert (code_, waited < 1.0) == (503, True), f"{code_} after {waited:.2f} s"


# ---- other modes: lighttpd (fd 0) and CGI ----------------------------------------------------------


BUSY = """
    def run():
        while True:
            pass
"""


def test_timeout_under_lighttpd_fd0(owt_server: Callable[[Sequence[str]], OwtServer]) -> None:
    srv = owt_server(("-vv", "--timeout", str(TIMEOUT), "--kill-grace", str(KILL_GRACE)))
    t0 = time.monotonic()
    resp = http_send(srv, get("/busy", code_b64=b64(code(BUSY))), timeout=30)
    elapsed = time.monotonic() - t0
    after = http_send(srv, get("/hello", code_b64=b64(HELLO)))
    RESULTS["lighttpd_fd0_busy_loop"] = {"status": resp.status, "seconds_to_answer": round(elapsed, 3)}
    assert resp.status == 504, resp.describe()
    assert elapsed < TIMEOUT + 2
    assert (after.status, after.body) == (200, b"hello")


def test_segfault_under_lighttpd_fd0(owt_server: Callable[[Sequence[str]], OwtServer]) -> None:
    """Without the master, lighttpd (bin-path) restarts the dead worker; lighttpd answers
    the crashed request itself (500, its choice) and serves the next ones."""
    srv = owt_server(("-vv", "--timeout", str(TIMEOUT), "--kill-grace", str(KILL_GRACE)))
    before = srv.worker_pids()
    resp = http_send(srv, get("/segv", code_b64=b64(code("""
        import ctypes
        def run():
            return ctypes.string_at(0)
    """))), timeout=30)
    t0 = time.monotonic()
    while True:
        after = http_send(srv, get("/hello", code_b64=b64(HELLO)))
        if after.status == 200 or time.monotonic() - t0 > 10:
            break
        time.sleep(0.02)
    recovered = time.monotonic() - t0
    RESULTS["lighttpd_fd0_segfault"] = {"status": resp.status, "next_200_after_s": round(recovered, 3),
                                        "workers_before": len(before), "workers_after": len(srv.worker_pids())}
    assert resp.status in (500, 502, 503), resp.describe()
    assert (after.status, after.body) == (200, b"hello")
    assert recovered < 3, RESULTS["lighttpd_fd0_segfault"]


def test_timeout_in_cgi_mode() -> None:
    owt_e2e.require_binary()
    t0 = time.monotonic()
    run = owt_e2e.run_cgi(get("/sleepy", code_b64=b64(code("""
        import time
        def run():
            time.sleep(30)
    """))), ("--timeout", "1"))
    elapsed = time.monotonic() - t0
    RESULTS["cgi_sleep"] = {"status": run.resp.status, "exit": run.returncode, "seconds": round(elapsed, 3)}
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.startswith(b"Status: 504"), run.stdout[:200]
    assert elapsed < 1 + 2


def test_hang_in_c_in_cgi_mode_ends_the_process() -> None:
    owt_e2e.require_binary()
    t0 = time.monotonic()
    run = subprocess.run([str(OWT_BIN), "--cgi", "--timeout", "1", "--kill-grace", "1"],
                         env=owt_e2e.cgi_environ(get("/deadlock", code_b64=b64(code("""
                             import ctypes
                             def run():
                                 libc = ctypes.CDLL(None)
                                 m = ctypes.create_string_buffer(64)
                                 libc.pthread_mutex_lock(m)
                                 libc.pthread_mutex_lock(m)
                         """)))), stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    elapsed = time.monotonic() - t0
    RESULTS["cgi_c_hang"] = {"exit": run.returncode, "stdout_bytes": len(run.stdout), "seconds": round(elapsed, 3)}
    assert run.returncode == 70, run.stderr[-2000:]
    assert b"did not stop after its timeout" in run.stderr
    assert elapsed < 1 + 1 + 2


# ---- the master on its own: --listen, --pidfile, --socket-mode, refusals ----------------------------


class Master:
    """``owt-fcgi --listen ... --workers 1`` run directly, stderr to a file."""

    def __init__(self, args: Sequence[str], log: Path, env: dict[str, str] | None = None):
        self.log = log
        with open(log, "wb") as err:
            self.proc = subprocess.Popen([str(OWT_BIN), *args], stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=err, cwd=str(owt_e2e.SRCDIR),
                                         env={**os.environ, **(env or {})}, start_new_session=True)

    def wait_ready(self, address: tuple[str, int] | str, timeout: float = 10.0) -> fcgi_client.FcgiResponse:
        deadline = time.monotonic() + timeout
        while True:
            assert self.proc.poll() is None, f"master exited {self.proc.returncode}:\n{self.log.read_text()}"
            try:
                return fcgi_client.get(address, "/_owt/health", timeout=2)
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(10)
        finally:
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


@pytest.fixture
def masters(tmp_path: Path) -> Iterator[Callable[..., Master]]:
    owt_e2e.require_binary()
    started: list[Master] = []

    def start(args: Sequence[str], env: dict[str, str] | None = None) -> Master:
        m = Master(args, tmp_path / f"master{len(started)}.log", env)
        started.append(m)
        return m

    yield start
    for m in started:
        if m.proc.poll() is None:
            m.stop()


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_listen_tcp_fastcgi(masters: Callable[[Sequence[str]], Master], tmp_path: Path, host: str) -> None:
    if host == "::1":
        try:
            with socket.socket(socket.AF_INET6) as s:
                s.bind(("::1", 0))
        except OSError:
            owt_e2e.unavailable("no IPv6 loopback here")
    port = owt_e2e.free_port()
    spec = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    pidfile = tmp_path / "owt.pid"
    m = masters(["--listen", spec, "--workers", "1", "--pidfile", str(pidfile), "-vv"])
    health = m.wait_ready((host, port))
    assert (health.status, health.body) == (200, b"ok")
    assert pidfile.read_text().strip() == str(m.proc.pid)
    hello = fcgi_client.get((host, port), "/hello", {"code_b64": b64(HELLO)})
    assert (hello.status, hello.body) == (200, b"hello"), hello.stdout[:300]
    status = json.loads(fcgi_client.get((host, port), "/_owt/status").body)
    assert status["totals"]["workers"] == 1
    assert m.stop() == 0, m.log.read_text()
    assert not pidfile.exists(), "the pidfile outlived the master"


def test_listen_unix_socket_mode(masters: Callable[[Sequence[str]], Master], tmp_path: Path) -> None:
    path = tmp_path / "owt.sock"
    m = masters(["--listen", f"unix:{path}", "--workers", "1", "--socket-mode", "660"])
    m.wait_ready(str(path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o660
    assert m.stop() == 0, m.log.read_text()
    assert not path.exists(), "the socket outlived the master"


def test_user_and_group_get_the_socket(masters: Callable[..., Master]) -> None:
    """Started as root with --user/--group: the unix socket is theirs (so --socket-mode 660
    lets the web server's group in), the pidfile is written before privileges go. From a
    clone www-data cannot read (root's home), the workers run a readable copy of the runtime."""
    import pwd
    if os.geteuid() != 0:
        pytest.skip("needs root (--user/--group only act when started as root)")
    try:
        www = pwd.getpwnam("www-data")
    except KeyError:
        pytest.skip("no www-data user")
    state = Path(tempfile.mkdtemp(prefix="owt-user-"))
    try:
        state.chmod(0o755)
        # The probe below runs as www-data: its FastCGI client comes from here, not the tree.
        for name in ("fcgi_client.py", "owt_e2e.py"):
            shutil.copy(Path(__file__).parent / name, state / name)
            (state / name).chmod(0o644)
        sock, pidfile = state / "owt.sock", state / "owt.pid"
        with owt_e2e.runtime_readable_by("www-data") as runtime_env:
            m = masters(["--listen", f"unix:{sock}", "--workers", "1", "--user", "www-data",
                         "--group", "www-data", "--socket-mode", "660", "--pidfile", str(pidfile)],
                        runtime_env)
            m.wait_ready(str(sock))
            st = sock.stat()
            assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (www.pw_uid, www.pw_gid, 0o660)
            assert pidfile.read_text().strip() == str(m.proc.pid)
            probe = ("import sys; sys.path.insert(0, sys.argv[1]); import fcgi_client; "
                     "sys.stdout.write(fcgi_client.get(sys.argv[2], '/_owt/health').body.decode())")
            as_www = subprocess.run(["runuser", "-u", "www-data", "--", "/usr/bin/python3", "-c", probe,
                                     str(state), str(sock)], capture_output=True, timeout=20, cwd="/")
            assert as_www.stdout == b"ok", as_www.stderr[-2000:]
            hello = fcgi_client.get(str(sock), "/hello", {"code_b64": b64(HELLO)})
            assert (hello.status, hello.body) == (200, b"hello"), m.log.read_text()
            assert m.stop() == 0
    finally:
        shutil.rmtree(state, ignore_errors=True)


def test_kept_connections_do_not_starve_another(masters: Callable[[Sequence[str]], Master],
                                                tmp_path: Path) -> None:
    """Two FCGI_KEEP_CONN connections held open by the web server, 2 workers: a request
    on a third connection is still answered (an idle kept connection yields to it)."""
    path = str(tmp_path / "owt.sock")
    m = masters(["--listen", f"unix:{path}", "--workers", "2"])
    m.wait_ready(path)
    hello = fcgi_client.cgi_params("GET", "/hello", {"code_b64": b64(HELLO)})
    kept = [fcgi_client.connect(path) for _ in range(2)]
    try:
        for sock in kept:
            resp = fcgi_client.exchange(sock, hello, keep_conn=True)
            assert resp.body == b"hello"
        t0 = time.monotonic()
        third = fcgi_client.request(path, hello, timeout=5)
        RESULTS["third_connection_with_two_kept"] = {"seconds": round(time.monotonic() - t0, 3)}
        assert (third.status, third.body) == (200, b"hello")
        assert time.monotonic() - t0 < 1.0, RESULTS["third_connection_with_two_kept"]
    finally:
        for sock in kept:
            sock.close()
    assert m.stop() == 0


def test_non_loopback_listen_needs_auth_or_insecure(masters: Callable[[Sequence[str]], Master]) -> None:
    port = owt_e2e.free_port()
    refused = subprocess.run([str(OWT_BIN), "--listen", f"0.0.0.0:{port}", "--workers", "1"],
                             capture_output=True, timeout=10)
    assert refused.returncode != 0
    assert b"--auth" in refused.stderr and b"--insecure" in refused.stderr, refused.stderr
    m = masters(["--listen", f"0.0.0.0:{port}", "--workers", "1", "--insecure"])
    assert m.wait_ready(("127.0.0.1", port)).status == 200
    assert m.stop() == 0
    digest = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"  # "password"
    m = masters(["--listen", f"0.0.0.0:{port}", "--workers", "1", "--auth", f"user:{digest}"])
    assert m.wait_ready(("127.0.0.1", port)).status == 200
    assert fcgi_client.get(("127.0.0.1", port), "/x", {"code_b64": b64(HELLO)}).status == 401
    assert m.stop() == 0


def test_worker_that_cannot_start_stops_the_master(tmp_path: Path) -> None:
    owt_e2e.require_binary()
    port = owt_e2e.free_port()
    t0 = time.monotonic()
    run = subprocess.run([str(OWT_BIN), "--listen", f"127.0.0.1:{port}", "--workers", "2",
                          "--venv", str(tmp_path / "no-such-venv")], capture_output=True, timeout=20)
    RESULTS["bad_venv"] = {"exit": run.returncode, "seconds": round(time.monotonic() - t0, 3)}
    assert run.returncode != 0
    assert b"no-such-venv" in run.stderr and b"could not start" in run.stderr, run.stderr[-2000:]


@pytest.mark.parametrize("private", ["runtime", "adaptors", "python-path", "venv"])
def test_user_who_cannot_read_what_workers_load_stops_the_master(tmp_path: Path, private: str) -> None:
    """--user www-data and a runtime, --adaptors, --python-path or --venv inside a directory
    www-data may not enter (a clone in root's home, mode 700): the master says which path,
    which user and which directory, and exits 78 (EX_CONFIG) before starting a worker,
    instead of workers dying of "No module named 'owt'"."""
    owt_e2e.require_binary()
    if os.geteuid() != 0:
        pytest.skip("needs root (--user/--group only act when started as root)")
    home = Path(tempfile.mkdtemp(prefix="owt-home-"))  # mode 700, owned by root
    run_dir = Path(tempfile.mkdtemp(prefix="owt-run-"))
    try:
        run_dir.chmod(0o755)
        inside = home / "clone" / private
        inside.mkdir(parents=True)
        args = ["--listen", f"unix:{run_dir / 'owt.sock'}", "--workers", "2", "--user", "www-data",
                "--group", "www-data", "-v"]
        env = dict(os.environ)
        with owt_e2e.runtime_readable_by("www-data") as runtime_env:
            env.update(runtime_env)
            if private == "runtime":
                shutil.copytree(owt_e2e.shipped_adaptors() / "owt", inside / "owt",
                                ignore=shutil.ignore_patterns("__pycache__"))
                env["OWT_ADAPTORS_HOME"] = str(inside)
                named, what = inside / "owt" / "__init__.py", "the owt runtime"
            elif private == "venv":
                (inside / "pyvenv.cfg").write_text("version = 3.11.2\n")
                args += ["--venv", str(inside)]
                named, what = inside, "--venv"
            else:
                args += [f"--{private}", str(inside)]
                named, what = inside, f"--{private}"
            t0 = time.monotonic()
            run = subprocess.run([str(OWT_BIN), *args], capture_output=True, timeout=20, env=env, cwd="/")
        RESULTS.setdefault("unreadable_for_user", {})[private] = {
            "exit": run.returncode, "seconds": round(time.monotonic() - t0, 3)}
        err = run.stderr.decode(errors="replace")
        assert run.returncode == 78, err
        assert f"--user www-data cannot read {what} at {named}: www-data may not enter {home} " \
               f"(owner root, group root, mode 0700)" in err, err
        assert "No module named" not in err and "worker" not in err, err
    finally:
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(run_dir, ignore_errors=True)


# ---- spawn/owt-fcgi-master.service ------------------------------------------------------------------

UNIT = owt_e2e.SRCDIR / "spawn" / "owt-fcgi-master.service"


def _unit_value(text: str, key: str) -> str:
    values = [line.split("=", 1)[1] for line in text.splitlines() if line.startswith(key + "=")]
    assert len(values) == 1, f"{key}= {values}"
    return values[0]


def test_systemd_master_unit_verifies(tmp_path: Path) -> None:
    """systemd-analyze verify has nothing to say about the unit (with ExecStart pointing at
    the binary built here, since /usr/local/bin/owt-fcgi is not installed in the test)."""
    owt_e2e.require_tools("systemd-analyze")
    owt_e2e.require_binary()
    text = UNIT.read_text()
    (tmp_path / UNIT.name).write_text(text.replace("/usr/local/bin/owt-fcgi", str(OWT_BIN)))
    done = subprocess.run(["systemd-analyze", "verify", "--man=no", UNIT.name], cwd=str(tmp_path),
                          capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, SYSTEMD_LOG_LEVEL="notice"))
    noise = [line for line in (done.stdout + done.stderr).splitlines()
             if line.strip() and "Cannot add dependency job" not in line]
    assert done.returncode == 0 and not noise, "\n".join(noise)
    assert _unit_value(text, "ExecReload") == "/bin/kill -HUP $MAINPID"
    assert _unit_value(text, "KillSignal") == "SIGTERM"
    assert _unit_value(text, "KillMode") == "mixed"
    exec_start = _unit_value(text, "ExecStart").split()
    grace = float(exec_start[exec_start.index("--grace-timeout") + 1])
    assert float(_unit_value(text, "TimeoutStopSec")) > grace + 1, "systemd must not kill before the drain ends"


def test_systemd_master_unit_command_line_runs(masters: Callable[..., Master]) -> None:
    """The unit's ExecStart, with its /run directory moved to a temporary one: it serves,
    reloads on SIGHUP (ExecReload) and drains on SIGTERM (KillSignal) to exit 0. The workers
    run as www-data: from a clone www-data cannot read, on a readable copy of the runtime."""
    text = UNIT.read_text()
    argv = _unit_value(text, "ExecStart").split()
    run_dir = Path(tempfile.mkdtemp(prefix="owt-unit-"))
    try:
        run_dir.chmod(0o755)
        args = [a.replace("/run/owt-fcgi-master", str(run_dir)).replace("${OWT_WORKERS}", "2")
                for a in argv[1:] if a != "$OWT_ARGS"]
        if os.geteuid() != 0:
            for flag in ("--user", "--group"):
                i = args.index(flag)
                del args[i:i + 2]
        with owt_e2e.runtime_readable_by("www-data") as runtime_env:
            m = masters(args, runtime_env)
            sock = str(run_dir / "owt.sock")
            assert m.wait_ready(sock).status == 200
            status = json.loads(fcgi_client.get(sock, "/_owt/status").body)
            old = sorted(w["pid"] for w in status["workers"])
            assert len(old) == 2, status
            m.proc.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 10
            while True:
                pids = sorted(w["pid"] for w in json.loads(fcgi_client.get(sock, "/_owt/status").body)["workers"])
                if len(pids) == 2 and not set(pids) & set(old):
                    break
                assert time.monotonic() < deadline, f"still {pids} after SIGHUP (were {old})"
                time.sleep(0.05)
            hello = fcgi_client.get(sock, "/hello", {"code_b64": b64(HELLO)})
            assert (hello.status, hello.body) == (200, b"hello")
            assert m.stop() == 0, m.log.read_text()
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
