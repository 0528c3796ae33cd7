"""Steps that reach outside the pipe: importing and shell (installing is in install.py)."""

from __future__ import annotations

import importlib
import subprocess
from types import ModuleType
from ._state import State, short_repr
from ._step import Step, label
from .errors import PipeError, ShellRefused
from .settings import shell_allowed

_STDERR_TAIL = 500


def importing(*modules: str) -> Step:
    """Import ``modules`` and make them visible to the functions of later steps.

    ``"json"`` binds ``json``, ``"os.path"`` binds ``os`` (as ``import os.path`` does),
    ``"numpy as np"`` binds ``np``. The value passes through.
    """
    specs = [_parse_spec(m) for m in modules]

    def apply(state: State) -> State:
        loaded: dict[str, ModuleType] = {}
        for module, bound, aliased in specs:
            loaded[bound] = _import(module, aliased)
        return state.with_modules(loaded)

    return Step(label("importing", *modules), apply)


def shell() -> Step:
    """Run the value as a ``/bin/sh`` command (a list runs without a shell); its stdout bytes become the value.

    Refused with ``ShellRefused`` (403) unless owt-fcgi runs with ``--allow-shell``.
    A non-zero exit raises ``PipeError`` with the end of stderr.
    """

    def apply(state: State) -> State:
        if not shell_allowed():
            raise ShellRefused(
                "shell() is disabled on this server; start owt-fcgi with --allow-shell "
                "to let adaptors run shell commands"
            )
        command = state.value
        if isinstance(command, (list, tuple)):
            argv = [str(a) for a in command]
            done = subprocess.run(argv, capture_output=True, check=False)
        else:
            done = subprocess.run(str(command), shell=True, capture_output=True, check=False)
        if done.returncode != 0:
            tail = done.stderr[-_STDERR_TAIL:].decode("utf-8", "replace").strip()
            raise PipeError(
                f"shell(): {short_repr(command)} exited with status {done.returncode}"
                + (f": {tail}" if tail else "")
            )
        return state.with_last(done.stdout)

    return Step("shell()", apply)


def _parse_spec(spec: str) -> tuple[str, str, bool]:
    if not isinstance(spec, str) or not spec.strip():
        raise PipeError(f"importing(): expected module names such as 'json' or 'numpy as np', got {spec!r}")
    module, sep, alias = spec.partition(" as ")
    module, alias = module.strip(), alias.strip()
    if sep and not alias.isidentifier():
        raise PipeError(f"importing({spec!r}): {alias!r} is not a valid name to bind")
    if sep:
        return module, alias, True
    return module, module.split(".")[0], False


def _import(module: str, aliased: bool) -> ModuleType:
    try:
        loaded = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        raise PipeError(
            f"importing({module!r}): {exc}; install it into the server's Python or a --venv"
        ) from None
    if aliased:
        return loaded
    return importlib.import_module(module.split(".")[0])


__all__ = ["importing", "shell"]
