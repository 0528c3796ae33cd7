"""The end-to-end pipe cases (tests/e2e/cases_summat.py) run in-process.

Kwargs are decoded by the runtime's own ``owt._kwargs.decode``; the code modes
(PROTOCOL section 4) are reproduced here in their simplest form, so a wrong
expectation in the case list shows up without a web server.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from summat_fixtures import fake_request  # noqa: F401

import owt.request
from owt._kwargs import decode
from owt.summat import pipe

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from cases_summat import CASES, Case  # noqa: E402


def _compile(code: str, fn_name: str = "run") -> Callable[..., Any]:
    import sota

    for source in (code, f"{fn_name} = ({code})", f"{fn_name} = (pipe().{code})"):
        namespace: dict[str, Any] = {"pipe": pipe, "request": owt.request.request, "sota": sota}
        try:
            exec(compile(source, "<adaptor>", "exec"), namespace)
        except (SyntaxError, NameError):
            continue
        if fn_name in namespace:
            fn = namespace[fn_name]
            return fn.done() if getattr(fn, "__owt_pipe__", False) else fn
    raise AssertionError(f"no mode defines {fn_name}")


def _body(result: Any) -> Any:
    if isinstance(result, (dict, list)):
        return json.loads(json.dumps(result))
    return str(result)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(case: Case, fake_request: Callable[..., Any]) -> None:
    fields = dict(case.fields)
    if case.method == "POST":
        fake_request(path=case.path, method="POST", json={"code": case.code, **fields})
    else:
        fake_request(path=case.path, args={"code": case.code, **fields})
    result = _compile(case.code)(**decode(case.kwargs_text))
    assert case.expected_status == 200
    assert _body(result) == case.expected_body
