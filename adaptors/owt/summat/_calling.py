"""How a step calls the functions it is given.

``f``, ``exec``, ``cond`` and ``fork`` accept a function or a sub-pipe; ``map`` and the
folds call a function per element. This module picks the arguments (the last value or
the kwargs, see ``call``), runs sub-pipes from the current state, and binds the modules
``importing()`` made available into a function's globals before it runs.
"""

from __future__ import annotations

import builtins
import inspect
import types
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from .errors import PipeCallError
from ._state import State, callable_name, short_repr


def is_pipe(obj: Any) -> bool:
    """True for a pipe object (anything marked ``__owt_pipe__ = True``)."""
    return getattr(obj, "__owt_pipe__", False) is True and hasattr(obj, "_run_state")


def run_branch(branch: Any, state: State, step: str) -> State:
    """Run ``branch`` from ``state`` and return the state after it.

    A sub-pipe continues from ``state``; a function is called as ``f`` calls it;
    any other value is a constant.
    """
    if is_pipe(branch):
        return branch._run_state(state)
    if callable(branch):
        return state.with_last(call(branch, state, step))
    return state.with_last(branch)


def call(fn: Callable[..., Any], state: State, step: str) -> Any:
    """Call ``fn`` for the ``f``-like step ``step`` and return its result.

    The first of these that ``fn``'s signature accepts is used:
    with a last value: ``fn(last)``, ``fn(**kwargs)``, ``fn(last, **kwargs)``;
    without one: ``fn(**kwargs)``, ``fn(kwargs)``.
    A function without an inspectable signature (``str``, ``int``) gets ``fn(last)``,
    or ``fn(**kwargs)`` when there is no last value.
    Raises ``PipeCallError`` when no form fits.
    """
    if is_pipe(fn):
        return fn._run_state(state).value
    bind_modules(fn, state.modules)
    kwargs = dict(state.kwargs)
    sig = _signature(fn)
    if sig is None:
        return fn(state.last) if state.has_last else fn(**kwargs)
    for args, kw in _candidates(state, kwargs):
        if _binds(sig, args, kw):
            return fn(*args, **kw)
    raise PipeCallError(_no_fit_message(fn, sig, state, step))


def call_args(fn: Callable[..., Any], state: State, *args: Any) -> Any:
    """Call ``fn(*args)`` (``map`` and the folds), or run it with ``args[0]`` as last value if a sub-pipe."""
    if is_pipe(fn):
        if len(args) != 1:
            raise PipeCallError(
                f"a sub-pipe takes one value but was given {len(args)}; use a function of {len(args)} arguments here"
            )
        return fn._run_state(state.with_last(args[0])).value
    bind_modules(fn, state.modules)
    return fn(*args)


def bind_modules(fn: Any, modules: Mapping[str, types.ModuleType]) -> None:
    """Make ``modules`` visible to ``fn`` by name.

    Each module whose bound name ``fn`` (or a function nested in it) reads as a global,
    and which is neither a global of ``fn``'s module nor a builtin, is added to
    ``fn.__globals__``. Names the code already defines are never replaced.
    """
    if not modules:
        return
    func = getattr(fn, "__func__", fn)
    if not isinstance(func, types.FunctionType):
        return
    namespace = func.__globals__
    for name in _global_names(func.__code__):
        if name in modules and name not in namespace and not hasattr(builtins, name):
            namespace[name] = modules[name]


def _global_names(code: types.CodeType) -> Iterator[str]:
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _global_names(const)


def _signature(fn: Callable[..., Any]) -> inspect.Signature | None:
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):
        return None


def _candidates(state: State, kwargs: dict[str, Any]) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    if not state.has_last:
        return [((), kwargs), ((kwargs,), {})]
    forms: list[tuple[tuple[Any, ...], dict[str, Any]]] = [((state.last,), {}), ((), kwargs)]
    if kwargs:
        forms.append(((state.last,), kwargs))
    return forms


def _binds(sig: inspect.Signature, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    try:
        sig.bind(*args, **kwargs)
    except TypeError:
        return False
    return True


def _no_fit_message(fn: Any, sig: inspect.Signature, state: State, step: str) -> str:
    name = callable_name(fn)
    names = ", ".join(sorted(state.kwargs)) or "none"
    if state.has_last:
        have = f"the last value {short_repr(state.last)} and kwargs ({names})"
    else:
        have = f"no last value and kwargs ({names})"
    return (
        f"{step}: cannot call {name}{sig} with {have}; "
        "give it one parameter for the last value, or parameters named after the kwargs"
    )
