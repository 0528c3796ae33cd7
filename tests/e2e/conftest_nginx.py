"""nginx in front of an owt-fcgi master (``spawn/owt-serve --front nginx``) for the e2e suite.

- :class:`NginxServer`: an :class:`owt_e2e.OwtServer` whose front is nginx and whose
  owt-fcgi processes are a master (``--listen unix:``) and its workers; it knows the
  master's pid, the workers' pids, and reads ``/_owt/status``.
- ``nginx_front(options, workers=2)``: a shared server per option set (module scope),
  stopped (and checked to leave nothing behind) when the module ends.
- ``fresh_nginx(options, workers=2)``: a private server for one test.

Import the fixtures into a test module with ``from conftest_nginx import nginx_front, fresh_nginx``.
"""

from __future__ import annotations

import http.client
import json
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

import owt_e2e
from owt_e2e import OwtServer, _stat, children, proc_cmdline, proc_comm, session_members

_counter = [0]


def _slug(options: Sequence[str]) -> str:
    text = "-".join(options) or "plain"
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")[:50]


class _Probe:
    """Requests and waits a test needs from a server with a master and --workers."""

    workers: int

    def get(self, target: str, timeout: float = 10.0) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection(self.address, self.port, timeout=timeout)  # type: ignore[attr-defined]
        try:
            conn.request("GET", target)
            r = conn.getresponse()
            return r.status, r.read()
        finally:
            conn.close()

    def status(self) -> dict[str, Any]:
        code, body = self.get("/_owt/status")
        assert code == 200, (code, body[:300])
        return json.loads(body)

    def wait_workers(self, count: int | None = None, exclude: Sequence[int] = (),
                     timeout: float = 10.0) -> list[int]:
        """Wait until the master has ``count`` workers (default: --workers), none in exclude."""
        want = self.workers if count is None else count
        deadline = time.monotonic() + timeout
        while True:
            pids = self.worker_pids()  # type: ignore[attr-defined]
            if len(pids) == want and not set(pids) & set(exclude):
                return pids
            if time.monotonic() > deadline:
                raise AssertionError(f"workers {pids}, want {want} not in {list(exclude)}\n"
                                     f"{self.log_tail()}")  # type: ignore[attr-defined]
            time.sleep(0.02)


class LighttpdServer(_Probe, OwtServer):
    """The default set-up: ``spawn/owt-serve --workers N`` (lighttpd starts an owt-fcgi
    master on its socket, which forks the workers)."""

    front = "lighttpd"
    gateway_error = 500
    """What lighttpd answers when its backend's connection closes without a response."""

    def __init__(self, options: Sequence[str] = (), name: str = "lighttpd", workers: int = 2):
        self.owt_options = tuple(options)
        self.workers = workers
        super().__init__(("--workers", str(workers), *options), name=name)

    def worker_pids(self) -> list[int]:
        """The master's live workers (old ones still draining included)."""
        master = self.master_pid()
        if master is None:
            return []
        return sorted(p for p in children(master)
                      if proc_comm(p) == "owt-fcgi" and (_stat(p) or ["Z"])[0] not in ("Z", "X"))


class NginxServer(_Probe, OwtServer):
    """``spawn/owt-serve --front nginx --workers N`` with owt-fcgi options.

    owt-serve keeps its state directory (nginx config, the unix socket) private and
    removes it; the response cache goes to a directory of this server's own, removed
    when it stops.
    """

    front = "nginx"
    gateway_error = 502

    def __init__(self, options: Sequence[str] = (), name: str = "nginx", workers: int = 2):
        self.cache_dir = Path(tempfile.mkdtemp(prefix="owt-nginx-cache-"))
        self.owt_options = tuple(options)
        self.workers = workers
        super().__init__(("--front", "nginx", "--workers", str(workers),
                          "--cache-dir", str(self.cache_dir), *options), name=name)

    @property
    def socket_path(self) -> Path:
        """The master's --listen unix: socket."""
        argv = Path(f"/proc/{self.master_pid()}/cmdline").read_bytes().split(b"\0")
        spec = argv[argv.index(b"--listen") + 1].decode()
        assert spec.startswith("unix:"), spec
        return Path(spec[len("unix:"):])

    def _record_processes(self) -> None:
        assert self.proc is not None
        front = [p for p in children(self.proc.pid) if "front.sh" in proc_cmdline(p)]
        if not front:
            raise RuntimeError(f"owt-serve (pid {self.proc.pid}) has no front.sh child")
        self.front_pid = front[0]
        self.sid = int(_stat(front[0])[3])  # type: ignore[index]
        for pid in session_members(self.sid):
            self.started_pids[pid] = proc_comm(pid)

    def master_pid(self) -> int:
        masters = [p for p in children(self.front_pid) if proc_comm(p) == "owt-fcgi"]
        assert len(masters) == 1, f"want one owt-fcgi master under front.sh, found {masters}"
        return masters[0]

    def worker_pids(self) -> list[int]:
        """The master's live workers (old ones still draining included)."""
        try:
            master = self.master_pid()
        except AssertionError:
            return []
        return sorted(p for p in children(master)
                      if proc_comm(p) == "owt-fcgi" and (_stat(p) or ["Z"])[0] not in ("Z", "X"))

    def stop_after_exit(self, timeout: float = 10.0) -> int:
        """The master was stopped on purpose: wait for owt-serve to follow (nginx
        stopped, nothing left behind), and return its exit code."""
        assert self.proc is not None
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._kill_all()
            raise AssertionError(f"owt-serve still running {timeout:.0f} s after its master exited")
        left = self._wait_session_gone(5.0)
        self._kill_all()
        self.proc = None
        shutil.rmtree(self.cache_dir, ignore_errors=True)
        assert not left, "processes left behind: " + "; ".join(
            f"{pid} {proc_comm(pid)} ({proc_cmdline(pid)})" for pid in left)
        return rc

    def stop(self) -> None:
        try:
            super().stop()
        finally:
            shutil.rmtree(self.cache_dir, ignore_errors=True)


def _start(options: Sequence[str], workers: int, private: bool) -> NginxServer:
    owt_e2e.require_binary()
    owt_e2e.require_tools("nginx", "curl")
    _counter[0] += 1
    kind = "private-" if private else ""
    srv = NginxServer(options, name=f"nginx{_counter[0]}-{kind}{_slug(options)}", workers=workers)
    try:
        return srv.start()
    except BaseException:
        shutil.rmtree(srv.cache_dir, ignore_errors=True)
        raise


@pytest.fixture(scope="module")
def nginx_front() -> Iterator[Callable[..., NginxServer]]:
    """``nginx_front(options, workers=2)``: the module's server for exactly these options."""
    servers: dict[tuple[tuple[str, ...], int], NginxServer] = {}

    def get(options: Sequence[str] = (), workers: int = 2) -> NginxServer:
        key = (tuple(options), workers)
        srv = servers.get(key)
        if srv is None or not srv.alive():
            srv = servers[key] = _start(options, workers, private=False)
        return srv

    yield get
    errors = []
    for srv in servers.values():
        try:
            srv.stop()
        except AssertionError as exc:
            errors.append(str(exc))
    if errors:
        pytest.fail("\n\n".join(errors), pytrace=False)


def _start_lighttpd(options: Sequence[str], workers: int) -> LighttpdServer:
    owt_e2e.require_binary()
    owt_e2e.require_tools("lighttpd", "curl")
    _counter[0] += 1
    srv = LighttpdServer(options, name=f"lighttpd{_counter[0]}-{_slug(options)}", workers=workers)
    return srv.start()


@pytest.fixture(scope="module")
def lighttpd_front() -> Iterator[Callable[..., LighttpdServer]]:
    """``lighttpd_front(options, workers=2)``: the module's default-set-up server for exactly
    these options (spawn/owt-serve: lighttpd, an owt-fcgi master on its socket)."""
    servers: dict[tuple[tuple[str, ...], int], LighttpdServer] = {}

    def get(options: Sequence[str] = (), workers: int = 2) -> LighttpdServer:
        key = (tuple(options), workers)
        srv = servers.get(key)
        if srv is None or not srv.alive():
            srv = servers[key] = _start_lighttpd(options, workers)
        return srv

    yield get
    errors = []
    for srv in servers.values():
        try:
            srv.stop()
        except AssertionError as exc:
            errors.append(str(exc))
    if errors:
        pytest.fail("\n\n".join(errors), pytrace=False)


@pytest.fixture
def fresh_nginx() -> Iterator[Callable[..., NginxServer]]:
    """``fresh_nginx(options, workers=2)``: a private server, stopped after the test."""
    started: list[NginxServer] = []

    def start(options: Sequence[str] = (), workers: int = 2) -> NginxServer:
        srv = _start(options, workers, private=True)
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.stop()
