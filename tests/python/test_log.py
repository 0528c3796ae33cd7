"""owt._log: the line-buffered stdio writers and the logging handler."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from owt import _log


@pytest.fixture
def lines(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, str]]:
    got: list[tuple[int, str]] = []

    class FakeOwt:
        @staticmethod
        def log(level: int, message: str) -> None:
            got.append((level, message))

    monkeypatch.setattr(_log, "_owt", FakeOwt)
    return got


def test_writer_emits_complete_lines(lines: list[tuple[int, str]]) -> None:
    w = _log.LogWriter()
    assert w.write("hel") == 3
    assert lines == []
    w.write("lo\nwor")
    assert lines == [(_log.INFO, "hello")]
    w.write("ld\n\nx")
    assert lines[1:] == [(_log.INFO, "world"), (_log.INFO, "")]
    w.flush()
    assert lines[-1] == (_log.INFO, "x")
    w.flush()
    assert len(lines) == 4


def test_writer_bounds_a_line_without_newline(lines: list[tuple[int, str]]) -> None:
    w = _log.LogWriter()
    w.write("x" * (70 * 1024))
    assert len(lines) == 1


def test_writer_looks_like_a_text_stream() -> None:
    w = _log.LogWriter()
    assert w.writable() and not w.isatty()
    assert w.encoding == "utf-8"
    assert w.fileno() == 2
    with pytest.raises(TypeError):
        w.write(b"bytes")  # type: ignore[arg-type]


def test_print_into_a_writer(lines: list[tuple[int, str]]) -> None:
    w = _log.LogWriter()
    print("a", 1, file=w)
    assert lines == [(_log.INFO, "a 1")]


def test_without_owt_writes_to_the_original_stderr(capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_log, "_owt", None)
    _log.log(_log.WARNING, "careful")
    assert "owt WARNING careful" in capfd.readouterr().err


def test_logging_handler_maps_levels(lines: list[tuple[int, str]]) -> None:
    logger = logging.getLogger("owt_test_log")
    logger.propagate = False
    handler = _log.LogHandler()
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        logger.debug("d")
        logger.info("i")
        logger.warning("w")
        logger.error("e")
    finally:
        logger.removeHandler(handler)
    assert lines == [(_log.DEBUG, "d"), (_log.INFO, "i"), (_log.WARNING, "w"), (_log.ERROR, "e")]


def test_install_stdio(restore_process: None, lines: list[tuple[int, str]]) -> None:
    import sys

    previous: Any = _log.install_stdio()
    assert isinstance(sys.stdout, _log.LogWriter) and isinstance(sys.stderr, _log.LogWriter)
    assert previous[0] is not sys.stdout
    print("captured")
    assert (_log.OUTPUT, "captured") in lines
    assert _log.install_stdio()[0] is sys.stdout
