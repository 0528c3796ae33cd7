"""The state a pipe threads through its steps: the last value and the kwargs."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import ModuleType
from typing import Any, Final


class _Absent:
    """The type of ``ABSENT``: there is no last value yet."""

    _instance: _Absent | None = None

    def __new__(cls) -> _Absent:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ABSENT"

    def __bool__(self) -> bool:
        return False


ABSENT: Final = _Absent()

LAST_KEY: Final = "__last__"


@dataclasses.dataclass(frozen=True)
class State:
    """One moment of a running pipe.

    ``last`` is the value the previous step produced, or ``ABSENT``;
    ``kwargs`` are the keyword arguments steps such as ``f`` may pass on;
    ``request_kwargs`` are the kwargs the pipe was called with (for ``input()``);
    ``modules`` are the modules ``importing()`` made available, by bound name.
    """

    last: Any
    kwargs: Mapping[str, Any]
    request_kwargs: Mapping[str, Any]
    modules: Mapping[str, ModuleType]

    @classmethod
    def start(cls, kwargs: Mapping[str, Any]) -> State:
        """The state a pipe called with ``kwargs`` starts from.

        A ``__last__`` entry (kwargs text that was not a dict) becomes the last value.
        """
        request_kwargs = dict(kwargs)
        return cls(
            last=request_kwargs.get(LAST_KEY, ABSENT),
            kwargs=_without_last(request_kwargs),
            request_kwargs=request_kwargs,
            modules={},
        )

    @property
    def has_last(self) -> bool:
        """True when a step has produced a value (``None`` counts as a value)."""
        return self.last is not ABSENT

    @property
    def value(self) -> Any:
        """The pipe's current value: the last value, or a copy of the kwargs when there is none."""
        return self.last if self.has_last else dict(self.kwargs)

    def with_last(self, last: Any) -> State:
        """This state with another last value."""
        return dataclasses.replace(self, last=last)

    def with_kwargs(self, kwargs: Mapping[str, Any], last: Any = ABSENT) -> State:
        """This state with other kwargs and last value."""
        return dataclasses.replace(self, kwargs=dict(kwargs), last=last)

    def restarted(self) -> State:
        """The request's own kwargs and ``__last__`` again, keeping imported modules."""
        return dataclasses.replace(
            self,
            last=self.request_kwargs.get(LAST_KEY, ABSENT),
            kwargs=_without_last(self.request_kwargs),
        )

    def with_modules(self, modules: Mapping[str, ModuleType]) -> State:
        """This state with more modules available to later functions."""
        return dataclasses.replace(self, modules={**self.modules, **modules})


def _without_last(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in kwargs.items() if k != LAST_KEY}


def short_repr(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, for error messages."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def callable_name(fn: Any) -> str:
    """A short name for ``fn`` in messages: ``<lambda>``, ``sota.hard_task``, ``str``."""
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
    if not isinstance(name, str):
        return short_repr(fn, 40)
    name = name.rpartition("<locals>.")[2]
    module = getattr(fn, "__module__", None)
    if isinstance(module, str) and module not in ("builtins", "__main__") and not name.startswith("<"):
        name = f"{module.rpartition('.')[2]}.{name}" if module.isidentifier() else name
    return name
