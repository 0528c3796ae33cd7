"""The end-to-end pipe cases (tests/e2e/cases_summat.py) run in-process.

Each case goes through ``owt._runtime.handle`` (the conftest's ``handle`` fixture)
with the request C would pass: the path, the fields in the query string or a JSON
body. Only the C and web-server layers are left out.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from cases_summat import CASES, Case  # noqa: E402

_STATUS = {"bad_request": 400, "forbidden": 403, "not_found": 404, "adaptor": 500, "timeout": 504}


def _request(case: Case) -> tuple[dict[str, str], bytes]:
    fields = {"code_b64": base64.b64encode(case.code.encode()).decode()}
    if case.kwargs_text:
        fields["kwargs_b64"] = base64.b64encode(case.kwargs_text.encode()).decode()
    fields.update(case.fields)
    environ = {"REQUEST_METHOD": case.method, "PATH_INFO": case.path, "QUERY_STRING": ""}
    if case.method == "POST":
        body = json.dumps(fields).encode()
        environ.update(CONTENT_TYPE="application/json", CONTENT_LENGTH=str(len(body)))
        return environ, body
    environ["QUERY_STRING"] = urlencode(fields)
    return environ, b""


def _respond(handle: Any, case: Case) -> tuple[int, bytes]:
    environ, body = _request(case)
    try:
        status, _, out, chunks = handle(case.code, case.kwargs_text, environ=environ, body=body, path=case.path)
    except Exception as exc:
        kind = getattr(exc, "kind", None)
        if kind not in _STATUS:
            raise
        return _STATUS[kind], str(exc).encode()
    return status, out if out is not None else b"".join(chunks)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(case: Case, handle: Any) -> None:
    status, body = _respond(handle, case)
    assert status == case.expected_status, body
    if status != 200:
        assert case.expected_body in body.decode()
    elif isinstance(case.expected_body, (dict, list)):
        assert json.loads(body) == case.expected_body
    else:
        assert body.decode() == case.expected_body
