"""Fixtures for the end-to-end suite.

- ``owt_server(options)``: a running ``spawn/owt-serve`` (lighttpd + owt-fcgi) on a free
  loopback port with exactly those owt-fcgi options; one per distinct option set, started
  on first use and stopped at the end of the session (which checks no process is left).
- ``server``: the default one (``-vv``, so each request is logged).
- ``transports(kind)``: the transport named ``http`` or ``cgi``.
- ``transport``: parametrized over ``http`` (through lighttpd) and ``cgi`` (``owt-fcgi --cgi``);
  ``transport.send(req, options)`` answers a :class:`owt_e2e.Req` with a :class:`owt_e2e.Resp`.
- ``cgi``: run one CGI request (``cgi(req, options)`` → :class:`owt_e2e.CgiRun`).

A failing test gets the tail of the stderr of every server it used.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence

import pytest

import owt_e2e
from owt_e2e import CgiTransport, HttpTransport, OwtServer

VERBOSE = ("-vv",)

_servers: dict[tuple[str, ...], OwtServer] = {}
_started: list[OwtServer] = []
"""Every shared server of the session, including any that died and were replaced."""
_touched: list[OwtServer] = []
_counter = [0]


def _slug(options: Sequence[str]) -> str:
    text = "-".join(options) or "plain"
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")[:60]


def _server_for(options: Sequence[str]) -> OwtServer:
    key = tuple(options)
    server = _servers.get(key)
    if server is None or not server.alive():
        owt_e2e.require_binary()
        owt_e2e.require_tools("lighttpd", "curl")
        _counter[0] += 1
        server = OwtServer(key, name=f"server{_counter[0]}-{_slug(key)}")
        _servers[key] = server
        _started.append(server)
        server.start()
    if server not in _touched:
        _touched.append(server)
    return server


@pytest.fixture(scope="session", autouse=True)
def owt_server() -> Iterator[Callable[[Sequence[str]], OwtServer]]:
    """``owt_server(options)``: the shared server started with exactly these owt-fcgi options."""
    yield _server_for
    errors = []
    for server in _started:
        server.terminate()
    for server in _started:
        try:
            server.stop()
        except AssertionError as exc:
            errors.append(str(exc))
    _servers.clear()
    _started.clear()
    if errors:
        pytest.fail("\n\n".join(errors), pytrace=False)


@pytest.fixture(scope="session")
def server(owt_server: Callable[[Sequence[str]], OwtServer]) -> OwtServer:
    """The default server: no options but ``-vv``."""
    return owt_server(VERBOSE)


@pytest.fixture
def fresh_server() -> Iterator[Callable[..., OwtServer]]:
    """Start a private server for one test (``fresh_server(options)``); stopped (and checked) after it."""
    started: list[OwtServer] = []

    def start(options: Sequence[str] = VERBOSE) -> OwtServer:
        owt_e2e.require_binary()
        owt_e2e.require_tools("lighttpd", "curl")
        _counter[0] += 1
        srv = OwtServer(tuple(options), name=f"server{_counter[0]}-private-{_slug(options)}")
        started.append(srv)
        _touched.append(srv)
        return srv.start()

    yield start
    for srv in started:
        srv.terminate()
    for srv in started:
        srv.stop()


class _Http(HttpTransport):
    def __init__(self) -> None:
        super().__init__(lambda options: _server_for(VERBOSE + tuple(options)))


class _Cgi(CgiTransport):
    def send(self, req, options=(), timeout=30.0):  # type: ignore[no-untyped-def]
        return super().send(req, VERBOSE + tuple(options), timeout)


def _transport(kind: str) -> HttpTransport | CgiTransport:
    owt_e2e.require_binary()
    if kind == "http":
        owt_e2e.require_tools("lighttpd", "curl")
        return _Http()
    return _Cgi()


@pytest.fixture
def transports() -> Callable[[str], HttpTransport | CgiTransport]:
    """``transports("http")`` / ``transports("cgi")``."""
    return _transport


@pytest.fixture(params=["http", "cgi"])
def transport(request: pytest.FixtureRequest) -> HttpTransport | CgiTransport:
    return _transport(request.param)


@pytest.fixture
def cgi() -> Callable[..., owt_e2e.CgiRun]:
    owt_e2e.require_binary()
    return owt_e2e.run_cgi


def pytest_sessionstart(session: pytest.Session) -> None:
    owt_e2e.prune_artifacts()


def pytest_runtest_setup(item: pytest.Item) -> None:
    _touched.clear()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.failed and not getattr(report, "wasxfail", None):
        for srv in _touched:
            text = srv.log_tail(40)
            if text:
                report.sections.append((f"{srv.name} stderr (last 40 lines of {srv.stderr_path})", text))
