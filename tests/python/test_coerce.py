"""owt._coerce: every row of PROTOCOL §6, headers, and the chunk iterator."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from owt._coerce import Chunks, coerce
from owt._errors import AdaptorError
from owt.request import Request, current_or_none
from owt.response import Response

TEXT = [("Content-Type", "text/plain; charset=utf-8")]
HTML = [("Content-Type", "text/html; charset=utf-8")]
JSON = [("Content-Type", "application/json")]
OCTET = [("Content-Type", "application/octet-stream")]


def body_of(result: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    status, headers, body, chunks = coerce(result)
    assert chunks is None
    assert isinstance(body, bytes)
    return status, headers, body


def stream_of(result: Any, req: Request | None = None) -> tuple[int, list[tuple[str, str]], Chunks]:
    status, headers, body, chunks = coerce(result, req)
    assert body is None
    assert isinstance(chunks, Chunks)
    return status, headers, chunks


def test_str_is_plain_text() -> None:
    assert body_of("Hello, owt!") == (200, TEXT, b"Hello, owt!")


@pytest.mark.parametrize("text", ["<p>hi</p>", "  \n <!doctype html>"])
def test_str_starting_with_a_tag_is_html(text: str) -> None:
    assert body_of(text) == (200, HTML, text.encode())


def test_str_is_utf8() -> None:
    assert body_of("naïve ☕")[2] == "naïve ☕".encode()


@pytest.mark.parametrize("value", [b"\x00\xff", bytearray(b"ab"), memoryview(b"cd")])
def test_binary_is_octet_stream(value: Any) -> None:
    assert body_of(value) == (200, OCTET, bytes(value))


@pytest.mark.parametrize(("value", "text"), [(42, b"42"), (2.5, b"2.5"), (True, b"True"), (False, b"False")])
def test_numbers_and_bools_are_their_str(value: Any, text: bytes) -> None:
    assert body_of(value) == (200, TEXT, text)


def test_none_is_an_empty_200() -> None:
    status, _, body = body_of(None)
    assert (status, body) == (200, b"")


@pytest.mark.parametrize("value", [{"a": [1, None]}, [1, "two", {"x": True}], []])
def test_dicts_and_lists_are_json(value: Any) -> None:
    status, headers, body = body_of(value)
    assert (status, headers) == (200, JSON)
    assert json.loads(body) == value


def test_tuple_body_status() -> None:
    assert body_of(("missing", 404)) == (404, TEXT, b"missing")


def test_tuple_body_headers() -> None:
    status, headers, body = body_of(("x", {"X-One": "1"}))
    assert status == 200 and body == b"x"
    assert headers == TEXT + [("X-One", "1")]


def test_tuple_body_status_headers() -> None:
    status, headers, body = body_of(({"ok": False}, 418, [("X-Teapot", "yes")]))
    assert status == 418 and json.loads(body) == {"ok": False}
    assert headers == JSON + [("X-Teapot", "yes")]


def test_tuple_headers_content_type_wins_over_the_inferred_one() -> None:
    status, headers, body = body_of(("a,b", {"Content-Type": "text/csv"}))
    assert headers == [("Content-Type", "text/csv")]


def test_other_tuples_are_json() -> None:
    assert body_of((1, 2, 3)) == (200, JSON, b"[1,2,3]\n")
    assert body_of(("a", "b")) == (200, JSON, b'["a","b"]\n')


def test_response_as_given() -> None:
    status, headers, body = body_of(Response("<b>no</b>", status=201, headers={"X-A": "b"}, content_type="text/x-mine"))
    assert status == 201 and body == b"<b>no</b>"
    assert headers == [("Content-Type", "text/x-mine"), ("X-A", "b")]


def test_response_content_type_beats_its_headers() -> None:
    _, headers, _ = body_of(Response("x", headers={"content-type": "a/b"}, content_type="c/d"))
    assert headers == [("Content-Type", "c/d")]


def test_response_of_json_and_empty() -> None:
    assert body_of(Response({"a": 1}, status=202)) == (202, JSON, b'{"a":1}\n')
    assert body_of(Response(status=204))[::2] == (204, b"")


def test_response_keeps_repeated_headers() -> None:
    _, headers, _ = body_of(Response("x", headers=[("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")]))
    assert headers[1:] == [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")]


def test_header_values_that_are_numbers_become_text() -> None:
    _, headers, _ = body_of(("x", {"X-Count": 3}))
    assert headers[1] == ("X-Count", "3")


@pytest.mark.parametrize(
    "headers",
    [{"X-A": "b\r\nSet-Cookie: evil=1"}, {"X-A": "b\nc"}, {"Bad Name": "v"}, {"X\r\nA": "v"}, {"": "v"}, {1: "v"}, {"X-A": None}],
)
def test_bad_headers_are_refused(headers: Any) -> None:
    with pytest.raises(ValueError):
        coerce(Response("x", headers=headers))


@pytest.mark.parametrize("status", [99, 600, True, "abc", 2.5])
def test_bad_status_is_refused(status: Any) -> None:
    with pytest.raises(ValueError):
        coerce(Response("x", status=status))


def test_status_as_text() -> None:
    assert coerce(Response("x", status="404 NOT FOUND"))[0] == 404


def test_generator_is_streamed_item_by_item() -> None:
    def gen() -> Iterator[Any]:
        yield "a"
        yield b"b"
        yield {"c": 1}
        yield 2

    status, headers, chunks = stream_of(gen())
    assert status == 200 and headers == TEXT
    assert list(chunks) == [b"a", b"b", b'{"c": 1}', b"2"]


def test_iterator_and_other_iterables_are_streamed() -> None:
    assert list(stream_of(iter(["x", "y"]))[2]) == [b"x", b"y"]
    assert list(stream_of(range(3))[2]) == [b"0", b"1", b"2"]
    assert list(stream_of(frozenset(["only"]))[2]) == [b"only"]


def test_list_that_is_not_json_is_streamed() -> None:
    assert list(stream_of([b"\x00", b"\x01"])[2]) == [b"\x00", b"\x01"]


def test_dict_that_is_not_json_is_its_str() -> None:
    assert body_of({"a": object}) == (200, TEXT, str({"a": object}).encode())


def test_chunks_are_produced_lazily() -> None:
    produced: list[int] = []

    def gen() -> Iterator[str]:
        for i in range(3):
            produced.append(i)
            yield str(i)

    _, _, chunks = stream_of(gen())
    assert produced == []
    assert next(chunks) == b"0" and produced == [0]


def test_coroutine_is_run_then_coerced() -> None:
    async def answer() -> Any:
        await asyncio.sleep(0)
        return {"answer": 42}

    assert body_of(answer()) == (200, JSON, b'{"answer":42}\n')


def test_coroutine_returning_a_tuple() -> None:
    async def answer() -> Any:
        return "gone", 410

    assert body_of(answer())[:2] == (410, TEXT)


def test_async_generator_is_streamed() -> None:
    async def agen() -> Any:
        for i in range(2):
            await asyncio.sleep(0)
            yield f"a{i}"

    assert list(stream_of(agen())[2]) == [b"a0", b"a1"]


def test_async_generator_close_runs_finally() -> None:
    closed: list[bool] = []

    async def agen() -> Any:
        try:
            yield "a"
            yield "b"
        finally:
            closed.append(True)

    _, _, chunks = stream_of(agen())
    assert next(chunks) == b"a"
    chunks.close()
    assert closed == [True]


def test_numpy_values_are_json() -> None:
    assert body_of(np.arange(3)) == (200, JSON, b"[0,1,2]\n")
    assert body_of(np.int64(7)) == (200, TEXT, b"7")


def test_anything_else_is_json_or_str() -> None:
    class Thing:
        def __str__(self) -> str:
            return "a thing"

    assert body_of(Thing()) == (200, TEXT, b"a thing")


def test_event_stream_marks_the_chunks() -> None:
    _, headers, chunks = stream_of(Response(iter(["data: 1\n\n"]), content_type="text/event-stream"))
    assert headers == [("Content-Type", "text/event-stream")]
    assert chunks.event_stream


def test_event_stream_from_tuple_headers_as_the_seed_bark_adaptor_does() -> None:
    _, headers, chunks = stream_of((iter(["data: x\n\n"]), {"Content-Type": "text/event-stream"}))
    assert headers == [("Content-Type", "text/event-stream")]
    assert chunks.event_stream


def test_event_stream_objects_become_data_frames() -> None:
    _, _, chunks = stream_of(Response(iter([{"a": 1}, "data: raw\n\n"]), content_type="text/event-stream"))
    assert list(chunks) == [b'data: {"a": 1}\n\n', b"data: raw\n\n"]


def test_event_stream_error_becomes_a_final_error_frame_then_the_error() -> None:
    def gen() -> Iterator[str]:
        yield "data: 1\n\n"
        raise ValueError("model fell over")

    _, _, chunks = stream_of(Response(gen(), content_type="text/event-stream"))
    assert next(chunks) == b"data: 1\n\n"
    assert next(chunks) == b"event: error\ndata: ValueError: model fell over\n\n"
    assert isinstance(chunks.error, AdaptorError)
    assert chunks.error.message == "Error executing code: ValueError: model fell over"
    assert "model fell over" in (chunks.error.traceback or "")
    with pytest.raises(AdaptorError) as caught:
        next(chunks)
    assert caught.value is chunks.error
    with pytest.raises(StopIteration):
        next(chunks)


def test_event_stream_error_not_collected_is_logged_on_close(monkeypatch: pytest.MonkeyPatch) -> None:
    from owt import _log

    logged: list[str] = []
    monkeypatch.setattr(_log, "log", lambda level, message: logged.append(message))

    def gen() -> Iterator[str]:
        raise ValueError("lost")
        yield ""

    _, _, chunks = stream_of(Response(gen(), content_type="text/event-stream"))
    assert next(chunks).startswith(b"event: error\n")
    assert logged == []
    chunks.close()
    assert len(logged) == 1 and logged[0].startswith("Error executing code: ValueError: lost\nTraceback")
    with pytest.raises(StopIteration):
        next(chunks)


def test_event_stream_multiline_error_message() -> None:
    def gen() -> Iterator[str]:
        raise RuntimeError("one\ntwo")
        yield ""

    _, _, chunks = stream_of(Response(gen(), content_type="text/event-stream"))
    assert next(chunks) == b"event: error\ndata: RuntimeError: one\ndata: two\n\n"


def test_other_stream_error_is_raised_as_an_adaptor_error() -> None:
    def gen() -> Iterator[str]:
        yield "a"
        raise KeyError("k")

    _, _, chunks = stream_of(gen())
    assert next(chunks) == b"a"
    with pytest.raises(AdaptorError) as caught:
        next(chunks)
    assert caught.value.kind == "adaptor"
    assert caught.value.message == "Error executing code: KeyError: 'k'"
    with pytest.raises(StopIteration):
        next(chunks)


def test_close_runs_the_generators_finally() -> None:
    events: list[str] = []

    def gen() -> Iterator[str]:
        try:
            yield "a"
            yield "b"
        finally:
            events.append("finally")

    _, _, chunks = stream_of(gen())
    assert next(chunks) == b"a"
    chunks.close()
    assert events == ["finally"]
    chunks.close()
    assert events == ["finally"]
    with pytest.raises(StopIteration):
        next(chunks)


def test_close_swallows_errors_from_finally() -> None:
    def gen() -> Iterator[str]:
        try:
            yield "a"
        finally:
            raise OSError("cleanup failed")

    _, _, chunks = stream_of(gen())
    next(chunks)
    chunks.close()


def test_request_is_bound_inside_the_generator_and_its_finally() -> None:
    seen: list[Any] = []
    req = Request({"REQUEST_METHOD": "POST"}, b"", "/stream")

    def gen() -> Iterator[str]:
        try:
            seen.append(current_or_none())
            yield "a"
            seen.append(current_or_none())
            yield "b"
        finally:
            seen.append(current_or_none())

    _, _, chunks = stream_of(gen(), req)
    next(chunks)
    assert current_or_none() is None
    next(chunks)
    chunks.close()
    assert seen == [req, req, req]
