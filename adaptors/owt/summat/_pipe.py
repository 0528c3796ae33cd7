"""The ``Pipe`` object: an immutable sequence of steps over a last value and kwargs.

Every step method returns a new pipe, so a pipe can be shared, extended and used as a
branch of ``cond``/``fork`` safely. Calling a pipe runs it and returns ``(value, kwargs)``,
as the seed's pipes do; ``done()`` turns it into a plain ``run(**kwargs)`` function
returning the value (the runtime finishes shipped pipes with ``done()``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from . import files, functional, install, sources, system, values
from ._state import LAST_KEY, State
from ._step import Step


class Pipe:
    """A pipe of steps. Build one with ``pipe()`` and chain steps onto it."""

    __owt_pipe__ = True
    __slots__ = ("_steps",)

    def __init__(self, steps: tuple[Step, ...] = ()) -> None:
        self._steps = steps

    def _then(self, step: Step) -> Pipe:
        return Pipe(self._steps + (step,))

    # -- running -------------------------------------------------------------

    def __call__(self, /, *value: Any, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        """Run the pipe with ``kwargs``; return ``(value, kwargs)`` as the seed's pipes do.

        A ``__last__`` kwarg (or one positional argument) is the starting last value.
        ``value`` is the last value, or the kwargs when no step produced a value; the
        second item is the kwargs the pipe ended with, with ``__last__`` set to
        ``value``: ``pipe().const(1).f(lambda x: x + 1)()`` is ``(2, {"__last__": 2})``.
        ``done()`` gives a function that returns the value alone.
        """
        state = self._run_state(State.start(_start_kwargs(value, kwargs)))
        result = state.value
        return result, {**state.kwargs, LAST_KEY: result}

    def _run_state(self, state: State) -> State:
        for i, step in enumerate(self._steps):
            try:
                state = step.apply(state)
            except Exception as exc:
                exc.add_note(f"in owt pipe step {i + 1}: .{step.label} of {self!r}")
                raise
        return state

    def done(self) -> Callable[..., Any]:
        """A plain function ``run(**kwargs)`` that runs this pipe and returns its value.

        Like calling the pipe, ``run`` also takes one positional value (the starting
        last value): the seed's ``pipe().const(1).f(lambda x: x + 1).done()(None)`` is ``2``.
        """
        pipe = self

        def run(*value: Any, **kwargs: Any) -> Any:
            return pipe._run_state(State.start(_start_kwargs(value, kwargs))).value

        run.__doc__ = f"Run {self!r}."
        return run

    def __repr__(self) -> str:
        return "pipe()" + "".join(f".{step.label}" for step in self._steps)

    # -- kwargs and values ---------------------------------------------------

    def kwarg(self, name: str, *default: Any) -> Pipe:
        """The request kwarg ``name`` becomes the last value; ``kwarg(name, default)`` allows it missing."""
        return self._then(values.kwarg(name, *default))

    def kwargs(self, /, **defaults: Any) -> Pipe:
        """Default kwargs under the request's (the request wins); clears the last value so ``f`` gets the kwargs."""
        return self._then(values.kwargs(**defaults))

    def input(self) -> Pipe:
        """Back to the request's kwargs (and its ``__last__``, if any)."""
        return self._then(values.input_())

    def clear(self) -> Pipe:
        """Drop the kwargs; the last value becomes ``None``."""
        return self._then(values.clear())

    def const(self, value: Any) -> Pipe:
        """``value`` becomes the last value."""
        return self._then(values.const(value))

    def identity(self) -> Pipe:
        """Change nothing."""
        return self._then(values.identity())

    def last(self) -> Pipe:
        """The last element of the value."""
        return self._then(values.last())

    def ix(self, i: int) -> Pipe:
        """Element ``i`` of the value."""
        return self._then(values.ix(i))

    def get(self, key: Any, *default: Any) -> Pipe:
        """``value[key]``; ``get(key, default)`` allows the key missing."""
        return self._then(values.get(key, *default))

    # -- functions -----------------------------------------------------------

    def f(self, fn: Callable[..., Any]) -> Pipe:
        """``fn``'s result becomes the last value.

        ``fn`` is called with the last value; with the kwargs as keyword arguments when
        there is no last value, or when ``fn`` cannot take the last value but takes the
        kwargs; or with both. A sub-pipe continues from the current state.
        """
        return self._then(functional.f(fn))

    def exec(self, fn: Callable[..., Any]) -> Pipe:
        """Call ``fn`` as ``f`` would, for a side effect; the value passes through."""
        return self._then(functional.exec_(fn))

    def cast(self, fn: Callable[[Any], Any]) -> Pipe:
        """``fn(value)`` with exactly one argument, e.g. ``cast(int)``."""
        return self._then(functional.cast(fn))

    def map(self, fn: Callable[[Any], Any]) -> Pipe:
        """``[fn(x) for x in value]``."""
        return self._then(functional.map_(fn))

    def foldl(self, fn: Callable[[Any, Any], Any], acc: Any) -> Pipe:
        """Fold the value from the left, starting from ``acc``."""
        return self._then(functional.foldl(fn, acc))

    def foldl1(self, fn: Callable[[Any, Any], Any]) -> Pipe:
        """Fold the value from the left, starting from its first element."""
        return self._then(functional.foldl1(fn))

    def cond(self, then: Any, *else_: Any) -> Pipe:
        """``then`` if the value is truthy, else ``else_`` (sub-pipes, functions or constants)."""
        return self._then(functional.cond(then, *else_))

    def fork(self, left: Any, right: Any, *more: Any) -> Pipe:
        """Run every branch from the same state; the tuple of their values becomes the last value."""
        return self._then(functional.fork(left, right, *more))

    # -- files and bytes -----------------------------------------------------

    def open(self, root_dir: str | os.PathLike[str] | None = None) -> Pipe:
        """Read the file at the last value (a path relative to ``root_dir``, default cwd) into a BytesIO.

        Paths resolving outside ``root_dir`` raise ``PipeForbidden`` (403).
        """
        return self._then(files.open_(root_dir))

    def bytes(self) -> Pipe:
        """The value as bytes (buffers read, ``str`` as UTF-8)."""
        return self._then(files.bytes_())

    # -- the request ---------------------------------------------------------

    def path(self) -> Pipe:
        """The request path's non-empty segments as a list."""
        return self._then(sources.path())

    def query(self) -> Pipe:
        """The query string as a dict of first values."""
        return self._then(sources.query())

    def json(self) -> Pipe:
        """The request body parsed as JSON."""
        return self._then(sources.json())

    # -- outside the pipe ----------------------------------------------------

    def importing(self, *modules: str) -> Pipe:
        """Import modules (``"json"``, ``"numpy as np"``) for the functions of later steps."""
        return self._then(system.importing(*modules))

    def shell(self) -> Pipe:
        """Run the value as a shell command; its stdout bytes become the value. Needs ``--allow-shell``."""
        return self._then(system.shell())

    def installing(self, *packages: str) -> Pipe:
        """``pip install`` the packages into the server's venv; needs ``--allow-install --venv DIR``."""
        return self._then(install.installing(*packages))


def _start_kwargs(value: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """The kwargs a pipe starts from: one positional value becomes ``__last__``."""
    if len(value) > 1:
        raise TypeError(f"a pipe takes at most one positional value, got {len(value)}")
    if value:
        if LAST_KEY in kwargs:
            raise TypeError(f"a pipe got both a positional value and {LAST_KEY}")
        kwargs[LAST_KEY] = value[0]
    return kwargs


def pipe() -> Pipe:
    """An empty pipe: run with kwargs, it returns them (or their ``__last__``)."""
    return Pipe()
