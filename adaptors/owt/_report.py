"""What the runtime tells the owt-fcgi scoreboard: how many adaptors this worker keeps warm.

``/_owt/status`` (and the dashboard at ``/_owt/``) show each worker's warm code adaptors,
named adaptors and builds; the counts live in Python, so the runtime reports them through
the built-in ``_owt._report_warm`` after each change. Outside the binary (pytest, a plain
interpreter) reporting does nothing.
"""

from __future__ import annotations

from collections.abc import Callable

try:
    import _owt  # type: ignore[import-not-found]
except ImportError:
    _owt = None

__all__ = ["warm"]

_sink: Callable[[int, int, int], None] | None = getattr(_owt, "_report_warm", None)


def warm(adaptors: int, named: int, compiled: int) -> None:
    """Report the worker's warm code adaptors, resolved named adaptors, and code adaptors built so far."""
    if _sink is not None:
        _sink(int(adaptors), int(named), int(compiled))
