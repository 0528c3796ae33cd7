"""The request a thread runs, as far as interrupting it goes.

In a threaded worker the C side starts each request with a ticket and, from
its watchdog, interrupts it when it runs past its timeout (``TIMEOUT``: it
also raises ``Timeout`` in that thread) or its client has left
(``CLIENT_GONE``). What Python needs of that lives in C (lib/owt_py_module.c):

- :func:`sleep` replaces ``time.sleep`` in a threaded worker: the same
  sleep, except that an interrupted request wakes up at once (elsewhere,
  outside requests and in CGI mode, it is ``time.sleep`` itself);
- :func:`set_cancel` registers what cancels the asyncio work (or batched
  call) the request waits on, so an interrupt ends that wait;
- :func:`interrupted` tells why the request was interrupted.

Without the owt-fcgi binary (plain Python, the tests) nothing is interruptible.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

__all__ = ["TIMEOUT", "CLIENT_GONE", "interrupted", "set_cancel", "sleep", "install_sleep"]

TIMEOUT = 1
CLIENT_GONE = 2

_real_sleep = time.sleep
_NUMBERS = (int, float)

try:
    import _owt  # type: ignore[import-not-found]

    _wait: Callable[[float], bool] = _owt.wait
    interrupted: Callable[[], int] = _owt.interrupted
    set_cancel: Callable[[Callable[[], Any] | None], bool] = _owt.set_cancel
except (ImportError, AttributeError):

    def _wait(seconds: float) -> bool:
        return False

    def interrupted() -> int:
        """Why this thread's request was interrupted (0: it was not)."""
        return 0

    def set_cancel(cancel: Callable[[], Any] | None) -> bool:
        """Register what cancels the work this request waits on; False: not interruptible."""
        return False


def sleep(seconds: float) -> None:
    """``time.sleep``, cut short when the calling request is interrupted."""
    if type(seconds) in _NUMBERS and seconds > 0 and _wait(seconds):
        return None
    return _real_sleep(seconds)


def install_sleep() -> None:
    """Make ``time.sleep`` interruptible by request (threaded workers)."""
    time.sleep = sleep
