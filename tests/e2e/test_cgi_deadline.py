"""CGI mode: an adaptor stuck in C past --timeout + --kill-grace still gets the client a 504
(the process writes it before it ends), not a cut-off response."""

from __future__ import annotations

import time

from owt_e2e import post_json, run_cgi

MUTEX_DEADLOCK = """
import ctypes
def run():
    libc = ctypes.CDLL(None)
    m = ctypes.create_string_buffer(64)   # PTHREAD_MUTEX_INITIALIZER is all zeros
    libc.pthread_mutex_lock(m)
    libc.pthread_mutex_lock(m)            # relocking a default mutex never returns
    return "never"
"""


def test_stuck_in_c_gets_504_in_cgi_mode() -> None:
    t0 = time.monotonic()
    run = run_cgi(post_json("/", {"code": MUTEX_DEADLOCK}), ["--timeout", "1", "--kill-grace", "1"])
    took = time.monotonic() - t0
    assert run.resp.status == 504, run.resp.describe()
    assert "stuck in C code" in run.resp.text
    assert run.returncode == 70
    assert took < 6, took
