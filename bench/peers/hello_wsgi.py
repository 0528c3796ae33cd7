"""The strongest peer: the same hello-world as a WSGI app, served by uWSGI.

`/` (any method) answers "Hello, owt!" after reading the request body, as owt-fcgi must.
`/stream?n=N&gap=SECONDS` yields N lines, each carrying time.time() at the moment it is
yielded, so bench/tools/probe.py can measure how long a chunk takes to reach the client.
`/sleep` waits 50 ms with the GIL released (time.sleep), then answers "Hello, owt!": the
concurrency section's model call, served by uWSGI with threads.
"""
import time
from urllib.parse import parse_qs

HELLO = b"Hello, owt!"
SLEEP_SECONDS = 0.05


def _stream(n, gap):
    for _ in range(n):
        yield f"{time.time():.6f}\n".encode()
        time.sleep(gap)


def application(environ, start_response):
    length = environ.get("CONTENT_LENGTH") or "0"
    if length.isdigit() and int(length) > 0:
        environ["wsgi.input"].read(int(length))
    path = environ.get("PATH_INFO", "/")
    if path.startswith("/sleep"):
        time.sleep(SLEEP_SECONDS)
    elif path.startswith("/stream"):
        q = parse_qs(environ.get("QUERY_STRING", ""))
        n = min(int(q.get("n", ["20"])[0]), 1000)
        gap = min(float(q.get("gap", ["0.05"])[0]), 1.0)
        start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8"),
                                  ("X-Accel-Buffering", "no")])
        return _stream(n, gap)
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8"),
                              ("Content-Length", str(len(HELLO)))])
    return [HELLO]
