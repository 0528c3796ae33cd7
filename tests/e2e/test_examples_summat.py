"""examples/summat/simple.sh, the seed's tl;dr, against a real server.

The adaptor it sends opens ``simple.sh`` itself from examples/summat/ on the server
and answers it upper-cased. Needs curl (with ``--json``) and jo.
"""

from __future__ import annotations

import os
import subprocess

import owt_e2e
from owt_e2e import SRCDIR, OwtServer

SCRIPT = SRCDIR / "examples" / "summat" / "simple.sh"


def test_simple_sh_answers_itself_upper_cased(server: OwtServer) -> None:
    owt_e2e.require_tools("curl", "jo")
    assert os.access(SCRIPT, os.X_OK), SCRIPT
    env = dict(os.environ, PATH=owt_e2e._tool_path())
    # Run from elsewhere: the script finds its own directory.
    done = subprocess.run([str(SCRIPT), f"{server.url}/owt"], cwd="/", env=env,
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout == SCRIPT.read_text().upper(), done.stdout[:500] + "\n" + done.stderr[-500:]
    assert "RUN = (PIPE()" in done.stdout


def test_simple_sh_is_the_seed_pipe() -> None:
    text = SCRIPT.read_text()
    for line in ("run = (pipe()", ".kwarg('path')", ".bytes()",
                 ".f(lambda ab: ab.decode('utf-8').upper())", ".done())",
                 "kwargs_b64=$(echo \"{'path': 'simple.sh'}\" | base64 -w 0)"):
        assert line in text, line
