"""owt._report: warm-adaptor counts go to the binary's _owt._report_warm, or nowhere."""

from __future__ import annotations

import pytest

from owt import _report, _runtime


def test_without_the_binary_nothing_happens() -> None:
    assert _report._sink is None  # pytest runs a plain interpreter
    _report.warm(1, 2, 3)


def test_the_runtime_reports_each_build(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[int, int, int]] = []
    monkeypatch.setattr(_report, "_sink", lambda *counts: seen.append(counts))
    _runtime.configure({"adaptor_dirs": [], "max_adaptors": 4})
    assert seen[-1] == (0, 0, 0)
    code = "def run():\n    return 1\n"
    fn, warm = _runtime._resolve(code, None, "run", None)
    warm.release()
    assert seen[-1] == (1, 0, 1)
    fn, warm = _runtime._resolve(code, None, "run", None)  # warm: no new build, no report
    warm.release()
    assert seen[-1] == (1, 0, 1)
    fn, warm = _runtime._resolve("def run():\n    return 2\n", None, "run", None)
    warm.release()
    assert seen[-1] == (2, 0, 2)
