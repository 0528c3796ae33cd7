"""owt.request: the lazy Flask-like Request and the ``request`` proxy."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from owt.request import Request, RequestUnavailable, bind, current, current_or_none, request, unbind

ENVIRON = {
    "REQUEST_METHOD": "post",
    "QUERY_STRING": "a=1&a=2&b=&c=x%20y+z",
    "CONTENT_TYPE": "application/x-www-form-urlencoded; charset=utf-8",
    "CONTENT_LENGTH": "17",
    "HTTP_HOST": "example.org:8080",
    "HTTP_USER_AGENT": "curl/8.0",
    "HTTP_X_FORWARDED_FOR": "10.0.0.1",
    "HTTP_COOKIE": "session=abc; theme=dark",
    "REMOTE_ADDR": "127.0.0.1",
    "SERVER_ADDR": "0.0.0.0",
    "SERVER_PORT": "8080",
    "SERVER_NAME": "example.org",
}


@pytest.fixture
def req() -> Request:
    return Request(dict(ENVIRON), b"name=owt&tag=a&tag=b", "/file.wav")


def test_method_and_path(req: Request) -> None:
    assert req.method == "POST"
    assert req.path == "/file.wav"


def test_path_defaults(req: Request) -> None:
    assert Request({"PATH_INFO": "/from/env"}).path == "/from/env"
    assert Request({}).path == "/"
    assert Request({}, b"", "no-slash").path == "/no-slash"
    assert Request({}).method == "GET"


def test_urls(req: Request) -> None:
    assert req.full_path == "/file.wav?a=1&a=2&b=&c=x%20y+z"
    assert req.host_url == "http://example.org:8080/"
    assert req.base_url == "http://example.org:8080/file.wav"
    assert req.url == "http://example.org:8080/file.wav?a=1&a=2&b=&c=x%20y+z"


def test_url_quotes_the_decoded_path() -> None:
    r = Request({"HTTP_HOST": "h"}, b"", "/a b/ü")
    assert r.base_url == "http://h/a%20b/%C3%BC"
    assert r.url == r.base_url
    assert r.full_path == "/a b/ü?"


def test_host_without_host_header() -> None:
    assert Request({"SERVER_NAME": "srv", "SERVER_PORT": "80"}).host_url == "http://srv/"
    assert Request({"SERVER_NAME": "srv", "SERVER_PORT": "9876"}).host_url == "http://srv:9876/"
    assert Request({"SERVER_NAME": "srv", "SERVER_PORT": "443", "HTTPS": "on"}).host_url == "https://srv/"


def test_args_first_values_and_getlist(req: Request) -> None:
    assert req.args["a"] == "1"
    assert req.args.get("a") == "1"
    assert req.args.getlist("a") == ["1", "2"]
    assert req.args["b"] == ""
    assert req.args["c"] == "x y z"
    assert req.args.get("missing") is None
    assert req.args.get("a", type=int) == 1
    with pytest.raises(KeyError):
        req.args["missing"]


def test_form_from_urlencoded_body(req: Request) -> None:
    assert req.form["name"] == "owt"
    assert req.form.getlist("tag") == ["a", "b"]
    assert req.values.getlist("a") == ["1", "2"] and req.values["name"] == "owt"


def test_form_is_empty_for_other_bodies() -> None:
    assert len(Request({"CONTENT_TYPE": "application/json"}, b'{"a": 1}').form) == 0


def test_headers_are_case_insensitive(req: Request) -> None:
    h = req.headers
    assert h["User-Agent"] == "curl/8.0"
    assert h["user-agent"] == "curl/8.0"
    assert h["USER_AGENT"] == "curl/8.0"
    assert h["content-type"].startswith("application/x-www-form-urlencoded")
    assert h.get("Content-Length", type=int) == 17
    assert "x-forwarded-for" in h and "X-Nope" not in h
    assert h.get("x-nope", "dflt") == "dflt"
    assert dict(h.items())["Host"] == "example.org:8080"
    with pytest.raises(KeyError):
        h["x-nope"]


def test_data_is_the_raw_body(req: Request) -> None:
    assert req.data == b"name=owt&tag=a&tag=b"
    assert req.get_data(as_text=True) == "name=owt&tag=a&tag=b"


def test_json_body() -> None:
    r = Request({"CONTENT_TYPE": "application/json"}, b'{"a": [1, 2]}')
    assert r.json == {"a": [1, 2]}
    assert Request({"CONTENT_TYPE": "application/vnd.api+json"}, b"[1]").json == [1]


def test_json_is_none_for_other_types_and_bad_json() -> None:
    assert Request({"CONTENT_TYPE": "text/plain"}, b'{"a": 1}').json is None
    assert Request({"CONTENT_TYPE": "application/json"}, b"{oops").json is None
    assert Request({"CONTENT_TYPE": "application/json"}, b"").json is None
    assert Request({"CONTENT_TYPE": "text/plain"}, b'{"a": 1}').get_json(force=True) == {"a": 1}
    with pytest.raises(ValueError):
        Request({"CONTENT_TYPE": "application/json"}, b"{oops").get_json(silent=False)


def test_remote_addr_environ_cookies(req: Request) -> None:
    assert req.remote_addr == "127.0.0.1"
    assert req.environ["SERVER_PORT"] == "8080"
    assert req.cookies == {"session": "abc", "theme": "dark"}
    assert req.content_length == 17
    assert req.mimetype == "application/x-www-form-urlencoded"


def test_nothing_is_parsed_until_read() -> None:
    class Exploding(dict):
        def items(self) -> Any:
            raise AssertionError("headers parsed eagerly")

    r = Request(Exploding(QUERY_STRING="x=1"), b"", "/")
    assert r.args["x"] == "1"
    assert "args" in r.__dict__ and "headers" not in r.__dict__ and "form" not in r.__dict__


def test_proxy_outside_a_request_raises_clearly() -> None:
    assert current_or_none() is None
    with pytest.raises(RuntimeError, match="only available while an adaptor is answering a request"):
        request.path
    with pytest.raises(RequestUnavailable):
        current()
    assert not hasattr(request, "path")
    assert getattr(request, "args", "none") == "none"


def test_proxy_follows_the_bound_request(req: Request) -> None:
    token = bind(req)
    try:
        assert request.path == "/file.wav"
        assert request.args.getlist("a") == ["1", "2"]
        assert request.json is None
        assert request._get_current_object() is req
        assert current() is req
    finally:
        unbind(token)
    assert current_or_none() is None


def test_every_spelling_is_the_same_proxy(req: Request) -> None:
    import owt
    import owt.request

    from owt import request as from_package

    assert from_package is request is owt.request
    token = owt.request.bind(req)
    try:
        assert owt.request.method == "POST"
        assert owt.request.Request is Request
    finally:
        owt.request.unbind(token)


def test_proxy_keeps_module_dunders() -> None:
    assert request.__name__ == "owt.request"
    with pytest.raises(AttributeError):
        request.__wrapped__


def test_binding_nests(req: Request) -> None:
    outer = bind(req)
    inner = bind(Request({}, b"", "/inner"))
    assert request.path == "/inner"
    unbind(inner)
    assert request.path == "/file.wav"
    unbind(outer)


def test_other_threads_do_not_see_the_request(req: Request) -> None:
    seen: list[Any] = []
    token = bind(req)
    try:
        thread = threading.Thread(target=lambda: seen.append(current_or_none()))
        thread.start()
        thread.join()
    finally:
        unbind(token)
    assert seen == [None]


MULTIPART_BODY = (
    b"--XX\r\n"
    b'Content-Disposition: form-data; name="text"\r\n\r\n'
    b"gr\xc3\xbc\xc3\x9fe\r\n"
    b"--XX\r\n"
    b'Content-Disposition: form-data; name="audio"; filename="clip.wav"\r\n'
    b"Content-Type: audio/wav\r\n\r\n"
    b"RIFF\x00\x01\xff\r\n\r\n"
    b"--XX--\r\n"
)


def test_multipart_form_and_files(tmp_path: Any) -> None:
    r = Request({"CONTENT_TYPE": "multipart/form-data; boundary=XX"}, MULTIPART_BODY)
    assert r.form["text"] == "grüße"
    upload = r.files["audio"]
    assert (upload.filename, upload.mimetype) == ("clip.wav", "audio/wav")
    assert upload.read() == b"RIFF\x00\x01\xff\r\n" == upload.stream.read()
    upload.save(tmp_path / "out.wav")
    assert (tmp_path / "out.wav").read_bytes() == upload.read()
    assert "audio" not in r.form and "text" not in r.files


def test_malformed_multipart_is_empty() -> None:
    r = Request({"CONTENT_TYPE": "multipart/form-data"}, b"not multipart at all")
    assert len(r.form) == 0 and len(r.files) == 0
    assert len(Request({"CONTENT_TYPE": "text/plain"}, b"x").files) == 0
