"""Errors raised by pipe steps.

Each message says what went wrong and how the adaptor author can fix it.
An error that should not be a plain 500 carries ``owt_status``, the HTTP status
the runtime may answer with instead.
"""

from __future__ import annotations

__all__ = [
    "PipeError",
    "PipeForbidden",
    "ShellRefused",
    "InstallRefused",
    "PipeUnsupported",
    "PipeCallError",
    "PipeLookupError",
    "PipeNotFound",
]


class PipeError(Exception):
    """A pipe step failed in a way the adaptor author can fix."""


class PipeForbidden(PipeError):
    """The step was refused: a path outside ``root_dir``, ``shell()`` without ``--allow-shell``,
    ``installing()`` without ``--allow-install``."""

    owt_status = 403


class ShellRefused(PipeForbidden):
    """``shell()`` was used on a server that does not run with ``--allow-shell``."""


class InstallRefused(PipeForbidden):
    """``installing()`` was used on a server not started with ``--allow-install --venv DIR``."""


class PipeUnsupported(PipeError):
    """A step of the original owt that owt-fcgi does not offer (none today; kept for code that catches it)."""


class PipeCallError(PipeError, TypeError):
    """A function given to a step cannot be called with the pipe's value or kwargs."""


class PipeLookupError(PipeError, LookupError):
    """A kwarg, key or index the pipe asked for is not there."""


class PipeNotFound(PipeError, FileNotFoundError):
    """``open()`` found no file at the path under ``root_dir``."""

    owt_status = 404
