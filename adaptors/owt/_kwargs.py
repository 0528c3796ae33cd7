"""Kwargs text → the keyword arguments of the call (PROTOCOL §3).

JSON first, then a Python literal (``ast.literal_eval``, never ``eval``); a
decoded string is decoded once more; anything that is not a dict becomes
``{"__last__": value}``, and text that parses as neither is ``{"__last__": text}``.
"""

from __future__ import annotations

import ast
import json
from typing import Any

from owt._errors import BadRequest

__all__ = ["decode", "EMPTY", "JSON", "OTHER", "LITERAL_LIMIT"]

EMPTY = 0
JSON = 1
OTHER = 2

LITERAL_LIMIT = 1024 * 1024
"""Longest text tried as a Python literal: parsing one can take time and memory."""

_NOT_PARSED: Any = object()
_PARSE_ERRORS = (ValueError, TypeError, SyntaxError, MemoryError, RecursionError)


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return _NOT_PARSED


def _literal(text: str) -> Any:
    if len(text) > LITERAL_LIMIT:
        return _NOT_PARSED
    try:
        return ast.literal_eval(text.strip())
    except _PARSE_ERRORS:
        return _NOT_PARSED


def decode(text: str | None, kind: int | None = None) -> dict[str, Any]:
    """The kwargs dict for text.

    kind is C's classification (``EMPTY``, ``JSON``, ``OTHER``); None means
    unknown. Text that is not JSON and is longer than :data:`LITERAL_LIMIT`
    is refused with :class:`BadRequest`.
    """
    if not text or kind == EMPTY:
        return {}
    value = _NOT_PARSED
    if kind == JSON:
        value = _json(text)
        if type(value) is dict:
            return value
    text = text.rstrip("\r\n")
    if not text.strip():
        return {}
    if value is _NOT_PARSED and kind is None:
        value = _json(text)
    if value is _NOT_PARSED:
        if len(text) > LITERAL_LIMIT:
            raise BadRequest(
                f"kwargs: {len(text)} characters of text that is not JSON is too long "
                f"for a Python literal (limit {LITERAL_LIMIT}); send the kwargs as JSON"
            )
        value = _literal(text)
    if value is _NOT_PARSED:
        return {"__last__": text}
    if isinstance(value, str):
        inner = _json(value)
        if inner is _NOT_PARSED:
            inner = _literal(value)
        if inner is not _NOT_PARSED:
            value = inner
    if isinstance(value, dict):
        return value
    return {"__last__": value}
