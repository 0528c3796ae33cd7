"""owt._alarm: the Timeout type and the SIGALRM handler."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from owt import _alarm


@pytest.fixture
def handler() -> Iterator[None]:
    previous = signal.getsignal(signal.SIGALRM)
    yield
    signal.signal(signal.SIGALRM, previous)
    _alarm.leave()


def test_timeout_is_a_base_exception_with_a_kind() -> None:
    assert issubclass(_alarm.Timeout, BaseException)
    assert not issubclass(_alarm.Timeout, Exception)
    assert _alarm.Timeout.kind == "timeout"  # type: ignore[attr-defined]


def test_handler_raises_only_inside_adaptor_code(handler: None) -> None:
    assert _alarm.install(12.5)
    on_alarm = signal.getsignal(signal.SIGALRM)
    assert callable(on_alarm)
    on_alarm(signal.SIGALRM, None)
    _alarm.enter()
    assert _alarm.active()
    with pytest.raises(_alarm.Timeout, match="ran past its 12.5s timeout"):
        on_alarm(signal.SIGALRM, None)
    _alarm.leave()
    assert not _alarm.active()


def test_describe_without_seconds(handler: None) -> None:
    _alarm.install(None)
    assert _alarm.describe() == "the adaptor ran past its timeout"


def test_the_binarys_timeout_is_used_when_present(tmp_path: Path) -> None:
    (tmp_path / "_owt.py").write_text(textwrap.dedent("""
        ERROR, WARNING, INFO, DEBUG = 0, 1, 2, 3
        class Timeout(BaseException):
            kind = "timeout"
        def log(level, message):
            pass
        def _alarm(signum, frame):
            raise Timeout("the adaptor ran past its --timeout")
    """))
    code = textwrap.dedent("""
        import signal, sys
        import _owt
        import owt._runtime as rt
        from owt._alarm import Timeout
        assert Timeout is _owt.Timeout
        rt.configure({"adaptor_dirs": [], "timeout": 0.05})
        signal.signal(signal.SIGALRM, _owt._alarm)
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        try:
            rt.handle("def run():\\n    while True:\\n        pass\\n", None, "run", "", 0, None, {}, b"", "/")
        except rt.OwtError as e:
            sys.__stdout__.write(e.kind + " | " + e.message + "\\n")
    """)
    adaptors = Path(__file__).resolve().parents[2] / "adaptors"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={"PYTHONPATH": f"{tmp_path}:{adaptors}", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "timeout | Error executing code: Timeout: the adaptor ran past its 0.05s timeout"
