#!/usr/bin/python3
"""Rounds of requests to one owt-fcgi worker on a unix socket, for tests/valgrind/run.

Each round sends one request of each kind the worker handles differently: a warm GET, a
JSON POST with kwargs, a stream, an async generator, owt.batch, an adaptor error (500), bad
kwargs (400), a cache store and hit, /_owt/status and a request the auth-less server refuses
to parse (400). THREADS client threads run the rounds at once, so the worker's threads
overlap. Every answer is checked; the exit code says whether all were right.

    drive.py SOCKET ROUNDS [THREADS]
"""

from __future__ import annotations

import base64
import json
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
import fcgi_client  # noqa: E402


def b64(source: str) -> str:
    return base64.b64encode(source.encode()).decode()


HELLO = b64("def run():\n    return 'hello'\n")
ECHO = b64("def run(**kwargs):\n    return kwargs\n")
STREAM = b64("def run(n=3):\n    for i in range(n):\n        yield f'{i};'\n")
ASYNC = b64("import asyncio\nasync def run(n=3):\n    for i in range(n):\n"
            "        await asyncio.sleep(0)\n        yield f'{i};'\n")
BATCH = b64("import owt\n@owt.batch(max_size=4, max_wait_ms=2)\ndef double(xs):\n"
            "    return [2 * x for x in xs]\ndef run(x=1):\n    return str(double(x))\n")
FAIL = b64("def run():\n    raise ValueError('on purpose')\n")
CACHED = b64("def run():\n    return 'cached'\n")


def post_json(sock: str, path: str, fields: dict) -> fcgi_client.FcgiResponse:
    body = json.dumps(fields).encode()
    params = fcgi_client.cgi_params("POST", path, "", body, "application/json")
    return fcgi_client.request(sock, params, body, timeout=120)


def one_round(sock: str, i: int) -> list[str]:
    bad = []

    def expect(name: str, resp: fcgi_client.FcgiResponse, status: int, body: bytes | None) -> None:
        if resp.status != status or (body is not None and resp.body != body):
            bad.append(f"{name}: {resp.status} {resp.body[:120]!r}")

    get = lambda path, q: fcgi_client.get(sock, path, q, timeout=120)  # noqa: E731
    expect("hello", get("/hello", {"code_b64": HELLO}), 200, b"hello")
    r = post_json(sock, "/echo", {"code_b64": ECHO, "kwargs": {"i": i, "s": "x" * (i % 50)}})
    expect("echo", r, 200, None)
    if r.status == 200 and json.loads(r.body) != {"i": i, "s": "x" * (i % 50)}:
        bad.append(f"echo: {r.body[:120]!r}")
    expect("stream", get("/stream", {"code_b64": STREAM, "kwargs": '{"n": 4}'}), 200, b"0;1;2;3;")
    expect("async", get("/async", {"code_b64": ASYNC}), 200, b"0;1;2;")
    expect("batch", get("/batch", {"code_b64": BATCH, "kwargs": json.dumps({"x": i})}), 200, str(2 * i).encode())
    expect("error", get("/fail", {"code_b64": FAIL}), 500, None)
    expect("bad kwargs", get("/echo", {"code_b64": ECHO, "kwargs": "{not json"}), 400, None)
    expect("cache", get(f"/cached/{i % 7}", {"code_b64": CACHED, "use_cache": "true"}), 200, b"cached")
    expect("status", get("/_owt/status", ""), 200, None)
    expect("no code", get("/nothing", ""), 400, None)
    return bad


def main() -> int:
    sock, rounds = sys.argv[1], int(sys.argv[2])
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    deadline = time.monotonic() + 120  # the worker starts slowly under valgrind
    while True:
        try:
            if fcgi_client.get(sock, "/_owt/health", "", timeout=60).status == 200:
                break
        except OSError:
            pass
        if time.monotonic() > deadline:
            print("drive.py: the worker never answered /_owt/health", file=sys.stderr)
            return 1
        time.sleep(0.2)
    failures: list[str] = []
    lock = threading.Lock()

    def client(k: int) -> None:
        for i in range(k, rounds, threads):
            bad = one_round(sock, i)
            if bad:
                with lock:
                    failures.extend(bad)

    pool = [threading.Thread(target=client, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    print(f"drive.py: {rounds} rounds, {len(failures)} wrong answers")
    for f in failures[:10]:
        print("  " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
