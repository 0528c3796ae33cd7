"""An adaptor's print() goes to the server's error log, never into the response."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from e2e_cases import code
from owt_e2e import OwtServer, get, http_send


def printing_code(marker: str) -> str:
    return code(f"""
        import sys
        def run():
            print({marker + '-stdout'!r})
            print({marker + '-stderr'!r}, file=sys.stderr)
            return 'answer'
    """)


def wait_for(server: OwtServer, texts: Sequence[str], timeout: float = 3.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        log = server.log_text()
        if all(t in log for t in texts) or time.monotonic() > deadline:
            return log


def test_print_goes_to_the_log_not_the_response(transport: Any) -> None:
    marker = f"printed-{uuid.uuid4().hex}"
    resp = transport.send(get("/", code=printing_code(marker)))
    assert (resp.status, resp.body) == (200, b"answer"), resp.describe()
    assert marker not in resp.text
    texts = (marker + "-stdout", marker + "-stderr")
    log = resp.log if transport.name == "cgi" else wait_for(transport.server_for(()), texts)
    for text in texts:
        assert text in log, f"{text} not in the log:\n{log[-2000:]}"


def test_print_reaches_the_log_at_default_verbosity_http(owt_server: Callable[[Sequence[str]], OwtServer]) -> None:
    server = owt_server(())
    marker = f"printed-{uuid.uuid4().hex}"
    resp = http_send(server, get("/", code=printing_code(marker)))
    assert (resp.status, resp.body) == (200, b"answer"), resp.describe()
    log = wait_for(server, (marker + "-stdout",), timeout=2.0)
    assert marker + "-stdout" in log and marker + "-stderr" in log


def test_print_reaches_the_log_at_default_verbosity_cgi(cgi: Callable[..., Any]) -> None:
    marker = f"printed-{uuid.uuid4().hex}"
    run = cgi(get("/", code=printing_code(marker)))
    assert (run.resp.status, run.resp.body) == (200, b"answer")
    assert marker not in run.stdout.decode(errors="replace")
    assert marker + "-stdout" in run.stderr.decode(errors="replace")
    assert marker + "-stderr" in run.stderr.decode(errors="replace")


def test_one_log_file_for_stdout_and_stderr(tmp_path: Any) -> None:
    """``spawn/owt-serve > log 2>&1``: lighttpd's lines, owt-serve's ready line and the
    workers' request lines all land in the one file, none written over another (lighttpd
    keeps the stderr it was given instead of opening /dev/stderr again at offset 0)."""
    import os
    import signal
    import subprocess

    import owt_e2e
    owt_e2e.require_tools("lighttpd", "curl")
    owt_e2e.require_binary()
    port = owt_e2e.free_port()
    log_path = tmp_path / "serve.log"
    env = dict(os.environ, OWT_BIN=str(owt_e2e.OWT_BIN))
    with open(log_path, "wb") as log:  # one open file: what `> log 2>&1` makes
        proc = subprocess.Popen([str(owt_e2e.LAUNCHER), "--port", str(port), "--state-dir",
                                 str(tmp_path / "state"), "-vv"], stdin=subprocess.DEVNULL,
                                stdout=log, stderr=log, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + owt_e2e.START_TIMEOUT
        while "Owt serving on" not in log_path.read_text(errors="replace"):
            assert proc.poll() is None and time.monotonic() < deadline, log_path.read_text(errors="replace")
            time.sleep(0.05)
        server = OwtServer(name="one-log")
        server.port = port
        marker = f"one-log-{uuid.uuid4().hex}"
        resp = http_send(server, get(f"/{marker}", code="lambda: 'logged'"))
        assert (resp.status, resp.body) == (200, b"logged"), resp.describe()
        while f"/{marker} 200" not in log_path.read_text(errors="replace"):
            assert time.monotonic() < deadline, log_path.read_text(errors="replace")
            time.sleep(0.05)
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        rc = proc.wait(owt_e2e.STOP_TIMEOUT)
    assert rc == 0
    text = log_path.read_text(errors="replace")
    assert "\0" not in text, text
    for wanted in ("server started", f"Owt serving on 127.0.0.1:{port}", f"GET /{marker} 200",
                   "server stopped"):
        assert sum(wanted in line for line in text.splitlines()) == 1, f"{wanted!r} once in:\n{text}"
    for line in text.splitlines():
        assert line.startswith(("Owt serving on", "20")), f"a line written over another: {line!r}\n{text}"
