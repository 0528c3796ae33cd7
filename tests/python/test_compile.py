"""owt._compile: the three code modes (PROTOCOL §4), fresh namespaces, the LRU."""

from __future__ import annotations

import linecache
import sys
import types
from typing import Any

import pytest
from conftest import digest

import owt
from owt._compile import LRU, build, choose_mode
from owt._errors import AdaptorError, BadRequest
from owt.summat import Pipe


def base() -> dict[str, Any]:
    return {name: getattr(owt, name) for name in owt.__all__} | {"_SERVER": owt.Server.sing()}


def make(code: str, fn_name: str = "run", namespace: dict[str, Any] | None = None) -> Any:
    return build(code, fn_name, digest(code, fn_name), base() if namespace is None else namespace)


def test_explicit_def() -> None:
    warm = make("def run(name):\n    return f'Hello, {name}!'\n")
    assert warm.mode == "explicit"
    assert warm.fn(name="owt") == "Hello, owt!"


def test_explicit_other_fn_name() -> None:
    warm = make("def greet(name):\n    return 'Hi ' + name\n", "greet")
    assert warm.fn(name="owt") == "Hi owt"


def test_explicit_non_ascii_fn_name() -> None:
    assert make("def grüß():\n    return 'servus'\n", "grüß").fn() == "servus"


def test_explicit_crlf_without_final_newline() -> None:
    assert make("def run():\r\n    return 1").fn() == 1


def test_explicit_assignment_of_a_pipe_is_finished() -> None:
    warm = make("run = pipe().kwarg('x')")
    assert warm.mode == "explicit"
    assert not isinstance(warm.fn, Pipe)
    assert warm.fn(x=5) == 5


def test_explicit_pipe_already_done() -> None:
    assert make("run = (pipe()\n       .kwarg('x')\n       .done())\n").fn(x="y") == "y"


def test_implicit_expression() -> None:
    warm = make("lambda name: name.upper()")
    assert warm.mode == "implicit"
    assert warm.fn(name="owt") == "OWT"


def test_implicit_pipe_is_finished() -> None:
    warm = make("pipe().kwarg('x').f(lambda x: x * 2)")
    assert warm.mode == "implicit"
    assert not isinstance(warm.fn, Pipe)
    assert warm.fn(x=21) == 42


def test_implicit_expression_over_several_lines() -> None:
    warm = make("pipe()\n.kwarg('x')\n.f(str)")
    assert warm.mode == "implicit"
    assert warm.fn(x=1) == "1"


def test_implicit_with_trailing_comment() -> None:
    assert make("lambda: 7  # seven").fn() == 7


def test_terse_pipe_continuation() -> None:
    warm = make('kwarg("x")')
    assert warm.mode == "terse"
    assert warm.fn(x=1) == 1


def test_terse_with_a_leading_dot_and_lines() -> None:
    warm = make(".kwarg('x')\n.f(lambda v: v + 1)")
    assert warm.mode == "terse"
    assert warm.fn(x=1) == 2


def test_terse_over_several_lines() -> None:
    warm = make("kwarg('x')\n.f(lambda v: -v)")
    assert warm.mode == "terse"
    assert warm.fn(x=3) == -3


def test_terse_when_the_head_is_a_builtin_that_is_also_a_pipe_step() -> None:
    mode, _, _ = choose_mode("map(lambda x: x + 1)", "run", base())
    assert mode == "terse"


def test_terse_with_an_adaptor_module() -> None:
    namespace = base()
    namespace["sota"] = types.SimpleNamespace(hard_task=lambda prompt: prompt[::-1])
    warm = make("f(sota.hard_task)", namespace=namespace)
    assert warm.mode == "terse"
    assert warm.fn(__last__="abc") == "cba"


def test_implicit_when_the_head_name_is_defined() -> None:
    namespace = base()
    namespace["kwarg"] = lambda name: (lambda **kw: ("mine", kw[name]))
    warm = make("kwarg('x')", namespace=namespace)
    assert warm.mode == "implicit"
    assert warm.fn(x=1) == ("mine", 1)


def test_unknown_head_name_is_implicit_and_reports_the_name_error() -> None:
    with pytest.raises(AdaptorError, match="NameError: name 'nowhere' is not defined"):
        make("nowhere(1)")


def test_first_match_wins_explicit_over_expression() -> None:
    mode, _, _ = choose_mode("def run():\n    return 1\n", "run", base())
    assert mode == "explicit"


def test_no_mode_names_the_function_and_the_syntax_error() -> None:
    with pytest.raises(BadRequest) as caught:
        make("def run(:\n    pass\n")
    err = caught.value
    assert err.kind == "bad_request"
    assert "'run'" in err.message
    assert "SyntaxError" in err.message and "line 1" in err.message


def test_module_without_fn_name_lists_what_it_defines() -> None:
    with pytest.raises(BadRequest, match=r"no function 'run'.*It defines: go; pass fn_name"):
        make("x = 1\ndef go():\n    return x\n")


def test_null_byte_is_a_bad_request() -> None:
    with pytest.raises(BadRequest, match="null bytes"):
        make("def run():\n    return 1\x00\n")


def test_fn_name_must_be_an_identifier() -> None:
    with pytest.raises(BadRequest, match="not a Python identifier"):
        make("lambda: 1", "x = 1\nimport os\ny")


def test_non_callable_fn_is_a_bad_request() -> None:
    with pytest.raises(BadRequest, match="'run' is a int, not a function"):
        make("run = 42\n")


def test_module_level_exception_is_an_adaptor_error_with_traceback() -> None:
    with pytest.raises(AdaptorError) as caught:
        make("import no_such_module_owt\n\ndef run():\n    return 1\n")
    err = caught.value
    assert err.message == "Error executing code: ModuleNotFoundError: No module named 'no_such_module_owt'"
    assert "line 1" in err.traceback


def test_module_level_sys_exit_is_an_adaptor_error() -> None:
    with pytest.raises(AdaptorError, match="SystemExit: 2") as caught:
        make("import sys\nsys.exit(2)\n")
    assert "sys.exit(2)" in caught.value.traceback


def test_each_module_gets_a_fresh_namespace() -> None:
    a = make("x = []\ndef run():\n    x.append(1)\n    return len(x)\n")
    b = make("x = []\ndef run():\n    x.append(1)\n    return len(x)  # other\n")
    assert a.module is not b.module
    assert a.module.__name__.startswith("owt_adaptor_") and len(a.module.__name__) == len("owt_adaptor_") + 12
    assert [a.fn(), a.fn(), b.fn()] == [1, 2, 1]


def test_namespace_starts_with_what_owt_exports() -> None:
    warm = make("def run():\n    return pipe, request, Server, Response, stream, _SERVER\n")
    assert warm.fn() == (owt.pipe, owt.request, owt.Server, owt.Response, owt.stream, owt.Server.sing())


def test_modules_are_not_left_in_sys_modules() -> None:
    warm = make("def run():\n    return __name__\n")
    assert warm.fn() not in sys.modules


def test_dataclasses_with_string_annotations_work() -> None:
    code = (
        "from __future__ import annotations\n"
        "from dataclasses import dataclass\n"
        "import typing\n"
        "@dataclass\n"
        "class Point:\n"
        "    x: int\n"
        "    tag: typing.ClassVar[str] = 'p'\n"
        "def run(x):\n"
        "    return Point(x)\n"
    )
    assert make(code).fn(x=1).x == 1


def test_tracebacks_show_the_adaptor_source_and_eviction_forgets_it() -> None:
    warm = make("def run():\n    return 'line two'\n")
    assert linecache.getline(warm.filename, 2).strip() == "return 'line two'"
    warm.drop()
    assert warm.filename not in linecache.cache


def test_failed_build_leaves_no_source_behind() -> None:
    code = "raise ValueError('at import')\n"
    with pytest.raises(AdaptorError):
        make(code)
    assert f"<owt adaptor {digest(code).hex()[:12]}>" not in linecache.cache


def test_lru_is_bounded_and_evicts_least_recently_used() -> None:
    dropped: list[str] = []

    class Item:
        def __init__(self, name: str) -> None:
            self.name = name

        def drop(self) -> None:
            dropped.append(self.name)

    lru = LRU(2)
    lru.put("a", Item("a"))
    lru.put("b", Item("b"))
    assert lru.get("a").name == "a"
    lru.put("c", Item("c"))
    assert len(lru) == 2
    assert "b" not in lru and "a" in lru and "c" in lru
    assert dropped == ["b"]
    lru.clear()
    assert len(lru) == 0 and sorted(dropped) == ["a", "b", "c"]


def test_lru_of_size_zero_keeps_nothing() -> None:
    lru = LRU(0)
    lru.put("a", object())
    assert lru.get("a") is None and len(lru) == 0
