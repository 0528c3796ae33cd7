"""owt.summat steps that read the request: path, query, json."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from summat_fixtures import fake_request  # noqa: F401

from owt.summat import PipeError, pipe


def test_path_segments(fake_request: Callable[..., Any]) -> None:
    fake_request(path="/one/two/three")
    assert pipe().path()()[0] == ["one", "two", "three"]
    assert pipe().path().f(lambda p: f"Hello {'|'.join(p)}!")()[0] == "Hello one|two|three!"
    assert pipe().path().last().f(lambda p: f"Hello {p}!")()[0] == "Hello three!"


def test_path_of_root_and_empty_segments(fake_request: Callable[..., Any]) -> None:
    fake_request(path="/")
    assert pipe().path()()[0] == []
    fake_request(path="//a//b/")
    assert pipe().path()()[0] == ["a", "b"]


def test_query_is_a_dict(fake_request: Callable[..., Any]) -> None:
    fake_request(path="/test", args={"extra": "123", "code_b64": "eA"})
    assert pipe().const("no").query().get("extra")()[0] == "123"


def test_query_without_args(fake_request: Callable[..., Any]) -> None:
    fake_request(args=None)
    assert pipe().query()()[0] == {}


def test_json_from_the_parsed_body(fake_request: Callable[..., Any]) -> None:
    fake_request(method="POST", json={"extra": "test data"})
    assert pipe().json().get("extra")()[0] == "test data"


def test_json_parses_raw_data_when_not_parsed(fake_request: Callable[..., Any]) -> None:
    fake_request(method="POST", data=b'[1, 2]')
    assert pipe().json()()[0] == [1, 2]


def test_json_without_a_body_is_none(fake_request: Callable[..., Any]) -> None:
    fake_request()
    assert pipe().json()()[0] is None


def test_json_bad_body_says_how_to_send_it(fake_request: Callable[..., Any]) -> None:
    fake_request(method="POST", data=b"not json")
    with pytest.raises(PipeError, match="not JSON.*Content-Type: application/json"):
        pipe().json()()[0]


def test_user_functions_see_the_same_request(fake_request: Callable[..., Any]) -> None:
    fake_request(path="/a/b", args={"q": "1"})

    def method_and_q(_: Any) -> str:
        from owt.request import request

        return f"{request.method} {request.args['q']}"

    assert pipe().path().f(method_and_q)()[0] == "GET 1"


def test_request_steps_outside_a_request_fail_clearly() -> None:
    with pytest.raises(RuntimeError, match="only available while an adaptor is answering"):
        pipe().path()()[0]
