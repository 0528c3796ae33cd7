"""The event-stream parser, fed in every possible split."""

from owt_client import Event, SSEParser

STREAM = (
    "\ufeff: a comment\r\n"
    "data: one\n\n"
    "event: tick\r\nid: 7\r\ndata: two\r\ndata:  lines\r\n\r\n"
    "retry: 100\rdata\r\r"
    "id\nevent: ignored-without-data\n\n"
    "data: x\n"
    "unknown: field\n"
    "data:y\n\n"
    "data: unterminated"
)
EXPECTED = [
    Event("message", "one", None),
    Event("tick", "two\n lines", "7"),
    Event("message", "", "7"),
    Event("message", "x\ny", ""),
]


def _feed_all(pieces):
    parser = SSEParser()
    events = []
    for piece in pieces:
        events += parser.feed(piece)
    return events + parser.finish()


def test_whole():
    assert _feed_all([STREAM]) == EXPECTED


def test_every_two_way_split():
    for i in range(len(STREAM) + 1):
        assert _feed_all([STREAM[:i], STREAM[i:]]) == EXPECTED, i


def test_char_by_char():
    assert _feed_all(list(STREAM)) == EXPECTED


def test_trailing_cr_ends_line_at_eof():
    parser = SSEParser()
    assert parser.feed("data: a\n\r") == []
    assert parser.finish() == [Event("message", "a", None)]


def test_events_arrive_as_soon_as_complete():
    parser = SSEParser()
    assert parser.feed("data: a\n") == []
    assert parser.feed("\n") == [Event("message", "a", None)]
