"""owt._signature: kwargs checked against the function's signature before the call."""

from __future__ import annotations

import functools
import inspect
from typing import Any

import pytest

from owt._errors import BadRequest
from owt._signature import _shapes, check_call, describe


def run(name: str, n: int = 1) -> str:
    return name * n


def test_kwargs_that_fit_pass() -> None:
    check_call(run, {"name": "x"})
    check_call(run, {"name": "x", "n": 2})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"nam": "x"},
            "run(name: str, n: int = 1) got an unexpected keyword argument 'nam'; "
            "missing a required argument: 'name'",
        ),
        (
            {"b": 1, "a": 2, "n": 3},
            "run(name: str, n: int = 1) got unexpected keyword arguments 'a', 'b'; "
            "missing a required argument: 'name'",
        ),
        ({}, "run(name: str, n: int = 1) missing a required argument: 'name'"),
        ({"name": "x", "extra": 1}, "run(name: str, n: int = 1) got an unexpected keyword argument 'extra'"),
    ],
    ids=["misspelled", "two-unexpected", "missing", "extra"],
)
def test_kwargs_that_do_not_fit_name_the_signature(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        check_call(run, kwargs)
    assert caught.value.message == message
    assert caught.value.kind == "bad_request"


def test_var_keyword_takes_any_name() -> None:
    def anything(a: int = 0, **rest: Any) -> Any:
        return rest

    check_call(anything, {"b": 1, "not an identifier": 2})


def test_keyword_only_and_positional_only() -> None:
    def kw_only(*, key: str) -> str:
        return key

    check_call(kw_only, {"key": "k"})
    with pytest.raises(BadRequest, match=r"^kw_only\(\*, key: str\) missing a required argument: 'key'$"):
        check_call(kw_only, {})

    def pos_only(x: int, /) -> int:
        return x

    with pytest.raises(BadRequest) as caught:
        check_call(pos_only, {"x": 1})
    assert caught.value.message == "pos_only(x: int, /) takes 'x' only by position, not as a keyword argument"

    def two(a: int, b: int) -> int:
        return a + b

    with pytest.raises(BadRequest, match=r"^two\(a: int, b: int\) missing required arguments: 'a', 'b'$"):
        check_call(two, {})

    def pos_only_default(x: int = 0, /, **rest: Any) -> Any:
        return x, rest

    check_call(pos_only_default, {"x": 1})  # x lands in **rest, as a call would put it


def test_string_annotations_are_shown_as_written() -> None:
    namespace: dict[str, Any] = {}
    exec("from __future__ import annotations\ndef run(prompt: str = '') -> str:\n    return prompt\n", namespace)
    fn = namespace["run"]
    assert describe(fn, inspect.signature(fn)) == "run(prompt: str = '')"
    with pytest.raises(BadRequest, match=r"^run\(prompt: str = ''\) got an unexpected keyword argument 'p'$"):
        check_call(fn, {"p": 1})


def test_a_decorator_wrapper_is_checked_as_itself() -> None:
    def inject(fn: Any) -> Any:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return fn("model", *args, **kwargs)

        return wrapper

    @inject
    def predict(model: str, prompt: str) -> str:
        return f"{model}:{prompt}"

    check_call(predict, {"prompt": "p"})  # predict's own signature would say model is missing
    assert predict(prompt="p") == "model:p"


def test_callables_without_a_readable_signature_are_just_called() -> None:
    check_call(max, {"anything": 1})

    class Odd:
        @property
        def __signature__(self) -> Any:
            raise RuntimeError("no signature for you")

        def __call__(self, **kwargs: Any) -> Any:
            return kwargs

    check_call(Odd(), {"a": 1})


def test_callable_objects_and_partials() -> None:
    class Greeter:
        def __call__(self, name: str) -> str:
            return name

    with pytest.raises(BadRequest, match=r"^Greeter\(name: str\) got an unexpected keyword argument 'who'; "):
        check_call(Greeter(), {"who": "x"})
    part = functools.partial(run, n=3)
    check_call(part, {"name": "x"})
    with pytest.raises(BadRequest, match="missing a required argument: 'name'"):
        check_call(part, {})


def test_a_bare_value_that_does_not_fit_explains_last() -> None:
    def two(a: int, b: int) -> int:
        return a + b

    with pytest.raises(BadRequest, match="arrives as the keyword argument __last__"):
        check_call(two, {"__last__": 5})


def test_the_signature_is_read_once_per_function(monkeypatch: pytest.MonkeyPatch) -> None:
    def once(a: int) -> int:
        return a

    calls = []
    real = inspect.signature

    def counting(*args: Any, **kwargs: Any) -> inspect.Signature:
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(inspect, "signature", counting)
    for _ in range(3):
        check_call(once, {"a": 1})
    with pytest.raises(BadRequest):
        check_call(once, {"b": 1})
    assert calls == [once]
    assert once in _shapes
