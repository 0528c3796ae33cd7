"""Read-only mappings for request data: query/form fields and HTTP headers."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Callable, TypeVar

__all__ = ["MultiDict", "Headers"]

T = TypeVar("T")
_MISSING: Any = object()


class MultiDict(Mapping[str, str]):
    """Fields that may repeat: ``d[key]`` and ``d.get(key)`` give the first value,
    ``d.getlist(key)`` all of them, in the order they were sent."""

    __slots__ = ("_lists",)

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        lists: dict[str, list[str]] = {}
        for key, value in pairs:
            bucket = lists.get(key)
            if bucket is None:
                lists[key] = [value]
            else:
                bucket.append(value)
        self._lists = lists

    def __getitem__(self, key: str) -> str:
        return self._lists[key][0]

    def __iter__(self) -> Iterator[str]:
        return iter(self._lists)

    def __len__(self) -> int:
        return len(self._lists)

    def __contains__(self, key: object) -> bool:
        return key in self._lists

    def get(  # type: ignore[override]
        self, key: str, default: Any = None, type: Callable[[str], T] | None = None
    ) -> Any:
        """The first value of key, converted by ``type`` if given; ``default`` when
        the key is missing or the conversion raises ValueError."""
        bucket = self._lists.get(key)
        if not bucket:
            return default
        if type is None:
            return bucket[0]
        try:
            return type(bucket[0])
        except ValueError:
            return default

    def getlist(self, key: str, type: Callable[[str], T] | None = None) -> list[Any]:
        """Every value of key (empty when missing); values ``type`` rejects are skipped."""
        bucket = self._lists.get(key, [])
        if type is None:
            return list(bucket)
        out = []
        for value in bucket:
            try:
                out.append(type(value))
            except ValueError:
                continue
        return out

    def items(self, multi: bool = False) -> Any:  # type: ignore[override]
        """(key, first value) pairs, or every (key, value) pair with ``multi=True``."""
        if multi:
            return [(k, v) for k, vs in self._lists.items() for v in vs]
        return [(k, vs[0]) for k, vs in self._lists.items()]

    def lists(self) -> list[tuple[str, list[str]]]:
        """(key, all values) pairs."""
        return [(k, list(vs)) for k, vs in self._lists.items()]

    def to_dict(self, flat: bool = True) -> dict[str, Any]:
        """A plain dict: first values, or lists of values with ``flat=False``."""
        if flat:
            return {k: vs[0] for k, vs in self._lists.items()}
        return {k: list(vs) for k, vs in self._lists.items()}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.items(multi=True)!r})"


def _env_key(name: str) -> str:
    return name.upper().replace("-", "_")


def _display(env_key: str) -> str:
    return "-".join(part.capitalize() for part in env_key.split("_"))


class Headers(Mapping[str, str]):
    """HTTP request headers read from CGI params, looked up case-insensitively
    (``Content-Type``, ``content-type`` and ``CONTENT_TYPE`` are one key)."""

    __slots__ = ("_items",)

    def __init__(self, environ: Mapping[str, str]) -> None:
        items: dict[str, tuple[str, str]] = {}
        for key, value in environ.items():
            if key.startswith("HTTP_"):
                norm = key[5:]
                if norm in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                    items.setdefault(norm, (_display(norm), value))
                else:
                    items[norm] = (_display(norm), value)
            elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
                items[key] = (_display(key), value)
        self._items = items

    def __getitem__(self, key: str) -> str:
        return self._items[_env_key(key)][1]

    def __iter__(self) -> Iterator[str]:
        return (display for display, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and _env_key(key) in self._items

    def get(  # type: ignore[override]
        self, key: str, default: Any = None, type: Callable[[str], T] | None = None
    ) -> Any:
        """The header's value, converted by ``type`` if given; ``default`` when
        missing or when the conversion raises ValueError."""
        item = self._items.get(_env_key(key))
        if item is None:
            return default
        if type is None:
            return item[1]
        try:
            return type(item[1])
        except ValueError:
            return default

    def getlist(self, key: str) -> list[str]:
        """The header's value as a one-item list (empty when missing)."""
        item = self._items.get(_env_key(key))
        return [] if item is None else [item[1]]

    def items(self) -> Any:  # type: ignore[override]
        """(Display-Name, value) pairs."""
        return list(self._items.values())

    def to_dict(self) -> dict[str, str]:
        """A plain dict keyed by display names."""
        return dict(self._items.values())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.items()!r})"
