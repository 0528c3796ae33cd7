"""Results as JSON: the bytes the seed's Flask app sends, and the values ML code returns.

The seed answers a dict or list result with Flask's ``jsonify``: compact separators,
keys sorted, non-ASCII escaped, a trailing newline, ``Content-Type: application/json``.
:func:`body` produces exactly those bytes (checked against Debian's python3-flask in
tests/python/test_jsonify.py), with Flask's conversions for dates (HTTP dates),
``Decimal`` and ``UUID`` (their text), dataclasses (their fields) and ``__html__``.

On top of Flask:
- numpy arrays and scalars, torch tensors and other array-likes with ``tolist()``
  become lists and numbers (:func:`native`);
- NaN and ±Infinity become ``null``, as JavaScript's ``JSON.stringify`` does, so the
  body is always valid JSON (Flask would send the invalid ``NaN``).

Nothing here is imported per request: numpy and torch are only looked for in
``sys.modules`` (a value cannot be a tensor unless torch was imported), and the
checks run only for values the JSON encoder does not know already.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any, Final

__all__ = ["body", "item", "native", "NOT_NATIVE"]


class _NotNative:
    """The type of :data:`NOT_NATIVE`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NOT_NATIVE"


NOT_NATIVE: Final = _NotNative()
"""What :func:`native` returns for a value it has no conversion for."""

_MAX_DEPTH = 200
"""Nesting the NaN-replacing walk follows (the C encoder's own limit is the recursion limit)."""


def native(value: Any) -> Any:
    """``value`` as plain Python data for an array-like, a tensor or a dataclass.

    numpy arrays and scalars → ``tolist()`` (lists, ints, floats, bools); torch
    tensors (only when torch is in ``sys.modules``) → ``detach().cpu().tolist()``;
    dataclass instances → ``dataclasses.asdict``; other objects with a ``tolist()``
    method (pandas, array.array, jax) → ``tolist()``. Anything else: :data:`NOT_NATIVE`.
    """
    cls = type(value)
    module = getattr(cls, "__module__", None) or ""
    if module == "numpy" or module.startswith("numpy."):
        tolist = getattr(value, "tolist", None)
        if callable(tolist):
            return tolist()
    torch = sys.modules.get("torch")
    if torch is not None:
        tensor = getattr(torch, "Tensor", None)
        if isinstance(tensor, type) and isinstance(value, tensor):
            return value.detach().cpu().tolist()
    if hasattr(cls, "__dataclass_fields__") and not isinstance(value, type):
        import dataclasses  # already loaded wherever a dataclass exists

        return dataclasses.asdict(value)
    tolist = getattr(cls, "tolist", None)
    if callable(tolist):
        return value.tolist()
    return NOT_NATIVE


def _flask_default(value: Any) -> Any:
    """What Flask's JSON provider turns a value into (dates, Decimal, UUID, ``__html__``)."""
    datetime = sys.modules.get("datetime")
    if datetime is not None and isinstance(value, datetime.date):
        return _http_date(value, datetime)
    decimal = sys.modules.get("decimal")
    if decimal is not None and isinstance(value, decimal.Decimal):
        return str(value)
    uuid = sys.modules.get("uuid")
    if uuid is not None and isinstance(value, uuid.UUID):
        return str(value)
    html = getattr(value, "__html__", None)
    if callable(html):
        return str(html())
    return NOT_NATIVE


def _http_date(value: Any, datetime: Any) -> str:
    """Werkzeug's ``http_date``: ``Tue, 02 Jan 2024 03:04:05 GMT`` (naive means UTC)."""
    import email.utils  # only results holding dates pay for it

    utc = datetime.timezone.utc
    if not isinstance(value, datetime.datetime):
        value = datetime.datetime.combine(value, datetime.time(), tzinfo=utc)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=utc)
    elif value.tzinfo != utc:
        value = value.astimezone(utc)
    return email.utils.format_datetime(value, usegmt=True)


def _default(value: Any) -> Any:
    """The encoders' ``default``: a JSON-able stand-in for value, or TypeError."""
    out = native(value)
    if out is NOT_NATIVE:
        out = _flask_default(value)
    if out is NOT_NATIVE:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
    return out


_BODY = json.JSONEncoder(
    ensure_ascii=True, sort_keys=True, separators=(",", ":"), allow_nan=False, default=_default
).encode
_BODY_UNSORTED = json.JSONEncoder(
    ensure_ascii=True, separators=(",", ":"), allow_nan=False, default=_default
).encode
_ITEM = json.JSONEncoder(allow_nan=False, default=_default).encode


def _finite(value: Any, depth: int = 0) -> Any:
    """value with every NaN and ±Infinity replaced by None (conversions applied on the way)."""
    if depth > _MAX_DEPTH:
        raise ValueError("the result nests too deeply to be JSON")
    cls = type(value)
    if cls is str or cls is int or cls is bool or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {_key(k): _finite(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v, depth + 1) for v in value]
    if isinstance(value, (str, int)):
        return value
    return _finite(_default(value), depth + 1)


def _key(key: Any) -> Any:
    """A dict key JSON accepts: str/int/float/bool/None as they are, a numpy scalar as its value.

    A NaN or infinite key is the text Flask gives it (``"NaN"``, ``"Infinity"``): keys are strings.
    """
    if isinstance(key, float) and not math.isfinite(key):
        return "NaN" if key != key else ("Infinity" if key > 0 else "-Infinity")
    if key is None or isinstance(key, (str, int, float)):
        return key
    out = native(key)
    return key if out is NOT_NATIVE else _key(out)


def _encode(value: Any, encode: Any, unsorted: Any = None) -> str | None:
    """encode(value), with non-finite floats as null; None when value is not JSON-able."""
    try:
        return _encode_once(value, encode, unsorted)
    except (TypeError, ValueError):
        pass  # NaN or Infinity (allow_nan=False), a circular reference, a numpy key
    except RecursionError:
        return None
    try:
        return _encode_once(_finite(value), encode, unsorted)
    except (TypeError, ValueError, RecursionError):
        return None


def _encode_once(value: Any, encode: Any, unsorted: Any) -> str:
    try:
        return encode(value)
    except TypeError:
        # Keys Python cannot sort (1 and "a") fail in Flask; here they go out unsorted.
        if unsorted is None:
            raise
        return unsorted(value)


def body(value: Any) -> bytes | None:
    """The JSON response body for value, as Flask's ``jsonify`` writes it; None if not JSON-able.

    ``{"x":123,"y":"abc"}`` plus a newline: keys sorted, ASCII only (``\\u00e9``),
    NaN/Infinity as ``null``.
    """
    text = _encode(value, _BODY, _BODY_UNSORTED)
    return None if text is None else (text + "\n").encode("ascii")


def item(value: Any) -> bytes | None:
    """One streamed item as JSON (``json.dumps`` spacing, no newline); None if not JSON-able.

    The same conversions and NaN policy as :func:`body`.
    """
    text = _encode(value, _ITEM)
    return None if text is None else text.encode("ascii")
