"""An adaptor's result → (status, headers, body, chunks) for C (PROTOCOL §6).

Exactly one of body and chunks is not None. chunks is a :class:`Chunks`:
an iterator of bytes that runs the adaptor's generator inside the request
context, one item per ``next``, and that C closes when the client goes away.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator, Mapping
from typing import Any

from owt import _aio, _alarm, _jsonify, _log
from owt._alarm import Timeout
from owt._errors import OwtError, adaptor_error, describe, log_error, timeout_error
from owt.request import Request, bind, unbind
from owt.response import Response
from owt.stream import EVENT_STREAM
from owt.stream import error as _error_frame

__all__ = ["coerce", "Chunks", "Result"]

TEXT = "text/plain; charset=utf-8"
HTML = "text/html; charset=utf-8"
JSON = "application/json"
OCTET = "application/octet-stream"

Header = tuple[str, str]
Result = tuple[int, list[Header], "bytes | None", "Chunks | None"]

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_BAD_VALUE = re.compile(r"[\r\n\x00]")
_MAX_NESTING = 8

_RUNNING = "running"
_PENDING = "pending"
_FINISHED = "finished"


def _text_type(text: str) -> str:
    return HTML if text.lstrip().startswith("<") else TEXT


def _status(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"status must be an int, not {value!r}")
    if isinstance(value, str):
        head = value.strip().split(" ", 1)[0]
        if not head.isdigit():
            raise ValueError(f"status {value!r} is not a number")
        value = int(head)
    if not isinstance(value, int) or not 100 <= value <= 599:
        raise ValueError(f"status must be an int from 100 to 599, not {value!r}")
    return int(value)


def _header_pairs(headers: Any) -> list[Header]:
    if headers is None:
        return []
    items = headers.items() if isinstance(headers, Mapping) else headers
    out: list[Header] = []
    for pair in items:
        try:
            name, value = pair
        except (TypeError, ValueError):
            raise ValueError(f"headers must be a dict or (name, value) pairs, not {pair!r}") from None
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            raise ValueError(f"header name {name!r} is not a valid HTTP header name")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise ValueError(f"header {name!r}: value must be a str, not {type(value).__name__}")
        if _BAD_VALUE.search(value):
            raise ValueError(f"header {name!r}: value contains CR, LF or NUL")
        out.append((name, value))
    return out


def _is_headers(value: Any) -> bool:
    if isinstance(value, Mapping):
        return True
    if isinstance(value, list):
        return all(isinstance(p, (tuple, list)) and len(p) == 2 for p in value)
    return False


def _is_status(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _flask_tuple(value: tuple[Any, ...]) -> tuple[Any, Any, Any] | None:
    """(body, status, headers) for a Flask-shaped tuple, None for any other tuple."""
    if len(value) == 3 and (_is_status(value[1]) or isinstance(value[1], str)) and _is_headers(value[2]):
        return value[0], value[1], value[2]
    if len(value) == 2:
        if _is_status(value[1]):
            return value[0], value[1], None
        if _is_headers(value[1]):
            return value[0], 200, value[1]
    return None


def _encode_item(item: Any, sse: bool) -> bytes:
    if isinstance(item, str):
        return item.encode("utf-8", "replace")
    if isinstance(item, (bytes, bytearray)):
        return bytes(item)
    if isinstance(item, memoryview):
        return item.tobytes()
    data = _jsonify.item(item)
    if data is None:
        data = str(item).encode("utf-8", "replace")
    return b"data: " + data + b"\n\n" if sse else data


class Chunks(Iterator[bytes]):
    """The streamed body: bytes, one item of the adaptor's iterable per ``next``.

    Each step runs with the adaptor's request bound (``request`` works inside
    generators). An exception inside the adaptor's iterable ends the stream
    with an OwtError; for ``text/event-stream`` a final ``event: error`` frame
    is yielded first and the error is raised on the following ``next``.
    ``.error`` records it either way. ``close()`` closes the adaptor's
    generator (its ``finally`` runs).
    """

    __slots__ = ("_source", "_req", "event_stream", "error", "_state", "on_done")

    def __init__(self, source: Any, req: Request | None) -> None:
        self._source = source
        self._req = req
        self.event_stream = False
        self.error: OwtError | None = None
        self._state = _RUNNING
        self.on_done: Any = None  # called once when the stream ends or is closed

    def _done(self) -> None:
        on_done, self.on_done = self.on_done, None
        if on_done is not None:
            on_done()

    def __iter__(self) -> "Chunks":
        return self

    def __next__(self) -> bytes:
        if self._state is not _RUNNING:
            if self._state is _PENDING and self.error is not None:
                self._state = _FINISHED
                raise self.error
            raise StopIteration
        token = bind(self._req)
        _alarm.enter()
        try:
            return _encode_item(next(self._source), self.event_stream)
        except StopIteration:
            self._state = _FINISHED
            self._done()
            raise
        except Timeout as exc:
            return self._fail(timeout_error(exc), f"Timeout: {_alarm.describe()}")
        except OwtError as err:  # the server stopped it (its client left)
            return self._fail(err, err.message)
        except Exception as exc:  # noqa: BLE001 - the adaptor's generator raised
            return self._fail(adaptor_error(exc), describe(exc))
        finally:
            _alarm.leave()
            unbind(token)

    def _fail(self, err: OwtError, text: str) -> bytes:
        self.error = err
        if self.event_stream:
            self._state = _PENDING
            return _error_frame(text).encode("utf-8", "replace")
        self._state = _FINISHED
        raise err

    def close(self) -> None:
        """Close the adaptor's generator (idempotent; never raises an adaptor error)."""
        if self._state is _PENDING and self.error is not None:
            log_error(self.error)
        self._state = _FINISHED
        source, self._source = self._source, iter(())
        close = getattr(source, "close", None)
        if close is None:
            self._done()
            return
        token = bind(self._req)
        _alarm.enter()
        try:
            close()
        except Timeout:
            _log.log(_log.WARNING, "timeout while closing the adaptor's generator")
        except Exception as exc:  # noqa: BLE001 - a failing finally must not break the worker
            adaptor_error(exc, log=True)
        finally:
            _alarm.leave()
            unbind(token)
            self._done()


def _is_streamable(value: Any) -> bool:
    return hasattr(value, "__iter__") or hasattr(value, "__next__")


def _plain(value: Any, req: Request | None) -> tuple[str, bytes | None, Chunks | None]:
    """(content type, body, chunks) for a result that is not a Response or a tuple."""
    cls = type(value)
    if cls is dict or cls is list:
        return _container(value, req)
    if isinstance(value, str):
        return _text_type(value), value.encode("utf-8", "replace"), None
    if isinstance(value, bytes):
        return OCTET, value, None
    if isinstance(value, bytearray):
        return OCTET, bytes(value), None
    if isinstance(value, memoryview):
        return OCTET, value.tobytes(), None
    if value is None:
        return TEXT, b"", None
    if isinstance(value, (bool, int, float)):
        return TEXT, str(value).encode("ascii"), None
    if isinstance(value, (dict, list, tuple)):
        return _container(value, req)
    converted = _jsonify.native(value)  # numpy, torch, dataclasses, other tolist()s
    if converted is not _jsonify.NOT_NATIVE and type(converted) is not cls:
        return _plain(converted, req)
    if hasattr(value, "__aiter__"):
        return TEXT, None, Chunks(_aio.AsyncSource(value), req)
    if _is_streamable(value):
        try:
            source = iter(value)
        except TypeError:
            source = None
        if source is not None:
            return TEXT, None, Chunks(source, req)
    data = _jsonify.body(value)
    if data is not None:
        return JSON, data, None
    return TEXT, str(value).encode("utf-8", "replace"), None


def _container(value: Any, req: Request | None) -> tuple[str, bytes | None, Chunks | None]:
    """A dict, list or tuple: Flask's jsonify bytes; else a dict's str(), a sequence streamed."""
    data = _jsonify.body(value)
    if data is not None:
        return JSON, data, None
    if isinstance(value, dict):
        return TEXT, str(value).encode("utf-8", "replace"), None
    return TEXT, None, Chunks(iter(value), req)


def coerce(result: Any, req: Request | None = None, _depth: int = 0) -> Result:
    """(status, headers, body, chunks) for an adaptor's result.

    Raises ValueError for a malformed status or header (the runtime reports
    it as an adaptor error); runs a coroutine to completion first.
    """
    if _depth > _MAX_NESTING:
        raise ValueError("the result nests Responses, tuples or coroutines too deeply")
    if type(result) is str:
        return 200, [("Content-Type", _text_type(result))], result.encode("utf-8", "replace"), None
    if inspect.iscoroutine(result):
        # Its tasks run on the worker's loop thread: they see the request through
        # the context they are started from.
        token = bind(req) if req is not None else None
        try:
            value = _aio.run(result)
        finally:
            if token is not None:
                unbind(token)
        return coerce(value, req, _depth + 1)
    content_type: str | None = None
    if isinstance(result, Response):
        body, status, headers, content_type = result.body, result.status, result.headers, result.content_type
    elif type(result) is tuple and (parts := _flask_tuple(result)) is not None:
        body, status, headers = parts
    else:
        ctype, data, chunks = _plain(result, req)
        return 200, [("Content-Type", ctype)], data, chunks
    status = _status(status)
    pairs = _header_pairs(headers)
    if content_type is not None:
        pairs.append(("Content-Type", _header_pairs([("Content-Type", content_type)])[0][1]))
    _, inner_headers, data, chunks = coerce(body, req, _depth + 1)
    out: dict[str, Header] = {}
    merged: list[Header] = []
    for name, value in inner_headers + pairs:
        if name.lower() == "content-type":
            out["content-type"] = (name, value)
        else:
            merged.append((name, value))
    ctype = out.get("content-type")
    if ctype is not None:
        merged.insert(0, ("Content-Type", ctype[1]))
        if chunks is not None and ctype[1].split(";", 1)[0].strip().lower() == EVENT_STREAM:
            chunks.event_stream = True
    return status, merged, data, chunks
