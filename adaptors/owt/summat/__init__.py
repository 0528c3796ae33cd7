"""owt.summat: the pipe language.

``pipe().path().last().f(lambda name: f"Hello {name}!")`` is an adaptor: a sequence of
steps over a last value and the request's kwargs. See docs/pipes.md for every step.
"""

from __future__ import annotations

from ._pipe import Pipe, pipe
from .errors import (
    InstallRefused,
    PipeCallError,
    PipeError,
    PipeForbidden,
    PipeLookupError,
    PipeNotFound,
    PipeUnsupported,
    ShellRefused,
)
from . import settings as _settings_module

_settings = _settings_module._settings
"""Server settings the runtime may set, e.g. ``_settings["allow_shell"] = True``."""

__all__ = [
    "pipe",
    "Pipe",
    "PipeError",
    "PipeForbidden",
    "ShellRefused",
    "InstallRefused",
    "PipeUnsupported",
    "PipeCallError",
    "PipeLookupError",
    "PipeNotFound",
]
