"""owt._multidict: MultiDict and Headers."""

from __future__ import annotations

from owt._multidict import Headers, MultiDict


def test_multidict_keeps_order_and_repeats() -> None:
    d = MultiDict([("a", "1"), ("b", "2"), ("a", "3")])
    assert list(d) == ["a", "b"] and len(d) == 2
    assert d["a"] == "1" and d.getlist("a") == ["1", "3"]
    assert d.items() == [("a", "1"), ("b", "2")]
    assert d.items(multi=True) == [("a", "1"), ("a", "3"), ("b", "2")]
    assert d.to_dict() == {"a": "1", "b": "2"}
    assert d.to_dict(flat=False) == {"a": ["1", "3"], "b": ["2"]}
    assert d.lists() == [("a", ["1", "3"]), ("b", ["2"])]


def test_multidict_get_with_type() -> None:
    d = MultiDict([("n", "5"), ("n", "x"), ("s", "word")])
    assert d.get("n", type=int) == 5
    assert d.get("s", -1, type=int) == -1
    assert d.getlist("n", type=int) == [5]
    assert d.getlist("missing") == []
    assert "n" in d and "m" not in d


def test_headers_from_cgi_params() -> None:
    h = Headers({
        "HTTP_ACCEPT_ENCODING": "gzip",
        "CONTENT_TYPE": "text/plain",
        "CONTENT_LENGTH": "",
        "HTTP_CONTENT_TYPE": "ignored/when-both",
        "SERVER_NAME": "not a header",
    })
    assert h["Accept-Encoding"] == "gzip"
    assert h["content-type"] == "text/plain"
    assert "Content-Length" not in h
    assert sorted(h) == ["Accept-Encoding", "Content-Type"]
    assert h.getlist("accept-encoding") == ["gzip"]
    assert h.to_dict() == {"Accept-Encoding": "gzip", "Content-Type": "text/plain"}


def test_headers_http_content_type_when_alone() -> None:
    assert Headers({"HTTP_CONTENT_TYPE": "a/b"})["Content-Type"] == "a/b"
