"""End-to-end cases for the pipe language (owt.summat) through a running owt-fcgi.

Each case is a ``Case`` (a plain tuple):

- ``name``: a test id.
- ``path``: the request path.
- ``code``: the adaptor source, sent as ``code_b64``.
- ``kwargs_text``: the kwargs text, sent as ``kwargs_b64`` ("" sends no kwargs).
- ``expected_status``: the HTTP status.
- ``expected_body``: a ``str`` is the exact body text; a ``dict`` or ``list`` is compared
  with the body parsed as JSON (the JSON spacing is the server's choice); for an error
  status, the text the body must contain.
- ``method``: ``GET`` sends the fields in the query string; ``POST`` sends them as one
  JSON object body (``Content-Type: application/json``).
- ``fields``: more request fields sent the same way as code and kwargs.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple


class Case(NamedTuple):
    name: str
    path: str
    code: str
    kwargs_text: str
    expected_status: int
    expected_body: Any
    method: str = "GET"
    fields: Mapping[str, str] = MappingProxyType({})


_COND = """\
run = (pipe()
       .path()
       .last()
       .cast(int)
       .f(lambda x: x > 10)
       .cond(pipe().const("true"), pipe().const("false"))
       .done())
"""

_CONST_OBJECT = """\
class Obj(dict):
    def __init__(self, x: int, y: str):
        self["x"] = x
        self["y"] = y

run = pipe().const(Obj(123, "abc")).done()
"""

_IMPORTING = """\
run = (
    pipe()
    .importing("json")
    .path()
    .f(lambda p: json.dumps(p))
    .f(lambda x: json.loads(x))
    .last()
    .done()
)
"""

_FORK = """\
run = (
    pipe()
    .path()
    .last()
    .fork(pipe().f(len),
          pipe().const("right"))
    .cast(str)
    .done())
"""

CASES: list[Case] = [
    Case("hello_from_path", "/World",
         'run = pipe().path().f(lambda names: f"Hello {names[0]}!").done()',
         "", 200, "Hello World!"),
    Case("path_segments_joined", "/one/two/three",
         "run = pipe().path().f(lambda p: f\"Hello {'|'.join(p)}!\").done()",
         "", 200, "Hello one|two|three!"),
    Case("path_last_segment", "/one/two/three",
         'run = pipe().path().last().f(lambda p: f"Hello {p}!").done()',
         "", 200, "Hello three!"),
    Case("implicit_done", "/World",
         'run = pipe().path().f(lambda names: f"Hello {names[0]}!")',
         "", 200, "Hello World!"),
    Case("implicit_run", "/World",
         'pipe().path().f(lambda names: f"Hello {names[0]}!")',
         "", 200, "Hello World!"),
    Case("terse_run", "/World",
         'path().f(lambda names: f"Hello {names[0]}!")',
         "", 200, "Hello World!"),
    Case("const_string", "/test", 'run = pipe().const("abc").done()', "", 200, "abc"),
    Case("const_int", "/test", "run = pipe().const(123).done()", "", 200, "123"),
    Case("const_object_json", "/test", _CONST_OBJECT, "", 200, {"x": 123, "y": "abc"}),
    Case("f_implicit_last", "/test", "run = pipe().f(lambda x: str(x + 1)).done()",
         "5", 200, "6"),
    Case("f_path_cast", "/some/path/5",
         "run = pipe().path().last().cast(int).f(lambda x: int(x) + 1).done()",
         "", 200, "6"),
    Case("identity", "/test", "run = pipe().identity().done()", "test", 200, "test"),
    Case("map_then_foldl1_over_path", "/some/path",
         "run = pipe().path().map(lambda x: x[::-1]).foldl1(lambda x, y: x + y).done()",
         "", 200, "emoshtap"),
    Case("foldl_over_list", "/test",
         "run = pipe().foldl(lambda acc, x: acc + x, 0).f(str).done()",
         "[1, 2, 3, 4, 5]", 200, "15"),
    Case("ix", "/test", "run = pipe().ix(1).done()", '["a", "b", "c"]', 200, "b"),
    Case("clear", "/test", 'run = pipe().clear().f(lambda _: "no kwargs").done()',
         '{"x": 1, "y": 2}', 200, "no kwargs"),
    Case("kwargs_unused_args", "/test",
         'run = pipe().kwargs(x=1, y=2).f(lambda **_: "unused args").done()',
         "", 200, "unused args"),
    Case("kwargs_with_bound_args", "/test",
         "run = pipe().kwargs(x=1, y=2).f(lambda x=None, y=None, z=1: x + y + z).done()",
         '{"x": 0, "z": 4}', 200, "6"),
    Case("importing_json", "/some/path", _IMPORTING, "", 200, "path"),
    Case("query", "/test", 'run = pipe().const("no").query().get("extra").done()',
         "", 200, "123", fields={"extra": "123"}),
    Case("json_post_body", "/test", 'run = pipe().json().get("extra").done()',
         "", 200, "test data", method="POST", fields={"extra": "test data"}),
    Case("cond_true", "/15", _COND, "", 200, "true"),
    Case("cond_false", "/5", _COND, "", 200, "false"),
    Case("fork", "/test", _FORK, "", 200, "(4, 'right')"),
    Case("sota_hard_task", "/owt", "f(sota.hard_task)", "solve AGI", 200, "AGI solved!",
         method="POST"),
    Case("open_outside_root_dir", "/test", 'kwarg("path").open(root_dir=".")',
         "{'path': '../../../../etc/passwd'}", 403, "is outside root_dir"),
    Case("shell_refused", "/test", 'const("echo hi").shell()', "", 403, "--allow-shell"),
]
