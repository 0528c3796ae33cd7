"""Client against a local fake server: what it sends, and how it reads answers."""

import base64
import json

import pytest

from conftest import PASSWORD, USER, load_vectors
from owt_client import Client, OwtError

HELLO = 'def run(name):\n    return f"Hello, {name}!"\n'


def _hello_case():
    return next(c for c in load_vectors() if c["name"] == "hello-kwargs")


def test_post_sends_the_vector_body(fake):
    case = _hello_case()
    seen = Client(fake.url + "/echo").run(case["code"], **case["kwargs"])
    assert seen["method"] == "POST"
    assert seen["headers"]["content-type"] == "application/json"
    assert json.loads(seen["body"]) == case["expected"]["json"]
    assert seen["query"] == ""


def test_get_sends_the_vector_query(fake):
    case = _hello_case()
    seen = Client(fake.url + "/echo", method="GET").run(case["code"], **case["kwargs"])
    assert seen["method"] == "GET"
    assert seen["query"] == case["expected"]["query"]
    assert seen["body"] == ""


@pytest.mark.parametrize("case", [c for c in load_vectors() if "by_digest" not in c and "code_sig" not in c],
                         ids=lambda c: c["name"])
def test_every_vector_over_the_wire(fake, case):
    client = Client(fake.url + "/echo", by_digest=False)  # each call sends the code itself
    args = dict(fn_name=case.get("fn_name"), adaptor=case.get("adaptor"),
                use_cache=case.get("use_cache", False), cache_kwargs=case.get("cache_kwargs", False))
    seen = client.call(case.get("code"), case.get("kwargs"), method="GET", **args)
    assert seen["query"] == case["expected"]["query"]
    seen = client.call(case.get("code"), case.get("kwargs"), **args)
    assert json.loads(seen["body"]) == case["expected"]["json"]


def test_url_with_query_and_path(fake):
    client = Client(fake.url + "/?x=1", method="GET")
    assert client.get_url("1") == fake.url + "/?x=1&code_b64=MQ%3D%3D"
    assert client.get_url("1", path="/echo") == fake.url + "/echo?x=1&code_b64=MQ%3D%3D"
    seen = client.call("1", path="echo")
    assert seen["path"] == "/echo" and seen["query"] == "x=1&code_b64=MQ%3D%3D"


def test_adaptor(fake):
    seen = Client(fake.url + "/echo").adaptor("sota.hard_task", prompt="solve AGI")
    assert json.loads(seen["body"]) == {
        "kwargs_b64": base64.b64encode(b'{"prompt":"solve AGI"}').decode(),
        "adaptor": "sota.hard_task",
    }


def test_code_and_kwargs_named_code(fake):
    seen = Client(fake.url + "/echo").run("def run(code): return code", code=1)
    assert json.loads(seen["body"])["kwargs_b64"] == base64.b64encode(b'{"code":1}').decode()


def test_results_by_content_type(fake):
    c = Client(fake.url)
    assert c.call("x", path="text") == "h\u00e9llo \U0001f30d"
    assert c.call("x", path="latin1") == "caf\u00e9"
    assert c.call("x", path="html") == "<p>hi</p>"
    assert c.call("x", path="json") == {"a": [1, 2], "\u00fc": None}
    assert c.call("x", path="bytes") == bytes(range(256))
    assert c.call("x", path="empty") is None


def test_500_carries_the_server_message(fake):
    with pytest.raises(OwtError) as info:
        Client(fake.url + "/500").run("x")
    assert info.value.status == 500
    assert info.value.message == "Error executing code: ValueError: boom \u00fc"
    assert "HTTP 500" in str(info.value)


def test_error_without_body_uses_reason(fake):
    with pytest.raises(OwtError) as info:
        Client(fake.url + "/404-empty").run("x")
    assert info.value.status == 404 and info.value.message == "Not Found"


def test_auth(fake):
    with pytest.raises(OwtError) as info:
        Client(fake.url + "/auth/text").run("x")
    assert info.value.status == 401
    assert info.value.headers.get("WWW-Authenticate") == 'Basic realm="owt"'
    assert Client(fake.url + "/auth/text", auth=(USER, PASSWORD)).run("x") == "h\u00e9llo \U0001f30d"
    with pytest.raises(OwtError) as info:
        Client(fake.url + "/auth/text", auth=(USER, "wrong")).run("x")
    assert info.value.status == 401


def test_unreachable_server():
    with pytest.raises(OwtError) as info:
        Client("http://127.0.0.1:9/").run("x")
    assert info.value.status is None and "cannot reach" in info.value.message


def test_sse_is_read_event_by_event(fake):
    with Client(fake.url + "/sse").stream("x") as stream:
        assert stream.is_event_stream
        it = iter(stream)
        assert next(it) == "one"
        fake.gate.set()
        assert list(it) == ["two\nlines", "\u00fc", "[DONE]"]
    assert not fake.gate_timed_out, "the client waited for the whole body"


def test_sse_events_carry_type_and_id(fake):
    fake.gate.set()
    events = list(Client(fake.url + "/sse").stream("x").events())
    assert [(e.event, e.data, e.id) for e in events] == [
        ("message", "one", None), ("tick", "two\nlines", "7"),
        ("message", "\u00fc", "7"), ("message", "[DONE]", "7")]


def test_sse_error_event_raises(fake):
    got = []
    with pytest.raises(OwtError) as info:
        for data in Client(fake.url + "/sse-error").stream("x"):
            got.append(data)
    assert got == ["before"]
    assert info.value.status == 200
    assert info.value.message == "Error executing code: RuntimeError: late"


def test_raw_chunks_arrive_incrementally(fake):
    stream = Client(fake.url + "/chunks").stream("x")
    assert not stream.is_event_stream
    it = iter(stream)
    assert next(it) == b"\x00\x01"
    fake.gate.set()
    assert b"".join(it) == b"\x02\xff\xff\xff"
    assert not fake.gate_timed_out


def test_stream_errors_raise_at_call(fake):
    with pytest.raises(OwtError) as info:
        Client(fake.url + "/500").stream("x")
    assert info.value.status == 500
