"""The adaptor timeout: the server arms SIGALRM, Python raises :class:`Timeout`.

Inside owt-fcgi, ``Timeout`` is the binary's own ``_owt.Timeout`` (its
SIGALRM handler raises that); elsewhere it is defined here. The handler
installed here only raises while adaptor code runs (between :func:`enter`
and :func:`leave`), so an alarm that lands after a request finished cannot
surface inside the next one.
"""

from __future__ import annotations

import signal
from types import FrameType

try:
    import _owt  # type: ignore[import-not-found]
except ImportError:
    _owt = None

__all__ = ["Timeout", "install", "install_message", "enter", "leave", "active", "describe"]


class _Timeout(BaseException):
    """The adaptor ran past the server's ``--timeout``.

    A ``BaseException`` so that an adaptor's ``except Exception`` does not
    swallow it.
    """

    kind = "timeout"


Timeout: type[BaseException] = getattr(_owt, "Timeout", None) or _Timeout

_active = False
_seconds: float | None = None


def active() -> bool:
    """Whether adaptor code is running now."""
    return _active


def enter() -> None:
    """Mark the start of adaptor code (the alarm may now raise)."""
    global _active
    _active = True


def leave() -> None:
    """Mark the end of adaptor code (a late alarm is ignored)."""
    global _active
    _active = False


def describe() -> str:
    """``the adaptor ran past its 30s timeout`` (the seconds when known)."""
    if _seconds:
        return f"the adaptor ran past its {_seconds:g}s timeout"
    return "the adaptor ran past its timeout"


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    if _active:
        raise Timeout(describe())


def install_message(seconds: float | None = None) -> None:
    """Only remember the timeout for messages (threaded workers: no SIGALRM)."""
    global _seconds
    _seconds = seconds if seconds and seconds > 0 else None


def install(seconds: float | None = None) -> bool:
    """Install the SIGALRM handler; False when not possible (not the main thread).

    seconds is the server's timeout, used in messages only.
    """
    global _seconds
    _seconds = seconds if seconds and seconds > 0 else None
    try:
        signal.signal(signal.SIGALRM, _on_alarm)
    except (ValueError, OSError, AttributeError):
        return False
    return True
