"""Shipped code → a warm callable (PROTOCOL §4), and the bounded LRU that keeps them.

The code is tried in three modes, first match wins:

1. explicit: the code is a module that defines ``fn_name`` itself;
2. implicit: the code is one expression, bound as ``fn_name = (<code>)``;
3. terse: the code continues a pipe, bound as ``fn_name = (pipe().<code>)``.

Which of implicit and terse applies to one expression is decided without
running it: terse when the expression starts with a name that is not in the
namespace but is a method of ``pipe()`` (``kwarg("x")``, ``f(sota.hard_task)``).
Each module runs once, in a fresh namespace of its own, and stays warm.
"""

from __future__ import annotations

import ast
import keyword
import linecache
import sys
import threading
import types
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from typing import Any

from owt._adaptors import finish_pipe
from owt._errors import BadRequest, OwtError, adaptor_error

__all__ = ["Warm", "LRU", "build", "choose_mode"]

_PROBE_CACHE_LIMIT = 1024


class Warm:
    """One compiled adaptor: the callable, its module and its source's linecache name.

    Several request threads may run it at once: each holds it (:meth:`hold`,
    then checks :meth:`evicted`) and lets go (:meth:`release`); an evicted
    adaptor is emptied only when its last user lets go. The bookkeeping is a
    list's append and pop, which the GIL makes atomic: no lock on the warm
    path.
    """

    __slots__ = ("fn", "module", "filename", "mode", "_users", "_evicted")

    def __init__(self, fn: Callable[..., Any], module: types.ModuleType, filename: str, mode: str):
        self.fn = fn
        self.module = module
        self.filename = filename
        self.mode = mode
        self._users: list[None] = []
        self._evicted = False

    def hold(self) -> bool:
        """A request starts using it. False when it was evicted (do not use it)."""
        self._users.append(None)
        if self._evicted:
            self.release()
            return False
        return True

    def release(self) -> None:
        """A request is done with it (its reply is complete)."""
        self._users.pop()
        if self._evicted and not self._users:
            self._empty()

    def drop(self) -> None:
        """Evicted: forget the source kept for tracebacks and empty the module
        (now, or when the last request using it is done).

        The module's functions refer back to its dict (``__globals__``), a cycle
        CPython frees only at a full garbage collection; meanwhile module state such
        as a loaded model would pile up far past the LRU's bound. Emptying the dict
        breaks the cycle now. (A thread the adaptor left running on module globals
        loses them: keep such state in an adaptor directory module instead.)
        """
        self._evicted = True
        if not self._users:
            self._empty()

    def _empty(self) -> None:
        linecache.cache.pop(self.filename, None)
        self.module.__dict__.clear()


class LRU:
    """A bounded least-recently-used map, safe for several threads; a size of
    0 or less keeps nothing. A lookup takes no lock (one dict read and one
    move, each atomic under the GIL); stores and evictions do."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        """The value for key (now the most recently used), or None."""
        items = self._items
        value = items.get(key)
        if value is not None:
            try:
                items.move_to_end(key)
            except KeyError:  # evicted meanwhile: the caller still has it
                pass
        return value

    def put(self, key: Hashable, value: Any) -> None:
        """Store value; evict (and ``drop()``) the least recently used beyond the bound."""
        evicted = []
        with self._lock:
            items = self._items
            items[key] = value
            items.move_to_end(key)
            while len(items) > max(self.size, 0):
                evicted.append(items.popitem(last=False)[1])
        for old in evicted:
            drop = getattr(old, "drop", None)
            if drop is not None:
                drop()

    def clear(self) -> None:
        """Evict everything."""
        with self._lock:
            evicted = list(self._items.values())
            self._items.clear()
        for old in evicted:
            drop = getattr(old, "drop", None)
            if drop is not None:
                drop()

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._items


_pipe_probe: Any = None
_pipe_attrs: dict[str, bool] = {}


def reset_probe() -> None:
    """Forget what is known about ``pipe()``'s methods (on configure)."""
    global _pipe_probe
    _pipe_probe = None
    _pipe_attrs.clear()


def _pipe_has(name: str, namespace: Mapping[str, Any]) -> bool:
    global _pipe_probe
    known = _pipe_attrs.get(name)
    if known is not None:
        return known
    if _pipe_probe is None:
        try:
            _pipe_probe = namespace["pipe"]()
        except Exception:  # noqa: BLE001 - no usable owt.summat: nothing is terse
            _pipe_probe = False
    try:
        has = _pipe_probe is not False and callable(getattr(_pipe_probe, name, None))
    except Exception:  # noqa: BLE001
        has = False
    if len(_pipe_attrs) < _PROBE_CACHE_LIMIT:
        _pipe_attrs[name] = has
    return has


def _head_name(node: ast.expr) -> str | None:
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, (ast.Attribute, ast.Subscript)):
            node = node.value
        else:
            break
    return node.id if isinstance(node, ast.Name) else None


def _is_terse(expr: ast.expr, namespace: Mapping[str, Any]) -> bool:
    head = _head_name(expr)
    if head is None or head in namespace:
        return False
    return _pipe_has(head, namespace)


def _syntax_text(exc: Exception) -> str:
    if isinstance(exc, SyntaxError):
        where = f"line {exc.lineno}" if exc.lineno else ""
        if exc.lineno and exc.offset:
            where += f", column {exc.offset}"
        return f"SyntaxError: {exc.msg}" + (f" ({where})" if where else "")
    return f"{type(exc).__name__}: {exc}"


def _compile(source: str, filename: str, mode: str, flags: int = 0) -> Any:
    return compile(source, filename, mode, flags, dont_inherit=True)


def choose_mode(
    code: str, fn_name: str, namespace: Mapping[str, Any], filename: str = "<owt adaptor>"
) -> tuple[str, str, types.CodeType]:
    """(mode, source, code object) for code; BadRequest when no mode applies.

    mode is ``explicit`` (exec the code), or ``implicit``/``terse`` (eval
    the expression and bind it to fn_name).
    """
    first_error: Exception | None = None
    try:
        tree = _compile(code, filename, "exec", ast.PyCF_ONLY_AST)
    except (SyntaxError, ValueError) as exc:
        tree = None
        first_error = exc
    if tree is not None and not (len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr)):
        return "explicit", code, _compile(tree, filename, "exec")

    implicit_src = f"({code}\n)"
    try:
        expr = _compile(implicit_src, filename, "eval", ast.PyCF_ONLY_AST)
    except (SyntaxError, ValueError):
        expr = None
    if expr is not None and not _is_terse(expr.body, namespace):
        return "implicit", implicit_src, _compile(expr, filename, "eval")

    rest = code.lstrip()
    if rest.startswith("."):
        rest = rest[1:]
    terse_src = f"(pipe().{rest}\n)"
    try:
        return "terse", terse_src, _compile(terse_src, filename, "eval")
    except (SyntaxError, ValueError):
        pass
    if expr is not None:
        return "implicit", implicit_src, _compile(expr, filename, "eval")
    detail = f" First error: {_syntax_text(first_error)}." if first_error else ""
    raise BadRequest(
        f"no function '{fn_name}' in the code: it is neither a module defining "
        f"'{fn_name}', nor one expression, nor a pipe continuation.{detail}"
    )


def _check_fn_name(fn_name: str) -> None:
    if not fn_name.isidentifier() or keyword.iskeyword(fn_name):
        raise BadRequest(f"fn_name {fn_name!r} is not a Python identifier")


def _missing(fn_name: str, namespace: Mapping[str, Any], base: Mapping[str, Any]) -> BadRequest:
    defined = sorted(
        k for k, v in namespace.items()
        if not k.startswith("_") and k not in base and callable(v)
        and not isinstance(v, types.ModuleType)
    )
    hint = f" It defines: {', '.join(defined)}; pass fn_name to pick one." if defined else ""
    return BadRequest(
        f"no function '{fn_name}' in the code: define it (def {fn_name}(...): ...), "
        f"or send one expression or a pipe continuation instead.{hint}"
    )


def build(code: str, fn_name: str, digest: bytes, base: Mapping[str, Any]) -> Warm:
    """Compile and run code once in a fresh module namespace; return its callable.

    base is the namespace every module starts with. Raises BadRequest (no
    mode defines fn_name, or it is not callable) or AdaptorError (the
    module's own code raised); lets ``Timeout`` through.
    """
    _check_fn_name(fn_name)
    tag = digest.hex()[:12]
    modname = f"owt_adaptor_{tag}"
    filename = f"<owt adaptor {tag}>"
    module = types.ModuleType(modname)
    namespace = module.__dict__
    namespace.update(base)
    mode, source, codeobj = choose_mode(code, fn_name, namespace, filename)
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    ok = False
    # Registered only while the module runs: dataclasses and typing look a
    # class's module up in sys.modules at definition time.
    sys.modules[modname] = module
    try:
        if mode == "explicit":
            exec(codeobj, namespace)
        else:
            namespace[fn_name] = eval(codeobj, namespace)
        if fn_name not in namespace:
            raise _missing(fn_name, namespace, base)
        fn = finish_pipe(namespace[fn_name])
        if not callable(fn):
            raise BadRequest(
                f"'{fn_name}' is a {type(fn).__name__}, not a function: "
                f"define '{fn_name}' as something callable"
            )
        namespace[fn_name] = fn
        ok = True
    except OwtError:
        raise
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - the module's own code raised
        raise adaptor_error(exc) from None
    finally:
        sys.modules.pop(modname, None)
        if not ok:
            linecache.cache.pop(filename, None)
    return Warm(fn, module, filename, mode)

