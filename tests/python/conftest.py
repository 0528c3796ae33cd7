"""Shared setup for the tests of adaptors/owt: the package on sys.path, and a
configured runtime whose global effects are undone after each test."""

from __future__ import annotations

import hashlib
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ADAPTORS = Path(__file__).resolve().parents[2] / "adaptors"
if str(ADAPTORS) not in sys.path:
    sys.path.insert(0, str(ADAPTORS))


def digest(code: str, fn_name: str = "run") -> bytes:
    """The warm-adaptor key C computes: SHA-256 over fn_name, NUL, code."""
    return hashlib.sha256(fn_name.encode() + b"\0" + code.encode()).digest()


@pytest.fixture
def restore_process() -> Iterator[None]:
    """Undo what configure() changes in the process: sys.path, stdio, SIGALRM, sys.executable."""
    path = list(sys.path)
    stdio = (sys.stdout, sys.stderr)
    handler = signal.getsignal(signal.SIGALRM)
    executable = sys.executable
    modules = set(sys.modules)
    yield
    sys.path[:] = path
    sys.stdout, sys.stderr = stdio
    signal.signal(signal.SIGALRM, handler)
    sys.executable = executable
    for name in set(sys.modules) - modules:
        if name.startswith("owt_test_"):
            del sys.modules[name]


@pytest.fixture
def adaptor_dir(tmp_path: Path) -> Path:
    """An empty adaptor directory; tests write modules named owt_test_* into it."""
    directory = tmp_path / "adaptors"
    directory.mkdir()
    return directory


@pytest.fixture
def runtime(restore_process: None, adaptor_dir: Path) -> Iterator[Any]:
    """owt._runtime configured with the shipped adaptors/ and a temporary adaptor dir."""
    import owt._runtime as rt

    rt.configure(
        {
            "adaptor_dirs": [str(adaptor_dir), str(ADAPTORS)],
            "max_adaptors": 8,
            "timeout": 30.0,
            "redirect_stdio": False,
        }
    )
    yield rt
    rt.configure({"adaptor_dirs": [], "redirect_stdio": False})


Handle = Callable[..., tuple[int, list[tuple[str, str]], "bytes | None", Any]]


@pytest.fixture
def handle(runtime: Any) -> Handle:
    """handle(code, kwargs="", fn_name="run", adaptor=None, kind=None, environ=None, body=b"", path="/")."""

    def call(
        code: str | None = None,
        kwargs: str = "",
        fn_name: str = "run",
        adaptor: str | None = None,
        kind: int | None = None,
        environ: dict[str, str] | None = None,
        body: bytes = b"",
        path: str = "/",
    ) -> Any:
        key = digest(code, fn_name) if code is not None else b""
        return runtime.handle(code, adaptor, fn_name, kwargs, kind, key, environ or {}, body, path)

    return call


def read(chunks: Any) -> bytes:
    """Everything a chunk iterator yields, joined."""
    return b"".join(chunks)
