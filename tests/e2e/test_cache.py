"""PROTOCOL §8, the response cache, end to end through lighttpd (and CGI).

Each test gets its own cache directory (``--cache-dir``) and, where workers or restarts
matter, its own server. Adaptors here return a fresh random token on every run, so a
body seen twice was served from the cache, not computed twice.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import stat
import struct
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from e2e_cases import PASSWORD, basic, code
from owt_e2e import (
    SRCDIR,
    OwtServer,
    Req,
    Resp,
    b64,
    get,
    http_send,
    post_json,
    run_cgi,
)

FRESH = code("""
    import os, uuid
    def run(**kwargs):
        return f'{uuid.uuid4().hex} pid={os.getpid()}'
""")
"""Every run answers differently: the token tells computed from cached."""

OTHER = "lambda **kw: 'other code ran'"

SLOW_EVENTS = code("""
    import time
    def run():
        def gen():
            for i in range(3):
                if i:
                    time.sleep(0.3)
                yield stream.event(i=i)
            yield stream.done()
        return stream.response(gen())
""")
EVENTS = b'data: {"i": 0}\n\n', b'data: {"i": 1}\n\n', b'data: {"i": 2}\n\n', b"data: [DONE]\n\n"

BOB_PASSWORD = "bob's other pass"
TWO_USERS = ("--auth", "owt:" + hashlib.sha256(PASSWORD.encode()).hexdigest(),
             "--auth", "bob:" + hashlib.sha256(BOB_PASSWORD.encode()).hexdigest())

Start = Callable[..., OwtServer]


def cache_options(cache_dir: Path, *extra: str) -> tuple[str, ...]:
    return ("-vv", "--cache-dir", str(cache_dir), *extra)


def ask(server: OwtServer, path: str, source: str | None = None, **fields: Any) -> Resp:
    """GET path with use_cache=true, the code (if any) and extra fields."""
    if source is not None:
        fields["code"] = source
    fields.setdefault("use_cache", "true")
    return http_send(server, get(path, fields))


def cache_state(resp: Resp) -> str | None:
    return resp.headers.get("X-Owt-Cache")


def assert_miss(resp: Resp, status: int = 200) -> None:
    assert (resp.status, cache_state(resp)) == (status, "miss"), resp.describe()


def assert_hit(resp: Resp, body: bytes) -> None:
    assert (resp.status, cache_state(resp), resp.body) == (200, "hit", body), resp.describe()


def assert_no_entry(resp: Resp) -> None:
    """What a request with no code gets when nothing is cached for its key."""
    assert (resp.status, cache_state(resp)) == (400, "miss"), resp.describe()
    assert "no code" in resp.text


def entry_files(cache_dir: Path) -> list[Path]:
    return sorted(p for p in cache_dir.iterdir() if re.fullmatch(r"[0-9a-f]{64}", p.name)) \
        if cache_dir.exists() else []


def temp_files(cache_dir: Path) -> list[Path]:
    return sorted(cache_dir.glob(".owt-tmp-*")) if cache_dir.exists() else []


def read_entry(path: Path) -> dict[str, Any]:
    """Parse an entry by the layout in docs/cache.md, checking lengths and checksum."""
    data = path.read_bytes()
    assert data[:8] == b"OWTCACHE", data[:16]
    version, flags, created, status, nheaders = struct.unpack_from("<IIQII", data, 8)
    (keylen,) = struct.unpack_from("<I", data, 64)
    at = 68
    key = data[at:at + keylen].decode()
    at += keylen
    headers = []
    for _ in range(nheaders):
        pair = []
        for _ in range(2):
            (n,) = struct.unpack_from("<I", data, at)
            pair.append(data[at + 4:at + 4 + n].decode())
            at += 4 + n
        headers.append(tuple(pair))
    chunks = []
    while True:
        (n,) = struct.unpack_from("<I", data, at)
        at += 4
        if n == 0:
            break
        chunks.append(data[at:at + n])
        at += n
    nchunks, body_len = struct.unpack_from("<IQ", data, at)
    at += 12
    assert at + 32 == len(data)
    assert hashlib.sha256(data[:at]).digest() == data[at:]
    assert (nchunks, body_len) == (len(chunks), sum(map(len, chunks)))
    return {"version": version, "streamed": bool(flags & 1), "created": created, "status": status,
            "key": key, "headers": headers, "chunks": chunks}


def parallel(n: int, fn: Callable[[int], Any]) -> list[Any]:
    results: list[Any] = [None] * n
    errors: list[BaseException] = []

    def one(i: int) -> None:
        try:
            results[i] = fn(i)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    if errors:
        raise errors[0]
    return results


# ---- the key ---------------------------------------------------------------------------


def test_key_is_the_path_not_the_code(fresh_server: Start, tmp_path: Path) -> None:
    server = fresh_server(cache_options(tmp_path / "cache"))
    first = ask(server, "/k/path", FRESH)
    assert_miss(first)
    assert_hit(ask(server, "/k/path", FRESH), first.body)
    assert_hit(ask(server, "/k/path", OTHER), first.body)  # other code: same key
    assert_hit(ask(server, "/k/path"), first.body)         # no code at all
    assert_no_entry(ask(server, "/k/path/other"))
    assert_no_entry(ask(server, "/k/PATH"))
    # Without use_cache the code runs and nothing says cache.
    plain = http_send(server, get("/k/path", code=OTHER))
    assert (plain.status, plain.body) == (200, b"other code ran"), plain.describe()
    assert "X-Owt-Cache" not in plain.headers


def test_key_kwargs_only_with_cache_kwargs(fresh_server: Start, tmp_path: Path) -> None:
    server = fresh_server(cache_options(tmp_path / "cache"))
    first = ask(server, "/k/kw", FRESH, kwargs="{'a': 1}")
    assert_miss(first)
    assert_hit(ask(server, "/k/kw", FRESH, kwargs="{'a': 2}"), first.body)  # kwargs not in the key

    one = ask(server, "/k/ckw", FRESH, kwargs="{'a': 1}", cache_kwargs="true")
    assert_miss(one)
    assert_hit(ask(server, "/k/ckw", FRESH, kwargs="{'a': 1}", cache_kwargs="true"), one.body)
    two = ask(server, "/k/ckw", FRESH, kwargs="{'a': 2}", cache_kwargs="true")
    assert_miss(two)
    assert two.body != one.body
    assert_hit(ask(server, "/k/ckw", kwargs="{'a': 2}", cache_kwargs="true"), two.body)
    assert_hit(ask(server, "/k/ckw", kwargs="{'a': 1}", cache_kwargs="true"), one.body)
    # Only the kwargs text is added: the path alone is another key.
    assert_no_entry(ask(server, "/k/ckw"))
    # The JSON body's booleans and kwargs object work the same.
    resp = http_send(server, post_json("/k/ckw", code=FRESH, kwargs={"a": 3}, use_cache=True,
                                       cache_kwargs=True))
    assert_miss(resp)
    again = http_send(server, post_json("/k/ckw", kwargs={"a": 3}, use_cache=True, cache_kwargs=True))
    assert_hit(again, resp.body)


def test_key_override(fresh_server: Start, tmp_path: Path) -> None:
    server = fresh_server(cache_options(tmp_path / "cache"))
    first = ask(server, "/k/o1", FRESH, cache_key_override="shared key")
    assert_miss(first)
    assert_hit(ask(server, "/k/o2", cache_key_override="shared key"), first.body)
    assert_hit(ask(server, "/anything/else", OTHER, cache_key_override="shared key"), first.body)
    assert_no_entry(ask(server, "/k/o1"))  # the path is not the key when overridden
    # An override is a key like a path: it names the same entry as that path.
    by_path = ask(server, "/k/p", FRESH)
    assert_hit(ask(server, "/elsewhere", cache_key_override="/k/p"), by_path.body)


def test_key_includes_the_user(fresh_server: Start, tmp_path: Path) -> None:
    server = fresh_server(cache_options(tmp_path / "cache", *TWO_USERS))
    owt = basic("owt", PASSWORD)
    bob = basic("bob", BOB_PASSWORD)

    def as_user(auth: str | None, source: str | None = None) -> Resp:
        fields: dict[str, str] = {"use_cache": "true"}
        if source:
            fields["code"] = source
        req = get("/k/user", fields)
        return http_send(server, req.with_headers(Authorization=auth) if auth else req)

    mine = as_user(owt, FRESH)
    assert_miss(mine)
    assert_hit(as_user(owt), mine.body)
    assert_no_entry(as_user(bob))
    theirs = as_user(bob, FRESH)
    assert_miss(theirs)
    assert theirs.body != mine.body
    assert_hit(as_user(bob), theirs.body)
    assert_hit(as_user(owt), mine.body)
    denied = as_user(None)
    assert denied.status == 401 and "X-Owt-Cache" not in denied.headers, denied.describe()
    # The admin page is behind auth too.
    assert http_send(server, get("/_owt/cache")).status == 401
    page = http_send(server, get("/_owt/cache").with_headers(Authorization=owt))
    assert page.status == 200 and page.json()["entries"] == 2, page.describe()


def test_only_complete_200s_are_stored(fresh_server: Start, tmp_path: Path) -> None:
    server = fresh_server(cache_options(tmp_path / "cache"))
    not_found = ask(server, "/s/404", "lambda: ('nope', 404)")
    assert_miss(not_found, 404)
    assert_no_entry(ask(server, "/s/404"))
    raised = ask(server, "/s/500", "lambda: 1 / 0")
    assert_miss(raised, 500)
    assert_no_entry(ask(server, "/s/500"))
    bad = ask(server, "/s/400", "def run(:")
    assert_miss(bad, 400)
    # A stream that raises after its headers went out is 200 on the wire, but cut short.
    broken = code("""
        def run():
            yield 'partial\\n'
            raise ValueError('after headers')
    """)
    resp = ask(server, "/s/broken", broken)
    assert resp.status == 200 and resp.body == b"partial\n" and not resp.complete, resp.describe()
    assert_no_entry(ask(server, "/s/broken"))
    assert entry_files(tmp_path / "cache") == []


def test_no_code_server_serves_hits(fresh_server: Start, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    server = fresh_server(cache_options(cache))
    stored = ask(server, "/nc", FRESH)
    assert_miss(stored)
    refusing = fresh_server(cache_options(cache, "--no-code"))
    assert_hit(ask(refusing, "/nc", OTHER), stored.body)  # a hit runs nothing: served
    assert_hit(ask(refusing, "/nc"), stored.body)
    refused = ask(refusing, "/nc/uncached", OTHER)
    assert_miss(refused, 403)


# ---- sharing and persistence --------------------------------------------------------------


def test_two_workers_share_hits(fresh_server: Start, tmp_path: Path) -> None:
    server = fresh_server(("--workers", "2", *cache_options(tmp_path / "cache")))
    deadline = time.monotonic() + 10
    while len(server.worker_pids()) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(server.worker_pids()) == 2, server.worker_pids()
    stored = ask(server, "/shared", FRESH)
    assert_miss(stored)
    storer = int(stored.text.rsplit("pid=", 1)[1])

    def hit(_: int) -> Resp:
        return ask(server, "/shared")

    served_by: set[int] = set()
    for _ in range(20):
        for resp in parallel(4, hit):
            assert_hit(resp, stored.body)
        # Only the cache can answer a request with no code, so every "GET /shared 200"
        # in the log is a hit; the pid in front of it says which worker served it.
        served_by = {int(pid) for pid in re.findall(r"owt-fcgi\[(\d+)\] info: GET /shared 200",
                                                      server.log_text())}
        if served_by - {storer}:
            break
    assert served_by - {storer}, f"no hit came from a worker other than {storer}: {served_by}"


def test_restart_keeps_entries(fresh_server: Start, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = fresh_server(cache_options(cache))
    stored = ask(first, "/restart", FRESH)
    assert_miss(stored)
    first.stop()
    second = fresh_server(cache_options(cache))
    assert_hit(ask(second, "/restart"), stored.body)
    # A CGI run with the same directory shares it too.
    assert_hit(run_cgi(get("/restart", use_cache="true"), cache_options(cache)).resp, stored.body)


def test_cgi_stores_and_hits(tmp_path: Path) -> None:
    options = cache_options(tmp_path / "cache")
    first = run_cgi(get("/cgi", code=FRESH, use_cache="true"), options).resp
    assert_miss(first)
    assert_hit(run_cgi(get("/cgi", use_cache="true"), options).resp, first.body)


# ---- bounds ---------------------------------------------------------------------------------


def test_eviction_order_under_a_byte_cap(fresh_server: Start, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    # Entries are ~3.2 KB (3000 body bytes plus a head of a few hundred): three fit in
    # 11000 bytes, a fourth pushes over and one is evicted (down to 15/16 of the cap).
    server = fresh_server(cache_options(cache, "--cache-max-bytes", "11000"))
    big = code("""
        import uuid
        def run():
            return uuid.uuid4().hex + 'x' * 2968
    """)
    bodies = {}
    for name in "abc":
        resp = ask(server, f"/evict/{name}", big)
        assert_miss(resp)
        bodies[name] = resp.body
        time.sleep(0.05)
    assert len(entry_files(cache)) == 3
    time.sleep(1.2)  # a hit refreshes an entry's time when it is over a second old
    assert_hit(ask(server, "/evict/a"), bodies["a"])  # /a is now the most recently used
    resp = ask(server, "/evict/d", big)
    assert_miss(resp)
    bodies["d"] = resp.body
    assert len(entry_files(cache)) == 3
    assert_no_entry(ask(server, "/evict/b"))  # the least recently used went first
    for name in "acd":
        assert_hit(ask(server, f"/evict/{name}"), bodies[name])
    usage = http_send(server, get("/_owt/cache")).json()
    assert usage["entries"] == 3 and usage["bytes"] <= 11000, usage


def test_oversized_response_is_not_stored(fresh_server: Start, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    server = fresh_server(cache_options(cache, "--cache-max-bytes", "4K"))
    resp = ask(server, "/huge", "lambda: 'y' * 10000")
    assert_miss(resp)
    assert len(resp.body) == 10000
    assert_no_entry(ask(server, "/huge"))
    assert entry_files(cache) == [] and temp_files(cache) == []


def test_ttl_expires_entries(fresh_server: Start, tmp_path: Path) -> None:
    server = fresh_server(cache_options(tmp_path / "cache", "--cache-ttl", "1"))
    stored = ask(server, "/ttl", FRESH)
    assert_miss(stored)
    assert_hit(ask(server, "/ttl"), stored.body)
    time.sleep(2.1)
    assert_no_entry(ask(server, "/ttl"))
    assert entry_files(tmp_path / "cache") == []


# ---- streams ------------------------------------------------------------------------------


def read_stream(url: str) -> tuple[list[tuple[float, bytes]], requests.structures.CaseInsensitiveDict]:
    """(arrival time, piece) for each piece the client reads, and the headers."""
    pieces = []
    with requests.get(url, stream=True, timeout=10) as r:
        assert r.status_code == 200, r.text
        for piece in r.iter_content(chunk_size=None):
            pieces.append((time.monotonic(), piece))
        return pieces, r.headers


def events_of(body: bytes) -> list[bytes]:
    return [frame + b"\n\n" for frame in body.split(b"\n\n") if frame]


def test_cached_stream_replays_chunks_and_events(fresh_server: Start, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    server = fresh_server(cache_options(cache))
    url = f"{server.url}/events?" + urllib.parse.urlencode({"code_b64": b64(SLOW_EVENTS), "use_cache": "true"})
    t0 = time.monotonic()
    live, headers = read_stream(url)
    assert headers["X-Owt-Cache"] == "miss"
    body = b"".join(p for _, p in live)
    assert events_of(body) == list(EVENTS)
    # Recording does not hold the stream back: the events still arrive as they are made.
    first = next(t for t, p in live if b'"i": 0' in p)
    last = next(t for t, p in live if b'"i": 2' in p)
    assert last - first >= 0.5, live

    # On disk: one chunk per event, in order, as the adaptor yielded them.
    (entry_path,) = entry_files(cache)
    entry = read_entry(entry_path)
    assert entry["streamed"] and entry["status"] == 200 and entry["key"] == "/events"
    assert entry["chunks"] == list(EVENTS)
    assert ("Content-Type", "text/event-stream") in entry["headers"]

    t0 = time.monotonic()
    replay, headers = read_stream(f"{server.url}/events?use_cache=true")
    elapsed = time.monotonic() - t0
    assert headers["X-Owt-Cache"] == "hit"
    assert headers["Content-Type"] == "text/event-stream"
    assert headers["Cache-Control"] == "no-cache"
    assert b"".join(p for _, p in replay) == body
    assert events_of(b"".join(p for _, p in replay)) == list(EVENTS)
    assert elapsed < 0.5, f"the replay took {elapsed:.2f} s: did it run the adaptor's sleeps?"
    # owt replays it as a stream (no Content-Length of its own; lighttpd may add one when
    # the whole replay reached it before it answered the client).
    cgi = run_cgi(get("/events", use_cache="true"), cache_options(cache)).resp
    assert_hit(cgi, body)
    assert "Content-Length" not in cgi.headers and cgi.content_type == "text/event-stream"


def test_killed_stream_is_not_stored(fresh_server: Start, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    server = fresh_server(cache_options(cache))
    marker = tmp_path / "closed"
    source = code(f"""
        import pathlib, time
        def run():
            i = -1
            try:
                for i in range(200):
                    yield f'chunk {{i}}\\n' + 'x' * 1024 + '\\n'
                    time.sleep(0.05)
            finally:
                pathlib.Path({str(marker)!r}).write_text(str(i))
    """)
    query = urllib.parse.urlencode({"code_b64": b64(source), "use_cache": "true"})
    sock = socket.create_connection((server.address, server.port), timeout=10)
    sock.sendall(f"GET /killed?{query} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    got = b""
    while b"chunk 2\n" not in got:
        piece = sock.recv(65536)
        assert piece, got
        got += piece
    assert b"X-Owt-Cache: miss" in got
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
    deadline = time.monotonic() + 8
    while not (marker.exists() and marker.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), "the generator was not closed after the client left"
    assert int(marker.read_text()) < 150
    assert_no_entry(ask(server, "/killed"))
    assert entry_files(cache) == [] and temp_files(cache) == []


# ---- damage and concurrency ------------------------------------------------------------------


def test_corrupt_entry_is_a_miss(fresh_server: Start, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    server = fresh_server(cache_options(cache))
    stored = ask(server, "/corrupt", FRESH)
    assert_miss(stored)
    (path,) = entry_files(cache)
    data = bytearray(path.read_bytes())
    at = data.index(stored.body) + 3
    data[at] ^= 0x01  # one bit of the body
    path.write_bytes(bytes(data))
    again = ask(server, "/corrupt", FRESH)
    assert_miss(again)  # never served: the code ran again
    assert again.body != stored.body
    assert "corrupt or truncated" in again.log
    assert_hit(ask(server, "/corrupt"), again.body)  # and the fresh answer was stored
    # Truncated: a miss, and the file is gone.
    (path,) = entry_files(cache)
    path.write_bytes(path.read_bytes()[:-10])
    assert_no_entry(ask(server, "/corrupt"))
    assert entry_files(cache) == []


def entry_name(base: str) -> str:
    """The file name of the entry for a key with no kwargs and no user (docs/cache.md)."""
    raw = base.encode()
    part = b"k" + struct.pack("<Q", len(raw)) + raw
    return hashlib.sha256(b"owt-cache-key-v1\0" + part).hexdigest()


def test_entry_name_is_the_documented_digest(fresh_server: Start, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    server = fresh_server(cache_options(cache))
    assert_miss(ask(server, "/named", FRESH))
    assert [p.name for p in entry_files(cache)] == [entry_name("/named")]


def test_fifo_at_an_entry_is_a_miss_not_a_hang(fresh_server: Start, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    server = fresh_server(cache_options(cache))
    fifo = cache / entry_name("/fifo")
    os.mkfifo(fifo, 0o600)  # nobody ever writes to it: an open for reading would block
    resp = http_send(server, get("/fifo", {"code": FRESH, "use_cache": "true"}), timeout=15)
    assert_miss(resp)
    assert "not a regular file" in resp.log
    assert not stat.S_ISFIFO(fifo.lstat().st_mode)  # replaced by the fresh entry
    assert_hit(ask(server, "/fifo"), resp.body)
    assert (http_send(server, get("/_owt/health"), timeout=5).status) == 200  # the worker is fine


def test_two_workers_keep_one_byte_bound(fresh_server: Start, tmp_path: Path) -> None:
    """Each worker counts every worker's stores: the directory stays within its bound."""
    cache = tmp_path / "cache"
    bound = 40_000
    server = fresh_server(("--workers", "2", *cache_options(cache, "--cache-max-bytes", str(bound))))
    deadline = time.monotonic() + 10
    while len(server.worker_pids()) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(server.worker_pids()) == 2, server.worker_pids()
    big = code("""
        import os, uuid
        def run():
            return f'{uuid.uuid4().hex} pid={os.getpid()} ' + 'x' * 1500
    """)
    entry = 0
    peak = 0
    pids: set[int] = set()
    for batch in range(20):
        for resp in parallel(4, lambda i: ask(server, f"/bound/{batch}-{i}", big)):
            assert_miss(resp)
            pids.add(int(resp.text.split("pid=", 1)[1].split()[0]))
        sizes = [p.stat().st_size for p in entry_files(cache)]
        entry = max([entry, *sizes])
        peak = max(peak, sum(sizes))
    assert len(pids) == 2, f"every store came from one worker ({pids}): nothing was shared"
    # Between a store's rename and its eviction another worker's directory listing can
    # see one entry more than the bound; never more than that.
    assert peak <= bound + entry, f"{peak} bytes in the directory, {peak / bound:.2f}x the bound of {bound}"
    usage = http_send(server, get("/_owt/cache")).json()
    assert usage["bytes"] <= bound, usage


def test_eight_concurrent_misses_on_one_key(fresh_server: Start, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    server = fresh_server(("--workers", "2", *cache_options(cache)))
    source = code("""
        import time
        def run():
            time.sleep(0.2)
            for i in range(64):
                yield f'{i:04d}' * 4096
    """)
    expected = b"".join(f"{i:04d}".encode() * 4096 for i in range(64))  # 1 MiB in 64 chunks

    def one(_: int) -> Resp:
        return ask(server, "/same", source)

    results = parallel(8, one)
    for resp in results:
        assert resp.status == 200 and cache_state(resp) in ("miss", "hit"), resp.describe()
        assert resp.body == expected, f"{len(resp.body)} bytes, {cache_state(resp)}"
    assert any(cache_state(r) == "miss" for r in results)
    assert_hit(ask(server, "/same"), expected)
    (path,) = entry_files(cache)
    assert b"".join(read_entry(path)["chunks"]) == expected
    assert temp_files(cache) == []


# ---- the admin page ------------------------------------------------------------------------


def test_admin_page(fresh_server: Start, tmp_path: Path) -> None:
    server = fresh_server(cache_options(tmp_path / "cache"))
    empty = http_send(server, get("/_owt/cache"))
    assert empty.status == 200 and empty.content_type == "application/json", empty.describe()
    assert empty.json() == {"enabled": True, "entries": 0, "bytes": 0, "max_bytes": 256 << 20,
                            "ttl": 0, "hits": 0, "misses": 0}
    a = ask(server, "/a", FRESH)
    ask(server, "/a", FRESH, kwargs="{'v': 1}", cache_kwargs="true")
    ask(server, "/b", FRESH)
    assert_hit(ask(server, "/a"), a.body)
    usage = http_send(server, get("/_owt/cache")).json()
    assert (usage["entries"], usage["hits"], usage["misses"]) == (3, 1, 3), usage
    assert usage["bytes"] == sum(p.stat().st_size for p in entry_files(tmp_path / "cache"))

    purge_a = http_send(server, Req("DELETE", "/_owt/cache", (("key", "/a"),)))
    assert (purge_a.status, purge_a.json()) == (200, {"purged": 2}), purge_a.describe()  # both /a variants
    assert_no_entry(ask(server, "/a"))
    nothing = http_send(server, Req("DELETE", "/_owt/cache", (("key", "/nothing"),)))
    assert nothing.json() == {"purged": 0}
    purge_all = http_send(server, Req("DELETE", "/_owt/cache"))
    assert purge_all.json() == {"purged": 1}
    assert http_send(server, get("/_owt/cache")).json()["entries"] == 0
    assert http_send(server, Req("POST", "/_owt/cache")).status == 405


def test_cache_off(fresh_server: Start) -> None:
    server = fresh_server(("-vv", "--cache-dir", ""))
    first = ask(server, "/off", FRESH)
    assert_miss(first)
    assert ask(server, "/off", FRESH).body != first.body  # nothing stored
    assert_no_entry(ask(server, "/off"))
    page = http_send(server, get("/_owt/cache"))
    assert page.json()["enabled"] is False
    assert http_send(server, Req("DELETE", "/_owt/cache")).status == 409


# ---- the example -------------------------------------------------------------------------------


def test_favicon_example(fresh_server: Start, tmp_path: Path) -> None:
    server = fresh_server(cache_options(tmp_path / "cache"))
    script = SRCDIR / "examples" / "favicon" / "force_cache.sh"
    outputs = []
    for run in ("one", "two"):
        p = subprocess.run([str(script), server.url, str(tmp_path / run)], capture_output=True,
                           text=True, timeout=60)
        assert p.returncode == 0, p.stdout + p.stderr
        outputs.append(p.stdout)
        png = (tmp_path / run / "first.png").read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and b"IHDR" in png[:16]
    states = [re.findall(r"X-Owt-Cache: (\w+)", out) for out in outputs]
    assert states == [["miss", "hit", "hit"], ["hit", "hit", "hit"]], outputs
    assert (tmp_path / "one" / "first.png").read_bytes() == (tmp_path / "two" / "first.png").read_bytes()
