"""PROTOCOL §10: run as plain CGI (fd 0 not a FastCGI socket) owt-fcgi serves one request."""

from __future__ import annotations

import subprocess

from e2e_cases import HELLO
from owt_e2e import OWT_BIN, SRCDIR, b64, cgi_environ, get, parse_cgi, post_json


def run(argv: list[str], req, stdin) -> tuple[int, bytes, bytes]:  # type: ignore[no-untyped-def]
    p = subprocess.run(argv, env=cgi_environ(req), stdin=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, cwd=str(SRCDIR), timeout=30)
    return p.returncode, p.stdout, p.stderr


def test_detected_without_cgi_flag_stdin_devnull() -> None:
    req = get("/", code_b64=b64(HELLO), kwargs_b64=b64("{'name': 'cgi'}"))
    rc, out, err = run([str(OWT_BIN)], req, subprocess.DEVNULL)
    assert rc == 0, err
    status, headers, body = parse_cgi(out)
    assert (status, body) == (200, b"Hello, cgi!")
    assert out.startswith(b"Status: 200"), out[:100]


def test_detected_without_cgi_flag_body_on_a_pipe() -> None:
    req = post_json("/", {"code": HELLO, "kwargs": {"name": "piped"}})
    p = subprocess.run([str(OWT_BIN)], env=cgi_environ(req), input=req.body, capture_output=True,
                       cwd=str(SRCDIR), timeout=30)
    assert p.returncode == 0, p.stderr
    status, headers, body = parse_cgi(p.stdout)
    assert (status, body) == (200, b"Hello, piped!")
    assert headers.get("Content-Type") == "text/plain; charset=utf-8"
    assert headers.get("X-Content-Type-Options") == "nosniff"


def test_error_response_still_exits_0() -> None:
    rc, out, err = run([str(OWT_BIN), "--cgi"], get("/", code="def run(:"), subprocess.DEVNULL)
    assert rc == 0, err
    status, headers, body = parse_cgi(out)
    assert status == 400 and b"SyntaxError" in body
