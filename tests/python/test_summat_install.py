"""owt.summat installing(): refused unless --allow-install --venv DIR; only plain requirements.

The real install (a venv, a local wheel directory, pip) is tests/e2e/test_install.py.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from summat_fixtures import ADAPTORS  # noqa: F401

import owt.summat
from owt.summat import InstallRefused, PipeError, PipeForbidden, pipe
from owt.summat import install


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """``settings(allow_install=True, venv=True)`` for the test (through ``owt.summat._settings``)."""

    def apply(**values: Any) -> None:
        for name, value in values.items():
            monkeypatch.setitem(owt.summat._settings, name, value)

    return apply


@pytest.fixture
def no_pip(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Fails the test if pip would be started; records the attempt."""
    started: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        started.append(args)
        raise AssertionError(f"pip must not run here: {args}")

    monkeypatch.setattr(subprocess, "run", refuse)
    yield started


def test_refused_by_default_with_how_to_enable_it(no_pip: list[Any]) -> None:
    p = pipe().installing("numpy").const(123)
    with pytest.raises(InstallRefused) as caught:
        p()
    message = str(caught.value)
    assert message.startswith("installing('numpy') is disabled on this server")
    assert "--allow-install --venv DIR" in message
    assert isinstance(caught.value, PipeForbidden) and caught.value.owt_status == 403
    assert no_pip == []


def test_allow_install_without_a_venv_is_refused(settings: Callable[..., None], no_pip: list[Any]) -> None:
    settings(allow_install=True, venv=False)
    with pytest.raises(InstallRefused, match="--allow-install --venv DIR"):
        pipe().installing("numpy")()


def test_outside_a_virtualenv_nothing_is_installed(settings: Callable[..., None], no_pip: list[Any]) -> None:
    """pytest runs Debian's python3 (no venv): the system's Python is never pip-installed into."""
    settings(allow_install=True, venv=True)
    with pytest.raises(InstallRefused, match="does not run in a virtualenv"):
        pipe().installing("numpy")()


def test_the_runtime_config_enables_it(restore_process: None, no_pip: list[Any]) -> None:
    import owt._runtime as runtime

    try:
        runtime.configure({"allow_install": True, "venv": True, "redirect_stdio": False})
        with pytest.raises(InstallRefused, match="does not run in a virtualenv"):
            pipe().installing("numpy")()
        runtime.configure({"allow_install": True, "venv": False, "redirect_stdio": False})
        with pytest.raises(InstallRefused, match="is disabled on this server"):
            pipe().installing("numpy")()
    finally:
        runtime.configure({"redirect_stdio": False})


@pytest.mark.parametrize("spec", [
    "numpy", "scikit-learn", "zope.interface", "requests[socks]", "requests[socks, security]",
    "torch==2.3.1", "numpy>=1.24,<2", "a ~= 1.0", "pkg===1.0+local", "x!=1.*", "  padded  ",
])
def test_plain_requirements_are_accepted(spec: str) -> None:
    assert install.check_requirements([spec]) == (spec.strip(),)
    pipe().installing(spec)  # builds


@pytest.mark.parametrize("spec", [
    "--index-url=http://evil.example/simple", "-r", "-e .", "./local/dir", "/abs/path.whl",
    "https://example.com/x.whl", "git+https://example.com/r", "pkg @ https://x/y.whl",
    "pkg; python_version<'4'", "pkg==1.0 --hash=sha256:00", "a b", "", " ", "x" * 201, 5, None,
])
def test_anything_pip_would_read_as_an_option_path_or_url_is_refused(spec: Any) -> None:
    with pytest.raises(PipeError, match="not a package requirement"):
        pipe().installing(spec)


def test_no_packages_and_too_many() -> None:
    with pytest.raises(PipeError, match="name the packages"):
        pipe().installing()
    with pytest.raises(PipeError, match="at most 32"):
        pipe().installing(*[f"p{i}" for i in range(33)])


def test_the_step_reads_like_the_code() -> None:
    assert repr(pipe().installing("numpy", "scipy").const(1)) == "pipe().installing('numpy', 'scipy').const(1)"
