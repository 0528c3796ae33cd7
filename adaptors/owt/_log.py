"""Logging for the runtime, and the stdout/stderr writers adaptors print to.

Inside the binary every line goes through the built-in ``_owt`` module to the C
logger (the web server's error log). Without it (pytest, a plain interpreter)
lines go to the process's original stderr.
"""

from __future__ import annotations

import io
import logging
import sys
import threading
from typing import Any

try:
    import _owt  # type: ignore[import-not-found]
except ImportError:
    _owt = None

__all__ = ["OUTPUT", "ERROR", "WARNING", "INFO", "DEBUG", "log", "LogWriter", "install_stdio", "LogHandler"]

OUTPUT: int = getattr(_owt, "OUTPUT", -1)  # an adaptor's print(): logged at every verbosity
ERROR: int = getattr(_owt, "ERROR", 0)
WARNING: int = getattr(_owt, "WARNING", 1)
INFO: int = getattr(_owt, "INFO", 2)
DEBUG: int = getattr(_owt, "DEBUG", 3)

_NAMES = {OUTPUT: "OUTPUT", ERROR: "ERROR", WARNING: "WARNING", INFO: "INFO", DEBUG: "DEBUG"}

_MAX_LINE = 64 * 1024


def log(level: int, message: str) -> None:
    """Write one message (it may span lines) to the server's error log."""
    if _owt is not None:
        _owt.log(level, message)
        return
    err = sys.__stderr__
    if err is None:
        return
    try:
        err.write(f"owt {_NAMES.get(level, level)} {message}\n")
        err.flush()
    except (OSError, ValueError):
        pass


class LogWriter(io.TextIOBase):
    """A line-buffered text stream whose lines become log messages.

    Installed as ``sys.stdout`` and ``sys.stderr`` so an adaptor's ``print``
    reaches the error log and never the response.
    """

    def __init__(self, level: int = INFO, name: str = "<owt log>") -> None:
        super().__init__()
        self._level = level
        self._name = name
        self._buf: list[str] = []
        self._size = 0
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._name

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    @property
    def errors(self) -> str:  # type: ignore[override]
        return "backslashreplace"

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        """fd 2: the error log, where child processes writing here end up."""
        return 2

    def write(self, text: str) -> int:
        """Buffer text; log every complete line."""
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        lines: list[str] = []
        with self._lock:
            start = 0
            while True:
                nl = text.find("\n", start)
                if nl < 0:
                    break
                self._buf.append(text[start:nl])
                lines.append("".join(self._buf))
                self._buf.clear()
                self._size = 0
                start = nl + 1
            rest = text[start:]
            if rest:
                self._buf.append(rest)
                self._size += len(rest)
                if self._size >= _MAX_LINE:
                    lines.append("".join(self._buf))
                    self._buf.clear()
                    self._size = 0
        for line in lines:
            log(self._level, line)
        return len(text)

    def flush(self) -> None:
        """Log a pending partial line, if any."""
        with self._lock:
            if not self._buf:
                return
            line = "".join(self._buf)
            self._buf.clear()
            self._size = 0
        log(self._level, line)


class LogHandler(logging.Handler):
    """A ``logging`` handler that writes records through :func:`log`."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            msg = self.format(record)
        except Exception:  # noqa: BLE001 - a bad record must not break the adaptor
            self.handleError(record)
            return
        if record.levelno >= logging.ERROR:
            level = ERROR
        elif record.levelno >= logging.WARNING:
            level = WARNING
        elif record.levelno >= logging.INFO:
            level = INFO
        else:
            level = DEBUG
        log(level, msg)


def install_stdio() -> tuple[Any, Any]:
    """Point ``sys.stdout``/``sys.stderr`` at the log; return the previous pair."""
    previous = (sys.stdout, sys.stderr)
    if not isinstance(sys.stdout, LogWriter):
        sys.stdout = LogWriter(OUTPUT, "<stdout>")
    if not isinstance(sys.stderr, LogWriter):
        sys.stderr = LogWriter(OUTPUT, "<stderr>")
    root = logging.getLogger()
    if not any(isinstance(h, LogHandler) for h in root.handlers) and not root.handlers:
        handler = LogHandler()
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        root.addHandler(handler)
    return previous
