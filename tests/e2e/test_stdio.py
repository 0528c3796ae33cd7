"""Output of an adaptor's child processes never reaches the response (ARCHITECTURE: in CGI
mode fd 1 is pointed at fd 2; under FastCGI the worker's stdout is not the client's)."""

from __future__ import annotations

import uuid
from typing import Any

from e2e_cases import HELLO, code
from owt_e2e import get


def test_child_process_output_stays_out_of_the_response(transport: Any) -> None:
    marker = f"child-{uuid.uuid4().hex}"
    source = code(f"""
        import os, subprocess, sys
        def run():
            os.system('echo {marker}-system')
            subprocess.run(['sh', '-c', 'echo {marker}-sub; echo {marker}-suberr >&2'])
            os.write(1, b'{marker}-fd1\\n')
            return 'clean'
    """)
    resp = transport.send(get("/", code=source))
    assert (resp.status, resp.body) == (200, b"clean"), resp.describe()
    assert marker not in resp.text
    if transport.name == "cgi":
        for suffix in ("system", "sub", "suberr", "fd1"):
            assert f"{marker}-{suffix}" in resp.log, resp.log[-2000:]
    after = transport.send(get("/", code=HELLO, kwargs="{'name': 'after'}"))
    assert (after.status, after.body) == (200, b"Hello, after!"), after.describe()
