"""Small HTTP clients for the rows wrk cannot measure (standard library only).

    probe.py get URL                      status, headers and body of one GET
    probe.py stream URL                   arrival minus embedded time.time() per chunk line
    probe.py coldwarm URL [N]             first request against the median of the next N
    probe.py hammer URL N [CONNS]         exactly N GETs over CONNS keep-alive connections

bench/run imports these functions; the command line is for poking at one server by hand.
Every network wait is bounded by a socket timeout and an overall deadline.
"""
import http.client
import json
import socket
import statistics
import sys
import threading
import time
import urllib.parse


def _split(url):
    u = urllib.parse.urlsplit(url)
    path = u.path or "/"
    if u.query:
        path += "?" + u.query
    return u.hostname, u.port or 80, path


def request(url, method="GET", body=None, headers=None, timeout=10.0):
    """One request on a fresh connection: (status, {lower-case header: value}, body bytes)."""
    host, port, path = _split(url)
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
    finally:
        conn.close()


def stream(url, timeout=10.0):
    """Read a streamed response whose body is lines of `time.time()` taken when each line
    was yielded; return one delay in milliseconds per line (arrival minus embedded stamp).

    HTTP/1.0 keeps the body free of chunk framing, so lines can be read off the socket as
    they arrive; the front server closes the connection at the end.
    """
    host, port, path = _split(url)
    deadline = time.monotonic() + timeout
    delays = []
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}:{port}\r\n\r\n".encode())
        buf = b""
        in_body = False
        status = None
        while time.monotonic() < deadline:
            data = sock.recv(65536)
            now = time.time()
            if not data:
                break
            buf += data
            if not in_body:
                head, sep, rest = buf.partition(b"\r\n\r\n")
                if not sep:
                    continue
                status = int(head.split(b" ", 2)[1])
                if status != 200:
                    raise RuntimeError(f"stream: HTTP {status}: {rest[:200]!r}")
                in_body, buf = True, rest
            *lines, buf = buf.split(b"\n")
            for line in lines:
                line = line.strip()
                if line:
                    delays.append((now - float(line)) * 1000.0)
    if status is None:
        raise RuntimeError("stream: no response headers")
    return delays


def coldwarm(url, n=100, timeout=120.0):
    """Time the first request on one keep-alive connection, then n more.
    Returns (cold_ms, [warm_ms ...]); any non-200 raises."""
    host, port, path = _split(url)
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    times = []
    try:
        for _ in range(n + 1):
            t0 = time.perf_counter()
            conn.request("GET", path)
            resp = conn.getresponse()
            body = resp.read()
            times.append((time.perf_counter() - t0) * 1000.0)
            if resp.status != 200:
                raise RuntimeError(f"coldwarm: HTTP {resp.status}: {body[:200]!r}")
    finally:
        conn.close()
    return times[0], times[1:]


def hammer(url, n, conns=4, timeout=120.0):
    """Send exactly n GETs over conns keep-alive connections (reconnecting if the server
    closes one). Returns (answered 200, other answers or failures). Bounded by timeout."""
    host, port, path = _split(url)
    deadline = time.monotonic() + timeout
    counts = [[0, 0] for _ in range(conns)]

    def worker(i, todo):
        conn = None
        while todo > 0 and time.monotonic() < deadline:
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(host, port, timeout=10)
                conn.request("GET", path)
                resp = conn.getresponse()
                resp.read()
                counts[i][0 if resp.status == 200 else 1] += 1
                if resp.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                counts[i][1] += 1
                if conn is not None:
                    conn.close()
                conn = None
            todo -= 1
        if conn is not None:
            conn.close()

    threads = [threading.Thread(target=worker, args=(i, n // conns + (i < n % conns)))
               for i in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.1, deadline - time.monotonic()) + 15)
    return sum(c[0] for c in counts), sum(c[1] for c in counts)


def _main(argv):
    if len(argv) >= 2 and argv[0] == "get":
        status, headers, body = request(argv[1])
        print(status, json.dumps(headers), body[:500])
    elif len(argv) >= 2 and argv[0] == "stream":
        d = stream(argv[1])
        print(json.dumps({"n": len(d), "median_ms": statistics.median(d), "max_ms": max(d)}))
    elif len(argv) >= 2 and argv[0] == "coldwarm":
        cold, warm = coldwarm(argv[1], int(argv[2]) if len(argv) > 2 else 100)
        print(json.dumps({"cold_ms": cold, "warm_median_ms": statistics.median(warm)}))
    elif len(argv) >= 3 and argv[0] == "hammer":
        ok, bad = hammer(argv[1], int(argv[2]), int(argv[3]) if len(argv) > 3 else 4)
        print(json.dumps({"ok": ok, "bad": bad}))
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
