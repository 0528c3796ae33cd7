"""Shared fixtures: the package on sys.path, the vectors, and a local fake server."""

import base64
import hashlib
import json
import os
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE_ROOT = os.path.dirname(HERE)
VECTORS = os.path.join(os.path.dirname(PACKAGE_ROOT), "vectors.json")
SIGNING = os.path.join(os.path.dirname(PACKAGE_ROOT), "signing.json")
sys.path.insert(0, PACKAGE_ROOT)

USER, PASSWORD = "ada", "s3cr\u00eat"
GATE_TIMEOUT = 5.0


def load_vectors():
    with open(VECTORS, encoding="utf-8") as f:
        return json.load(f)


def load_signing():
    with open(SIGNING, encoding="utf-8") as f:
        return json.load(f)


def request_fields(seen):
    """The owt fields of a recorded request: its JSON body, or its query string."""
    if seen["body"]:
        return json.loads(seen["body"])
    return dict(urllib.parse.parse_qsl(seen["query"]))


class FakeOwt(BaseHTTPRequestHandler):
    """Answers like owt would, by path, and records every request it saw."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _record(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parsed = urllib.parse.urlsplit(self.path)
        seen = {
            "method": self.command,
            "path": parsed.path,
            "query": parsed.query,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode("utf-8", "replace"),
        }
        self.server.seen.append(seen)
        return parsed.path, seen

    def _send(self, status, body, ctype=None, extra=()):
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _stream(self, ctype, pieces):
        """Send pieces as chunks; the string "GATE" waits for the test to open the gate."""
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for piece in pieces:
            if piece == "GATE":
                if not self.server.gate.wait(GATE_TIMEOUT):
                    self.server.gate_timed_out = True
                continue
            self._chunk(piece)
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _code_store(self, path, seen):
        """Like an owt server with a code store: code sent is kept by its SHA-256, a
        known code_sha256 runs, an unknown one is the 404 with the JSON body. Under
        /nostore nothing is ever kept. The answer says how the code arrived."""
        fields = request_fields(seen)
        if "code_b64" in fields:
            digest = hashlib.sha256(base64.b64decode(fields["code_b64"])).hexdigest()
            if path.startswith("/store"):
                self.server.codes.add(digest)
            mode = "full"
        elif fields.get("code_sha256") in self.server.codes:
            mode = "digest"
        else:
            body = {"error": "unknown code_sha256", "code_sha256": fields.get("code_sha256"),
                    "message": "send it again with code_b64"}
            return self._send(404, json.dumps(body).encode(), "application/json")
        if path.endswith("/stream"):
            return self._stream("text/event-stream", [b"data: " + mode.encode() + b"\n\n"])
        answer = {"mode": mode, "fields": sorted(fields)}
        return self._send(200, json.dumps(answer).encode(), "application/json")

    def _handle(self):
        path, seen = self._record()
        if path.startswith("/store") or path.startswith("/nostore"):
            return self._code_store(path, seen)
        if path.startswith("/auth"):
            want = "Basic " + base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode()
            if self.headers.get("Authorization") != want:
                return self._send(401, b"Unauthorized\n", "text/plain; charset=utf-8",
                                  [("WWW-Authenticate", 'Basic realm="owt"')])
            path = path[len("/auth"):] or "/"
        if path == "/echo" or path == "/auth" or path == "/":
            return self._send(200, json.dumps(seen).encode(), "application/json")
        if path == "/text":
            return self._send(200, "h\u00e9llo \U0001f30d".encode(), "text/plain; charset=utf-8")
        if path == "/latin1":
            return self._send(200, "caf\u00e9".encode("latin-1"), "text/plain; charset=ISO-8859-1")
        if path == "/html":
            return self._send(200, b"<p>hi</p>", "text/html; charset=utf-8")
        if path == "/json":
            return self._send(200, '{"a":[1,2],"\u00fc":null}'.encode(), "application/json")
        if path == "/bytes":
            return self._send(200, bytes(range(256)), "application/octet-stream")
        if path == "/empty":
            return self._send(200, b"")
        if path == "/500":
            return self._send(500, b"Error executing code: ValueError: boom \xc3\xbc\n",
                              "text/plain; charset=utf-8")
        if path == "/404-empty":
            return self._send(404, b"")
        if path == "/sse":
            return self._stream("text/event-stream", [
                b": comment\n\ndata: one\n\n", "GATE",
                b"event: tick\r\nid: 7\r\ndata: two\r\ndata: lines\r\n\r\n",
                b"data: \xc3", b"\xbc\n\n", b"data: [DONE]\n\n",
            ])
        if path == "/sse-error":
            return self._stream("text/event-stream", [
                b"data: before\n\n",
                b"event: error\ndata: Error executing code: RuntimeError: late\n\n",
                b"data: after\n\n",
            ])
        if path == "/chunks":
            return self._stream("application/octet-stream", [b"\x00\x01", "GATE", b"\x02", b"\xff" * 3])
        return self._send(404, b"no such fake route: " + path.encode(), "text/plain")

    do_GET = do_POST = do_PUT = _handle


@pytest.fixture
def fake():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOwt)
    server.daemon_threads = True
    server.seen = []
    server.codes = set()
    server.gate = threading.Event()
    server.gate_timed_out = False
    server.url = "http://127.0.0.1:%d" % server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.gate.set()
        server.shutdown()
        server.server_close()
