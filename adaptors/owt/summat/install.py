"""The ``installing()`` step: pip-install packages into the server's virtualenv.

The seed's ``pipe().installing("pkg")`` runs ``pip install pkg`` when the pipe runs and
passes the value through. Here it only does so when the operator opted in: owt-fcgi
started with ``--allow-install`` and ``--venv DIR``. Packages then go into that
virtualenv (never the system's Python), with the venv's own pip; its ``pip.conf``
(``DIR/pip.conf``) chooses the index, or ``no-index`` and ``find-links`` for a local
wheel directory. Otherwise the step raises ``InstallRefused`` (403) saying how to
enable it.

Only package requirements are accepted (``name``, ``name[extra]``, ``name==1.0``,
``name>=1,<2``): nothing that pip would read as an option, a path or a URL. One
install runs at a time per venv (a lock file in it); a worker installs a set of
packages once and remembers it.
"""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
import threading
from collections.abc import Sequence

from ._state import State
from ._step import Step, label
from .errors import InstallRefused, PipeError
from .settings import install_allowed

__all__ = ["installing", "check_requirements"]

MAX_PACKAGES = 32
MAX_REQUIREMENT = 200
_OUTPUT_TAIL = 800

_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_VERSION = r"(?:===|==|!=|<=|>=|~=|<|>)\s*[A-Za-z0-9.*+!_-]+"
_REQUIREMENT = re.compile(
    rf"{_NAME}\s*(?:\[\s*{_NAME}(?:\s*,\s*{_NAME})*\s*\])?\s*(?:{_VERSION}(?:\s*,\s*{_VERSION})*)?"
)

_installed: set[tuple[str, ...]] = set()
_lock = threading.Lock()


def check_requirements(packages: Sequence[object]) -> tuple[str, ...]:
    """The requirements, stripped; PipeError naming the first one that is not a plain requirement."""
    if not packages:
        raise PipeError("installing(): name the packages to install, e.g. installing('numpy')")
    if len(packages) > MAX_PACKAGES:
        raise PipeError(f"installing(): at most {MAX_PACKAGES} packages at once, got {len(packages)}")
    out = []
    for spec in packages:
        text = spec.strip() if isinstance(spec, str) else None
        if not text or len(text) > MAX_REQUIREMENT or not _REQUIREMENT.fullmatch(text):
            raise PipeError(
                f"installing({spec!r}): not a package requirement; give names with optional "
                "extras and versions, e.g. 'numpy', 'requests[socks]', 'torch==2.3.1' "
                "(no pip options, paths or URLs: put an index or find-links in the venv's pip.conf)"
            )
        out.append(text)
    return tuple(out)


def installing(*packages: str) -> Step:
    """``pip install`` the packages into the server's venv when the pipe runs; the value passes through.

    Raises ``InstallRefused`` (403) unless owt-fcgi runs with ``--allow-install --venv DIR``,
    and ``PipeError`` when pip fails (with the end of its output).
    """
    requirements = check_requirements(packages)
    text = label("installing", *packages)

    def apply(state: State) -> State:
        _install(requirements, text)
        return state

    return Step(text, apply)


def _install(requirements: tuple[str, ...], step: str) -> None:
    if not install_allowed():
        raise InstallRefused(
            f"{step} is disabled on this server; start owt-fcgi with --allow-install --venv DIR "
            "to let adaptors pip-install packages into that virtualenv (or install them into "
            "the server's Python or venv yourself and use importing())"
        )
    venv = sys.prefix
    if os.path.realpath(venv) == os.path.realpath(sys.base_prefix):
        raise InstallRefused(
            f"{step}: this server does not run in a virtualenv; start owt-fcgi with --venv DIR "
            "(packages are never installed into the system's Python)"
        )
    key = tuple(sorted(requirements))
    with _lock:
        if key in _installed:
            return
        _run_pip(venv, requirements, step)
        importlib.invalidate_caches()
        _installed.add(key)


def _python(venv: str) -> str:
    exe = sys.executable
    if exe and os.path.realpath(exe).startswith(os.path.realpath(venv) + os.sep):
        return exe
    return os.path.join(venv, "bin", "python3")


def _run_pip(venv: str, requirements: tuple[str, ...], step: str) -> None:
    argv = [_python(venv), "-m", "pip", "install", "--disable-pip-version-check", "--no-input", *requirements]
    _log(f"{step}: {' '.join(argv[1:])} (into {venv})")
    with _VenvLock(venv):
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, check=False)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout)[-_OUTPUT_TAIL:].decode("utf-8", "replace").strip()
        raise PipeError(f"{step}: pip install exited with status {done.returncode}" + (f": {tail}" if tail else ""))
    last = done.stdout.decode("utf-8", "replace").strip().splitlines()
    _log(f"{step}: {last[-1] if last else 'done'}")


class _VenvLock:
    """An exclusive flock on DIR/.owt-install.lock: one pip at a time in a venv, across workers."""

    def __init__(self, venv: str) -> None:
        self._path = os.path.join(venv, ".owt-install.lock")
        self._fd = -1

    def __enter__(self) -> None:
        import fcntl

        try:
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError:
            return  # a venv the worker cannot write to: pip will say so
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # closing releases the lock
            self._fd = -1


def _log(message: str) -> None:
    try:
        from owt import _log as log
    except ImportError:
        return
    log.log(log.INFO, message)
