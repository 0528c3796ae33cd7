"""Issue 15.10: a CONTENT_LENGTH that is not a decimal number is a 400 saying so.

Web servers refuse a malformed ``Content-Length`` header themselves, so the value is sent
the way a FastCGI peer or a CGI environment would carry it: raw FastCGI params to an
``owt-fcgi --listen`` master, and the environment of ``owt-fcgi --cgi``.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import fcgi_client
import owt_e2e
from owt_e2e import get, run_cgi

HELLO = "lambda: 'adaptor-ran'"

MALFORMED = ["abc", "-1", "12abc", "0x10", "1e3", "+5", "1 2", "\u00b9"]


@pytest.fixture(scope="module")
def master(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    owt_e2e.require_binary()
    port = owt_e2e.free_port()
    log = tmp_path_factory.mktemp("content-length") / "master.log"
    proc = subprocess.Popen([str(owt_e2e.OWT_BIN), "--listen", f"127.0.0.1:{port}", "--workers", "1"],
                            stdout=subprocess.DEVNULL, stderr=log.open("wb"))
    try:
        deadline = time.monotonic() + 30
        while True:
            try:  # the master answers once a worker is ready
                resp = fcgi_client.get(("127.0.0.1", port), "/_owt/health", timeout=5)
                if resp.status == 200:
                    break
            except OSError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        yield ("127.0.0.1", port)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()


def assert_says_content_length(status: int, body: bytes) -> None:
    assert status == 400, body
    text = body.decode("utf-8", "replace")
    assert "CONTENT_LENGTH" in text and "not a" in text, text
    assert "adaptor-ran" not in text


@pytest.mark.parametrize("value", MALFORMED)
def test_fastcgi_malformed_content_length(master: tuple[str, int], value: str) -> None:
    params = fcgi_client.cgi_params("POST", "/", {"code": HELLO})
    params["CONTENT_LENGTH"] = value
    resp = fcgi_client.request(master, params, b"")
    assert_says_content_length(resp.status, resp.body)


def test_fastcgi_good_content_length_still_runs(master: tuple[str, int]) -> None:
    params = fcgi_client.cgi_params("POST", "/", {"code": HELLO}, body=b"", content_type="text/plain")
    resp = fcgi_client.request(master, params, b"")
    assert (resp.status, resp.body) == (200, b"adaptor-ran")


@pytest.mark.parametrize("value", MALFORMED)
def test_cgi_malformed_content_length(value: str) -> None:
    run = run_cgi(get("/", code=HELLO), env={"CONTENT_LENGTH": value, "REQUEST_METHOD": "POST"})
    assert run.returncode == 0, run.stderr
    assert_says_content_length(run.resp.status, run.resp.body)


def test_a_length_past_the_limit_is_413_not_400(tmp_path: Path) -> None:
    run = run_cgi(get("/", code=HELLO), env={"CONTENT_LENGTH": "9" * 30, "REQUEST_METHOD": "POST"})
    assert run.resp.status == 413, run.resp.describe()
