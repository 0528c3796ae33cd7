"""Whether the request's kwargs fit the function before it is called (PROTOCOL §7).

``run(nam='owt')`` for ``def run(name)`` is the client's mistake: a 400 naming the
signature, not a 500 with a traceback. The check binds the arguments with
:mod:`inspect` before the call, so a ``TypeError`` the function raises while it runs
stays the adaptor's error (500). A callable whose signature cannot be read is just
called.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from owt._errors import BadRequest

__all__ = ["check_call", "describe"]

_UNKNOWN: Any = object()
_shapes: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


class _Shown:
    """An annotation shown as written: ``str``, not ``'str'`` (``from __future__ import annotations``)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


class _Shape:
    """A signature and what it takes by keyword, for a check in set operations."""

    __slots__ = ("sig", "names", "positional", "required", "any_name")

    def __init__(self, sig: inspect.Signature) -> None:
        self.sig = sig
        by_name = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        params = list(sig.parameters.values())
        self.names = frozenset(p.name for p in params if p.kind in by_name)
        self.positional = frozenset(p.name for p in params if p.kind is inspect.Parameter.POSITIONAL_ONLY)
        # A positional-only parameter without a default can never be filled from kwargs:
        # it stays required, so the check always falls through to bind() for the message.
        self.required = frozenset(
            p.name for p in params
            if p.default is inspect.Parameter.empty
            and p.kind in (*by_name, inspect.Parameter.POSITIONAL_ONLY)
        )
        self.any_name = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)

    def fits(self, kwargs: Mapping[str, Any]) -> bool:
        keys = kwargs.keys()
        return self.required <= keys and (self.any_name or keys <= self.names)


def _read(fn: Callable[..., Any]) -> _Shape | None:
    # follow_wrapped=False: a decorator's wrapper(*args, **kwargs) takes what it takes,
    # whatever the function it wraps declares.
    try:
        return _Shape(inspect.signature(fn, follow_wrapped=False))
    except Exception:  # noqa: BLE001 - TypeError, ValueError, or whatever a __signature__ raises
        return None


def _shape(fn: Callable[..., Any]) -> _Shape | None:
    """fn's signature, read once per function (None: cannot be read)."""
    try:
        cached: _Shape | None = _shapes.get(fn, _UNKNOWN)
    except Exception:  # noqa: BLE001 - not weakly referenceable, not hashable, or an odd __eq__
        return _read(fn)
    if cached is not _UNKNOWN:
        return cached
    shape = _read(fn)
    try:
        _shapes[fn] = shape
    except Exception:  # noqa: BLE001 - as above: such callables are read every time
        pass
    return shape


def describe(fn: Callable[..., Any], sig: inspect.Signature) -> str:
    """``name(params)`` as the function was written, without the return annotation."""
    params = [
        p.replace(annotation=_Shown(p.annotation)) if isinstance(p.annotation, str) else p
        for p in sig.parameters.values()
    ]
    shown = sig.replace(parameters=params, return_annotation=inspect.Signature.empty)
    name = getattr(fn, "__name__", None)
    if not isinstance(name, str) or not name:
        name = type(fn).__name__
    return f"{name}{shown}"


def _quoted(names: Any) -> str:
    return ", ".join(repr(name) for name in sorted(names))


def _mismatch(shape: _Shape, kwargs: Mapping[str, Any]) -> str:
    """What does not fit, worded as Python words it; bind()'s own message otherwise."""
    keys = set(kwargs)
    parts = []
    unexpected = set() if shape.any_name else keys - shape.names
    positional = unexpected & shape.positional
    unexpected -= positional
    if unexpected:
        many = len(unexpected) > 1
        parts.append(f"got {'unexpected keyword arguments' if many else 'an unexpected keyword argument'} "
                     f"{_quoted(unexpected)}")
    if positional:
        parts.append(f"takes {_quoted(positional)} only by position, not as a keyword argument")
    missing = shape.required - keys
    if missing:
        many = len(missing) > 1
        parts.append(f"{'missing required arguments' if many else 'missing a required argument'}: "
                     f"{_quoted(missing)}")
    if parts:
        return "; ".join(parts)
    try:
        shape.sig.bind(**kwargs)
    except TypeError as exc:
        return str(exc)
    return "cannot take these arguments"


def check_call(fn: Callable[..., Any], kwargs: Mapping[str, Any]) -> None:
    """Raise :class:`BadRequest` when ``fn(**kwargs)`` cannot bind its arguments.

    The message names the signature and what did not fit, e.g.
    ``run(name: str) got an unexpected keyword argument 'nam'; missing a
    required argument: 'name'``. Does nothing when fn's signature cannot be
    read (some builtins): the call decides.
    """
    shape = _shape(fn)
    if shape is None or shape.fits(kwargs):
        return
    message = f"{describe(fn, shape.sig)} {_mismatch(shape, kwargs)}"
    if "__last__" in kwargs:
        message += " (kwargs text that is not a dict arrives as the keyword argument __last__)"
    raise BadRequest(message)
