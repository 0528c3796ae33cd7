"""owt.stream: server-sent event frames."""

from __future__ import annotations

import json

from owt import stream
from owt.response import Response


def test_event_frame() -> None:
    frame = stream.event(sentence="abc", n=1)
    assert frame.startswith("data: ") and frame.endswith("\n\n")
    assert json.loads(frame[len("data: "):]) == {"sentence": "abc", "n": 1}


def test_done_frame() -> None:
    assert stream.done() == "data: [DONE]\n\n"


def test_error_frame() -> None:
    assert stream.error("ValueError: bad") == "event: error\ndata: ValueError: bad\n\n"
    assert stream.error("a\r\nb") == "event: error\ndata: a\ndata: b\n\n"


def test_response() -> None:
    gen = iter([stream.done()])
    r = stream.response(gen)
    assert isinstance(r, Response)
    assert r.body is gen and r.content_type == "text/event-stream" and r.status == 200
