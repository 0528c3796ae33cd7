"""An incremental parser for text/event-stream, as the HTML living standard defines it.

Feed it decoded text in chunks of any size; it returns each event as soon as the blank
line that ends it has arrived.
"""

import re
from typing import List, NamedTuple, Optional

__all__ = ["Event", "SSEParser"]

_LINE_END = re.compile(r"\r\n|\r|\n")


class Event(NamedTuple):
    """One dispatched event: its type (default "message"), data and last event id."""

    event: str
    data: str
    id: Optional[str]


class SSEParser:
    """Turns event-stream text into Events; keeps partial lines between feeds."""

    def __init__(self) -> None:
        self._buf = ""
        self._data: List[str] = []
        self._event = ""
        self._last_id: Optional[str] = None
        self._started = False

    def feed(self, text: str) -> List[Event]:
        """Consume text; return the events it completed."""
        if not self._started and text:
            self._started = True
            if text.startswith("\ufeff"):
                text = text[1:]
        self._buf += text
        events: List[Event] = []
        pos = 0
        while True:
            match = _LINE_END.search(self._buf, pos)
            if match is None:
                break
            if match.group() == "\r" and match.end() == len(self._buf):
                break  # may be the first half of \r\n: wait for more text
            self._line(self._buf[pos:match.start()], events)
            pos = match.end()
        self._buf = self._buf[pos:]
        return events

    def finish(self) -> List[Event]:
        """End of stream: a trailing \\r ends its line; an unterminated event is dropped."""
        events: List[Event] = []
        if self._buf.endswith("\r"):
            self._line(self._buf[:-1], events)
        self._buf = ""
        self._data = []
        self._event = ""
        return events

    def _line(self, line: str, events: List[Event]) -> None:
        if line == "":
            self._dispatch(events)
            return
        if line.startswith(":"):
            return
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._last_id = value

    def _dispatch(self, events: List[Event]) -> None:
        if self._data:
            events.append(Event(self._event or "message", "\n".join(self._data), self._last_id))
        self._data = []
        self._event = ""
