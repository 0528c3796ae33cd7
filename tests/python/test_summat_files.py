"""owt.summat steps for files and bytes: open (confined to root_dir) and bytes."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from summat_fixtures import ADAPTORS  # noqa: F401

from owt.summat import PipeCallError, PipeError, PipeForbidden, PipeNotFound, pipe


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "simple.sh").write_text("echo hi\n")
    (root / "sub" / "inner.txt").write_text("inner")
    (tmp_path / "secret.txt").write_text("secret")
    (root / "escape").symlink_to(tmp_path / "secret.txt")
    (root / "inside").symlink_to(root / "sub" / "inner.txt")
    return root


def test_open_reads_under_root_dir(tree: Path) -> None:
    run = pipe().kwarg("path").open(root_dir=str(tree)).bytes().f(lambda ab: ab.decode("utf-8").upper())
    assert run(path="simple.sh")[0] == "ECHO HI\n"


def test_open_gives_a_bytes_buffer(tree: Path) -> None:
    out = pipe().open(root_dir=tree)("sub/inner.txt")[0]
    assert isinstance(out, io.BytesIO) and out.getvalue() == b"inner"


def test_open_defaults_to_the_cwd(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tree)
    assert pipe().open().bytes()("simple.sh")[0] == b"echo hi\n"


def test_open_follows_symlinks_that_stay_inside(tree: Path) -> None:
    assert pipe().open(root_dir=tree).bytes()("inside")[0] == b"inner"


@pytest.mark.parametrize("name", ["../secret.txt", "sub/../../secret.txt", "escape"])
def test_open_refuses_escapes(tree: Path, name: str) -> None:
    with pytest.raises(PipeForbidden, match="is outside root_dir") as caught:
        pipe().open(root_dir=str(tree))(name)[0]
    assert caught.value.owt_status == 403


def test_open_refuses_an_absolute_path_outside(tree: Path) -> None:
    with pytest.raises(PipeForbidden, match="outside root_dir"):
        pipe().open(root_dir=tree)(str(tree.parent / "secret.txt"))[0]
    with pytest.raises(PipeForbidden, match="outside root_dir"):
        pipe().open(root_dir=tree)("/etc/passwd")[0]


def test_open_missing_file_is_not_found(tree: Path) -> None:
    with pytest.raises(PipeNotFound, match="no file 'nope'") as caught:
        pipe().open(root_dir=tree)("nope")[0]
    assert caught.value.owt_status == 404


def test_open_needs_a_path_value(tree: Path) -> None:
    with pytest.raises(PipeError, match="must be a path.*kwarg\\('path'\\)"):
        pipe().open(root_dir=tree)(5)[0]


def test_bytes_conversions() -> None:
    assert pipe().bytes()("é") [0]== "é".encode()
    assert pipe().bytes()(b"ab")[0] == b"ab"
    assert pipe().bytes()(bytearray(b"ab"))[0] == b"ab"
    assert pipe().bytes()(io.BytesIO(b"buf"))[0] == b"buf"
    assert pipe().bytes()(io.StringIO("txt"))[0] == b"txt"
    assert pipe().bytes()(42)[0] == b"42"
    assert pipe().bytes()([104, 105])[0] == b"hi"


def test_bytes_refuses_what_it_cannot_convert() -> None:
    with pytest.raises(PipeCallError, match="json.dumps"):
        pipe().bytes()({"a": 1})[0]


def test_open_result_is_closed_on_disk(tree: Path) -> None:
    before = len(os.listdir("/proc/self/fd"))
    pipe().open(root_dir=tree)("simple.sh")[0]
    assert len(os.listdir("/proc/self/fd")) == before
