"""The seed's echo examples, run exactly as the seed runs them, against a real server.

``./examples/echo/echo_script.sh http://127.0.0.1:PORT`` from the repository root; they
need curl (with ``--json``) and jo.
"""

from __future__ import annotations

import os
import subprocess

import pytest

import owt_e2e
from owt_e2e import SRCDIR, OwtServer


@pytest.fixture(scope="module", autouse=True)
def _tools() -> None:
    owt_e2e.require_tools("curl", "jo")


def run_example(script: str, server: OwtServer) -> subprocess.CompletedProcess[str]:
    path = f"./examples/echo/{script}"
    assert (SRCDIR / path).is_file(), path
    env = dict(os.environ, PATH=owt_e2e._tool_path())
    return subprocess.run([path, server.url], cwd=str(SRCDIR), env=env, capture_output=True,
                          text=True, timeout=30)


@pytest.mark.parametrize("script,expected", [
    ("echo_script.sh", "Hello, owt!"),
    ("echo_kwargs.sh", "Hello, owt, from {address}:{port}!"),
    ("echo_request.sh", "Hello, owt, from {address}:{port}!"),
])
def test_seed_echo_example(script: str, expected: str, server: OwtServer) -> None:
    done = run_example(script, server)
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected.format(address=server.address, port=server.port), done.stderr


def test_echo_py_is_the_seed_adaptor() -> None:
    text = (SRCDIR / "examples/echo/echo.py").read_text()
    assert "from owt.server import Server" in text
    assert 'return f"Hello, {name}, from {Server.sing().address}:{Server.sing().port}!"' in text


def test_echo_scripts_read_examples_echo_py() -> None:
    for script in ("echo_kwargs.sh", "echo_request.sh"):
        text = (SRCDIR / "examples/echo" / script).read_text()
        assert "cat examples/echo/echo.py | base64 -w 0" in text, script
        assert os.access(SRCDIR / "examples/echo" / script, os.X_OK), script
