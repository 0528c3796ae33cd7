"""Kept FastCGI connections behind nginx (spawn/nginx.conf: fastcgi_keep_conn on, upstream
keepalive 32) lose no request when the workers holding them leave.

A worker that drains (--max-requests, a SIGHUP reload) hands the connections nginx keeps
to its master, which passes them to a worker that stays: a request nginx sends on one at
that moment waits there and is served. Without the hand-off, 0.6-0.8% of the requests of
a recycling run failed (bench/results.md). Each test drives several client threads at
once, checks every response, and checks in the log that connections were handed off.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import threading
import time
import urllib.parse
from collections.abc import Callable

import pytest

from conftest_nginx import NginxServer, fresh_nginx  # noqa: F401
from e2e_cases import code
from owt_e2e import SRCDIR, b64

PID = code("""
    import os
    def run(n=0):
        return {'pid': os.getpid(), 'n': n}
""")
PID_B64 = b64(PID)
HANDED = re.compile(r"\((\d+) kept connections handed to the master")


class Load:
    """``threads`` clients, each on its own keep-alive connection to nginx, sending GET
    and POST JSON requests in turn until stopped; every response is checked."""

    def __init__(self, server: NginxServer, threads: int = 12, requests: int | None = None):
        self.server = server
        self.requests = requests
        self.sent = 0
        self.pids: set[int] = set()
        self.failures: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(threads)]

    def _one(self, conn: http.client.HTTPConnection, n: int) -> str:
        if n % 2:
            conn.request("POST", "/pid", json.dumps({"code_b64": PID_B64, "kwargs": {"n": n}}),
                         {"Content-Type": "application/json"})
        else:
            conn.request("GET", "/pid?" + urllib.parse.urlencode({"code_b64": PID_B64,
                                                                  "kwargs": json.dumps({"n": n})}))
        r = conn.getresponse()
        body = r.read()
        if r.status != 200:
            return f"{r.status} {body[:200]!r}"
        reply = json.loads(body)
        if reply.get("n") != n:
            return f"wrong reply {reply} for n={n}"
        with self._lock:
            self.pids.add(reply["pid"])
        return ""

    def _run(self, index: int) -> None:
        conn = http.client.HTTPConnection(self.server.address, self.server.port, timeout=30)
        n = index * 1_000_000
        while not self._stop.is_set():
            n += 1
            with self._lock:
                if self.requests is not None and self.sent >= self.requests:
                    break
                self.sent += 1
            try:
                problem = self._one(conn, n)
            except (OSError, http.client.HTTPException, ValueError) as exc:
                problem = repr(exc)
                conn.close()
                conn = http.client.HTTPConnection(self.server.address, self.server.port, timeout=30)
            if problem:
                with self._lock:
                    self.failures.append(problem)
        conn.close()

    def __enter__(self) -> "Load":
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(120)

    def wait(self, timeout: float = 300) -> None:
        for t in self._threads:
            t.join(timeout)
            assert not t.is_alive(), "a client thread is stuck"

    def check(self) -> None:
        assert self.sent > 0 and not self.failures, (
            f"{len(self.failures)} of {self.sent} requests failed: {self.failures[:5]}")


def handed_off(server: NginxServer) -> int:
    """Kept connections the workers that have exited so far handed to the master."""
    return sum(int(m) for m in HANDED.findall(server.log_text()))


def test_the_shipped_nginx_config_keeps_connections() -> None:
    conf = (SRCDIR / "spawn" / "nginx.conf").read_text()
    assert re.search(r"^\s*fastcgi_keep_conn on;", conf, re.M), "spawn/nginx.conf: fastcgi_keep_conn"
    assert re.search(r"^\s*keepalive \d+;", conf, re.M), "spawn/nginx.conf: upstream keepalive"
    assert re.search(r"^\s*fastcgi_next_upstream off;", conf, re.M), "a crashing request is never replayed"


def test_recycling_under_load_loses_no_request(fresh_nginx: Callable[..., NginxServer]) -> None:  # noqa: F811
    srv = fresh_nginx(("-vv", "--max-requests", "150"), workers=2)
    srv.wait_workers()
    with Load(srv, threads=12, requests=2400) as load:
        load.wait()
    load.check()
    assert len(load.pids) >= 10, f"workers that served: {sorted(load.pids)}"
    assert "recycling after 150 requests (--max-requests)" in srv.log_text()
    assert handed_off(srv) > 0, "no worker handed a kept connection to the master"


def test_one_worker_recycling_under_load_loses_no_request(fresh_nginx: Callable[..., NginxServer]) -> None:  # noqa: F811
    """The only worker leaves: its connections wait (in the master, or queued for the
    replacement) until the replacement serves them."""
    srv = fresh_nginx(("-vv", "--max-requests", "100"), workers=1)
    srv.wait_workers()
    with Load(srv, threads=8, requests=800) as load:
        load.wait()
    load.check()
    assert len(load.pids) >= 6, f"workers that served: {sorted(load.pids)}"
    assert handed_off(srv) > 0, "no worker handed a kept connection to the master"


def test_reloads_under_load_lose_no_request(fresh_nginx: Callable[..., NginxServer]) -> None:  # noqa: F811
    srv = fresh_nginx(("-vv",), workers=2)
    srv.wait_workers()
    master = srv.master_pid()
    with Load(srv, threads=12) as load:
        for _ in range(4):
            old = srv.wait_workers()
            deadline = time.monotonic() + 10
            sent = load.sent
            while load.sent < sent + 100:  # traffic on the kept connections before each reload
                assert time.monotonic() < deadline, "the load stalled"
                time.sleep(0.01)
            os.kill(master, signal.SIGHUP)
            srv.wait_workers(exclude=old, timeout=20)
            while any(p in srv.worker_pids() for p in old):  # the old generation has left
                assert time.monotonic() < deadline + 20, "the old workers did not leave"
                time.sleep(0.02)
    load.check()
    assert srv.master_pid() == master
    assert handed_off(srv) > 0, "no worker handed a kept connection to the master"


@pytest.mark.parametrize("workers", [2])
def test_a_crash_costs_only_that_workers_requests(fresh_nginx: Callable[..., NginxServer],  # noqa: F811
                                                  workers: int) -> None:
    """With kept connections a crash still costs only the requests in flight in the worker
    that crashed (each client thread has at most one), never the other worker's, and nginx
    never replays the crashing request (fastcgi_next_upstream off): one crash, one death."""
    srv = fresh_nginx(("-vv", "--threads", "4"), workers=workers)
    before = srv.wait_workers()
    crash = "/crash?" + urllib.parse.urlencode({"code_b64": b64(code("""
        import ctypes
        def run():
            return ctypes.string_at(0)
    """))})
    threads = 6
    with Load(srv, threads=threads) as load:
        deadline = time.monotonic() + 10
        while load.sent < 200:
            assert time.monotonic() < deadline, "the load stalled"
            time.sleep(0.01)
        status, _ = srv.get(crash, timeout=30)
        after = srv.wait_workers(exclude=[], timeout=20)
        sent = load.sent
        while load.sent < sent + 200:  # the replacement and the survivor serve on
            assert time.monotonic() < deadline + 20, "the load stalled after the crash"
            time.sleep(0.01)
    assert status == 502
    after = srv.wait_workers()
    assert len(set(before) - set(after)) == 1, f"one crash, one dead worker: {before} -> {after}"
    lost = [f for f in load.failures if f.startswith("502 ")]
    assert len(lost) == len(load.failures) and len(lost) <= threads, load.failures[:5]
