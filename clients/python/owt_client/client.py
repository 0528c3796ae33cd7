"""The HTTP side of the Python client: send one encoded call, decode its response."""

import ast
import codecs
import functools
import inspect
import json
import os
import urllib.error
import urllib.request
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Tuple, Union

from .codes import CodeMemory, is_unknown_code
from .encoding import Field, b64, encode_fields, query_from_fields, sha256_hex
from .sign import Signer
from .sse import Event, SSEParser

__all__ = ["Client", "OwtError", "RemoteFunction", "Stream", "function_source"]

USER_AGENT = "owt-client-python/0.1"
_CHUNK = 65536


class OwtError(Exception):
    """A call that did not succeed.

    status is the HTTP status (None when no response arrived at all; the stream's own
    status, usually 200, for an ``event: error`` frame); message is the server's text,
    e.g. ``Error executing code: ValueError: boom``; body holds the raw response body.
    """

    def __init__(
        self,
        status: Optional[int],
        message: str,
        body: bytes = b"",
        headers: Optional[Mapping[str, str]] = None,
    ) -> None:
        super().__init__(message if status is None else "HTTP %d: %s" % (status, message))
        self.status = status
        self.message = message
        self.body = body
        self.headers = headers or {}


def _content_type(headers: Any) -> Tuple[Optional[str], str]:
    """(media type lower-cased or None when absent, charset)."""
    raw = headers.get("Content-Type")
    if not raw:
        return None, "utf-8"
    media, _, params = raw.partition(";")
    charset = "utf-8"
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key.lower() == "charset" and value:
            charset = value.strip('"')
    try:
        codecs.lookup(charset)
    except LookupError:
        charset = "utf-8"
    return media.strip().lower(), charset


def _is_json(media: Optional[str]) -> bool:
    return media is not None and (media == "application/json" or media.endswith("+json"))


def decode_body(headers: Any, body: bytes) -> Any:
    """A response body as a value: str for text/*, parsed JSON for JSON, else bytes.

    An empty body without a Content-Type is None.
    """
    media, charset = _content_type(headers)
    if media is None:
        return None if not body else body
    if media.startswith("text/"):
        return body.decode(charset, "replace")
    if _is_json(media):
        return json.loads(body.decode(charset)) if body else None
    return body


def _error_message(status: int, reason: str, headers: Any, body: bytes) -> str:
    _, charset = _content_type(headers)
    text = body.decode(charset, "replace").strip()
    return text or reason or "HTTP %d" % status


class Stream:
    """An open streamed response. Iterate it for the data of each event (for
    text/event-stream) or for raw byte chunks (anything else), as they arrive.

    An ``event: error`` frame raises OwtError. Use it as a context manager, or call
    close(), to drop the connection early.
    """

    def __init__(self, response: Any) -> None:
        self._response = response
        self.status: int = response.status
        self.headers = response.headers
        media, self._charset = _content_type(response.headers)
        self.content_type = media
        self.is_event_stream = media == "text/event-stream"

    def __enter__(self) -> "Stream":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self._response.close()

    def __iter__(self) -> Iterator[Union[str, bytes]]:
        if self.is_event_stream:
            return (event.data for event in self.events())
        return self.chunks()

    def chunks(self) -> Iterator[bytes]:
        """Raw body chunks, each yielded as soon as it was read."""
        try:
            while True:
                chunk = self._response.read1(_CHUNK)
                if not chunk:
                    return
                yield chunk
        finally:
            self.close()

    def events(self) -> Iterator[Event]:
        """Parsed events (type, data, id); an ``error`` event raises OwtError."""
        decoder = codecs.getincrementaldecoder(self._charset)("replace")
        parser = SSEParser()
        for chunk in self.chunks():
            for event in parser.feed(decoder.decode(chunk)):
                yield self._check(event)
        for event in parser.feed(decoder.decode(b"", final=True)) + parser.finish():
            yield self._check(event)

    def _check(self, event: Event) -> Event:
        if event.event == "error":
            self.close()
            raise OwtError(self.status, event.data, event.data.encode("utf-8"), self.headers)
        return event


class Client:
    """A client for one owt endpoint URL (its path is the adaptor's request.path).

    auth is (user, password) for Basic auth; method is the default for every call,
    "POST" (JSON body) or "GET" (query string); timeout is in seconds per socket
    operation (None: wait for as long as it takes).

    by_digest: the first call of a code sends it in full, later calls only its SHA-256
    (code_sha256); when the server answers that it does not have the code (404
    "unknown code_sha256"), the call is sent again in full, once. codes is what this
    client knows the server has; pass one CodeMemory to several clients of one server
    to share it. signing_key (a PEM Ed25519 private key file, its bytes, or a Signer)
    signs every code sent (code_sig), for servers run with --require-signed.
    """

    def __init__(
        self,
        url: str,
        auth: Optional[Tuple[str, str]] = None,
        *,
        method: str = "POST",
        timeout: Optional[float] = None,
        headers: Optional[Mapping[str, str]] = None,
        by_digest: bool = True,
        signing_key: Union[None, str, bytes, "os.PathLike[str]", Signer] = None,
        codes: Optional[CodeMemory] = None,
    ) -> None:
        self.url = url
        self.auth = auth
        self.method = method.upper()
        self.timeout = timeout
        self.headers = dict(headers or {})
        self.by_digest = by_digest
        self.codes = codes if codes is not None else CodeMemory()
        self.signer = (signing_key if isinstance(signing_key, Signer) or signing_key is None
                       else Signer(signing_key))
        self._opener = urllib.request.build_opener()

    def __repr__(self) -> str:
        return "Client(%r, method=%r)" % (self.url, self.method)

    # -- the sugar -----------------------------------------------------------------

    def run(self, code: str, /, **kwargs: Any) -> Any:
        """Run code with kwargs; return str, parsed JSON or bytes by content type."""
        return self.call(code, kwargs)

    def stream(self, code: str, /, **kwargs: Any) -> Stream:
        """Run code with kwargs; iterate the result's events' data or byte chunks."""
        return self.call_stream(code, kwargs)

    def adaptor(self, name: str, /, **kwargs: Any) -> Any:
        """Call a named adaptor installed on the server (``module`` or ``module.function``)."""
        return self.call(adaptor=name, kwargs=kwargs)

    def function(self, fn: Optional[Callable[..., Any]] = None, /, **options: Any) -> Any:
        """Decorator: calling the function runs its source on the server.

        ``@client.function`` or ``@client.function(stream=True, method="GET",
        use_cache=True, ...)``. The function must be self-contained: its imports inside
        its body, no closures over local variables.
        """
        if fn is None:
            return lambda f: RemoteFunction(self, f, **options)
        return RemoteFunction(self, fn, **options)

    # -- the calls -----------------------------------------------------------------

    def call(
        self,
        code: Union[str, bytes, None] = None,
        kwargs: Any = None,
        *,
        fn_name: Optional[str] = None,
        adaptor: Optional[str] = None,
        use_cache: bool = False,
        cache_kwargs: bool = False,
        method: Optional[str] = None,
        path: Optional[str] = None,
    ) -> Any:
        """One call with every option; kwargs may be any JSON value. Returns as run()."""
        options = dict(fn_name=fn_name, adaptor=adaptor, use_cache=use_cache, cache_kwargs=cache_kwargs)
        with self._send(code, kwargs, options, method, path) as response:
            body = response.read()
            return decode_body(response.headers, body)

    def call_stream(
        self,
        code: Union[str, bytes, None] = None,
        kwargs: Any = None,
        *,
        fn_name: Optional[str] = None,
        adaptor: Optional[str] = None,
        use_cache: bool = False,
        cache_kwargs: bool = False,
        method: Optional[str] = None,
        path: Optional[str] = None,
    ) -> Stream:
        """As call(), but returns the open response as a Stream."""
        options = dict(fn_name=fn_name, adaptor=adaptor, use_cache=use_cache, cache_kwargs=cache_kwargs)
        return Stream(self._send(code, kwargs, options, method, path))

    def get_url(
        self,
        code: Union[str, bytes, None] = None,
        kwargs: Any = None,
        *,
        path: Optional[str] = None,
        **options: Any,
    ) -> str:
        """The GET URL of a call (for a browser, an EventSource, curl). The code goes in
        full unless by_digest=True is passed (a digest URL stops working once the server
        evicts the code), signed when the client has a key."""
        if code and self.signer is not None and "code_sig" not in options:
            options["code_sig"] = self.signer.sign(code if isinstance(code, bytes) else code.encode("utf-8"))
        fields = encode_fields(code, kwargs, **options)
        return self._with_query(self._url(path), query_from_fields(fields))

    # -- plumbing ------------------------------------------------------------------

    def _send(self, code: Union[str, bytes, None], kwargs: Any, options: Dict[str, Any],
              method: Optional[str], path: Optional[str]) -> Any:
        """Open the call: by digest when the server has the code, else (or when it turns
        out not to) in full. Returns the open 2xx response."""
        if not code:
            return self._open(encode_fields(None, kwargs, **options), method, path)
        raw = code if isinstance(code, bytes) else code.encode("utf-8")
        sig = self.signer.sign(raw) if self.signer is not None else None
        digest = sha256_hex(raw) if self.by_digest else None
        if digest is not None and self.codes.has(digest):
            fields = encode_fields(raw, kwargs, by_digest=True, code_sig=sig, **options)
            try:
                response = self._open(fields, method, path)
            except OwtError as err:
                if not is_unknown_code(err.status, err.body):
                    raise
                self.codes.unknown(digest)
            else:
                self.codes.worked(digest)
                return response
        response = self._open(encode_fields(raw, kwargs, code_sig=sig, **options), method, path)
        if digest is not None:
            self.codes.sent(digest)
        return response

    def _url(self, path: Optional[str]) -> str:
        if not path:
            return self.url
        base, sep, query = self.url.partition("?")
        joined = base.rstrip("/") + "/" + path.lstrip("/")
        return joined + sep + query

    @staticmethod
    def _with_query(url: str, query: str) -> str:
        if not query:
            return url
        return url + ("&" if "?" in url else "?") + query

    def _request(self, fields: List[Field], method: Optional[str], path: Optional[str]) -> urllib.request.Request:
        method = (method or self.method).upper()
        headers: Dict[str, str] = {"User-Agent": USER_AGENT, "Accept": "*/*"}
        headers.update(self.headers)
        if self.auth is not None:
            user, password = self.auth
            token = b64(("%s:%s" % (user, password)).encode("utf-8"))
            headers["Authorization"] = "Basic " + token
        url = self._url(path)
        data = None
        if method == "GET":
            url = self._with_query(url, query_from_fields(fields))
        else:
            data = json.dumps(dict(fields), ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json"
        return urllib.request.Request(url, data=data, headers=headers, method=method)

    def _open(self, fields: List[Field], method: Optional[str], path: Optional[str]) -> Any:
        request = self._request(fields, method, path)
        try:
            return self._opener.open(request, timeout=self.timeout)
        except urllib.error.HTTPError as err:
            with err:
                body = err.read()
            raise OwtError(
                err.code, _error_message(err.code, err.reason, err.headers, body), body, err.headers
            ) from None
        except urllib.error.URLError as err:
            raise OwtError(None, "cannot reach %s: %s" % (request.full_url, err.reason)) from err


def function_source(fn: Callable[..., Any]) -> Tuple[str, str]:
    """(source, name) of a function defined with def: its own text, dedented, decorators
    removed. Raises TypeError when there is no def to ship (lambdas, builtins)."""
    fn = inspect.unwrap(fn)
    try:
        lines = inspect.getsource(fn).splitlines(keepends=True)
    except (OSError, TypeError) as err:
        raise TypeError("cannot ship %r: its source is not available (%s)" % (fn, err)) from None
    first = lines[0]
    indent = first[: len(first) - len(first.lstrip())]
    lines = [line[len(indent):] if line.startswith(indent) else line for line in lines]
    source = "".join(lines)
    try:
        tree = ast.parse(source)
    except SyntaxError as err:
        raise TypeError("cannot ship %r: its source does not parse alone (%s)" % (fn, err)) from None
    node = tree.body[0] if tree.body else None
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        raise TypeError("cannot ship %r: only functions written with def can be shipped" % (fn,))
    return "".join(lines[node.lineno - 1:]), node.name


class RemoteFunction:
    """A local function whose calls run its source on the server (Client.function)."""

    def __init__(
        self,
        client: Client,
        fn: Callable[..., Any],
        *,
        stream: bool = False,
        method: Optional[str] = None,
        path: Optional[str] = None,
        use_cache: bool = False,
        cache_kwargs: bool = False,
    ) -> None:
        self.client = client
        self.local = fn
        self.source, self.fn_name = function_source(fn)
        self.signature = inspect.signature(fn)
        for param in self.signature.parameters.values():
            if param.kind is inspect.Parameter.POSITIONAL_ONLY:
                raise TypeError(
                    "cannot ship %s: the server calls it with keywords only, so parameter "
                    "%r must not be positional-only" % (self.fn_name, param.name)
                )
        self._stream = stream
        self._options: Dict[str, Any] = dict(
            method=method, path=path, use_cache=use_cache, cache_kwargs=cache_kwargs
        )
        functools.update_wrapper(self, fn)

    def kwargs_for(self, *args: Any, **kwargs: Any) -> Dict[str, Any]:
        """The keyword arguments the server will call the function with."""
        bound = self.signature.bind(*args, **kwargs)
        out: Dict[str, Any] = {}
        for name, value in bound.arguments.items():
            kind = self.signature.parameters[name].kind
            if kind is inspect.Parameter.VAR_POSITIONAL:
                if value:
                    raise TypeError(
                        "%s(): *%s cannot be sent, the server passes keywords only"
                        % (self.fn_name, name)
                    )
            elif kind is inspect.Parameter.VAR_KEYWORD:
                out.update(value)
            else:
                out[name] = value
        return out

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        call = self.client.call_stream if self._stream else self.client.call
        return call(self.source, self.kwargs_for(*args, **kwargs), fn_name=self.fn_name, **self._options)

    def __repr__(self) -> str:
        return "<remote function %s via %r>" % (self.fn_name, self.client)
