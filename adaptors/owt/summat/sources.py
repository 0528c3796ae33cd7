"""Steps whose value comes from the HTTP request: path, query, json."""

from __future__ import annotations

import json as _json
from typing import Any

from . import _request
from ._state import State
from ._step import Step
from .errors import PipeError


def path() -> Step:
    """The request path's segments, e.g. ``/one/two/`` -> ``["one", "two"]`` (``/`` -> ``[]``)."""

    def apply(state: State) -> State:
        raw = _request.current_request().path or ""
        return state.with_last([seg for seg in raw.split("/") if seg])

    return Step("path()", apply)


def query() -> Step:
    """The query string as a dict, first value of each name."""

    def apply(state: State) -> State:
        args = _request.current_request().args
        if args is None:
            return state.with_last({})
        return state.with_last({name: args[name] for name in args})

    return Step("query()", apply)


def json() -> Step:
    """The request body parsed as JSON (``None`` when there is no body)."""

    def apply(state: State) -> State:
        req = _request.current_request()
        parsed = req.json
        if parsed is not None:
            return state.with_last(parsed)
        return state.with_last(_parse_body(req.data))

    return Step("json()", apply)


def _parse_body(data: Any) -> Any:
    if not data:
        return None
    try:
        return _json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PipeError(
            f"json(): the request body is not JSON ({exc}); "
            "POST a JSON object with Content-Type: application/json"
        ) from None


__all__ = ["path", "query", "json"]
