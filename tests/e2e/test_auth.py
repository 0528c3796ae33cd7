"""PROTOCOL §7/§9: with auth configured nothing is decoded or run before auth passes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from e2e_cases import AUTH, PASSWORD, basic, code
from owt_e2e import b64, get, post_json

AUTHORIZED = basic("owt", PASSWORD)


def side_effect_code(marker: Path) -> str:
    return code(f"""
        import pathlib
        pathlib.Path({str(marker)!r}).write_text('module ran')
        def run():
            pathlib.Path({str(marker) + '.run'!r}).write_text('run ran')
            return 'side effect done'
    """)


def test_code_with_a_side_effect_does_not_run_on_401(transport: Any, tmp_path: Path) -> None:
    marker = tmp_path / f"marker-{transport.name}"
    req = get("/", code_b64=b64(side_effect_code(marker)))
    for attempt in (req, req.with_headers(Authorization=basic("owt", "wrong")),
                    req.with_headers(Authorization=basic("intruder", PASSWORD))):
        resp = transport.send(attempt, AUTH)
        assert resp.status == 401, resp.describe()
        assert resp.headers.get("WWW-Authenticate") == 'Basic realm="owt"', resp.describe()
        assert "side effect" not in resp.text
    assert not marker.exists() and not Path(str(marker) + ".run").exists()
    resp = transport.send(req.with_headers(Authorization=AUTHORIZED), AUTH)
    assert (resp.status, resp.text) == (200, "side effect done"), resp.describe()
    assert marker.read_text() == "module ran"
    assert Path(str(marker) + ".run").read_text() == "run ran"


def test_nothing_is_decoded_before_auth(transport: Any) -> None:
    cases = [
        get("/", code_b64="!!! not base64 !!!"),
        get("/", adaptor="nosuch"),
        get("/", code="def run(:"),
        post_json("/", {"code": "lambda: 1", "kwargs_b64": "%%%"}),
    ]
    for req in cases:
        resp = transport.send(req, AUTH)
        assert resp.status == 401, f"{req}: {resp.describe()}"
        resp = transport.send(req.with_headers(Authorization=AUTHORIZED), AUTH)
        assert resp.status in (400, 404), f"{req}: {resp.describe()}"
