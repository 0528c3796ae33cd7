"""``owt.batch``: many requests' calls to a model, gathered into one call.

A model on one GPU serves many clients best a batch at a time. Decorate a
function that takes a list of inputs and returns a list of outputs of the same
length::

    @owt.batch(max_size=16, max_wait_ms=5)
    def embed(texts):
        return model.encode(texts)          # one forward pass for the batch

    def run(text):
        return embed(text).tolist()         # one input in, its output out

Concurrent calls of ``embed(x)`` from different requests of a worker are
gathered into one call of at most ``max_size`` items; the first waits at most
``max_wait_ms`` for the batch to fill. Each caller gets its own element back,
or the exception: the one the function raised (every caller of that batch
gets it), or an element of the result that is itself an exception. Calls of
the function never overlap (one batch at a time, as on one GPU); while one
runs the next batch gathers. Async adaptors ``await embed.acall(x)``.

A batched function runs in a thread of its own, started on first use and
ended after a while without calls. ``embed.stats()`` tells the batch sizes
it has run.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from owt import _tickets

__all__ = ["batch", "Batched"]

_IDLE_SECONDS = 30.0


class _Call:
    """One caller's item, and what comes back for it."""

    __slots__ = ("item", "done", "value", "error", "abandoned", "future")

    def __init__(self, item: Any) -> None:
        self.item = item
        self.done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None
        self.abandoned = False
        self.future: Any = None  # an asyncio future for acall()

    def settle(self, value: Any = None, error: BaseException | None = None) -> None:
        self.value, self.error = value, error
        self.done.set()
        future = self.future
        if future is not None:
            loop = future.get_loop()
            loop.call_soon_threadsafe(_settle_future, future, value, error)

    def abandon(self) -> None:
        """The caller stopped waiting (its timeout, its client left)."""
        self.abandoned = True
        self.done.set()


def _settle_future(future: Any, value: Any, error: BaseException | None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)


class Batched:
    """A function of a list, callable one item at a time (see :func:`batch`)."""

    def __init__(self, fn: Callable[[list[Any]], Sequence[Any]], max_size: int, max_wait_ms: float) -> None:
        if not callable(fn):
            raise TypeError("owt.batch wraps a function of a list")
        if not isinstance(max_size, int) or isinstance(max_size, bool) or max_size < 1:
            raise ValueError(f"owt.batch: max_size must be an int >= 1, not {max_size!r}")
        if not isinstance(max_wait_ms, (int, float)) or isinstance(max_wait_ms, bool) or not max_wait_ms >= 0:
            raise ValueError(f"owt.batch: max_wait_ms must be a number >= 0, not {max_wait_ms!r}")
        functools.update_wrapper(self, fn)
        self._fn = fn
        self.max_size = max_size
        self.max_wait = float(max_wait_ms) / 1000.0
        self._cond = threading.Condition()
        self._queue: list[tuple[float, _Call]] = []
        self._thread: threading.Thread | None = None
        self._sizes: dict[int, int] = {}
        self._batches = 0
        self._items = 0

    def __call__(self, item: Any) -> Any:
        """item's result, computed in a batch with other callers' items."""
        call = _Call(item)
        self._submit(call)
        registered = _tickets.set_cancel(call.abandon)
        try:
            call.done.wait()
        finally:
            if registered:
                _tickets.set_cancel(None)
        if call.abandoned:
            from owt._aio import _interrupted

            exc = _interrupted(_tickets.interrupted())
            if exc is not None:
                raise exc
        if call.error is not None:
            raise call.error
        return call.value

    async def acall(self, item: Any) -> Any:
        """item's result, for async adaptors (``await fn.acall(item)``)."""
        import asyncio

        call = _Call(item)
        call.future = asyncio.get_running_loop().create_future()
        self._submit(call)
        return await call.future

    def stats(self) -> dict[str, Any]:
        """Batches run so far: how many, how many items, and how many of each size."""
        with self._cond:
            return {
                "batches": self._batches,
                "items": self._items,
                "sizes": dict(sorted(self._sizes.items())),
                "max_size": self.max_size,
                "max_wait_ms": self.max_wait * 1000.0,
            }

    def _submit(self, call: _Call) -> None:
        with self._cond:
            self._queue.append((time.monotonic(), call))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._serve, name=f"owt-batch-{getattr(self._fn, '__name__', 'fn')}", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def _next_batch(self) -> list[_Call] | None:
        """The next batch: wait for a first item, then for more until full or
        its wait is over. None when idle long enough to end the thread."""
        with self._cond:
            while not self._queue:
                if not self._cond.wait(_IDLE_SECONDS) and not self._queue:
                    self._thread = None
                    return None
            deadline = self._queue[0][0] + self.max_wait
            while len(self._queue) < self.max_size:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            taken = self._queue[: self.max_size]
            del self._queue[: self.max_size]
        return [call for _, call in taken if not call.abandoned]

    def _serve(self) -> None:
        while True:
            calls = self._next_batch()
            if calls is None:
                return
            if calls:
                self._run(calls)

    def _run(self, calls: list[_Call]) -> None:
        try:
            results = self._fn([c.item for c in calls])
            results = list(results)
        except BaseException as exc:  # noqa: BLE001 - every caller of the batch gets it
            for c in calls:
                c.settle(error=exc)
            self._count(len(calls))
            return
        if len(results) != len(calls):
            error = ValueError(
                f"owt.batch: {getattr(self._fn, '__name__', 'the function')} returned "
                f"{len(results)} results for {len(calls)} inputs"
            )
            for c in calls:
                c.settle(error=error)
        else:
            for c, r in zip(calls, results):
                if isinstance(r, BaseException):
                    c.settle(error=r)
                else:
                    c.settle(value=r)
        self._count(len(calls))

    def _count(self, size: int) -> None:
        with self._cond:
            self._batches += 1
            self._items += size
            self._sizes[size] = self._sizes.get(size, 0) + 1


def batch(fn: Callable[[list[Any]], Sequence[Any]] | None = None, *, max_size: int = 32,
          max_wait_ms: float = 5.0) -> Any:
    """Gather concurrent calls into batched calls of fn (see the module's doc).

    ``@owt.batch`` or ``@owt.batch(max_size=..., max_wait_ms=...)``.
    """

    def wrap(f: Callable[[list[Any]], Sequence[Any]]) -> Batched:
        return Batched(f, max_size, max_wait_ms)

    return wrap(fn) if fn is not None else wrap
