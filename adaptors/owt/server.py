"""The web server the client reached, as adaptors see it (``Server.sing()``, ``_SERVER``)."""

from __future__ import annotations

import os

from owt.request import current_or_none

__all__ = ["Server", "main", "configure"]

_DEFAULT_ADDRESS = "0.0.0.0"
_DEFAULT_PORT = 9876

_address = _DEFAULT_ADDRESS
_port = _DEFAULT_PORT


def _as_port(value: object) -> int | None:
    try:
        port = int(str(value))
    except ValueError:
        return None
    return port if 0 <= port <= 65535 else None


def configure(address: str | None = None, port: int | str | None = None) -> None:
    """Set the address and port reported outside a request.

    Unset values come from ``OWT_ADDRESS`` / ``OWT_PORT``, then 0.0.0.0 / 9876.
    """
    global _address, _port
    _address = address or os.environ.get("OWT_ADDRESS") or _DEFAULT_ADDRESS
    chosen = _as_port(port) if port is not None else None
    if chosen is None:
        chosen = _as_port(os.environ.get("OWT_PORT", _DEFAULT_PORT))
    _port = _DEFAULT_PORT if chosen is None else chosen


class Server:
    """The server answering the current request.

    ``address`` and ``port`` are read from the request's ``SERVER_ADDR`` and
    ``SERVER_PORT`` each time, so one instance (``_SERVER``) serves every request.
    """

    __slots__ = ()

    @classmethod
    def sing(cls) -> "Server":
        """The server (there is one per worker)."""
        return _SERVER

    @property
    def address(self) -> str:
        """The address the client connected to (``SERVER_ADDR``)."""
        req = current_or_none()
        if req is not None:
            value = req.environ.get("SERVER_ADDR")
            if value:
                return value
        return _address

    @property
    def port(self) -> int:
        """The port the client connected to (``SERVER_PORT``), as an int."""
        req = current_or_none()
        if req is not None:
            value = _as_port(req.environ.get("SERVER_PORT", ""))
            if value is not None:
                return value
        return _port

    def __repr__(self) -> str:
        return f"<Server {self.address}:{self.port}>"


_SERVER = Server()


def main(port: int = _DEFAULT_PORT, address: str = _DEFAULT_ADDRESS) -> None:
    """Serve owt on address:port from inside an adaptor (not available yet)."""
    raise NotImplementedError("nested servers: see examples/meta")
