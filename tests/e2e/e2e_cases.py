"""PROTOCOL §1–§7 as data: one :class:`Case` per request, run over both transports.

A case is a request (:class:`owt_e2e.Req`), the owt-fcgi options of the server that
answers it, and what the response must be (:class:`Expect`). ``test_protocol.py``
sends every case through lighttpd and in CGI mode.

Expected values that depend on where the server runs (its address and port) are
callables of a context dict with ``address``, ``port`` and ``host`` (``address:port``).
"""

from __future__ import annotations

import hashlib
import json
import re
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from owt_e2e import (
    Req,
    Resp,
    b64,
    b64_unpadded,
    b64_urlsafe,
    b64_wrapped,
    get,
    post_form,
    post_json,
    post_raw,
)

NOTHING: Any = object()

TEXT = "text/plain; charset=utf-8"
HTML = "text/html; charset=utf-8"
JSON = "application/json"
OCTET = "application/octet-stream"
EVENT_STREAM = "text/event-stream"

Ctx = Mapping[str, Any]


@dataclass(frozen=True)
class Expect:
    status: int = 200
    content_type: str | None = None
    """Exact Content-Type (None: not checked)."""
    body: bytes | str | Callable[[Ctx], str | bytes] | None = None
    """Exact body (None: not checked)."""
    json: Any = NOTHING
    """The body parsed as JSON (NOTHING: not checked); a callable of the context is called first."""
    contains: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    """Headers that must have exactly these values."""
    log_contains: tuple[str, ...] = ()
    """Text the server's error log must show for this request."""
    check: Callable[[Resp, Ctx], None] | None = None


@dataclass(frozen=True)
class Case:
    id: str
    req: Req
    expect: Expect
    options: tuple[str, ...] = ()
    transports: tuple[str, ...] = ("http", "cgi")
    xfail: Mapping[str, str] = field(default_factory=dict)
    """transport name (or ``*``) → the reason the case is expected to fail there."""


def code(source: str) -> str:
    return textwrap.dedent(source).strip("\n") + "\n"


def call(path: str = "/", source: str = "", kwargs: str | None = None, via: str = "get",
         extra: Mapping[str, Any] | None = None, query: Mapping[str, Any] | None = None) -> Req:
    """A request carrying source as ``code_b64`` (and kwargs as ``kwargs_b64``)."""
    fields: dict[str, Any] = {"code_b64": b64(code(source))}
    if kwargs is not None:
        fields["kwargs_b64"] = b64(kwargs)
    fields.update(extra or {})
    if via == "get":
        return get(path, {**(query or {}), **fields})
    if via == "json":
        return post_json(path, fields, query=query or {})
    if via == "form":
        return post_form(path, fields, query=query or {})
    raise ValueError(via)


def result(id: str, source: str, expect: Expect, **kw: Any) -> Case:
    return Case(id, call("/result", source), expect, **kw)


HELLO = code("""
    def run(name='nobody'):
        return f'Hello, {name}!'
""")

# Source whose base64 has '+', '/', padding and more than one 76-column line.
B64_SAMPLE = HELLO + "# ~~~>>>???~~~>>>??? the comment makes the base64 interesting\n"
_std = b64(B64_SAMPLE)
assert "+" in _std and "/" in _std and _std.endswith("=") and len(_std) > 2 * 76, _std

KW_NAME = "{'name': 'owt'}\n"
KW_REPR = code("""
    def run(**kwargs):
        return repr(kwargs)
""")

PASSWORD = "s3cret pass"
AUTH = ("--auth", "owt:" + hashlib.sha256(PASSWORD.encode()).hexdigest())
NO_CODE = ("--no-code",)
LIMITS = ("--max-body", "1K", "--max-code", "1K")
DEBUG = ("--debug",)
TIMEOUT = ("--timeout", "2")


def basic(user: str, password: str) -> str:
    return "Basic " + b64(f"{user}:{password}")


def _status_json(resp: Resp, ctx: Ctx) -> None:
    doc = resp.json()
    assert isinstance(doc, dict), doc
    workers = doc["workers"]
    assert isinstance(workers, list) and workers, doc
    assert isinstance(workers[0]["pid"], int) and workers[0]["pid"] > 0, doc


def _is_object(doc: Any) -> None:
    assert isinstance(doc, dict) and "workers" in doc, doc


def _is_text(content_type: str | None) -> None:
    assert content_type is not None and content_type.startswith("text/plain"), content_type


def _no_traceback_in_body(resp: Resp, ctx: Ctx) -> None:
    assert "Traceback" not in resp.text
    assert "File \"" not in resp.text


def _no_event_stream_headers(resp: Resp, ctx: Ctx) -> None:
    assert "X-Accel-Buffering" not in resp.headers, resp.headers


def _cut_over_fastcgi(resp: Resp, ctx: Ctx) -> None:
    """A stream that failed after its head: through a web server the body ends short (the
    client can tell); a CGI process cannot signal that and just ends."""
    assert resp.complete == (ctx.get("transport") == "cgi"), (ctx.get("transport"), resp.complete)


def _starts_with_error_line(resp: Resp, ctx: Ctx) -> None:
    assert resp.text.startswith("Error executing code: ValueError: boom\n"), resp.text


def _metrics_samples(resp: Resp, ctx: Ctx) -> None:
    assert resp.content_type is not None and resp.content_type.startswith("text/plain"), resp.content_type
    samples = re.findall(r"^owt_requests_total(?:\{[^}]*\})? (\d+)$", resp.text, re.M)
    assert samples, f"no owt_requests_total sample:\n{resp.text}"


CASES: list[Case] = []
add = CASES.append

# ---- §1 routing ---------------------------------------------------------------------
add(Case("s1_health", get("/_owt/health"), Expect(200, TEXT, "ok")))
add(Case("s1_status_is_json", get("/_owt/status"),
         Expect(200, JSON, check=lambda r, c: _is_object(r.json()))))
add(Case("s1_status_lists_the_worker", get("/_owt/status"), Expect(200, check=_status_json)))
add(Case("s1_metrics_text", get("/_owt/metrics"),
         Expect(200, contains=("# TYPE owt_requests_total counter",),
                check=lambda r, c: _is_text(r.content_type))))
add(Case("s1_metrics_samples", get("/_owt/metrics"), Expect(200, check=_metrics_samples)))
add(Case("s1_owt_prefix_reserved", get("/_owt/nothing-here", code="lambda: 'ran'"),
         Expect(404, absent=("ran",))))
add(Case("s1_root_path", get("/", code="lambda: request.path"), Expect(200, body="/")))
add(Case("s1_any_path_is_an_invocation", get("/b64/x/y", code="lambda: request.path"),
         Expect(200, body="/b64/x/y")))
add(Case("s1_file_like_path", get("/file.wav", code="lambda: request.path"),
         Expect(200, body="/file.wav")))
add(Case("s1_path_percent_decoded", get("/a b/\u00e9", code="lambda: request.path"),
         Expect(200, body="/a b/\u00e9".encode())))

# ---- §2 request fields ---------------------------------------------------------------
add(Case("s2_get_query", call("/hello", HELLO, KW_NAME), Expect(200, TEXT, "Hello, owt!")))
add(Case("s2_post_json", call("/hello", HELLO, KW_NAME, via="json"), Expect(200, TEXT, "Hello, owt!")))
add(Case("s2_post_form", call("/hello", HELLO, KW_NAME, via="form"), Expect(200, TEXT, "Hello, owt!")))
add(Case("s2_put_json", Req("PUT", "/hello", (), json.dumps({"code": HELLO, "kwargs": {"name": "put"}}).encode(),
                             "application/json"), Expect(200, body="Hello, put!")))
add(Case("s2_code_and_kwargs_plain_get", get("/", code=HELLO, kwargs="{'name': 'plain'}"),
         Expect(200, body="Hello, plain!")))
add(Case("s2_kwargs_json_object_in_body", post_json("/", {"code": HELLO, "kwargs": {"name": "object"}}),
         Expect(200, body="Hello, object!")))
add(Case("s2_kwargs_plain_in_form", post_form("/", code=HELLO, kwargs='{"name": "form"}'),
         Expect(200, body="Hello, form!")))
add(Case("s2_fields_in_query_of_post", post_raw("/", b"not fields", "text/plain",
                                                query={"code": HELLO, "kwargs": "{'name': 'q'}"}),
         Expect(200, body="Hello, q!")))
add(Case("s2_json_body_wins_over_query",
         post_json("/", {"kwargs_b64": b64("{'name': 'body'}")},
                   query={"code_b64": b64(HELLO), "kwargs_b64": b64("{'name': 'query'}")}),
         Expect(200, body="Hello, body!")))
add(Case("s2_json_body_code_wins_over_query",
         post_json("/", {"code": "lambda: 'body code'"}, query={"code": "lambda: 'query code'"}),
         Expect(200, body="body code")))
add(Case("s2_form_body_wins_over_query",
         post_form("/", {"kwargs": "{'name': 'body'}", "code": HELLO},
                   query={"code": "lambda: 'query code'", "kwargs": "{'name': 'query'}"}),
         Expect(200, body="Hello, body!")))
add(Case("s2_unknown_fields_ignored_but_readable",
         get("/", code="lambda: request.args['extra'] + '/' + request.args['other']", extra="x", other="y"),
         Expect(200, body="x/y")))
add(Case("s2_fn_name", get("/", code=code("""
    def run():
        return 'run'
    def other():
        return 'other'
"""), fn_name="other"), Expect(200, body="other")))
add(Case("s2_fn_name_in_json_body", post_json("/", {"code": "def greet(who):\n    return 'hi ' + who\n",
                                                    "fn_name": "greet", "kwargs": {"who": "you"}}),
         Expect(200, body="hi you")))
for variant, enc in (("standard", b64), ("urlsafe", b64_urlsafe), ("unpadded", b64_unpadded),
                     ("wrapped76", b64_wrapped)):
    for via in ("get", "json", "form"):
        fields = {"code_b64": enc(B64_SAMPLE), "kwargs_b64": enc("{'name': '" + variant + "???>>>'}\n")}
        req = {"get": get, "json": post_json, "form": post_form}[via]("/", fields)
        add(Case(f"s2_base64_{variant}_{via}", req, Expect(200, body=f"Hello, {variant}???>>>!")))
add(Case("s2_base64_unpadded_urlsafe", get("/", code_b64=b64_urlsafe(B64_SAMPLE).rstrip("=")),
         Expect(200, body="Hello, nobody!")))

# ---- §3 kwargs text ------------------------------------------------------------------
KWARGS_CASES = [
    ("json_object", '{"name": "owt", "n": 1}', "{'name': 'owt', 'n': 1}"),
    ("python_literal_dict", "{'name': 'owt'}", "{'name': 'owt'}"),
    ("literal_true", "True", "{'__last__': True}"),
    ("literal_none", "None", "{'__last__': None}"),
    ("literal_tuple", "(1, 'a', (2,))", "{'__last__': (1, 'a', (2,))}"),
    ("double_encoded_json", json.dumps(json.dumps({"name": "owt"})), "{'name': 'owt'}"),
    ("double_encoded_literal", "\"{'name': 'owt'}\"", "{'name': 'owt'}"),
    ("json_list_to_last", "[1, 2]", "{'__last__': [1, 2]}"),
    ("json_number_to_last", "42", "{'__last__': 42}"),
    ("json_string_to_last", '"just text"', "{'__last__': 'just text'}"),
    ("plain_text_to_last", "solve AGI", "{'__last__': 'solve AGI'}"),
    ("plain_text_trailing_newlines", "solve AGI\n\n", "{'__last__': 'solve AGI'}"),
    ("literal_trailing_newline", "{'name': 'owt'}\n", "{'name': 'owt'}"),
    ("empty", "", "{}"),
    ("only_newline", "\n", "{}"),
    ("never_eval", "__import__('os').getpid()", "{'__last__': \"__import__('os').getpid()\"}"),
    ("mixed_json_python_spellings", '{"a":True,"b":null}', "{'a': True, 'b': None}"),
    ("mixed_spellings_nested", "{'xs': [true, false, None], 'n': -1}", "{'xs': [True, False, None], 'n': -1}"),
]
for name, text, expected in KWARGS_CASES:
    add(Case(f"s3_{name}", call("/", KW_REPR, text), Expect(200, TEXT, expected)))
add(Case("s3_no_kwargs_field", call("/", KW_REPR), Expect(200, body="{}")))
add(Case("s3_400_dict_that_does_not_parse", call("/", KW_REPR, "{'name': 'owt'"),
         Expect(400, contains=("starts like a dict", "was never closed"), absent=("__last__",))))
add(Case("s3_400_list_that_does_not_parse", call("/", KW_REPR, "[1, 2"), Expect(400, contains=("starts like a list",))))
add(Case("s3_400_call_inside_a_dict", call("/", KW_REPR, "{'a': __import__('os').getpid()}"),
         Expect(400, contains=("a call is not a value",))))
add(Case("s3_400_non_string_keys", call("/", KW_REPR, "{1: 2}"), Expect(400, contains=("keys must be strings",))))
add(Case("s3_400_non_string_keys_plain_field", get("/", code=KW_REPR, kwargs="{None: 1}"),
         Expect(400, contains=("keys must be strings",))))
add(Case("s3_kwargs_plain_field_literal", get("/", code=KW_REPR, kwargs="{'a': (1, 2)}"),
         Expect(200, body="{'a': (1, 2)}")))
add(Case("s3_kwargs_json_value_in_body_not_object", post_json("/", {"code": KW_REPR, "kwargs": "solve AGI"}),
         Expect(200, body="{'__last__': 'solve AGI'}")))

# ---- §4 code modes -------------------------------------------------------------------
add(Case("s4_explicit", call("/", HELLO, "{'name': 'explicit'}"), Expect(200, body="Hello, explicit!")))
add(Case("s4_implicit_pipe", call("/one/two", "pipe().path().last()"), Expect(200, body="two")))
add(Case("s4_implicit_lambda", call("/", "lambda: 42"), Expect(200, TEXT, "42")))
add(Case("s4_implicit_lambda_kwargs", call("/", "lambda name: name[::-1]", "{'name': 'owt'}"),
         Expect(200, body="two")))
add(Case("s4_terse_kwarg", call("/", 'kwarg("x")', '{"x": "terse value"}'), Expect(200, body="terse value")))
add(Case("s4_terse_sota", call("/owt", "f(sota.hard_task)", "solve AGI"), Expect(200, body="AGI solved!")))
add(Case("s4_explicit_pipe_done_implicitly", call("/a/b/c", "run = pipe().path().last()"),
         Expect(200, body="c")))
add(Case("s4_adaptor_modules_importable", call("/", code("""
    import sota
    def run():
        return sota.hard_task('write tests')
""")), Expect(200, body="tests written!")))
add(Case("s4_namespace_starts_with_owt_names", call("/", code("""
    def run():
        names = ('pipe', 'request', 'Server', 'Response', 'stream', '_SERVER', 'sota')
        return {n: n in globals() for n in names}
""")), Expect(200, JSON, json={n: True for n in ("pipe", "request", "Server", "Response", "stream",
                                                "_SERVER", "sota")})))
add(Case("s4_server_global_is_sing", call("/", "lambda: _SERVER is Server.sing()"), Expect(200, body="True")))

# ---- §5 request fields ---------------------------------------------------------------
add(Case("s5_method_get", call("/", "lambda: request.method"), Expect(200, body="GET")))
add(Case("s5_method_post", call("/", "lambda: request.method", via="json"), Expect(200, body="POST")))
add(Case("s5_method_put", Req("PUT", "/", (), json.dumps({"code": "lambda: request.method"}).encode(),
                              "application/json"), Expect(200, body="PUT")))
add(Case("s5_urls", post_json("/p/q", {"code": code("""
    def run():
        return {'path': request.path, 'full_path': request.full_path, 'url': request.url,
                'base_url': request.base_url, 'host_url': request.host_url}
""")}, query={"a": "1"}), Expect(200, JSON, json=lambda c: {
    "path": "/p/q", "full_path": "/p/q?a=1", "url": f"http://{c['host']}/p/q?a=1",
    "base_url": f"http://{c['host']}/p/q", "host_url": f"http://{c['host']}/"})))
add(Case("s5_args", get("/", [("code", code("""
    def run():
        return {'a': request.args['a'], 'alist': request.args.getlist('a'), 'b': request.args.get('b'),
                'missing': request.args.get('missing')}
""")), ("a", "1"), ("a", "2"), ("b", "x y")]), Expect(200, JSON, json={"a": "1", "alist": ["1", "2"],
                                                                       "b": "x y", "missing": None})))
add(Case("s5_form", post_form("/", [("code", code("""
    def run():
        return {'name': request.form['name'], 'tags': request.form.getlist('tag'), 'args': dict(request.args)}
""")), ("name", "owt"), ("tag", "1"), ("tag", "2")]), Expect(200, JSON, json={"name": "owt", "tags": ["1", "2"],
                                                                               "args": {}})))
add(Case("s5_headers_case_insensitive", get("/", code=code("""
    def run():
        h = request.headers
        return [h['x-owt-test'], h['X-OWT-TEST'], h.get('X-Owt-Test'), h.get('x-absent')]
""")).with_headers(X_Owt_Test="Some Value"), Expect(200, JSON, json=["Some Value"] * 3 + [None])))
add(Case("s5_data_raw_bytes", post_raw("/", b"raw\x00bytes\xff\n", "application/octet-stream",
                                        query={"code": "lambda: request.data"}),
         Expect(200, OCTET, b"raw\x00bytes\xff\n")))
add(Case("s5_json", post_json("/", {"code": "lambda: request.json['extra']", "extra": {"k": [1, 2]}}),
         Expect(200, JSON, json={"k": [1, 2]})))
add(Case("s5_json_none_on_get", call("/", "lambda: repr(request.json)"), Expect(200, body="None")))
add(Case("s5_remote_addr", call("/", "lambda: request.remote_addr"), Expect(200, body="127.0.0.1")))
add(Case("s5_environ", get("/env/x", code=code("""
    def run():
        e = request.environ
        return {'method': e['REQUEST_METHOD'], 'has_query': 'code=' in e['QUERY_STRING'],
                'port': e['SERVER_PORT'], 'custom': e.get('HTTP_X_CUSTOM')}
""")).with_headers(X_Custom="c1"), Expect(200, JSON, json=lambda c: {
    "method": "GET", "has_query": True, "port": str(c["port"]), "custom": "c1"})))
add(Case("s5_server_sing", call("/", "lambda: f'{Server.sing().address}:{Server.sing().port}'"),
         Expect(200, body=lambda c: c["host"])))
add(Case("s5_server_port_is_int", call("/", "lambda: [type(Server.sing().port).__name__, _SERVER.port]"),
         Expect(200, JSON, json=lambda c: ["int", c["port"]])))
add(Case("s5_request_in_generator", call("/gen/path", code("""
    def run():
        def gen():
            yield request.path
            yield '|'
            yield request.method
        return gen()
""")), Expect(200, body="/gen/path|GET")))

# ---- §6 results ----------------------------------------------------------------------
add(result("s6_str_plain", "lambda: 'plain text'", Expect(200, TEXT, "plain text")))
add(result("s6_str_html", "lambda: '  \\n<p>hi</p>'", Expect(200, HTML, "  \n<p>hi</p>")))
add(result("s6_str_unicode", "lambda: 'caf\\u00e9 \\u2603'", Expect(200, TEXT, "caf\u00e9 \u2603".encode())))
add(result("s6_str_lt_not_first", "lambda: 'a <b>'", Expect(200, TEXT, "a <b>")))
add(result("s6_bytes", "lambda: b'\\x00\\xffbin'", Expect(200, OCTET, b"\x00\xffbin")))
add(result("s6_bytearray", "lambda: bytearray(b'\\x01\\x02')", Expect(200, OCTET, b"\x01\x02")))
add(result("s6_memoryview", "lambda: memoryview(b'view\\xfe')", Expect(200, OCTET, b"view\xfe")))
add(result("s6_int", "lambda: 7", Expect(200, TEXT, "7")))
add(result("s6_float", "lambda: 1.5", Expect(200, TEXT, "1.5")))
add(result("s6_bool", "lambda: False", Expect(200, TEXT, "False")))
add(result("s6_none", "lambda: None", Expect(200, body=b"")))
add(result("s6_dict", "lambda: {'a': 1, 'b': [True, None]}", Expect(200, JSON, json={"a": 1, "b": [True, None]})))
add(result("s6_list", "lambda: [1, 'two', {'three': 3}]", Expect(200, JSON, json=[1, "two", {"three": 3}])))
add(result("s6_empty_list", "lambda: []", Expect(200, JSON, json=[])))
add(result("s6_tuple_body_status", "lambda: ('created', 201)", Expect(201, TEXT, "created")))
add(result("s6_tuple_body_headers", "lambda: ('with header', {'X-Thing': 'yes'})",
           Expect(200, TEXT, "with header", headers=(("X-Thing", "yes"),))))
add(result("s6_tuple_body_status_headers", "lambda: ({'ok': False}, 418, {'X-Teapot': 'short'})",
           Expect(418, JSON, json={"ok": False}, headers=(("X-Teapot", "short"),))))
add(result("s6_tuple_headers_set_content_type", "lambda: ('a,b', {'Content-Type': 'text/csv'})",
           Expect(200, "text/csv", "a,b")))
add(result("s6_response", "lambda: Response('<p>x', status=202, headers={'X-B': 'c'}, content_type='text/x-owt')",
           Expect(202, "text/x-owt", "<p>x", headers=(("X-B", "c"),))))
add(result("s6_response_defaults", "lambda: Response('made')", Expect(200, TEXT, "made")))
add(result("s6_response_json_body", "lambda: Response({'k': 'v'}, status=201)", Expect(201, JSON, json={"k": "v"})))
add(result("s6_response_bytes_status", "lambda: Response(b'gone', 410)", Expect(410, OCTET, b"gone")))
add(result("s6_generator", code("""
    def run():
        yield 'a'
        yield b'b'
        yield 'c\\u00e9'
"""), Expect(200, body="abc\u00e9".encode())))
add(result("s6_generator_expression", "lambda: (str(i) for i in range(4))", Expect(200, body="0123")))
add(result("s6_iterator", "lambda: iter(['it', 'er'])", Expect(200, body="iter")))
add(result("s6_non_str_iterable", code("""
    class Bag:
        def __iter__(self):
            yield b'x'
            yield 'y'
    def run():
        return Bag()
"""), Expect(200, body="xy")))
add(result("s6_range_streamed", "lambda: range(3)", Expect(200, body="012")))
add(result("s6_coroutine_dict", code("""
    import asyncio
    async def run():
        await asyncio.sleep(0)
        return {'async': True}
"""), Expect(200, JSON, json={"async": True})))
add(result("s6_coroutine_str", code("""
    async def run(name='co'):
        return f'<b>{name}</b>'
"""), Expect(200, HTML, "<b>co</b>")))
add(result("s6_coroutine_tuple", "async def run():\n    return ('later', 202)\n", Expect(202, TEXT, "later")))
add(result("s6_anything_else_str", code("""
    class Thing:
        def __str__(self):
            return 'a thing'
    def run():
        return Thing()
"""), Expect(200, TEXT, "a thing")))
add(result("s6_anything_else_json", "lambda: (1, 2, 3)", Expect(200, JSON, json=[1, 2, 3])))
add(result("s6_event_stream", code("""
    def run():
        def gen():
            yield stream.event(n=1)
            yield stream.done()
        return stream.response(gen())
"""), Expect(200, EVENT_STREAM, 'data: {"n": 1}\n\ndata: [DONE]\n\n',
             headers=(("Cache-Control", "no-cache"), ("X-Accel-Buffering", "no")))))
add(result("s6_event_stream_seed_tuple", code("""
    def run():
        def generate():
            yield 'data: one\\n\\n'
            yield 'data: [DONE]\\n\\n'
        return generate(), {'Content-Type': 'text/event-stream'}
"""), Expect(200, EVENT_STREAM, "data: one\n\ndata: [DONE]\n\n",
             headers=(("Cache-Control", "no-cache"), ("X-Accel-Buffering", "no")))))
add(result("s6_event_stream_error_frame", code("""
    def run():
        def gen():
            yield stream.event(n=1)
            raise ValueError('mid-stream')
        return stream.response(gen())
"""), Expect(200, EVENT_STREAM, contains=('data: {"n": 1}\n\n', "event: error\n",
                                          "data: ValueError: mid-stream\n"), check=_cut_over_fastcgi)))
add(result("s6_plain_not_event_stream_headers", "lambda: 'x'",
           Expect(200, TEXT, "x", check=_no_event_stream_headers)))

# ---- §6 the seed's bytes: Flask's jsonify, pipe calls; ML results (issue 16) -----------
add(result("s6_dict_jsonify_bytes", "lambda: {'y': 'abc', 'x': 123}", Expect(200, JSON, '{"x":123,"y":"abc"}\n')))
add(result("s6_seed_const_object", code("""
    class Obj(dict):
        def __init__(self, x: int, y: str):
            self["x"] = x
            self["y"] = y

    run = pipe().const(Obj(123, "abc")).done()
"""), Expect(200, JSON, '{"x":123,"y":"abc"}\n')))
add(result("s6_list_jsonify_bytes", "lambda: [1, 'two', {'b': None, 'a': '\u00e9\u2603', 'c': (True, 2.5)}]",
           Expect(200, JSON, '[1,"two",{"a":"\\u00e9\\u2603","b":null,"c":[true,2.5]}]\n')))
add(result("s6_tuple_body_status_jsonify", "lambda: ({'ok': False, 'a': 1}, 418)",
           Expect(418, JSON, '{"a":1,"ok":false}\n')))
add(result("s6_nan_and_inf_in_json_are_null", "lambda: {'x': float('nan'), 'y': [float('inf'), -float('inf'), 0.5]}",
           Expect(200, JSON, '{"x":null,"y":[null,null,0.5]}\n')))
add(result("s6_bare_nan_is_text", "lambda: float('nan')", Expect(200, TEXT, "nan")))
add(result("s6_numpy_scalars_in_a_dict", code("""
    import numpy as np
    def run():
        return {'i': np.int64(3), 'f': np.float32(0.5), 'b': np.bool_(True), 'n': np.float64('nan')}
"""), Expect(200, JSON, '{"b":true,"f":0.5,"i":3,"n":null}\n')))
add(result("s6_numpy_array", "lambda: __import__('numpy').arange(4).reshape(2, 2)", Expect(200, JSON, "[[0,1],[2,3]]\n")))
add(result("s6_numpy_array_nan", code("""
    import numpy as np
    def run():
        return np.array([1.0, np.nan, np.inf], dtype=np.float32)
"""), Expect(200, JSON, "[1.0,null,null]\n")))
add(result("s6_numpy_scalar_alone_is_text", "lambda: __import__('numpy').int64(7)", Expect(200, TEXT, "7")))
add(result("s6_dataclass", code("""
    import dataclasses
    import numpy as np

    @dataclasses.dataclass
    class Prediction:
        label: str
        score: float
        box: object

    def run():
        return [Prediction('cat', np.float32(0.75), np.array([1, 2]))]
"""), Expect(200, JSON, '[{"box":[1,2],"label":"cat","score":0.75}]\n')))
add(result("s6_pipe_call_is_value_and_kwargs", code("""
    def run():
        p = pipe().const(1).f(lambda x: x + 1)
        return repr(p())
"""), Expect(200, TEXT, "(2, {'__last__': 2})")))
add(result("s6_pipe_call_kwargs_as_json", "lambda: pipe().const(1).f(lambda x: x + 1)()[1]",
           Expect(200, JSON, '{"__last__":2}\n')))
add(result("s6_pipe_done_takes_a_value", "lambda: pipe().const(1).f(lambda x: x + 1).done()(None)",
           Expect(200, TEXT, "2")))
add(Case("s6_shipped_pipe_still_answers_its_value", call("/a/b", "path().last()"), Expect(200, TEXT, "b")))
add(Case("s6_installing_refused_by_default", call("/", 'installing("numpy").const("ran")'),
         Expect(403, TEXT, contains=("installing('numpy') is disabled on this server",
                                     "start owt-fcgi with --allow-install --venv DIR"), absent=("ran",))))

# ---- §7 errors -------------------------------------------------------------------------
add(Case("s7_400_bad_base64_code", get("/", code_b64="!!!not base64!!!"), Expect(400, contains=("base64",))))
add(Case("s7_400_bad_base64_kwargs", get("/", code_b64=b64(HELLO), kwargs_b64="%%%%"), Expect(400)))
add(Case("s7_400_bad_json_body", post_raw("/", b'{"code": "lambda: 1",', "application/json"), Expect(400)))
add(Case("s7_400_json_body_not_object", post_raw("/", b'["code"]', "application/json"), Expect(400)))
add(Case("s7_400_no_code_get", get("/"), Expect(400)))
add(Case("s7_400_no_code_json", post_json("/", {"kwargs": {"a": 1}}), Expect(400)))
add(Case("s7_400_code_not_utf8", get("/", code_b64=b64(b"def run():\n    return '\xff\xfe'\n")), Expect(400)))
add(Case("s7_400_no_fn_defined", call("/", "x = 1\ny = 2\n"), Expect(400, contains=("'run'",))))
add(Case("s7_400_fn_name_missing", get("/", code=HELLO, fn_name="missing"), Expect(400, contains=("'missing'",))))
add(Case("s7_400_syntax_error", call("/", "def run(:\n    return 1\n"), Expect(400, contains=("'run'", "SyntaxError"))))
add(Case("s7_400_kwarg_misspelled", call("/", HELLO, "{'nam': 'owt'}"),
         Expect(400, contains=("run(name='nobody') got an unexpected keyword argument 'nam'",),
                absent=("Traceback", "Error executing code"))))
add(Case("s7_400_kwarg_missing", call("/", "def run(name: str):\n    return name\n"),
         Expect(400, contains=("run(name: str) missing a required argument: 'name'",))))
add(Case("s7_400_kwarg_the_function_cannot_take", call("/", "def run():\n    return 1\n", '{"x": 1}'),
         Expect(400, contains=("run() got an unexpected keyword argument 'x'",))))
add(Case("s7_500_type_error_inside_the_adaptor", call("/", "def run(name='x'):\n    return len(5)\n"),
         Expect(500, contains=("Error executing code: TypeError: object of type 'int' has no len()",))))
add(Case("s7_400_named_adaptor_kwarg_misspelled", get("/", adaptor="sota.hard_task", kwargs="{'promt': 'solve AGI'}"),
         Expect(400, contains=("hard_task(prompt: str) got an unexpected keyword argument 'promt'",)),
         options=NO_CODE))
add(Case("s7_401_no_credentials", call("/", HELLO), Expect(
    401, headers=(("WWW-Authenticate", 'Basic realm="owt"'),), absent=("Hello",)), options=AUTH))
add(Case("s7_401_wrong_password", call("/", HELLO).with_headers(Authorization=basic("owt", "wrong")), Expect(
    401, headers=(("WWW-Authenticate", 'Basic realm="owt"'),), absent=("Hello",)), options=AUTH))
add(Case("s7_401_unknown_user", call("/", HELLO).with_headers(Authorization=basic("eve", PASSWORD)),
         Expect(401, absent=("Hello",)), options=AUTH))
add(Case("s7_401_malformed_header", call("/", HELLO).with_headers(Authorization="Basic !!!"),
         Expect(401), options=AUTH))
add(Case("s7_401_status_needs_auth", get("/_owt/status"), Expect(401), options=AUTH))
add(Case("s7_auth_health_open", get("/_owt/health"), Expect(200, body="ok"), options=AUTH))
add(Case("s7_auth_right_password", call("/", HELLO, KW_NAME).with_headers(Authorization=basic("owt", PASSWORD)),
         Expect(200, body="Hello, owt!"), options=AUTH))
add(Case("s7_403_no_code_b64", call("/", HELLO), Expect(403, absent=("Hello",)), options=NO_CODE))
add(Case("s7_403_no_code_plain", post_json("/", {"code": HELLO}), Expect(403), options=NO_CODE))
add(Case("s7_no_code_named_adaptor_runs", get("/", adaptor="sota.hard_task", kwargs="solve AGI"),
         Expect(200, body="AGI solved!"), options=NO_CODE))
add(Case("s7_named_adaptor_module", get("/", adaptor="sota", kwargs="{'prompt': 'find owt'}"),
         Expect(200, body="owt found!")))
add(Case("s7_404_unknown_adaptor", get("/", adaptor="nosuch"), Expect(404)))
add(Case("s7_404_os_system", get("/", adaptor="os.system", kwargs="{'command': 'true'}"), Expect(404)))
add(Case("s7_404_unknown_function", get("/", adaptor="sota.nosuch"), Expect(404)))
add(Case("s7_413_body_over_limit", post_json("/", {"code": "lambda: 'ran'", "pad": "x" * 2048}),
         Expect(413, absent=("ran",)), options=LIMITS))
add(Case("s7_413_code_over_limit", get("/", code="lambda: 'ran'  # " + "x" * 2048),
         Expect(413, absent=("ran",)), options=LIMITS))
add(Case("s7_limits_small_request_ok", post_json("/", {"code": "lambda: 'small'", "pad": "x" * 512}),
         Expect(200, body="small"), options=LIMITS))
add(Case("s7_500_adaptor_raised", call("/", code("""
    def run():
        raise ValueError('boom')
""")), Expect(500, TEXT, "Error executing code: ValueError: boom", check=_no_traceback_in_body,
              log_contains=("Traceback", "raise ValueError('boom')"))))
add(Case("s7_500_key_error", call("/", "lambda: {}['k']"),
         Expect(500, TEXT, "Error executing code: KeyError: 'k'", check=_no_traceback_in_body)))
add(Case("s7_500_module_level_raise", call("/", code("""
    raise RuntimeError('at import')
    def run():
        return 'never'
""")), Expect(500, TEXT, "Error executing code: RuntimeError: at import", check=_no_traceback_in_body)))
add(Case("s7_500_system_exit", call("/", "def run():\n    import sys\n    sys.exit(3)\n"),
         Expect(500, TEXT, "Error executing code: SystemExit: 3")))
add(Case("s7_500_bad_status", call("/", "lambda: ('x', 99)"), Expect(500, contains=("Error executing code:",))))
add(Case("s7_500_debug_traceback", call("/", code("""
    def run():
        raise ValueError('boom')
""")), Expect(500, contains=("Error executing code: ValueError: boom", "Traceback (most recent call last)",
                             "raise ValueError('boom')"),
              check=_starts_with_error_line),
         options=DEBUG))
add(Case("s7_504_busy_loop", call("/", "def run():\n    while True:\n        pass\n"),
         Expect(504, absent=("never",)), options=TIMEOUT))
add(Case("s7_504_sleep", call("/", "def run():\n    import time\n    time.sleep(1000)\n"),
         Expect(504), options=TIMEOUT))
add(Case("s7_504_not_swallowed_by_except_exception", call("/", code("""
    import time
    def run():
        try:
            time.sleep(1000)
        except Exception:
            return 'swallowed'
""")), Expect(504, absent=("swallowed",)), options=TIMEOUT))
add(Case("s7_timeout_fast_request_ok", call("/", HELLO), Expect(200, body="Hello, nobody!"), options=TIMEOUT))

_ids = [c.id for c in CASES]
assert len(_ids) == len(set(_ids)), "duplicate case ids"
