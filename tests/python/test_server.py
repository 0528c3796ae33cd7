"""owt.server: Server.sing() reports the server the client reached."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from owt import server
from owt.request import Request, bind, unbind
from owt.server import Server


@pytest.fixture(autouse=True)
def reset() -> Iterator[None]:
    yield
    server.configure()


def test_outside_a_request_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OWT_ADDRESS", raising=False)
    monkeypatch.delenv("OWT_PORT", raising=False)
    server.configure()
    assert (Server.sing().address, Server.sing().port) == ("0.0.0.0", 9876)


def test_outside_a_request_configured() -> None:
    server.configure("127.0.0.1", "8080")
    assert (Server.sing().address, Server.sing().port) == ("127.0.0.1", 8080)


def test_outside_a_request_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OWT_ADDRESS", "10.1.1.1")
    monkeypatch.setenv("OWT_PORT", "7000")
    server.configure()
    assert (Server.sing().address, Server.sing().port) == ("10.1.1.1", 7000)


def test_inside_a_request_reads_server_addr_and_port() -> None:
    token = bind(Request({"SERVER_ADDR": "192.168.1.2", "SERVER_PORT": "9877"}))
    try:
        assert Server.sing().address == "192.168.1.2"
        assert Server.sing().port == 9877
        assert repr(Server.sing()) == "<Server 192.168.1.2:9877>"
    finally:
        unbind(token)


def test_request_without_server_params_falls_back() -> None:
    server.configure("1.2.3.4", 1234)
    token = bind(Request({"SERVER_PORT": "nope"}))
    try:
        assert (Server.sing().address, Server.sing().port) == ("1.2.3.4", 1234)
    finally:
        unbind(token)


def test_one_instance() -> None:
    assert Server.sing() is Server.sing() is server._SERVER
