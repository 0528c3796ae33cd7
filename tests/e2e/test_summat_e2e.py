"""The pipe-language cases of cases_summat.py, through lighttpd.

A ``str`` expected body is the exact body of a 2xx response and text an error body must
contain; a ``dict`` or ``list`` is compared with the body parsed as JSON.
"""

from __future__ import annotations

import json

import pytest

from cases_summat import CASES, Case
from owt_e2e import OwtServer, b64, get, http_send, post_json


def request_for(case: Case):  # type: ignore[no-untyped-def]
    fields = {"code_b64": b64(case.code)}
    if case.kwargs_text:
        fields["kwargs_b64"] = b64(case.kwargs_text)
    fields.update(case.fields)
    if case.method == "GET":
        return get(case.path, fields)
    if case.method == "POST":
        return post_json(case.path, fields)
    raise AssertionError(f"{case.name}: unknown method {case.method}")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_summat_case(case: Case, server: OwtServer) -> None:
    resp = http_send(server, request_for(case))
    assert resp.status == case.expected_status, resp.describe()
    assert resp.headers.get("X-Content-Type-Options") == "nosniff", resp.describe()
    if case.expected_status >= 400:
        assert case.expected_body in resp.text, resp.describe()
    elif isinstance(case.expected_body, str):
        assert resp.text == case.expected_body, resp.describe()
    else:
        assert json.loads(resp.body) == case.expected_body, resp.describe()
