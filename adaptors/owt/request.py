"""The request an adaptor is answering, with Flask-like names.

This module is also the ``request`` adaptors use: reading an attribute it
does not define (``request.path``, ``request.args``, ...) reads it from the
current request, which the runtime binds around every call and around every
step of a streamed response. So ``from owt import request``,
``from owt.request import request`` and ``import owt.request`` all give the
same object. A :class:`Request` parses nothing until a field is read.
"""

from __future__ import annotations

import contextvars as _contextvars
import json as _json
import sys as _sys
import threading as _threading
from collections.abc import Mapping as _Mapping
from functools import cached_property as _cached_property
from typing import Any as _Any
from urllib.parse import parse_qsl as _parse_qsl
from urllib.parse import quote as _quote

from owt import _multipart
from owt._multidict import Headers as _Headers
from owt._multidict import MultiDict as _MultiDict

__all__ = ["Request", "RequestUnavailable", "request", "current", "current_or_none", "bind", "unbind"]

_FORM_TYPE = "application/x-www-form-urlencoded"
_MULTIPART_TYPE = "multipart/form-data"
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


class Request:
    """One HTTP request, built from the CGI/FastCGI params, the raw body and the path."""

    def __init__(
        self, environ: _Mapping[str, str], body: bytes = b"", path: str | None = None
    ) -> None:
        self.environ = environ
        self.data = body
        self._path = path

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.path!r}>"

    @_cached_property
    def method(self) -> str:
        """The HTTP method, upper case (``GET`` when not given)."""
        return (self.environ.get("REQUEST_METHOD") or "GET").upper()

    @_cached_property
    def path(self) -> str:
        """The request path, percent-decoded, without the query (``/hello``)."""
        path = self._path
        if path is None:
            path = self.environ.get("PATH_INFO") or "/"
        if not path.startswith("/"):
            path = "/" + path
        return path

    @_cached_property
    def query_string(self) -> bytes:
        """The raw query string, as bytes (Flask's type)."""
        return self.environ.get("QUERY_STRING", "").encode("utf-8", "surrogateescape")

    @_cached_property
    def full_path(self) -> str:
        """Path and query, always with the ``?`` (as Flask gives it)."""
        return f"{self.path}?{self.environ.get('QUERY_STRING', '')}"

    @_cached_property
    def scheme(self) -> str:
        """``https`` when the web server says so, else ``http``."""
        env = self.environ
        if env.get("HTTPS", "").lower() in ("on", "1", "true"):
            return "https"
        return (env.get("REQUEST_SCHEME") or "http").lower()

    @_cached_property
    def host(self) -> str:
        """The Host header, or the server name and non-default port."""
        env = self.environ
        host = env.get("HTTP_HOST")
        if host:
            return host
        name = env.get("SERVER_NAME") or env.get("SERVER_ADDR") or "localhost"
        port = env.get("SERVER_PORT", "")
        default = "443" if self.scheme == "https" else "80"
        return f"{name}:{port}" if port and port != default else name

    @_cached_property
    def host_url(self) -> str:
        """``scheme://host/``."""
        return f"{self.scheme}://{self.host}/"

    @_cached_property
    def base_url(self) -> str:
        """The URL without the query string."""
        return f"{self.scheme}://{self.host}{_quote(self.path, safe=_PATH_SAFE)}"

    @_cached_property
    def url(self) -> str:
        """The full URL, with the query string when there is one."""
        qs = self.environ.get("QUERY_STRING", "")
        return f"{self.base_url}?{qs}" if qs else self.base_url

    @_cached_property
    def args(self) -> _MultiDict:
        """The query fields: ``args["k"]`` / ``args.get("k")`` first value, ``args.getlist("k")``."""
        return _MultiDict(_parse_qsl(self.environ.get("QUERY_STRING", ""), keep_blank_values=True))

    @_cached_property
    def content_type(self) -> str:
        """The Content-Type header ('' when absent)."""
        return self.environ.get("CONTENT_TYPE") or self.environ.get("HTTP_CONTENT_TYPE") or ""

    @_cached_property
    def mimetype(self) -> str:
        """The content type without parameters, lower case (``application/json``)."""
        return self.content_type.split(";", 1)[0].strip().lower()

    @_cached_property
    def content_length(self) -> int | None:
        """The Content-Length header as an int (None when absent or invalid)."""
        try:
            value = int(self.environ.get("CONTENT_LENGTH") or "")
        except ValueError:
            return None
        return value if value >= 0 else None

    @_cached_property
    def _form_and_files(self) -> tuple[_MultiDict, _MultiDict]:
        mimetype = self.mimetype
        if not self.data:
            return _MultiDict(), _MultiDict()
        if mimetype == _FORM_TYPE:
            text = self.data.decode("utf-8", "replace")
            return _MultiDict(_parse_qsl(text, keep_blank_values=True)), _MultiDict()
        if mimetype == _MULTIPART_TYPE:
            return _multipart.parse(self.data, self.content_type)
        return _MultiDict(), _MultiDict()

    @property
    def form(self) -> _MultiDict:
        """Fields of an urlencoded or ``multipart/form-data`` body (empty otherwise)."""
        return self._form_and_files[0]

    @property
    def files(self) -> _MultiDict:
        """Uploaded files of a ``multipart/form-data`` body: ``files["f"].read()``, ``.filename``."""
        return self._form_and_files[1]

    @_cached_property
    def values(self) -> _MultiDict:
        """Query and form fields together (query values first)."""
        return _MultiDict(self.args.items(multi=True) + self.form.items(multi=True))

    @_cached_property
    def headers(self) -> _Headers:
        """Request headers, case-insensitive (``headers["user-agent"]``)."""
        return _Headers(self.environ)

    @_cached_property
    def cookies(self) -> dict[str, str]:
        """Cookies sent with the request, name → value."""
        raw = self.environ.get("HTTP_COOKIE")
        if not raw:
            return {}
        from http.cookies import CookieError as _CookieError  # on first use of .cookies
        from http.cookies import SimpleCookie as _SimpleCookie

        jar = _SimpleCookie()
        try:
            jar.load(raw)
        except _CookieError:
            return {}
        return {name: morsel.value for name, morsel in jar.items()}

    @_cached_property
    def is_json(self) -> bool:
        """Whether the body says it is JSON (``application/json`` or ``*/*+json``)."""
        mt = self.mimetype
        return mt == "application/json" or (mt.startswith("application/") and mt.endswith("+json"))

    @_cached_property
    def json(self) -> _Any:
        """The parsed JSON body; None when the body is not JSON or does not parse."""
        return self.get_json()

    def get_json(self, force: bool = False, silent: bool = True) -> _Any:
        """Parse the body as JSON (``force`` ignores the content type); None on
        failure unless ``silent=False``, which raises ValueError."""
        if not (force or self.is_json) or not self.data:
            return None
        try:
            return _json.loads(self.data)
        except (ValueError, RecursionError):
            if silent:
                return None
            raise

    def get_data(self, as_text: bool = False) -> bytes | str:
        """The raw body; decoded as UTF-8 with ``as_text=True``."""
        return self.data.decode("utf-8", "replace") if as_text else self.data

    @_cached_property
    def remote_addr(self) -> str | None:
        """The client's address as the web server saw it."""
        return self.environ.get("REMOTE_ADDR")


_current: _contextvars.ContextVar[Request | None] = _contextvars.ContextVar(
    "owt_request", default=None
)
"""The request bound by :func:`bind`: around each step of a streamed response, and for
the tasks of an ``async def`` adaptor on the worker's event loop."""


class _Here(_threading.local):
    raw: _Any = None
    """The request this thread is answering now: (environ, body, path) until it is first
    read, then the :class:`Request` built from it; None between requests."""


_here = _Here()
"""Set by the runtime around the adaptor's call (``owt._runtime.handle``): a thread
attribute costs less than a context variable's set and reset, and the Request is built
only for adaptors that read it. It wins over ``_current`` while it is set."""


def _this_thread() -> Request | None:
    raw = _here.raw
    if raw is None or type(raw) is Request:
        return raw
    req = _here.raw = Request(*raw)
    return req


class RequestUnavailable(RuntimeError, AttributeError):
    """``request`` was read outside a request (an AttributeError too, so
    ``hasattr``/``getattr(..., default)`` treat it as missing)."""


_OUTSIDE = (
    "owt.request is only available while an adaptor is answering a request "
    "(inside the called function or the generator it returns), not at import "
    "time or in another thread; pass request._get_current_object() along instead"
)


def current() -> Request:
    """The request being answered; :class:`RequestUnavailable` outside a request."""
    req = _this_thread() or _current.get()
    if req is None:
        raise RequestUnavailable(_OUTSIDE)
    return req


def current_or_none() -> Request | None:
    """The request being answered, or None."""
    return _this_thread() or _current.get()


def bind(req: Request | None) -> _contextvars.Token[Request | None]:
    """Make req the current request; returns the token for :func:`unbind`."""
    return _current.set(req)


def unbind(token: _contextvars.Token[Request | None]) -> None:
    """Restore the request that was current before :func:`bind`."""
    _current.reset(token)


def _get_current_object() -> Request:
    """The real :class:`Request` behind ``request`` (safe to keep or hand to a thread)."""
    return current()


def __getattr__(name: str) -> _Any:
    if name.startswith("__") and name.endswith("__"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(current(), name)


request: _Any = _sys.modules[__name__]
