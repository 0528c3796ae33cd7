"""@client.function: which source is shipped, and with which kwargs."""

import base64
import json

import pytest

from owt_client import Client, function_source

client = Client("http://127.0.0.1:9/unused")


@client.function
def add(a, b=2):
    """Adds."""
    return a + b


@client.function(
    stream=True,
    method="GET",
)
def count(n, *rest, **more):
    for i in range(n):
        yield "data: %d\n\n" % i


class Holder:
    @staticmethod
    def make():
        @client.function
        async def nested(text: str = """
not indented""") -> str:
            return text.upper()

        return nested


def _plain(x):
    return x


def test_source_of_a_decorated_function():
    assert add.source == 'def add(a, b=2):\n    """Adds."""\n    return a + b\n'
    assert add.fn_name == "add"
    assert add.__doc__ == "Adds."
    assert add.local(1) == 3


def test_multiline_decorator_is_stripped():
    assert count.source.startswith("def count(n, *rest, **more):\n    for i in range(n):")
    assert count.fn_name == "count"


def test_nested_function_is_dedented():
    nested = Holder.make()
    assert nested.fn_name == "nested"
    assert nested.source.startswith("async def nested(text: str = \"\"\"\nnot indented\"\"\") -> str:\n    return")
    compile(nested.source, "<shipped>", "exec")


def test_function_source_of_undecorated_function():
    assert function_source(_plain) == ("def _plain(x):\n    return x\n", "_plain")


def test_lambda_is_refused():
    with pytest.raises(TypeError):
        client.function(lambda x: x)


def test_positional_only_is_refused():
    def f(a, /):
        return a

    with pytest.raises(TypeError, match="positional-only"):
        client.function(f)


def test_kwargs_mapping():
    assert add.kwargs_for(1) == {"a": 1}
    assert add.kwargs_for(1, b=5) == {"a": 1, "b": 5}
    assert count.kwargs_for(3, x=1, y=[2]) == {"n": 3, "x": 1, "y": [2]}
    with pytest.raises(TypeError, match=r"\*rest"):
        count.kwargs_for(3, 4)
    with pytest.raises(TypeError):
        add.kwargs_for()


def test_call_ships_source_and_fn_name(fake):
    remote = Client(fake.url + "/echo")

    @remote.function
    def shout(text):
        return text.upper()

    seen = shout("hi")
    assert json.loads(seen["body"]) == {
        "code_b64": base64.b64encode(b"def shout(text):\n    return text.upper()\n").decode(),
        "kwargs_b64": base64.b64encode(b'{"text":"hi"}').decode(),
        "fn_name": "shout",
    }


def test_stream_option_returns_a_stream(fake):
    remote = Client(fake.url + "/chunks")
    fake.gate.set()

    @remote.function(stream=True, method="GET", use_cache=True)
    def chunks():
        yield b"x"

    assert b"".join(chunks()) == b"\x00\x01\x02\xff\xff\xff"
    assert fake.seen[-1]["method"] == "GET"
    assert "&fn_name=chunks&use_cache=true" in fake.seen[-1]["query"]
