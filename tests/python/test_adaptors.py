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
