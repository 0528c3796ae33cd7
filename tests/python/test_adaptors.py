"""owt._adaptors: lazy adaptor modules, pipe detection, named-adaptor resolution."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from owt._adaptors import AdaptorDirs, LazyModule, finish_pipe, is_pipe, scan
from owt._errors import AdaptorError, NotFound
from owt.summat import pipe


@pytest.fixture
def dirs(restore_process: None, adaptor_dir: Path) -> AdaptorDirs:
    sys.path.insert(0, str(adaptor_dir))
    return AdaptorDirs([str(adaptor_dir)])


def test_scan_finds_modules_and_packages(tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    first.mkdir()
    second.mkdir()
    (first / "alpha.py").write_text("")
    (first / "pkg").mkdir()
    (first / "pkg" / "__init__.py").write_text("")
    (first / "not_a_pkg").mkdir()
    (first / "bad-name.py").write_text("")
    (first / "class.py").write_text("")
    (first / "notes.txt").write_text("")
    (second / "alpha.py").write_text("")
    (second / "beta.py").write_text("")
    found = scan([str(first), str(second), str(tmp_path / "missing")])
    assert sorted(found) == ["alpha", "beta", "pkg"]
    assert all(isinstance(m, LazyModule) for m in found.values())


def test_lazy_module_imports_on_first_attribute(dirs: AdaptorDirs, adaptor_dir: Path) -> None:
    (adaptor_dir / "owt_test_lazymod.py").write_text("VALUE = 41 + 1\n")
    lazy = LazyModule("owt_test_lazymod")
    assert "owt_test_lazymod" not in sys.modules
    assert "not loaded" in repr(lazy)
    assert lazy.VALUE == 42
    assert "owt_test_lazymod" in sys.modules
    assert "VALUE" in dir(lazy)
    assert "(loaded)" in repr(lazy)


def test_is_pipe() -> None:
    assert is_pipe(pipe().kwarg("x"))
    assert not is_pipe(pipe().kwarg("x").done())
    assert not is_pipe(lambda: 1)

    class Pipe:
        def done(self) -> Any:
            return lambda: "duck"

    assert is_pipe(Pipe())
    assert finish_pipe(Pipe())() == "duck"
    assert finish_pipe(len) is len


def test_is_pipe_does_not_trust_instance_getattr() -> None:
    class Anything:
        def __getattr__(self, name: str) -> Any:
            return True

    assert not is_pipe(Anything())


def test_contains(dirs: AdaptorDirs, adaptor_dir: Path, tmp_path: Path) -> None:
    assert dirs.contains(str(adaptor_dir / "x.py"))
    assert not dirs.contains(str(tmp_path / "x.py"))
    assert not dirs.contains(str(adaptor_dir) + "-sibling/x.py")
    assert not dirs.contains(None)


def test_resolve_module_and_function(dirs: AdaptorDirs, adaptor_dir: Path) -> None:
    (adaptor_dir / "owt_test_res.py").write_text("def run():\n    return 'run'\ndef go():\n    return 'go'\n")
    assert dirs.resolve("owt_test_res", "run")() == "run"
    assert dirs.resolve("owt_test_res", "go")() == "go"
    assert dirs.resolve("owt_test_res.go", "run")() == "go"


def test_resolve_through_a_symlink_outside_is_refused(dirs: AdaptorDirs, adaptor_dir: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "owt_test_link.py").write_text("def run():\n    return 'escaped'\n")
    (adaptor_dir / "owt_test_link.py").symlink_to(outside / "owt_test_link.py")
    with pytest.raises(NotFound):
        dirs.resolve("owt_test_link", "run")


def test_resolve_refuses_non_callables_and_modules(dirs: AdaptorDirs, adaptor_dir: Path) -> None:
    (adaptor_dir / "owt_test_nc.py").write_text("import json\nX = 1\n")
    for name in ("owt_test_nc.X", "owt_test_nc.json", "owt_test_nc"):
        with pytest.raises(NotFound):
            dirs.resolve(name, "run")


def test_resolve_reports_import_failures(dirs: AdaptorDirs, adaptor_dir: Path) -> None:
    (adaptor_dir / "owt_test_raises.py").write_text("raise RuntimeError('broken at import')\n")
    with pytest.raises(AdaptorError, match="RuntimeError: broken at import"):
        dirs.resolve("owt_test_raises", "run")


# ---- --no-code serves functions defined in the adaptor's module, nothing else -------------

ESCAPES = '''
import functools
import os
import sys
from types import SimpleNamespace

import owt_test_other as other_module

MARKER = os.environ["OWT_TEST_MARKER"]

def touch(*args, **kwargs):
    open(MARKER, "w").close()
    return "escaped"

partial_system = functools.partial(os.system, "touch " + MARKER)
partial_own = functools.partial(touch, 1)

class Callable:
    def __call__(self, **kwargs):
        return touch()

instance = Callable()

class Klass:
    def __init__(self, **kwargs):
        touch()

class WithMethods:
    def method(self, **kwargs):
        return touch()

    @staticmethod
    def static(**kwargs):
        return touch()

bound = WithMethods().method
static = WithMethods.__dict__["static"]
imported_method = os.environ.get
builtin = print
system = os.system
namespace = SimpleNamespace(run=touch)

class Pipe:
    def done(self):
        touch()
        return os.system

fake_pipe = Pipe()

exec("def from_exec(**kwargs):\\n    return touch()\\n")

from owt_test_outside import planted
planted.__module__ = __name__

other_function = other_module.other_function

@functools.lru_cache
def cached(**kwargs):
    return touch()

def module_function(**kwargs):
    return "module function ran"
'''


@pytest.fixture
def escapes(dirs: AdaptorDirs, adaptor_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """owt_test_escapes in the adaptor directory, with every kind of callable that is not its own function."""
    marker = tmp_path / "escaped"
    monkeypatch.setenv("OWT_TEST_MARKER", str(marker))
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "owt_test_outside.py").write_text("def planted(**kwargs):\n    return 'planted'\n")
    sys.path.append(str(outside))
    (adaptor_dir / "owt_test_other.py").write_text("def other_function(**kwargs):\n    return 'other'\n")
    (adaptor_dir / "owt_test_escapes.py").write_text(ESCAPES)
    return marker


@pytest.mark.parametrize(
    "attr",
    [
        "partial_system",
        "partial_own",
        "instance",
        "Klass",
        "WithMethods",
        "bound",
        "static",
        "imported_method",
        "builtin",
        "system",
        "namespace",
        "fake_pipe",
        "from_exec",
        "planted",
        "other_function",
        "cached",
        "other_module",
        "MARKER",
    ],
)
def test_only_the_modules_own_functions_are_served(dirs: AdaptorDirs, escapes: Path, attr: str) -> None:
    with pytest.raises(NotFound) as caught:
        dirs.resolve(f"owt_test_escapes.{attr}", "run")
    assert caught.value.kind == "not_found"
    with pytest.raises(NotFound):
        dirs.resolve("owt_test_escapes", attr)
    assert not escapes.exists(), f"resolving {attr} ran code"
    assert dirs.resolve("owt_test_escapes.module_function", "run")() == "module function ran"


@pytest.mark.parametrize(
    "name",
    [
        "owt_test_escapes.os.system",
        "owt_test_escapes.os.path.join",
        "owt_test_escapes.functools.partial",
        "owt_test_escapes.namespace.run",
        "owt_test_escapes.other_module.other_function",
        "owt_test_escapes.sys.modules",
        "owt_test_escapes.WithMethods.method",
        "owt_test_escapes.module_function.__call__",
        "owt_test_escapes.module_function.anything",
        "owt_test_other.other_function.x",
        "owt_test_nosuch.run",
    ],
)
def test_dotted_names_through_module_attributes_are_not_found(dirs: AdaptorDirs, escapes: Path, name: str) -> None:
    with pytest.raises(NotFound):
        dirs.resolve(name, "run")
    assert not escapes.exists()


def test_a_function_of_another_adaptor_module_is_served_under_its_own_name(dirs: AdaptorDirs, escapes: Path) -> None:
    assert dirs.resolve("owt_test_other.other_function", "run")() == "other"


def test_module_getattr_cannot_hand_out_callables(dirs: AdaptorDirs, adaptor_dir: Path) -> None:
    (adaptor_dir / "owt_test_getattr.py").write_text(
        "import os\ndef __getattr__(name):\n    return os.system\n"
    )
    with pytest.raises(NotFound):
        dirs.resolve("owt_test_getattr.anything", "run")


def test_lambdas_generators_and_coroutines_defined_in_the_module_are_served(
    dirs: AdaptorDirs, adaptor_dir: Path
) -> None:
    (adaptor_dir / "owt_test_kinds.py").write_text(
        "import functools\n"
        "def deco(fn):\n"
        "    @functools.wraps(fn)\n"
        "    def wrapper(**kwargs):\n"
        "        return fn(**kwargs).upper()\n"
        "    return wrapper\n"
        "run = lambda: 'lambda'\n"
        "def gen():\n    yield 'gen'\n"
        "async def coro():\n    return 'coro'\n"
        "@deco\ndef decorated():\n    return 'decorated'\n"
    )
    assert dirs.resolve("owt_test_kinds", "run")() == "lambda"
    assert list(dirs.resolve("owt_test_kinds.gen", "run")()) == ["gen"]
    coro = dirs.resolve("owt_test_kinds.coro", "run")()
    with pytest.raises(StopIteration) as done:
        coro.send(None)
    assert done.value.value == "coro"
    assert dirs.resolve("owt_test_kinds.decorated", "run")() == "DECORATED"


def test_a_module_that_is_not_a_package_has_no_submodules(dirs: AdaptorDirs, adaptor_dir: Path) -> None:
    (adaptor_dir / "owt_test_flat.py").write_text("import os\ndef run():\n    return 1\n")
    for name in ("owt_test_flat.os", "owt_test_flat.os.system", "owt_test_flat.run.x.y"):
        with pytest.raises(NotFound):
            dirs.resolve(name, "run")


def test_a_missing_dependency_of_an_adaptor_module_is_still_its_error(dirs: AdaptorDirs, adaptor_dir: Path) -> None:
    (adaptor_dir / "owt_test_dep.py").write_text("import owt_test_no_such_dependency\ndef run():\n    return 1\n")
    with pytest.raises(AdaptorError, match="owt_test_no_such_dependency"):
        dirs.resolve("owt_test_dep.run", "run")
    with pytest.raises(AdaptorError, match="owt_test_no_such_dependency"):
        dirs.resolve("owt_test_dep.run.more", "run")
