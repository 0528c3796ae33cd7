"""Which request each thread is running, so the server can interrupt it.

In a threaded worker every request thread has a slot here. The C side starts
each request with a ticket (a number) and, from its watchdog, calls
:func:`wake` with that ticket when the request must stop (``TIMEOUT``) or its
client has left (``CLIENT_GONE``): the request's sleeps return early and its
asyncio task, if any, is cancelled. (The C side also raises ``Timeout`` in
the thread itself; see lib/owt_py.c.) A stale ticket does nothing: the
thread may be on its next request by the time the watchdog acts.

``time.sleep`` is made interruptible this way in a threaded worker (it
behaves exactly as before everywhere else): a sleeping request is the most
common way to wait, and a plain sleep could not be cut short from another
thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["TIMEOUT", "CLIENT_GONE", "Slot", "begin", "current", "wake", "install_sleep", "sleep"]

TIMEOUT = 1
CLIENT_GONE = 2

_get_ident = threading.get_ident
_real_sleep = time.sleep


class Slot:
    """One request thread's current request."""

    __slots__ = ("ticket", "reason", "cancel", "_wake", "_lock")

    def __init__(self) -> None:
        self.ticket = 0
        self.reason = 0
        self.cancel: Callable[[], Any] | None = None
        self._wake = threading.Event()
        self._lock = threading.Lock()

    def start(self, ticket: int) -> None:
        with self._lock:
            self.ticket = ticket
            self.reason = 0
            self.cancel = None
            if self._wake.is_set():
                self._wake.clear()

    def interrupt(self, ticket: int, reason: int) -> None:
        with self._lock:
            if ticket != self.ticket or self.reason:
                return
            self.reason = reason
            cancel = self.cancel
            self._wake.set()
        if cancel is not None:
            cancel()

    def set_cancel(self, cancel: Callable[[], Any] | None) -> None:
        """What cancels the asyncio work this request waits on (None: nothing)."""
        with self._lock:
            self.cancel = cancel
            interrupted = self.reason
        if interrupted and cancel is not None:
            cancel()

    def sleep(self, seconds: float) -> None:
        """Sleep, or return early once this request is interrupted."""
        deadline = time.monotonic() + seconds
        while not self.reason:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._wake.wait(left)


_slots: dict[int, Slot] = {}


def begin(ticket: int) -> Slot | None:
    """The calling thread now runs request ``ticket`` (0: not interruptible)."""
    if not ticket:
        return None
    ident = _get_ident()
    slot = _slots.get(ident)
    if slot is None:
        slot = _slots[ident] = Slot()
    slot.start(ticket)
    return slot


def current() -> Slot | None:
    """The calling thread's slot while it runs an interruptible request."""
    slot = _slots.get(_get_ident())
    return slot if slot is not None and slot.ticket else None


def wake(ident: int, ticket: int, reason: int) -> None:
    """From the server's interrupter: request ``ticket`` in thread ``ident`` must stop."""
    slot = _slots.get(ident)
    if slot is not None:
        slot.interrupt(ticket, reason)


def sleep(seconds: float) -> None:
    """``time.sleep`` that a request's timeout or departed client can cut short."""
    slot = _slots.get(_get_ident())
    if slot is None or not slot.ticket or type(seconds) not in (int, float) or not seconds > 0:
        return _real_sleep(seconds)
    slot.sleep(seconds)
    return None


def install_sleep() -> None:
    """Make ``time.sleep`` interruptible by request (threaded workers)."""
    time.sleep = sleep
