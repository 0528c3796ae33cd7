"""Fixtures for running owt-fcgi behind each front server (imported by test_fronts.py).

- ``FRONTS``: the ``spawn/owt-serve --front`` values, with the tools each needs.
- ``front_server``: a session-wide :class:`FrontServer` per front (parametrised over
  ``FRONTS``), started with ``--workers 2`` and Basic auth for ``USER``/``PASSWORD``;
  stopped at the end of the session, which checks no process of it is left.
- ``auth_header()``: the ``Authorization`` value for ``USER``/``PASSWORD``.

A front whose package is missing is skipped, or fails when ``CI`` is set.
"""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import owt_e2e
from owt_e2e import OwtServer, _stat, children, proc_comm, session_members

USER = "alice"
PASSWORD = "looking-glass-42"
AUTH = f"{USER}:{hashlib.sha256(PASSWORD.encode()).hexdigest()}"

FRONTS: dict[str, tuple[str, ...]] = {
    "lighttpd": ("lighttpd",),
    "nginx": ("nginx",),
    "apache": ("apache2",),
    "cgi": ("lighttpd",),
    "spawn-fcgi": ("lighttpd", "spawn-fcgi", "multiwatch"),
}
APACHE_MODULES = Path("/usr/lib/apache2/modules")


def auth_header(user: str = USER, password: str = PASSWORD) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def require_front(front: str) -> None:
    owt_e2e.require_binary()
    owt_e2e.require_tools("curl", *FRONTS[front])
    if front == "apache":
        if not (APACHE_MODULES / "mod_fcgid.so").is_file():
            owt_e2e.unavailable("needs mod_fcgid (apt-get install libapache2-mod-fcgid)")


def reachable_by(user: str, path: Path) -> bool:
    """Whether ``user`` may run ``path`` (Apache started as root runs owt-fcgi as www-data)."""
    if os.geteuid() != 0:
        return True
    probe = subprocess.run(["runuser", "-u", user, "--", "test", "-x", str(path)],
                           capture_output=True, timeout=10)
    return probe.returncode == 0


class FrontServer(OwtServer):
    """``spawn/owt-serve --front FRONT``: like :class:`OwtServer`, whatever the front process is."""

    def __init__(self, front: str, options: tuple[str, ...] = (), name: str | None = None,
                 workers: int = 2) -> None:
        super().__init__(("--front", front, "--workers", str(workers), *options),
                         name=name or f"front-{front}")
        self.front = front

    def _record_processes(self) -> None:
        assert self.proc is not None
        # owt-serve starts the front with setsid: the one child that leads its own session.
        leaders = [p for p in children(self.proc.pid) if (st := _stat(p)) is not None and int(st[3]) == p]
        if not leaders:
            raise RuntimeError(f"owt-serve (pid {self.proc.pid}) has no front server child")
        self.sid = leaders[0]
        for pid in session_members(self.sid):
            self.started_pids[pid] = proc_comm(pid)


_servers: dict[str, FrontServer] = {}


def front_server_for(front: str) -> FrontServer:
    server = _servers.get(front)
    if server is None or not server.alive():
        require_front(front)
        server = FrontServer(front, ("--auth", AUTH, "-v"))
        _servers[front] = server
        server.start()
    return server


@pytest.fixture(scope="session")
def front_servers() -> Iterator[Callable[[str], FrontServer]]:
    yield front_server_for
    errors = []
    for server in list(_servers.values()):
        try:
            server.stop()
        except AssertionError as exc:
            errors.append(str(exc))
    _servers.clear()
    if errors:
        pytest.fail("\n\n".join(errors), pytrace=False)


@pytest.fixture(params=list(FRONTS))
def front_server(request: pytest.FixtureRequest, front_servers: Callable[[str], FrontServer]) -> FrontServer:
    return front_servers(request.param)


def log_of(server: OwtServer, lines: int = 30) -> str:
    """For assertion messages: the tail of the server's stderr."""
    return f"\n--- {server.name} stderr (last {lines} lines) ---\n{server.log_tail(lines)}"
