"""The adaptor timeout: C arms SIGALRM, Python raises :class:`Timeout`.

The handler only raises while adaptor code is running (between :func:`enter`
and :func:`leave`), so an alarm that lands after a request finished cannot
surface inside the next one.
"""

from __future__ import annotations

import signal
from types import FrameType

__all__ = ["Timeout", "install", "enter", "leave", "active"]


class Timeout(BaseException):
    """The adaptor ran past the server's ``--timeout``.

    A ``BaseException`` so that an adaptor's ``except Exception`` does not
    swallow it.
    """


_active = False


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


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    if _active:
        raise Timeout("the adaptor ran past the server's timeout")


def install() -> bool:
    """Install the SIGALRM handler; False when not possible (not the main thread)."""
    try:
        signal.signal(signal.SIGALRM, _on_alarm)
    except (ValueError, OSError, AttributeError):
        return False
    return True
