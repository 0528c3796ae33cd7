"""Every case of e2e_cases.py (PROTOCOL §1–§7), through lighttpd and in CGI mode.

After an error response the same server must answer the next request normally.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

import pytest

from e2e_cases import AUTH, CASES, HELLO, NO_CODE, NOTHING, Case, basic, PASSWORD
from owt_e2e import Resp, get


def _params() -> list[Any]:
    out = []
    for case in CASES:
        for kind in ("http", "cgi"):
            if kind not in case.transports:
                continue
            reason = case.xfail.get(kind) or case.xfail.get("*")
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            out.append(pytest.param(case, kind, id=f"{case.id}-{kind}", marks=marks))
    return out


def _resolve(value: Any, ctx: Mapping[str, Any]) -> Any:
    return value(ctx) if callable(value) else value


def check_response(case: Case, resp: Resp, ctx: Mapping[str, Any]) -> None:
    exp = case.expect
    where = f"{case.id}: got {resp.describe()}"
    assert resp.status == exp.status, where
    assert resp.headers.get("X-Content-Type-Options") == "nosniff", where
    if exp.content_type is not None:
        assert resp.content_type == exp.content_type, where
    if exp.body is not None:
        body = _resolve(exp.body, ctx)
        if isinstance(body, str):
            body = body.encode("utf-8")
        assert resp.body == body, where
    if exp.json is not NOTHING:
        assert json.loads(resp.body) == _resolve(exp.json, ctx), where
    for text in exp.contains:
        assert text in resp.text, f"{text!r} not in the body; {where}"
    for text in exp.absent:
        assert text not in resp.text, f"{text!r} in the body; {where}"
    for name, value in exp.headers:
        assert resp.headers.get(name) == value, f"header {name}; {where}"
    if exp.check is not None:
        exp.check(resp, ctx)


def wait_log(transport: Any, options: tuple[str, ...], resp: Resp, texts: tuple[str, ...]) -> str:
    """The log lines of this request: CGI has them at once; the web server's log may lag a little."""
    if transport.name == "cgi" or not texts:
        return resp.log
    server = transport.server_for(options)
    deadline = time.monotonic() + 3
    log = resp.log
    while not all(t in log for t in texts) and time.monotonic() < deadline:
        time.sleep(0.05)
        log = server.log_text()
    return log


def follow_up(transport: Any, options: tuple[str, ...]) -> None:
    """The request after an error: a plain one the same server must answer."""
    if options == NO_CODE:
        req = get("/", adaptor="sota.hard_task", kwargs="make tea")
        expected = b"tea made!"
    else:
        req = get("/next", code=HELLO, kwargs="{'name': 'next'}")
        expected = b"Hello, next!"
    if options == AUTH:
        req = req.with_headers(Authorization=basic("owt", PASSWORD))
    resp = transport.send(req, options)
    assert (resp.status, resp.body) == (200, expected), f"request after the error: {resp.describe()}"


@pytest.mark.parametrize("case,kind", _params())
def test_protocol(case: Case, kind: str, transports: Any) -> None:
    transport = transports(kind)
    resp = transport.send(case.req, case.options)
    ctx = transport.context(case.options)
    check_response(case, resp, ctx)
    if case.expect.log_contains:
        log = wait_log(transport, case.options, resp, case.expect.log_contains)
        for text in case.expect.log_contains:
            assert text in log, f"{text!r} not in the server log:\n{log[-3000:]}"
    if resp.status >= 400:
        follow_up(transport, case.options)


KWARGS_SHAPES = [
    '{"name": "owt"}',
    '{"a": 1, "b": -42, "c": 0, "d": true, "e": false, "f": null}',
    '{"s": "caf\u00e9 \u2603", "empty": ""}',
    '{"esc": "a\\nb\\"c\\u00e9\\/"}',
    '{"max18": 999999999999999999, "min18": -999999999999999999, "n19": 1000000000000000000}',
    '{"big": 123456789012345678901234567890}',
    '{"f": 1.5, "e": 1e3, "z": -0, "zf": -0.0}',
    '{"dup": 1, "other": 2, "dup": 3}',
    '{"nested": {"a": [1, 2.5, null]}, "list": ["x"]}',
    ' \t{"ws" :"x" ,\r\n"y":1 } \n',
    "{}",
    '{"ctl": "a\tb"}',
    '{"n": NaN}',
]


@pytest.mark.parametrize("kind", ["http", "cgi"])
def test_kwargs_arrive_as_json_gives_them(kind: str, transports: Any) -> None:
    """The JSON objects clients send become the kwargs json.loads would make, value
    types included, whichever side decodes them (C builds flat objects itself,
    json's scanner does the rest; a tab inside a string is a Python literal's)."""
    transport = transports(kind)
    code = ("import json\n"
            "def run(**kw):\n"
            "    return json.dumps([[k, type(v).__name__, repr(v)] for k, v in kw.items()])\n")
    for text in KWARGS_SHAPES:
        resp = transport.send(get("/kw", code=code, kwargs=text), ())
        want = json.loads(text, strict=False)
        assert resp.status == 200 and json.loads(resp.body) == [[k, type(v).__name__, repr(v)] for k, v in want.items()], \
            f"{text!r}: {resp.describe()}"
    resp = transport.send(get("/kw", code=code, kwargs='{"lead": 01}'), ())  # neither JSON nor a literal
    assert resp.status == 400 and b"neither JSON nor a Python literal" in resp.body, resp.describe()
