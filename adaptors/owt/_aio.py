"""``async def run`` and async generators, on one event loop per worker.

In a threaded worker every coroutine an adaptor returns runs on one event
loop, in a thread of its own, started on first use: requests share it, so
one request's ``await`` never blocks another's, and the request thread waits
for its result with the GIL released. The coroutine sees the request's
context (``owt.request`` works inside it). A timeout or a client that leaves
cancels its task (:mod:`owt._tickets`). Without a worker loop (CGI, or the
runtime used from plain Python) a coroutine runs on a loop of its own.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from owt import _tickets
from owt._errors import ClientGone

__all__ = ["enable", "run", "AsyncSource"]

_enabled = False
_loop: Any = None
_loop_lock = threading.Lock()


def enable() -> None:
    """Use one shared event loop (threaded workers)."""
    global _enabled
    _enabled = True


def _shared_loop() -> Any:
    global _loop
    if _loop is None:
        with _loop_lock:
            if _loop is None:
                import asyncio  # only async adaptors pay for it (ssl, socket, ...)

                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="owt-asyncio", daemon=True)
                thread.start()
                _loop = loop
    return _loop


def _interrupted(reason: int) -> BaseException | None:
    """The exception for a request whose wait the server ended (reason from
    :func:`owt._tickets.interrupted`), or None."""
    if reason == _tickets.TIMEOUT:
        from owt._alarm import Timeout

        return Timeout()
    if reason == _tickets.CLIENT_GONE:
        return ClientGone("the client left before the answer was ready")
    return None


def _wait(future: Any) -> Any:
    """future's result; the request's timeout or departed client cancels it."""
    import concurrent.futures

    registered = _tickets.set_cancel(future.cancel)
    try:
        return future.result()
    except concurrent.futures.CancelledError:
        exc = _interrupted(_tickets.interrupted())
        if exc is not None:
            raise exc from None
        raise
    finally:
        if registered:
            _tickets.set_cancel(None)


def run(coro: Any) -> Any:
    """Run coro to completion and return its result (or raise its exception)."""
    import asyncio

    if not _enabled:
        return asyncio.run(coro)
    future = asyncio.run_coroutine_threadsafe(coro, _shared_loop())
    return _wait(future)


class AsyncSource(Iterator[Any]):
    """Steps an async iterable from a request thread, one item per ``next``.

    On the worker's shared loop when there is one, else on a loop of its own.
    """

    __slots__ = ("_ait", "_loop", "_own")

    def __init__(self, aiterable: Any) -> None:
        self._ait = aiterable.__aiter__()
        self._loop: Any = None
        self._own = not _enabled

    def __iter__(self) -> "AsyncSource":
        return self

    def _step(self, awaitable: Any) -> Any:
        import asyncio

        if self._own:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
            return self._loop.run_until_complete(awaitable)

        async def step() -> Any:
            return await awaitable

        future = asyncio.run_coroutine_threadsafe(step(), _shared_loop())
        return _wait(future)

    def __next__(self) -> Any:
        try:
            return self._step(self._ait.__anext__())
        except StopAsyncIteration:
            self._shutdown()
            raise StopIteration from None
        except BaseException:
            self._shutdown()
            raise

    def close(self) -> None:
        aclose = getattr(self._ait, "aclose", None)
        try:
            if aclose is not None and (not self._own or (self._loop is not None and not self._loop.is_closed())):
                self._close_on_loop(aclose)
        finally:
            self._shutdown()

    def _close_on_loop(self, aclose: Any) -> None:
        if self._own:
            self._loop.run_until_complete(aclose())
            return
        import asyncio

        future = asyncio.run_coroutine_threadsafe(aclose(), _shared_loop())
        try:
            future.result(timeout=5)  # its finally blocks, bounded
        except Exception:  # noqa: BLE001 - a failing finally must not break the worker
            future.cancel()

    def _shutdown(self) -> None:
        loop = self._loop
        if not self._own or loop is None or loop.is_closed():
            return
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()
