"""owt.summat steps that apply functions: f, exec, cast, map, foldl, foldl1, cond, fork."""

from __future__ import annotations

import pytest
from summat_fixtures import ADAPTORS  # noqa: F401

from owt.summat import PipeCallError, PipeError, pipe


def test_f_gets_the_last_value() -> None:
    assert pipe().f(lambda x: str(x + 1))(5)[0] == "6"


def test_f_gets_the_kwargs_without_a_last_value() -> None:
    assert pipe().f(lambda name: f"Hello, {name}!")(name="owt")[0] == "Hello, owt!"


def test_f_gets_the_kwargs_dict_when_it_takes_one_other_parameter() -> None:
    assert pipe().f(lambda d: sorted(d))(b=1, a=2)[0] == ["a", "b"]


def test_f_prefers_the_last_value_when_both_fit() -> None:
    run = pipe().kwargs(x=1).f(lambda x: x + 1).f(lambda x: x * 10)
    assert run()[0] == 20


def test_f_gets_the_kwargs_when_it_cannot_take_the_last_value() -> None:
    assert pipe().const(9).f(lambda *, name: name)(name="owt")[0] == "owt"
    assert pipe().const(9).f(lambda a, b: a + b)(a=1, b=2)[0] == 3


def test_f_gets_the_last_value_and_the_kwargs_together() -> None:
    run = pipe().const(["x", "y"]).f(lambda segs, sep: sep.join(segs))
    assert run(sep="-")[0] == "x-y"


def test_f_nullary_and_builtins() -> None:
    assert pipe().f(lambda: "hi")(5)[0] == "hi"
    assert pipe().f(str)(5)[0] == "5"
    assert pipe().f(len)(["a", "b"])[0] == 2


def test_f_with_no_fitting_form_explains() -> None:
    with pytest.raises(PipeCallError, match=r"f\(<lambda>\): cannot call <lambda>\(a, b, c\)"):
        pipe().f(lambda a, b, c: None)(1)[0]


def test_f_runs_a_sub_pipe_from_the_current_state() -> None:
    assert pipe().const([1, 2]).f(pipe().last())()[0] == 2


def test_exec_runs_for_effect_and_passes_the_value() -> None:
    seen: list[object] = []
    assert pipe().const(3).exec(seen.append).f(lambda x: x + 1)()[0] == 4
    assert seen == [3]


def test_cast_always_passes_one_value() -> None:
    assert pipe().const("15").cast(int)()[0] == 15
    assert pipe().cast(sorted)(b=1, a=2)[0] == ["a", "b"]


def test_map_applies_to_each_element() -> None:
    assert pipe().map(lambda x: x[::-1])(["some", "path"])[0] == ["emos", "htap"]


def test_map_accepts_a_sub_pipe() -> None:
    assert pipe().map(pipe().f(lambda x: x * 2))([1, 2])[0] == [2, 4]


def test_foldl_sums_a_list() -> None:
    assert pipe().foldl(lambda acc, x: acc + x, 0).f(str)([1, 2, 3, 4, 5])[0] == "15"
    assert pipe().foldl(lambda acc, x: acc + x, 10)([])[0] == 10


def test_map_then_foldl1() -> None:
    run = pipe().map(lambda x: x[::-1]).foldl1(lambda x, y: x + y)
    assert run(["some", "path"])[0] == "emoshtap"


def test_foldl1_of_empty_is_a_clear_error() -> None:
    with pytest.raises(PipeError, match="empty.*foldl"):
        pipe().foldl1(lambda x, y: x + y)([])[0]


def test_cond_picks_a_branch_by_truthiness() -> None:
    run = pipe().cast(int).f(lambda x: x > 10).cond(pipe().const("true"), pipe().const("false"))
    assert run("15")[0] == "true"
    assert run("5")[0] == "false"


def test_cond_branches_may_be_functions_or_constants() -> None:
    assert pipe().cond(lambda x: x * 2, "none")(4)[0] == 8
    assert pipe().cond(lambda x: x * 2, "none")(0)[0] == "none"
    assert pipe().cond("yes")(0)[0] == 0


def test_fork_returns_a_tuple_of_both_branches() -> None:
    run = pipe().fork(pipe().f(len), pipe().const("right")).cast(str)
    assert run("test")[0] == "(4, 'right')"


def test_fork_branches_do_not_see_each_other() -> None:
    assert pipe().fork(pipe().clear(), pipe().kwarg("a"), len)(a="xy")[0] == (None, "xy", 1)
