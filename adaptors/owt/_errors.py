"""Failures the runtime reports to C, each with the ``owt_err`` name C maps to a status."""

from __future__ import annotations

import os
import traceback as _traceback
from types import TracebackType

from owt import _alarm, _log

__all__ = [
    "OwtError",
    "BadRequest",
    "Forbidden",
    "NotFound",
    "AdaptorError",
    "AdaptorTimeout",
    "ClientGone",
    "adaptor_error",
    "timeout_error",
    "describe",
    "log_error",
]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


class OwtError(Exception):
    """A failure C turns into an HTTP error: ``.kind`` names the ``owt_err``."""

    kind = "internal"

    def __init__(self, message: str, traceback: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.traceback = traceback

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class BadRequest(OwtError):
    """400: the request cannot be run as sent (no function, SyntaxError, bad kwargs)."""

    kind = "bad_request"


class Forbidden(OwtError):
    """403: shipped code is refused by this server."""

    kind = "forbidden"


class NotFound(OwtError):
    """404: no such named adaptor."""

    kind = "not_found"


class AdaptorError(OwtError):
    """500: the adaptor raised; ``.traceback`` holds the adaptor's traceback."""

    kind = "adaptor"


class AdaptorTimeout(OwtError):
    """504: the adaptor ran past the server's timeout."""

    kind = "timeout"


class ClientGone(OwtError):
    """The client left before its answer was ready (its asyncio task was cancelled); nothing is sent."""

    kind = "client_gone"


def _user_traceback(tb: TracebackType | None) -> TracebackType | None:
    """Skip the runtime's own leading frames so the traceback starts in adaptor code."""
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        if tb.tb_next is None:
            break
        tb = tb.tb_next
    return tb


def describe(exc: BaseException) -> str:
    """``<Type>: <message>`` for an exception, as PROTOCOL §7 words it."""
    return f"{type(exc).__name__}: {exc}"


_BY_STATUS: dict[int, type[OwtError]] = {
    400: BadRequest,
    403: Forbidden,
    404: NotFound,
    504: AdaptorTimeout,
}


def adaptor_error(exc: BaseException, log: bool = False) -> OwtError:
    """The error for an exception the adaptor raised, its traceback in ``.traceback``.

    An :class:`AdaptorError` (500), unless the exception carries an
    ``owt_status`` of 400, 403, 404 or 504 (as ``owt.summat`` errors do).
    log=True also writes it to the error log: for errors that never reach
    C, which logs the ones it receives.
    """
    tb_text = "".join(
        _traceback.format_exception(type(exc), exc, _user_traceback(exc.__traceback__))
    )
    status = getattr(exc, "owt_status", None)
    cls = _BY_STATUS.get(status, AdaptorError) if isinstance(status, int) else AdaptorError
    err = cls(f"Error executing code: {describe(exc)}", tb_text)
    if log:
        log_error(err)
    return err


def timeout_error(exc: BaseException | None = None) -> AdaptorTimeout:
    """The error for a :class:`owt._alarm.Timeout` that was raised; its
    ``.traceback`` shows where the adaptor was when time ran out."""
    tb_text = None
    if exc is not None:
        tb_text = "".join(
            _traceback.format_exception(type(exc), exc, _user_traceback(exc.__traceback__))
        )
    return AdaptorTimeout(f"Error executing code: Timeout: {_alarm.describe()}", tb_text)


def log_error(err: OwtError) -> None:
    """Write err (and its traceback) to the error log."""
    text = err.message if not err.traceback else f"{err.message}\n{err.traceback.rstrip()}"
    _log.log(_log.ERROR, text)
