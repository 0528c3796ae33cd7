"""owt.response: Response holds what the adaptor chose."""

from __future__ import annotations

from owt.response import Response


def test_defaults() -> None:
    r = Response("body")
    assert (r.body, r.status, r.headers, r.content_type) == ("body", 200, None, None)
    assert Response().body is None


def test_fields() -> None:
    r = Response(b"x", status=404, headers={"X-A": "b"}, content_type="text/csv")
    assert (r.body, r.status, r.headers, r.content_type) == (b"x", 404, {"X-A": "b"}, "text/csv")
    assert repr(r) == "<Response 404>"
