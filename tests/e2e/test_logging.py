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
