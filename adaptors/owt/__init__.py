"""owt: serve owt tha fancies on't fly.

What adaptor code sees (every shipped module starts with these names):
``pipe`` (the ``owt.summat`` pipe language), ``request`` (the current
request), ``Server`` (``Server.sing().address`` / ``.port``), ``Response``
(status, headers, content type), ``stream`` (server-sent events) and
``batch`` (gather concurrent calls of a model into batches).
"""

from __future__ import annotations

from typing import Any

from owt import stream
from owt.request import request
from owt.response import Response

__all__ = ["pipe", "request", "Server", "Response", "stream", "batch"]


def _missing_pipe(error: BaseException) -> Any:
    def pipe(*args: Any, **kwargs: Any) -> Any:
        """Stands in for owt.summat.pipe, which failed to import."""
        raise RuntimeError(
            f"pipe() is unavailable: owt.summat could not be imported "
            f"({type(error).__name__}: {error})"
        )

    return pipe


def __getattr__(name: str) -> Any:
    # Server is imported on first use, so `python -m owt.server` runs the module
    # fresh rather than one the package already imported.
    if name == "Server":
        from owt.server import Server

        globals()["Server"] = Server
        return Server
    if name == "batch":
        from owt._batch import batch

        globals()["batch"] = batch
        return batch
    if name == "pipe":
        try:
            from owt.summat import pipe
        except Exception as exc:  # noqa: BLE001 - a broken summat must not stop plain adaptors
            pipe = _missing_pipe(exc)
        globals()["pipe"] = pipe
        return pipe
    raise AttributeError(f"module 'owt' has no attribute {name!r}")
