"""owt.summat steps that reach outside the pipe: importing, shell (installing: test_summat_install.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from summat_fixtures import shell_setting  # noqa: F401

from owt.summat import PipeError, ShellRefused, pipe


def _fresh_lambda(source: str) -> Callable[..., object]:
    namespace: dict[str, object] = {}
    exec(f"fn = {source}", namespace)
    return namespace["fn"]  # type: ignore[return-value]


def test_importing_makes_a_module_visible_to_later_lambdas() -> None:
    dumps = _fresh_lambda("lambda x: json.dumps(x)")
    assert pipe().importing("json").f(dumps)(["a"])[0] == '["a"]'


def test_importing_round_trip_over_the_path_value() -> None:
    dumps = _fresh_lambda("lambda p: json.dumps(p)")
    loads = _fresh_lambda("lambda x: json.loads(x)")
    run = pipe().importing("json").const(["some", "path"]).f(dumps).f(loads).last()
    assert run()[0] == "path"


def test_importing_submodule_and_alias() -> None:
    fn = _fresh_lambda("lambda x: (os.path.basename(x), pp.join('a', 'b'))")
    assert pipe().importing("os.path", "posixpath as pp").f(fn)("/a/b.txt")[0] == ("b.txt", "a/b")


def test_importing_reaches_nested_functions_and_map() -> None:
    fn = _fresh_lambda("lambda xs: [(lambda y: math.floor(y))(x) for x in xs]")
    assert pipe().importing("math").f(fn)([1.5, 2.5])[0] == [1, 2]
    per_item = _fresh_lambda("lambda x: math.ceil(x)")
    assert pipe().importing("math").map(per_item)([1.5])[0] == [2]


def test_importing_never_replaces_a_name_the_code_defines() -> None:
    namespace: dict[str, object] = {"json": "mine"}
    exec("fn = lambda x: json", namespace)
    assert pipe().importing("json").f(namespace["fn"])(1)[0] == "mine"


def test_importing_a_missing_module_says_where_to_install() -> None:
    with pytest.raises(PipeError, match="no_such_module_xyz.*server's Python or a --venv"):
        pipe().importing("no_such_module_xyz")()[0]


def test_shell_is_refused_by_default(shell_setting: Callable[[bool], None]) -> None:
    shell_setting(False)
    with pytest.raises(ShellRefused, match="--allow-shell") as caught:
        pipe().const("echo hi").shell()()[0]
    assert caught.value.owt_status == 403


def test_shell_runs_when_allowed(shell_setting: Callable[[bool], None]) -> None:
    shell_setting(True)
    assert pipe().const("echo hi").shell()()[0] == b"hi\n"
    assert pipe().shell()(["printf", "%s", "a b"])[0] == b"a b"


def test_shell_failure_reports_status_and_stderr(shell_setting: Callable[[bool], None]) -> None:
    shell_setting(True)
    with pytest.raises(PipeError, match="status 3: oops"):
        pipe().const("echo oops >&2; exit 3").shell()()[0]


def test_shell_follows_the_runtime_config(restore_process: None) -> None:
    import owt._runtime as runtime

    try:
        runtime.configure({"allow_shell": True, "redirect_stdio": False})
        assert pipe().const("echo ok").shell()()[0] == b"ok\n"
        runtime.configure({"allow_shell": False, "redirect_stdio": False})
        with pytest.raises(ShellRefused):
            pipe().const("echo ok").shell()()[0]
    finally:
        runtime.configure({"redirect_stdio": False})


def test_settings_override_the_runtime_config(
    restore_process: None, shell_setting: Callable[[bool], None]
) -> None:
    import owt._runtime as runtime

    try:
        runtime.configure({"allow_shell": True, "redirect_stdio": False})
        shell_setting(False)
        with pytest.raises(ShellRefused):
            pipe().const("echo ok").shell()()[0]
    finally:
        runtime.configure({"redirect_stdio": False})
