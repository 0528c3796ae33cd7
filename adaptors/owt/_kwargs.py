"""Kwargs text → the keyword arguments of the call (PROTOCOL §3).

JSON first, then a Python literal, never ``eval``: the literal is parsed with
:mod:`ast` and only a whitelist of node types is turned into values, where the
bare names ``true``, ``false`` and ``null`` mean ``True``, ``False`` and
``None`` (the seed's Haskell client mixes the two spellings). A decoded string
is decoded once more; anything that is not a dict becomes ``{"__last__": value}``,
and text that parses as neither is ``{"__last__": text}``, unless it starts
with ``{`` or ``[``: a dict or list that does not parse is the client's mistake
(:class:`BadRequest`), and so is a dict whose keys are not all strings.
"""

from __future__ import annotations

import ast
import json
import json.decoder
import json.scanner
from typing import Any

from owt._errors import BadRequest

__all__ = ["decode", "literal", "NotALiteral", "EMPTY", "JSON", "OTHER", "DICT", "LITERAL_LIMIT", "LITERAL_DEPTH"]

EMPTY = 0
JSON = 1
"""Text that may be JSON: tried as JSON first (what C sends for any text but blanks)."""
OTHER = 2
"""Text known not to be JSON: a Python literal, else the text itself."""
DICT = 3
"""Not text: C built the kwargs dict itself from a flat JSON object (lib/owt_kwargs.h)."""

LITERAL_LIMIT = 1024 * 1024
"""Longest text tried as a Python literal: parsing one can take time and memory."""

LITERAL_DEPTH = 100
"""Deepest nesting of containers in a Python literal (the parser itself stops at 200)."""

_NOT_PARSED: Any = object()

_NAMES: dict[str, Any] = {
    "True": True,
    "False": False,
    "None": None,
    "true": True,
    "false": False,
    "null": None,
}
_NUMBERS = (int, float, complex)
_LOOKS_STRUCTURED = {"{": "a dict", "[": "a list"}


class NotALiteral(ValueError):
    """The text is not a Python literal; the message says why."""


_scan = json.scanner.make_scanner(json.decoder.JSONDecoder())
"""json's own scanner (C): what json.loads calls, without its wrapper's two regex
matches for the surrounding whitespace, which cost more than the scan of a small
dict. The same decoder json.loads uses, so the values are the same."""


def _json(text: str) -> Any:
    try:
        value, end = _scan(text, 0)
        if end == len(text):
            return value
    except (StopIteration, ValueError, RecursionError):
        pass  # leading whitespace is not scanned: json.loads decides
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return _NOT_PARSED


def _hashable(values: list[Any], what: str) -> None:
    for value in values:
        try:
            hash(value)
        except TypeError:
            raise NotALiteral(f"{type(value).__name__} cannot be {what}") from None


def _value(node: ast.AST, depth: int) -> Any:
    """The value of one whitelisted node; NotALiteral for anything else."""
    if depth > LITERAL_DEPTH:
        raise NotALiteral(f"nested deeper than {LITERAL_DEPTH} levels")
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id in _NAMES:
            return _NAMES[node.id]
        raise NotALiteral(f"the name {node.id!r} is not a value (only true, false, null, True, False, None)")
    if isinstance(node, ast.UnaryOp):
        operand = node.operand
        if (
            isinstance(node.op, (ast.USub, ast.UAdd))
            and isinstance(operand, ast.Constant)
            and type(operand.value) in _NUMBERS
        ):
            return -operand.value if isinstance(node.op, ast.USub) else +operand.value
        raise NotALiteral("an operator is not a value (only a sign before a number)")
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        items = [_value(item, depth + 1) for item in node.elts]
        if isinstance(node, ast.List):
            return items
        if isinstance(node, ast.Tuple):
            return tuple(items)
        _hashable(items, "in a set")
        return set(items)
    if isinstance(node, ast.Dict):
        if any(key is None for key in node.keys):
            raise NotALiteral("** in a dict is not a value")
        pairs = [
            (_value(key, depth + 1), _value(value, depth + 1))
            for key, value in zip(node.keys, node.values)
            if key is not None
        ]
        _hashable([key for key, _ in pairs], "a dict key")
        return dict(pairs)
    raise NotALiteral(f"{_describe(node)} is not a value")


def _describe(node: ast.AST) -> str:
    names = {ast.Call: "a call", ast.Attribute: "an attribute", ast.BinOp: "an operator",
             ast.Subscript: "a subscript", ast.Starred: "a *", ast.Lambda: "a lambda"}
    return names.get(type(node), f"a {type(node).__name__}")


def literal(text: str) -> Any:
    """The Python literal text spells, never evaluated: NotALiteral when it is not one.

    Accepts constants, lists, tuples, sets, dicts, a sign before a number, and
    the names in ``_NAMES``; nesting is bounded by :data:`LITERAL_DEPTH`.
    """
    source = text.strip()
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        where = f" (line {exc.lineno}, column {exc.offset})" if exc.lineno else ""
        raise NotALiteral(f"{exc.msg}{where}") from None
    except (ValueError, MemoryError, RecursionError) as exc:  # NUL bytes, a parser stack overflow
        raise NotALiteral(str(exc) or type(exc).__name__) from None
    try:
        return _value(tree.body, 0)
    except RecursionError:
        raise NotALiteral("nested too deeply") from None


def _literal_or_not(text: str) -> Any:
    if len(text) > LITERAL_LIMIT:
        return _NOT_PARSED
    try:
        return literal(text)
    except NotALiteral:
        return _NOT_PARSED


def _kwargs(value: dict[Any, Any]) -> dict[str, Any]:
    for key in value:
        if not isinstance(key, str):
            raise BadRequest(
                f"kwargs: keys must be strings (the names of the function's arguments), "
                f"got {key!r} ({type(key).__name__})"
            )
    return value


def decode(text: str | dict[str, Any] | None, kind: int | None = None) -> dict[str, Any]:
    """The kwargs dict for text.

    kind is C's classification (``EMPTY``, ``JSON``, ``OTHER``); None means
    unknown. Raises :class:`BadRequest` for text that is not JSON and is longer
    than :data:`LITERAL_LIMIT`, for text starting with ``{`` or ``[`` that
    parses as neither JSON nor a literal, and for a dict with a key that is not
    a string.
    """
    if kind == DICT:
        return text  # type: ignore[return-value]  # C's dict
    if not text or kind == EMPTY:
        return {}
    value = _NOT_PARSED
    if kind == JSON:
        value = _json(text)
        if type(value) is dict:
            return value
    text = text.rstrip("\r\n")
    stripped = text.strip()
    if not stripped:
        return {}
    if value is _NOT_PARSED and kind is None:
        value = _json(text)
    if value is _NOT_PARSED:
        if len(text) > LITERAL_LIMIT:
            raise BadRequest(
                f"kwargs: {len(text)} characters of text that is not JSON is too long "
                f"for a Python literal (limit {LITERAL_LIMIT}); send the kwargs as JSON"
            )
        try:
            value = literal(stripped)
        except NotALiteral as exc:
            shape = _LOOKS_STRUCTURED.get(stripped[0])
            if shape is None:
                return {"__last__": text}
            raise BadRequest(
                f"kwargs: the text starts like {shape} but is neither JSON nor a Python literal: {exc}"
            ) from None
    if isinstance(value, str):
        inner = _json(value)
        if inner is _NOT_PARSED:
            inner = _literal_or_not(value)
        if inner is not _NOT_PARSED:
            value = inner
    if isinstance(value, dict):
        return _kwargs(value)
    return {"__last__": value}
