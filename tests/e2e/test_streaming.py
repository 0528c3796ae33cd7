"""PROTOCOL §6 streaming: chunks reach the client as they are yielded, through lighttpd
and in CGI mode; a client that goes away closes the generator and the worker moves on."""

from __future__ import annotations

import os
import select
import socket
import subprocess
import time
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
import requests

from e2e_cases import HELLO, code
from owt_e2e import OwtServer, b64, cgi_environ, get, http_send, OWT_BIN, SRCDIR

SLOW_THREE = code("""
    import time
    def run():
        yield 'first\\n'
        time.sleep(0.3)
        yield 'second\\n'
        time.sleep(0.3)
        yield 'third\\n'
""")

SLOW_EVENTS = code("""
    import time
    def run():
        def gen():
            for i in range(3):
                if i:
                    time.sleep(0.3)
                yield stream.event(i=i)
        return stream.response(gen())
""")


def arrivals_http(server: OwtServer, source: str) -> tuple[list[tuple[float, bytes]], Any]:
    """(monotonic time, bytes so far) after each piece the client receives."""
    url = f"{server.url}/stream?" + urllib.parse.urlencode({"code_b64": b64(source)})
    out: list[tuple[float, bytes]] = []
    seen = b""
    with requests.get(url, stream=True, timeout=10) as r:
        assert r.status_code == 200, r.text
        for piece in r.iter_content(chunk_size=None):
            seen += piece
            out.append((time.monotonic(), seen))
        headers = r.headers
    return out, headers


def first_time(arrivals: list[tuple[float, bytes]], marker: bytes) -> float:
    for t, data in arrivals:
        if marker in data:
            return t
    raise AssertionError(f"{marker!r} never arrived: {arrivals[-1][1] if arrivals else b''!r}")


@pytest.mark.parametrize("source,first,last,expected", [
    (SLOW_THREE, b"first", b"third", b"first\nsecond\nthird\n"),
    (SLOW_EVENTS, b'"i": 0', b'"i": 2', b'data: {"i": 0}\n\ndata: {"i": 1}\n\ndata: {"i": 2}\n\n'),
], ids=["generator", "event-stream"])
def test_chunks_arrive_as_yielded_http(server: OwtServer, source: str, first: bytes, last: bytes,
                                       expected: bytes) -> None:
    arrivals, headers = arrivals_http(server, source)
    assert arrivals[-1][1] == expected
    gap = first_time(arrivals, last) - first_time(arrivals, first)
    assert gap >= 0.5, f"first chunk only {gap * 1000:.0f} ms before the last: {arrivals!r}"
    assert headers.get("X-Content-Type-Options") == "nosniff"


def test_chunks_arrive_as_yielded_cgi() -> None:
    env = cgi_environ(get("/stream", code_b64=b64(SLOW_THREE)))
    p = subprocess.Popen([str(OWT_BIN), "--cgi"], env=env, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=str(SRCDIR))
    assert p.stdout is not None
    arrivals: list[tuple[float, bytes]] = []
    seen = b""
    while True:
        piece = os.read(p.stdout.fileno(), 65536)
        if not piece:
            break
        seen += piece
        arrivals.append((time.monotonic(), seen))
    _, err = p.communicate(timeout=10)
    assert p.returncode == 0, err
    assert seen.endswith(b"first\nsecond\nthird\n"), seen
    gap = first_time(arrivals, b"third") - first_time(arrivals, b"first")
    assert gap >= 0.5, f"first chunk only {gap * 1000:.0f} ms before the last"


def closing_code(marker: Path) -> str:
    return code(f"""
        import pathlib, time
        def run():
            i = -1
            try:
                for i in range(200):
                    yield f'chunk {{i}}\\n' + 'x' * 1024 + '\\n'
                    time.sleep(0.05)
            finally:
                pathlib.Path({str(marker)!r}).write_text(str(i))
    """)


def wait_file(path: Path, timeout: float) -> str | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text():
            return path.read_text()
        time.sleep(0.05)
    return None


def test_client_gone_closes_generator_http(server: OwtServer, tmp_path: Path) -> None:
    marker = tmp_path / "closed"
    query = urllib.parse.urlencode({"code_b64": b64(closing_code(marker))})
    sock = socket.create_connection((server.address, server.port), timeout=10)
    sock.sendall(f"GET /gone?{query} HTTP/1.1\r\nHost: {server.address}:{server.port}\r\n\r\n".encode())
    got = b""
    while b"chunk 1\n" not in got:
        piece = sock.recv(65536)
        assert piece, got
        got += piece
    assert got.startswith(b"HTTP/1.1 200"), got[:200]
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    sock.close()
    last = wait_file(marker, 8.0)
    assert last is not None, "the generator's finally did not run after the client went away"
    assert int(last) < 150, f"the generator ran on to item {last} after the client left"
    resp = http_send(server, get("/after", code=HELLO, kwargs="{'name': 'after'}"))
    assert (resp.status, resp.body) == (200, b"Hello, after!"), resp.describe()


def test_client_gone_closes_generator_cgi(tmp_path: Path) -> None:
    marker = tmp_path / "closed"
    env = cgi_environ(get("/gone", code_b64=b64(closing_code(marker))))
    p = subprocess.Popen([str(OWT_BIN), "--cgi"], env=env, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=str(SRCDIR))
    assert p.stdout is not None
    got = b""
    while b"chunk 1\n" not in got:
        ready, _, _ = select.select([p.stdout], [], [], 10)
        assert ready, got
        piece = os.read(p.stdout.fileno(), 65536)
        assert piece, got
        got += piece
    p.stdout.close()
    try:
        p.wait(8)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        pytest.fail("owt-fcgi --cgi kept running after its stdout was closed")
    last = wait_file(marker, 2.0)
    assert last is not None, f"finally did not run (exit {p.returncode}): {p.stderr.read().decode(errors='replace')[-2000:]}"
    assert int(last) < 150


def test_error_after_headers_ends_plain_stream(server: OwtServer) -> None:
    source = code("""
        def run():
            yield 'partial\\n'
            raise ValueError('after headers')
    """)
    query = urllib.parse.urlencode({"code_b64": b64(source)})
    sock = socket.create_connection((server.address, server.port), timeout=10)
    sock.sendall(f"GET /broken?{query} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    got = b""
    while True:
        piece = sock.recv(65536)
        if not piece:
            break
        got += piece
    sock.close()
    assert got.startswith(b"HTTP/1.1 200"), got[:300]
    assert b"partial\n" in got
    resp = http_send(server, get("/after", code=HELLO))
    assert (resp.status, resp.body) == (200, b"Hello, nobody!"), resp.describe()
