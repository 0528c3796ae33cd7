"""Server-sent events: frames for an event stream and the response that carries them.

    def run(n=3):
        def gen():
            for i in range(n):
                yield stream.event(i=i)
            yield stream.done()
        return stream.response(gen())
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, Iterable
from typing import Any

from owt.response import Response

__all__ = ["event", "done", "error", "response", "EVENT_STREAM"]

EVENT_STREAM = "text/event-stream"


def event(**data: Any) -> str:
    """One SSE frame carrying the keyword arguments as JSON: ``data: {...}\\n\\n``."""
    return "data: " + json.dumps(data) + "\n\n"


def done() -> str:
    """The frame that tells the client the stream is over: ``data: [DONE]\\n\\n``."""
    return "data: [DONE]\n\n"


def error(message: str) -> str:
    """An ``event: error`` frame; each line of message is its own ``data:`` line."""
    lines = str(message).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "event: error\n" + "".join(f"data: {line}\n" for line in lines) + "\n"


def response(gen: Iterable[Any] | AsyncIterable[Any]) -> Response:
    """A streamed ``text/event-stream`` response of gen's frames."""
    return Response(gen, content_type=EVENT_STREAM)
