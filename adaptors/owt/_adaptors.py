"""The server's adaptor directories: their modules, importable by bare name
inside shipped code, and callable as named adaptors (``adaptor=module[.function]``).
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import keyword
import os
import re
import sys
import types
from collections.abc import Callable, Iterable
from typing import Any, cast

from owt._errors import NotFound, adaptor_error

__all__ = ["LazyModule", "scan", "AdaptorDirs", "is_pipe", "finish_pipe"]

NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")

_SOURCE_SUFFIXES = tuple(importlib.machinery.SOURCE_SUFFIXES) + tuple(
    importlib.machinery.EXTENSION_SUFFIXES
)

_RESERVED = frozenset({"owt"})


def is_pipe(obj: object) -> bool:
    """Whether obj is an unfinished ``owt.summat`` pipe (to be finished with ``.done()``)."""
    cls = type(obj)
    if getattr(cls, "__owt_pipe__", False):
        return True
    return cls.__name__ == "Pipe" and callable(getattr(cls, "done", None))


def finish_pipe(obj: Any) -> Any:
    """obj.done() for a pipe, obj itself otherwise."""
    return obj.done() if is_pipe(obj) else obj


class LazyModule:
    """A module of an adaptor directory, imported on first attribute access.

    Lets shipped code say ``sota.hard_task`` without ``import sota`` and
    without importing every adaptor module at start.
    """

    __slots__ = ("_owt_name", "_owt_module")

    def __init__(self, name: str) -> None:
        self._owt_name = name
        self._owt_module: types.ModuleType | None = None

    def _owt_load(self) -> types.ModuleType:
        module = self._owt_module
        if module is None:
            module = importlib.import_module(self._owt_name)
            self._owt_module = module
        return module

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._owt_load(), attr)

    def __dir__(self) -> list[str]:
        return dir(self._owt_load())

    def __repr__(self) -> str:
        state = "loaded" if self._owt_module is not None else "not loaded yet"
        return f"<adaptor module {self._owt_name!r} ({state})>"


def _module_names(directory: str) -> list[str]:
    try:
        entries = sorted(os.listdir(directory))
    except OSError:
        return []
    names = []
    for entry in entries:
        path = os.path.join(directory, entry)
        name = None
        if os.path.isdir(path):
            if os.path.isfile(os.path.join(path, "__init__.py")):
                name = entry
        else:
            for suffix in _SOURCE_SUFFIXES:
                if entry.endswith(suffix):
                    name = entry[: -len(suffix)]
                    break
        if name and name.isidentifier() and not keyword.iskeyword(name):
            names.append(name)
    return names


def scan(dirs: Iterable[str]) -> dict[str, LazyModule]:
    """Lazy proxies for every module and package in dirs (the first directory wins)."""
    found: dict[str, LazyModule] = {}
    for directory in dirs:
        for name in _module_names(directory):
            if name not in found:
                found[name] = LazyModule(name)
    return found


class AdaptorDirs:
    """The configured adaptor directories and the named adaptors inside them."""

    def __init__(self, dirs: Iterable[str]) -> None:
        self.dirs = [os.path.abspath(d) for d in dirs]
        self._roots = tuple(os.path.join(os.path.realpath(d), "") for d in self.dirs)

    def contains(self, filename: str | None) -> bool:
        """Whether filename lies inside one of the directories."""
        if not filename:
            return False
        real = os.path.realpath(filename)
        return real.startswith(self._roots)

    def _origin(self, top: str) -> str | None:
        module = sys.modules.get(top)
        if module is not None:
            return getattr(module, "__file__", None)
        try:
            spec = importlib.util.find_spec(top)
        except (ImportError, ValueError):
            return None
        if spec is None or not spec.has_location:
            return None
        return spec.origin

    def _own_function(self, obj: object, module: types.ModuleType) -> bool:
        """Whether obj is a plain function (or generator/coroutine function) that module
        itself defines: its ``__module__`` is module and its code comes from module's file.

        Anything else a module can hold is refused: functools.partial, instances with
        ``__call__``, classes, builtins, bound methods, functions imported from other
        modules (relabelled or not) or made by ``exec``.
        """
        if type(obj) is not types.FunctionType:
            return False
        if obj.__module__ != module.__name__:
            return False
        filename = getattr(module, "__file__", None)
        if not filename or not self.contains(filename):
            return False
        try:
            return os.path.samefile(obj.__code__.co_filename, filename)
        except (OSError, ValueError, TypeError):
            return False

    @staticmethod
    def _is_pipe(obj: object) -> bool:
        """A real ``owt.summat`` pipe (not anything named Pipe with a ``done``)."""
        from owt.summat._pipe import Pipe

        return type(obj) is Pipe

    def _import(self, name: str) -> types.ModuleType | None:
        """The module name, None when there is no such module; adaptor errors raise.

        Only a missing name (or a missing prefix of it) means "no such module": a
        ModuleNotFoundError for anything else is an import inside the module gone wrong.
        """
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError as exc:
            missing = exc.name
            if missing and (missing == name or name.startswith(missing + ".")):
                return None
            raise adaptor_error(exc) from None
        except Exception as exc:  # noqa: BLE001 - the adaptor module failed at import
            raise adaptor_error(exc) from None

    def _walk(self, parts: list[str]) -> tuple[types.ModuleType | None, list[str]]:
        """The deepest module parts name (through packages' submodules only), and the
        names left after it. Never reads a module attribute (a module ``__getattr__``
        is not asked): a plain module ends the walk."""
        module = self._import(parts[0])
        depth = 1
        while module is not None and depth < len(parts) and "__path__" in vars(module):
            sub = self._import(".".join(parts[: depth + 1]))
            if sub is None:
                break
            module = sub
            depth += 1
        return module, parts[depth:]

    def resolve(self, name: str, fn_name: str) -> Callable[..., Any]:
        """The callable for ``adaptor=name``: ``module`` (then fn_name) or ``module.function``.

        Only modules inside the adaptor directories qualify, and in them only plain
        functions the module defines itself (``def`` or ``lambda`` in its own file, not
        ``subprocess.run`` it imported, not a partial or a callable object), or an
        ``owt.summat`` pipe, finished with ``.done()``. A dotted name walks through
        packages only, never through a module's attributes: ``a.os.system`` is a 404.
        Raises NotFound, or AdaptorError when the module fails to import.
        """
        if not NAME_RE.match(name):
            raise NotFound(f"adaptor {name!r}: not a module or module.function name")
        parts = name.split(".")
        top = parts[0]
        if top in _RESERVED:
            raise NotFound(f"adaptor {name!r}: the {top!r} package is not an adaptor")
        if any(part.startswith("_") for part in parts):
            raise NotFound(f"adaptor {name!r}: names starting with '_' are private")
        if not self.contains(self._origin(top)):
            raise NotFound(f"adaptor {name!r}: no module {top!r} in the adaptor directories")
        module, rest = self._walk(parts)
        if module is None or not self.contains(getattr(module, "__file__", None)):
            raise NotFound(f"adaptor {name!r}: no such module in the adaptor directories")
        if len(rest) > 1:
            raise NotFound(
                f"adaptor {name!r}: {module.__name__} has no submodule {rest[0]!r} "
                f"(a name goes through packages only, never through a module's attributes)"
            )
        attr = rest[0] if rest else fn_name
        if attr.startswith("_"):
            raise NotFound(f"adaptor {name!r}: {attr!r} is private (starts with '_')")
        # The module's own namespace only: a module-level __getattr__ is not asked.
        obj = vars(module).get(attr)
        if obj is None:
            raise NotFound(f"adaptor {name!r}: module {module.__name__!r} has no function {attr!r}")
        if self._is_pipe(obj):
            return cast(Callable[..., Any], finish_pipe(obj))
        if not self._own_function(obj, module):
            raise NotFound(
                f"adaptor {name!r}: {module.__name__}.{attr} is not a function defined in "
                f"{module.__name__} ({_what(obj)}); only functions a module defines itself are served"
            )
        return cast(Callable[..., Any], obj)


def _what(obj: object) -> str:
    if isinstance(obj, (types.ModuleType, LazyModule)):
        return "a module"
    if isinstance(obj, type):
        return "a class"
    origin = getattr(obj, "__module__", None)
    kind = f"a {type(obj).__name__}"
    return f"{kind} from {origin!r}" if isinstance(origin, str) else kind
