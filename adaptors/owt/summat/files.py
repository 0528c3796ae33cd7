"""Steps for files and bytes: open (confined to root_dir) and bytes."""

from __future__ import annotations

import io
import os
from typing import Any

from ._state import State, short_repr
from ._step import Step, label
from .errors import PipeCallError, PipeError, PipeForbidden, PipeNotFound


def open_(root_dir: str | os.PathLike[str] | None = None) -> Step:
    """Read the file whose path is the last value, relative to ``root_dir`` (default: the cwd).

    The value becomes an ``io.BytesIO`` of the file's content. A path that resolves
    outside ``root_dir`` (``..``, an absolute path, a symlink) raises ``PipeForbidden``.
    """
    text = label("open", root_dir=root_dir) if root_dir is not None else "open()"

    def apply(state: State) -> State:
        return state.with_last(io.BytesIO(_read_confined(state.last, root_dir, text)))

    return Step(text, apply)


def bytes_() -> Step:
    """The value as bytes.

    bytes-like as is; ``str`` as UTF-8; a buffer's ``getvalue()`` or a file's ``read()``;
    numbers as their text; an iterable of ints through ``bytes()``.
    """

    def apply(state: State) -> State:
        return state.with_last(to_bytes(state.value))

    return Step("bytes()", apply)


def to_bytes(value: Any) -> bytes:
    """``value`` as bytes, by the rules of ``bytes()``."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bool, int, float)):
        return str(value).encode("ascii")
    if hasattr(value, "getvalue"):
        return to_bytes(value.getvalue())
    if hasattr(value, "read"):
        return to_bytes(value.read())
    try:
        return bytes(value)
    except (TypeError, ValueError):
        raise PipeCallError(
            f"bytes(): cannot turn {type(value).__name__} {short_repr(value)} into bytes; "
            "convert it first, e.g. f(json.dumps) or cast(str)"
        ) from None


def _read_confined(name: Any, root_dir: str | os.PathLike[str] | None, step: str) -> bytes:
    if not isinstance(name, (str, os.PathLike)):
        raise PipeError(
            f"{step}: the last value must be a path, got {type(name).__name__} {short_repr(name)}; "
            "e.g. kwarg('path').open(root_dir='files')"
        )
    root_text = os.fspath(root_dir) if root_dir is not None else os.getcwd()
    root = os.path.realpath(root_text)
    target = os.path.realpath(os.path.join(root, os.fspath(name)))
    if os.path.commonpath([root, target]) != root:
        raise PipeForbidden(f"{step}: {os.fspath(name)!r} is outside root_dir {root_text!r}")
    try:
        fd = os.open(target, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise PipeNotFound(f"{step}: no file {os.fspath(name)!r} under root_dir {root_text!r}") from None
    with os.fdopen(fd, "rb") as fh:
        return fh.read()


__all__ = ["open_", "bytes_", "to_bytes"]
