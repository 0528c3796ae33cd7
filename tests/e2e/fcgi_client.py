"""A minimal FastCGI client: one responder request over TCP or a unix socket.

``request(address, params, stdin)`` sends BEGIN_REQUEST, PARAMS and STDIN records,
reads STDOUT/STDERR until END_REQUEST, and parses STDOUT as a CGI response.
``address`` is ``(host, port)`` (IPv4 or IPv6) or the path of a unix socket.
"""

from __future__ import annotations

import socket
import struct
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass

from owt_e2e import Headers, parse_cgi

VERSION = 1
BEGIN_REQUEST, ABORT_REQUEST, END_REQUEST, PARAMS, STDIN, STDOUT, STDERR = 1, 2, 3, 4, 5, 6, 7
RESPONDER = 1
KEEP_CONN = 1
MAX_CONTENT = 65535


def record(rtype: int, request_id: int, content: bytes = b"") -> bytes:
    padding = -len(content) % 8
    return (struct.pack(">BBHHBx", VERSION, rtype, request_id, len(content), padding)
            + content + b"\0" * padding)


def _length(n: int) -> bytes:
    return bytes([n]) if n < 128 else struct.pack(">I", n | 0x80000000)


def encode_params(params: Mapping[str, str]) -> bytes:
    out = bytearray()
    for name, value in params.items():
        n, v = name.encode("latin-1"), value.encode("latin-1")
        out += _length(len(n)) + _length(len(v)) + n + v
    return bytes(out)


def _stream(rtype: int, request_id: int, data: bytes) -> bytes:
    """A stream's records: its data in pieces, then the empty record that ends it."""
    out = bytearray()
    for i in range(0, len(data), MAX_CONTENT):
        out += record(rtype, request_id, data[i:i + MAX_CONTENT])
    return bytes(out + record(rtype, request_id))


@dataclass
class FcgiResponse:
    stdout: bytes
    stderr: bytes
    app_status: int
    protocol_status: int

    @property
    def parsed(self) -> tuple[int, Headers, bytes]:
        return parse_cgi(self.stdout)

    @property
    def status(self) -> int:
        return self.parsed[0]

    @property
    def headers(self) -> Headers:
        return self.parsed[1]

    @property
    def body(self) -> bytes:
        return self.parsed[2]


def cgi_params(method: str = "GET", path: str = "/", query: Mapping[str, str] | str = "",
               body: bytes = b"", content_type: str | None = None,
               server: tuple[str, int] = ("127.0.0.1", 80)) -> dict[str, str]:
    """The params a web server would send for this request."""
    qs = query if isinstance(query, str) else urllib.parse.urlencode(query)
    params = {
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "SERVER_SOFTWARE": "owt-e2e-fcgi-client",
        "SERVER_NAME": server[0],
        "SERVER_ADDR": server[0],
        "SERVER_PORT": str(server[1]),
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "40000",
        "REQUEST_METHOD": method,
        "QUERY_STRING": qs,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "REQUEST_URI": path + ("?" + qs if qs else ""),
        "HTTP_HOST": f"{server[0]}:{server[1]}",
        "CONTENT_LENGTH": str(len(body)),
    }
    if content_type is not None:
        params["CONTENT_TYPE"] = content_type
    return params


def connect(address: tuple[str, int] | str, timeout: float = 10.0) -> socket.socket:
    if isinstance(address, str):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        sock.connect(address)
        return sock
    return socket.create_connection(address, timeout=timeout)


def send_request(sock: socket.socket, params: Mapping[str, str], stdin: bytes = b"",
                 request_id: int = 1, keep_conn: bool = False) -> None:
    """A whole request's records, written at once."""
    flags = KEEP_CONN if keep_conn else 0
    sock.sendall(record(BEGIN_REQUEST, request_id, struct.pack(">HB5x", RESPONDER, flags))
                 + _stream(PARAMS, request_id, encode_params(params))
                 + _stream(STDIN, request_id, stdin))


def read_response(sock: socket.socket, request_id: int = 1) -> FcgiResponse:
    """STDOUT and STDERR of request_id, up to its END_REQUEST."""
    out, err = bytearray(), bytearray()
    buf = b""
    while True:
        while len(buf) < 8 or len(buf) < 8 + struct.unpack(">H", buf[4:6])[0] + buf[6]:
            piece = sock.recv(65536)
            if not piece:
                raise ConnectionError(f"connection closed before END_REQUEST ({len(out)} bytes of stdout)")
            buf += piece
        _ver, rtype, rid, clen, plen = struct.unpack(">BBHHBx", buf[:8])
        content = buf[8:8 + clen]
        buf = buf[8 + clen + plen:]
        if rid != request_id:
            continue
        if rtype == STDOUT:
            out += content
        elif rtype == STDERR:
            err += content
        elif rtype == END_REQUEST:
            app_status, protocol_status = struct.unpack(">IB3x", content)
            return FcgiResponse(bytes(out), bytes(err), app_status, protocol_status)


def exchange(sock: socket.socket, params: Mapping[str, str], stdin: bytes = b"",
             request_id: int = 1, keep_conn: bool = False) -> FcgiResponse:
    """One request on an open connection (left open when keep_conn)."""
    send_request(sock, params, stdin, request_id, keep_conn)
    return read_response(sock, request_id)


def request(address: tuple[str, int] | str, params: Mapping[str, str], stdin: bytes = b"",
            timeout: float = 10.0) -> FcgiResponse:
    """One request on a fresh connection."""
    with connect(address, timeout) as sock:
        return exchange(sock, params, stdin)


def get(address: tuple[str, int] | str, path: str, query: Mapping[str, str] | str = "",
        timeout: float = 10.0) -> FcgiResponse:
    return request(address, cgi_params("GET", path, query), timeout=timeout)
