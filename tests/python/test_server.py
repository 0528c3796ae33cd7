"""owt.server: Server.sing() reports the server the client reached."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

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


# ---- find_launcher: which owt-serve main() runs ---------------------------------------


def _executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_launcher_of_a_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OWT_SERVE", raising=False)
    serve = _executable(tmp_path / "tree" / "spawn" / "owt-serve")
    module = tmp_path / "tree" / "adaptors" / "owt" / "server.py"
    assert server.find_launcher(str(module)) == str(serve)


def test_launcher_of_the_debian_layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The installed binary imports owt through /usr/share/owt-fcgi/adaptors/owt, a link to
    dist-packages/owt: the launcher is the one beside the link, not beside its target."""
    monkeypatch.delenv("OWT_SERVE", raising=False)
    package = tmp_path / "usr/lib/python3/dist-packages/owt"
    package.mkdir(parents=True)
    serve = _executable(tmp_path / "usr/share/owt-fcgi/spawn/owt-serve")
    (tmp_path / "usr/share/owt-fcgi/adaptors").mkdir(parents=True)
    (tmp_path / "usr/share/owt-fcgi/adaptors/owt").symlink_to("../../../lib/python3/dist-packages/owt")
    linked = tmp_path / "usr/share/owt-fcgi/adaptors/owt/server.py"
    assert server.find_launcher(str(linked)) == str(serve)
    # Debian's python3 imports it from dist-packages: owt-serve comes from PATH (/usr/bin).
    on_path = _executable(tmp_path / "usr/bin/owt-serve")
    monkeypatch.setenv("PATH", str(on_path.parent))
    assert server.find_launcher(str(package / "server.py")) == str(on_path)


def test_launcher_from_the_environment_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OWT_SERVE", "/somewhere/owt-serve")
    assert server.find_launcher(str(tmp_path / "adaptors/owt/server.py")) == "/somewhere/owt-serve"


def test_no_launcher_says_where_it_looked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OWT_SERVE", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(FileNotFoundError, match="OWT_SERVE"):
        server.find_launcher(str(tmp_path / "lib/owt/server.py"))
