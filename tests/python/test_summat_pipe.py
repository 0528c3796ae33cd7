"""owt.summat pipes as a whole: pipe(), calling, done(), branching safety, the seed examples."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
from summat_fixtures import ADAPTORS

import sota
from owt.summat import Pipe, PipeLookupError, pipe


def test_pipe_is_marked_and_callable() -> None:
    p = pipe()
    assert isinstance(p, Pipe)
    assert p.__owt_pipe__ is True
    assert p(a=1) == ({"a": 1}, {"a": 1, "__last__": {"a": 1}})
    assert p("x") == ("x", {"__last__": "x"})


def test_calling_a_pipe_returns_value_and_kwargs_as_the_seed_does() -> None:
    """The seed's tests/test_owt.py test_raw_pipe, verbatim in effect."""
    p = pipe().const(1).f(lambda x: x + 1)
    assert p() == (2, {"__last__": 2})
    run = p.done()
    assert run(None) == 2


def test_the_kwargs_a_pipe_ends_with_carry_the_value() -> None:
    assert pipe().kwarg("a").f(lambda a: a * 2)(a=3, b=4) == (6, {"a": 3, "b": 4, "__last__": 6})
    assert pipe().clear()(a=1) == (None, {"__last__": None})
    assert pipe().kwargs(x=1)(y=2) == ({"x": 1, "y": 2}, {"x": 1, "y": 2, "__last__": {"x": 1, "y": 2}})


def test_a_pipe_called_with_two_values_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="at most one positional value"):
        pipe()(1, 2)
    with pytest.raises(TypeError, match="both a positional value and __last__"):
        pipe().done()(1, __last__=2)


def test_pipe_starts_from_the_kwargs_last() -> None:
    assert pipe().f(lambda x: x * 2)(__last__=21)[0] == 42


def test_done_returns_a_plain_run_function() -> None:
    run = pipe().const(1).f(lambda x: x + 1).done()
    assert not hasattr(run, "__owt_pipe__")
    assert inspect.isfunction(run)
    assert run() == 2
    assert pipe().kwarg("name").done()(name="owt") == "owt"
    assert pipe().f(lambda x: x * 2).done()(21) == 42
    assert pipe().f(lambda x: x * 2).done()(__last__=21) == 42


def test_a_pipe_inside_a_function_is_called_like_the_seeds() -> None:
    def run() -> str:
        value, kwargs = pipe().const(1).f(lambda x: x + 1)()
        return f"{value} {kwargs}"

    assert run() == "2 {'__last__': 2}"


def test_steps_return_new_pipes() -> None:
    base = pipe().const([1, 2, 3])
    first, last = base.ix(0), base.last()
    assert (base()[0], first()[0], last()[0]) == ([1, 2, 3], 1, 3)


def test_repr_reads_like_the_code() -> None:
    assert repr(pipe().kwarg("path").open(root_dir="x").bytes()) == "pipe().kwarg('path').open(root_dir='x').bytes()"


def test_a_failing_step_is_named_in_a_note() -> None:
    with pytest.raises(PipeLookupError) as caught:
        pipe().const([]).last()()[0]
    assert any("step 2: .last()" in note for note in caught.value.__notes__)


def test_the_seed_simple_pipeline(tmp_path: Path) -> None:
    (tmp_path / "simple.sh").write_text("URL=\"$1\"\n")
    run = (
        pipe()
        .kwarg("path")
        .open(root_dir=str(tmp_path))
        .bytes()
        .f(lambda ab: ab.decode("utf-8").upper())
        .done()
    )
    assert run(path="simple.sh") == 'URL="$1"\n'


def test_f_of_a_server_side_adaptor() -> None:
    assert (ADAPTORS / "sota.py").is_file()
    assert pipe().f(sota.hard_task)(__last__="solve AGI")[0] == "AGI solved!"
    assert pipe().f(sota.hard_task)(prompt="solve AGI")[0] == "AGI solved!"


def test_sota_hard_task_is_deterministic() -> None:
    assert sota.hard_task("write tests") == "tests written!"
    assert sota.hard_task("carry the load") == "the load carried!"
    assert sota.hard_task("hello") == "hello: done!"
    assert sota.hard_task("") == "Nothing to do!"
    assert sota.run(prompt="fix it") == "it fixed!"


def test_any_kwarg_name_reaches_the_pipe() -> None:
    assert pipe()(self=1, value=2)[0] == {"self": 1, "value": 2}
    assert pipe().kwargs(self=1).f(lambda **kw: kw)()[0] == {"self": 1}
