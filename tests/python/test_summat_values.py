"""owt.summat steps that pick or reset the value: kwarg, kwargs, input, clear, const, identity, last, ix, get."""

from __future__ import annotations

import pytest
from summat_fixtures import ADAPTORS  # noqa: F401

from owt.summat import PipeLookupError, pipe


def test_kwarg_takes_the_named_kwarg() -> None:
    assert pipe().kwarg("name")(name="owt", other=1)[0] == "owt"


def test_kwarg_missing_says_what_to_send() -> None:
    with pytest.raises(PipeLookupError, match=r"kwarg\('name'\).*has: other.*send it in kwargs"):
        pipe().kwarg("name")(other=1)[0]


def test_kwarg_default_when_missing() -> None:
    assert pipe().kwarg("name", "nobody")()[0] == "nobody"


def test_kwargs_defaults_are_overridden_by_the_request() -> None:
    run = pipe().kwargs(x=1, y=2).f(lambda x=None, y=None, z=1: x + y + z)
    assert run(x=0, z=4)[0] == 6


def test_kwargs_clears_the_last_value() -> None:
    assert pipe().const(5).kwargs(x=1)()[0] == {"x": 1}


def test_kwargs_unused_by_a_catch_all_function() -> None:
    assert pipe().kwargs(x=1, y=2).f(lambda **_: "unused args")()[0] == "unused args"


def test_input_goes_back_to_the_request_kwargs() -> None:
    run = pipe().clear().const(3).input().f(lambda name: f"hi {name}")
    assert run(name="owt")[0] == "hi owt"


def test_input_restores_the_request_last_value() -> None:
    assert pipe().const("x").input()("start")[0] == "start"


def test_clear_drops_kwargs_and_sets_none() -> None:
    assert pipe().clear().f(lambda _: "no kwargs")(x=1, y=2)[0] == "no kwargs"
    assert pipe().clear()(x=1)[0] is None
    assert pipe().clear().kwarg("x", "gone")(x=1)[0] == "gone"


def test_const_replaces_the_value() -> None:
    assert pipe().const("abc")()[0] == "abc"
    assert pipe().const(123)(__last__=9)[0] == 123
    assert pipe().const({"x": 123, "y": "abc"})()[0] == {"x": 123, "y": "abc"}


def test_identity_passes_the_value() -> None:
    assert pipe().identity()("test")[0] == "test"
    assert pipe().identity()(a=1)[0] == {"a": 1}


def test_last_of_a_sequence_and_an_iterable() -> None:
    assert pipe().last()(["a", "b", "c"])[0] == "c"
    assert pipe().last()(__last__=iter([1, 2]))[0] == 2


def test_last_of_empty_or_a_dict_is_a_clear_error() -> None:
    with pytest.raises(PipeLookupError, match="empty"):
        pipe().last()([])[0]
    with pytest.raises(PipeLookupError, match="get\\(key\\)"):
        pipe().last()({"a": 1})[0]


def test_ix_indexes_the_value() -> None:
    assert pipe().ix(1)(["a", "b", "c"])[0] == "b"
    assert pipe().ix(-1)(("a", "b"))[0] == "b"


def test_ix_out_of_range_names_the_length() -> None:
    with pytest.raises(PipeLookupError, match="length 3"):
        pipe().ix(5)(["a", "b", "c"])[0]


def test_get_a_key() -> None:
    assert pipe().const({"extra": "123"}).get("extra")()[0] == "123"
    assert pipe().get("a")(a=1, b=2)[0] == 1


def test_get_missing_key_lists_keys_or_uses_default() -> None:
    with pytest.raises(PipeLookupError, match="no key 'z'.*keys: 'a'"):
        pipe().const({"a": 1}).get("z")()[0]
    assert pipe().const({"a": 1}).get("z", 0)()[0] == 0
