"""owt: the package exports what adaptor code uses."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import owt


def test_exports() -> None:
    assert sorted(owt.__all__) == ["Response", "Server", "batch", "pipe", "request", "stream"]
    from owt import Response, Server, batch, pipe, request, stream

    assert (Response, Server, pipe, request, stream) == (owt.Response, owt.Server, owt.pipe, owt.request, owt.stream)
    assert batch is owt.batch and batch.__module__ == "owt._batch"
    assert owt.Server is owt.server.Server
    assert owt.stream.done() == "data: [DONE]\n\n"


def test_pipe_comes_from_summat() -> None:
    from owt.summat import pipe

    assert owt.pipe is pipe


def test_request_submodule_is_still_importable() -> None:
    from owt.request import Request

    assert Request.__module__ == "owt.request"


def test_without_summat_pipe_raises_a_clear_error(tmp_path: Path) -> None:
    adaptors = Path(__file__).resolve().parents[2] / "adaptors"
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'owt.summat':\n"
        "            raise ModuleNotFoundError(\"No module named 'owt.summat'\", name=name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import owt\n"
        "try:\n"
        "    owt.pipe()\n"
        "except RuntimeError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=adaptors, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "pipe() is unavailable: owt.summat could not be imported (ModuleNotFoundError" in out.stdout


def test_a_broken_summat_does_not_stop_plain_adaptors(tmp_path: Path) -> None:
    adaptors = Path(__file__).resolve().parents[2] / "adaptors"
    code = (
        "import sys\n"
        "class Broken:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'owt.summat':\n"
        "            raise SyntaxError('broken summat')\n"
        "sys.meta_path.insert(0, Broken())\n"
        "import owt._runtime as rt\n"
        "rt.configure({'adaptor_dirs': [], 'redirect_stdio': False})\n"
        "print(rt.handle('lambda: 1', None, 'run', '', 0, None, {}, b'', '/')[2])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=adaptors, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "b'1'"
