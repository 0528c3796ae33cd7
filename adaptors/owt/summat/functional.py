"""Steps that apply functions: f, exec, cast, map, the folds, cond and fork."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ._calling import call, call_args, run_branch
from ._state import State, short_repr
from ._step import Step, label
from .errors import PipeCallError, PipeError

_MISSING: Any = object()


def f(fn: Callable[..., Any]) -> Step:
    """The result of ``fn`` becomes the last value.

    ``fn`` gets the last value, or the kwargs as keyword arguments when there is no last
    value or ``fn`` takes them instead (see ``owt.summat._calling.call``). A sub-pipe
    runs from the current state.
    """
    text = label("f", fn)
    return Step(text, lambda state: state.with_last(call(fn, state, text)))


def exec_(fn: Callable[..., Any]) -> Step:
    """Call ``fn`` as ``f`` would, for its side effect; the value passes through."""
    text = label("exec", fn)

    def apply(state: State) -> State:
        call(fn, state, text)
        return state

    return Step(text, apply)


def cast(fn: Callable[[Any], Any]) -> Step:
    """``fn(value)``: always one positional argument, e.g. ``cast(int)``, ``cast(str)``."""
    return Step(label("cast", fn), lambda state: state.with_last(call_args(fn, state, state.value)))


def map_(fn: Callable[[Any], Any]) -> Step:
    """``[fn(x) for x in value]``."""
    text = label("map", fn)

    def apply(state: State) -> State:
        items = _iterable(state.value, text)
        return state.with_last([call_args(fn, state, x) for x in items])

    return Step(text, apply)


def foldl(fn: Callable[[Any, Any], Any], acc: Any) -> Step:
    """Left fold: ``fn(...fn(fn(acc, x0), x1)..., xn)`` over the value."""
    text = label("foldl", fn, acc)

    def apply(state: State) -> State:
        result = acc
        for x in _iterable(state.value, text):
            result = call_args(fn, state, result, x)
        return state.with_last(result)

    return Step(text, apply)


def foldl1(fn: Callable[[Any, Any], Any]) -> Step:
    """Left fold seeded with the first element; an empty value is an error."""
    text = label("foldl1", fn)

    def apply(state: State) -> State:
        items = iter(_iterable(state.value, text))
        result = next(items, _MISSING)
        if result is _MISSING:
            raise PipeError(f"{text}: the sequence is empty; use foldl(fn, acc) to allow that")
        for x in items:
            result = call_args(fn, state, result, x)
        return state.with_last(result)

    return Step(text, apply)


def cond(then: Any, else_: Any = _MISSING) -> Step:
    """``then`` when the value is truthy, else ``else_``.

    Each branch is a sub-pipe (continues from the current state), a function (called as
    ``f`` calls it) or a constant. Without ``else_`` a falsy value passes through.
    """
    text = label("cond", then) if else_ is _MISSING else label("cond", then, else_)

    def apply(state: State) -> State:
        if state.value:
            return run_branch(then, state, text)
        if else_ is _MISSING:
            return state
        return run_branch(else_, state, text)

    return Step(text, apply)


def fork(left: Any, right: Any, *more: Any) -> Step:
    """Run each branch from the same state; the tuple of their values becomes the last value.

    Branches are sub-pipes, functions or constants, as for ``cond``.
    """
    branches = (left, right, *more)
    text = label("fork", *branches)

    def apply(state: State) -> State:
        return state.with_last(tuple(run_branch(b, state, text).value for b in branches))

    return Step(text, apply)


def _iterable(value: Any, step: str) -> Any:
    if isinstance(value, (str, bytes, Mapping)) or hasattr(value, "__iter__"):
        return value
    raise PipeCallError(f"{step}: needs a sequence, got {type(value).__name__} {short_repr(value)}")


__all__ = ["f", "exec_", "cast", "map_", "foldl", "foldl1", "cond", "fork"]
