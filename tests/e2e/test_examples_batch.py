"""examples/batch: owt.batch serving a lock-serialised "model" to 32 clients at once.

The script runs a round without batching and one with it; the batched texts must have
shared forward passes (the server's own count of batch sizes says so). Needs curl.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Sequence

import owt_e2e
from owt_e2e import SRCDIR, OwtServer

SCRIPT = SRCDIR / "examples" / "batch" / "batch.sh"


def test_batch_sh_gathers_32_clients(fresh_server: Callable[..., OwtServer]) -> None:
    owt_e2e.require_tools("curl")
    server = fresh_server(("-vv", "--threads", "32"))
    env = dict(os.environ, PATH=owt_e2e._tool_path())
    done = subprocess.run([str(SCRIPT), server.url, "32"], cwd="/", env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("unbatched 32 requests in ") and lines[1].startswith("batched   32 requests in ")
    stats = json.loads(lines[2].removeprefix("batch sizes run: "))
    sizes = {int(k): v for k, v in stats["sizes"].items()}
    assert stats["items"] == 32 and sum(k * v for k, v in sizes.items()) == 32
    assert max(sizes) >= 8, f"the 32 texts did not share forward passes: {sizes}"
