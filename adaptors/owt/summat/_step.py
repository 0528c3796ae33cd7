"""A pipe step: a label for messages and a function from state to state."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from ._state import State, callable_name, short_repr


@dataclasses.dataclass(frozen=True)
class Step:
    """One step of a pipe. ``label`` reads like the call that made it, e.g. ``ix(1)``."""

    label: str
    apply: Callable[[State], State]


def label(name: str, *args: Any, **kwargs: Any) -> str:
    """``name(arg, key=value)`` with each argument shortened for messages."""
    parts = [_describe(a) for a in args]
    parts += [f"{k}={_describe(v)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


def _describe(value: Any) -> str:
    if getattr(value, "__owt_pipe__", False) is True:
        return repr(value)
    if callable(value) and hasattr(value, "__qualname__"):
        return callable_name(value)
    return short_repr(value, 40)
