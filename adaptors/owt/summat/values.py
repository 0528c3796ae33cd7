"""Steps that pick or reset the pipe's value: kwargs, constants, indexing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._state import ABSENT, State, short_repr
from ._step import Step, label
from .errors import PipeLookupError

_MISSING: Any = object()


def kwarg(name: str, default: Any = _MISSING) -> Step:
    """The kwarg ``name`` becomes the last value (``default`` when it is missing)."""

    def apply(state: State) -> State:
        if name in state.kwargs:
            return state.with_last(state.kwargs[name])
        if default is not _MISSING:
            return state.with_last(default)
        have = ", ".join(sorted(state.kwargs)) or "none"
        raise PipeLookupError(
            f"kwarg({name!r}): the request has no kwarg {name!r} (it has: {have}); "
            f"send it in kwargs, e.g. {{{name!r}: ...}}, or give kwarg() a default"
        )

    args = (name,) if default is _MISSING else (name, default)
    return Step(label("kwarg", *args), apply)


def kwargs(**defaults: Any) -> Step:
    """Merge ``defaults`` under the kwargs (the request's win) and clear the last value.

    The next ``f`` then receives the merged kwargs as keyword arguments.
    """

    def apply(state: State) -> State:
        return state.with_kwargs({**defaults, **state.kwargs})

    return Step(label("kwargs", **defaults), apply)


def input_() -> Step:
    """Back to the request: its kwargs, and its ``__last__`` (if any) as the last value."""
    return Step("input()", lambda state: state.restarted())


def clear() -> Step:
    """Drop the kwargs and set the last value to ``None``."""
    return Step("clear()", lambda state: state.with_kwargs({}, last=None))


def const(value: Any) -> Step:
    """``value`` becomes the last value."""
    return Step(label("const", value), lambda state: state.with_last(value))


def identity() -> Step:
    """Leave the state as it is."""
    return Step("identity()", lambda state: state)


def last() -> Step:
    """The last element of the value (a sequence or any finite iterable)."""

    def apply(state: State) -> State:
        value = state.value
        if isinstance(value, Mapping) or not hasattr(value, "__iter__"):
            raise PipeLookupError(
                f"last(): needs a sequence, got {type(value).__name__} {short_repr(value)}; "
                "use get(key) for a dict"
            )
        items = value if isinstance(value, Sequence) else list(value)
        if len(items) == 0:
            raise PipeLookupError("last(): the sequence is empty")
        return state.with_last(items[-1])

    return Step("last()", apply)


def ix(i: int) -> Step:
    """Element ``i`` of the value (negative counts from the end)."""

    def apply(state: State) -> State:
        value = state.value
        try:
            return state.with_last(value[i])
        except IndexError:
            raise PipeLookupError(
                f"ix({i}): index out of range for a {type(value).__name__} of length {_length(value)}"
            ) from None
        except (KeyError, TypeError) as exc:
            raise PipeLookupError(
                f"ix({i}): cannot index {type(value).__name__} {short_repr(value)} ({exc}); "
                "ix() is for sequences, get(key) for dicts"
            ) from None

    return Step(label("ix", i), apply)


def get(key: Any, default: Any = _MISSING) -> Step:
    """``value[key]`` of the value (``default`` when the key is missing)."""

    def apply(state: State) -> State:
        value = state.value
        try:
            return state.with_last(value[key])
        except (KeyError, IndexError, TypeError) as exc:
            if default is not _MISSING:
                return state.with_last(default)
            if isinstance(value, Mapping):
                keys = ", ".join(short_repr(k, 20) for k in list(value)[:10]) or "none"
                raise PipeLookupError(
                    f"get({key!r}): no key {key!r} (keys: {keys}); give get() a default to allow that"
                ) from None
            raise PipeLookupError(
                f"get({key!r}): cannot look up {key!r} in {type(value).__name__} "
                f"{short_repr(value)} ({exc})"
            ) from None

    args = (key,) if default is _MISSING else (key, default)
    return Step(label("get", *args), apply)


def _length(value: Any) -> str:
    try:
        return str(len(value))
    except TypeError:
        return "unknown"


__all__ = ["kwarg", "kwargs", "input_", "clear", "const", "identity", "last", "ix", "get", "ABSENT"]
