"""spawn/owt-serve: ready when it says so, and on SIGTERM every lighttpd and owt-fcgi
process it started is gone (also mid-stream, and with several workers)."""

from __future__ import annotations

import socket
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path

from e2e_cases import HELLO, code
from owt_e2e import OwtServer, b64, get, http_send, proc_comm, session_members


def _processes(server: OwtServer) -> dict[int, str]:
    assert server.sid is not None
    return {pid: proc_comm(pid) for pid in session_members(server.sid)}


def _alive(pid: int) -> bool:
    try:
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def test_serving_then_sigterm_leaves_nothing(fresh_server: Callable[..., OwtServer]) -> None:
    server = fresh_server()
    assert f"Owt serving on 127.0.0.1:{server.port}" in server.stdout_path.read_text()
    resp = http_send(server, get("/", code=HELLO))
    assert (resp.status, resp.body) == (200, b"Hello, nobody!")
    procs = _processes(server)
    assert sorted(set(procs.values())) == ["lighttpd", "owt-fcgi"], procs
    sid = server.sid
    server.stop()
    assert session_members(sid) == []  # type: ignore[arg-type]
    assert not any(_alive(pid) for pid in procs)


def test_sigterm_mid_stream_leaves_nothing(fresh_server: Callable[..., OwtServer]) -> None:
    server = fresh_server()
    source = code("""
        import time
        def run():
            for i in range(600):
                yield f'{i}\\n'
                time.sleep(0.05)
    """)
    sock = socket.create_connection((server.address, server.port), timeout=10)
    query = urllib.parse.urlencode({"code_b64": b64(source)})
    sock.sendall(f"GET /long?{query} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    got = b""
    while b"\n2\n" not in got:
        piece = sock.recv(4096)
        assert piece, got
        got += piece
    t0 = time.monotonic()
    server.stop()
    assert time.monotonic() - t0 < 10
    sock.close()


def test_two_workers_all_stopped(fresh_server: Callable[..., OwtServer]) -> None:
    server = fresh_server(("--workers", "2", "-vv"))
    deadline = time.monotonic() + 10
    while len(server.worker_pids()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    workers = server.worker_pids()
    assert len(workers) == 2, _processes(server)
    for _ in range(4):
        resp = http_send(server, get("/", code="lambda: 'up'"))
        assert (resp.status, resp.body) == (200, b"up")
    server.stop()


def test_sigterm_with_state_dir_exits_0(tmp_path: Path) -> None:
    state = tmp_path / "state"
    server = OwtServer(("--state-dir", str(state), "-vv"), name="state-dir")
    server.start()
    try:
        assert (state / "owt-fcgi.sh").exists()
        assert server.proc is not None
        server.terminate()
        rc = server.proc.wait(15)
    finally:
        server._kill_all()
        server._remove_state()
    assert session_members(server.sid) == []  # type: ignore[arg-type]
    assert state.is_dir(), "a --state-dir given by the user is kept"
    assert rc == 0
