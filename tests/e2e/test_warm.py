"""PROTOCOL §4 warm adaptors: each distinct (code, fn_name) runs once per worker, in a
namespace of its own, kept in a bounded LRU (``--max-adaptors``); memory stays bounded."""

from __future__ import annotations

import http.client
import json
import urllib.parse
import uuid
from collections.abc import Callable, Sequence

import pytest

from e2e_cases import code
from owt_e2e import OWT_BIN, OwtServer, b64, get, http_send, rss_kib

LRU16 = ("--max-adaptors", "16")


def counter_code(tag: str) -> str:
    return code(f"""
        # {tag}
        import os
        count = 0
        def run():
            global count
            count += 1
            return {{'count': count, 'pid': os.getpid()}}
        def other():
            global count
            count += 1
            return {{'count': count, 'pid': os.getpid()}}
    """)


class Client:
    """One keep-alive connection to a server: many small requests, quickly."""

    def __init__(self, server: OwtServer) -> None:
        self.server = server
        self.conn = http.client.HTTPConnection(server.address, server.port, timeout=30)

    def call(self, source: str, path: str = "/", **fields: str) -> tuple[int, bytes]:
        query = urllib.parse.urlencode({"code_b64": b64(source), **fields})
        for attempt in (0, 1):
            try:
                self.conn.request("GET", f"{path}?{query}")
                r = self.conn.getresponse()
                return r.status, r.read()
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.server.address, self.server.port, timeout=30)
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def json(self, source: str, **fields: str) -> dict:
        status, body = self.call(source, **fields)
        assert status == 200, body
        return json.loads(body)

    def close(self) -> None:
        self.conn.close()


def status_worker_pid(server: OwtServer) -> int:
    """``workers[0].pid`` of /_owt/status, checked against the server's process tree."""
    resp = http_send(server, get("/_owt/status"))
    assert resp.status == 200, resp.describe()
    workers = resp.json()["workers"]
    assert workers, f"/_owt/status lists no worker: {resp.text}"
    pid = workers[0]["pid"]
    assert pid in server.worker_pids(), f"status pid {pid} is not one of {server.worker_pids()}"
    return pid


@pytest.fixture(scope="module")
def lru_server(owt_server: Callable[[Sequence[str]], OwtServer]) -> OwtServer:
    return owt_server(LRU16)


def test_module_level_counter_grows_on_one_worker(server: OwtServer) -> None:
    client = Client(server)
    source = counter_code(uuid.uuid4().hex)
    try:
        results = [client.json(source) for _ in range(5)]
    finally:
        client.close()
    assert [r["count"] for r in results] == [1, 2, 3, 4, 5]
    assert len({r["pid"] for r in results}) == 1
    assert results[0]["pid"] in server.worker_pids()


def test_worker_pid_in_status_is_the_adaptor_process(server: OwtServer) -> None:
    client = Client(server)
    try:
        pid = client.json(counter_code(uuid.uuid4().hex))["pid"]
    finally:
        client.close()
    assert status_worker_pid(server) == pid


def test_each_code_and_fn_name_has_its_own_namespace(server: OwtServer) -> None:
    client = Client(server)
    tag = uuid.uuid4().hex
    try:
        status, body = client.call(code(f"""
            # {tag}
            SHARED = 'set by the first code'
            def run():
                return SHARED
        """))
        assert (status, body) == (200, b"set by the first code")
        status, body = client.call(code(f"""
            # {tag}
            def run():
                return repr(globals().get('SHARED'))
        """))
        assert (status, body) == (200, b"None")
        source = counter_code(tag)
        assert [client.json(source)["count"] for _ in range(2)] == [1, 2]
        assert client.json(source, fn_name="other")["count"] == 1
        assert client.json(source)["count"] == 3
    finally:
        client.close()


def test_lru_evicts_the_least_recently_used(lru_server: OwtServer) -> None:
    client = Client(lru_server)
    tag = uuid.uuid4().hex
    try:
        kept = counter_code(tag + "-kept")
        assert client.json(kept)["count"] == 1
        for i in range(10):
            assert client.call(f"lambda: {i}  # {tag}")[0] == 200
        assert client.json(kept)["count"] == 2, "evicted although fewer than 16 others ran since"
        for i in range(20):
            assert client.call(f"lambda: {i}  # {tag} second round")[0] == 200
        assert client.json(kept)["count"] == 1, "still warm after 20 other codes with --max-adaptors 16"
    finally:
        client.close()


def _sanitized() -> bool:
    try:
        return b"__asan_init" in OWT_BIN.read_bytes()
    except OSError:
        return False


def compiled_code(i: int, tag: str) -> str:
    """A module with plenty of compiled code and objects: ~0.4 MiB while it is warm."""
    functions = "".join(f"def f{j}(x):\n    return x + {j}\n" for j in range(200))
    return f"# {tag} {i}\n{functions}TABLE = {{n: str(n) * 8 for n in range(2000)}}\ndef run():\n    return {i}\n"


def model_code(i: int, tag: str) -> str:
    """A module that "loads a model" at import: 256 KiB of bytes kept in a global."""
    return f"# {tag} {i}\nMODEL = bytes([{i % 251}]) * 262144\ndef run():\n    return {i}\n"


def rss_growth(server: OwtServer, make: Callable[[int, str], str]) -> tuple[float, float, int]:
    """(growth after 500 codes, peak growth, RSS after warm-up) in MiB/KiB, over a warm-up of 100."""
    client = Client(server)
    tag = uuid.uuid4().hex
    try:
        for i in range(100):
            status, body = client.call(make(i, tag))
            assert (status, body) == (200, str(i).encode()), body
        pid = status_worker_pid(server)
        before = peak = rss_kib(pid)
        for i in range(100, 500):
            status, body = client.call(make(i, tag))
            assert (status, body) == (200, str(i).encode()), body
            if i % 10 == 0:
                peak = max(peak, rss_kib(pid))
        after = rss_kib(pid)
        assert status_worker_pid(server) == pid, "the worker changed during the run"
    finally:
        client.close()
    return (after - before) / 1024, (max(peak, after) - before) / 1024, before


@pytest.fixture
def no_sanitizer() -> None:
    if _sanitized():
        pytest.skip("RSS is not meaningful under AddressSanitizer (its quarantine keeps freed memory)")


def test_500_distinct_codes_keep_rss_within_the_lru_bound(lru_server: OwtServer, no_sanitizer: None) -> None:
    growth, peak, before = rss_growth(lru_server, compiled_code)
    assert growth < 4 and peak < 8, (
            f"worker RSS grew {growth:.1f} MiB (peak {peak:.1f} MiB over {before} KiB) across 400 more "
            f"distinct codes of ~0.4 MiB each, with --max-adaptors 16")


def test_evicted_module_state_is_freed(lru_server: OwtServer, no_sanitizer: None) -> None:
    growth, peak, before = rss_growth(lru_server, model_code)
    assert growth < 8 and peak < 8, (
            f"worker RSS grew {growth:.1f} MiB (peak {peak:.1f} MiB over {before} KiB) across 400 more "
            f"distinct codes each holding 0.25 MiB, with --max-adaptors 16 (bound: 4 MiB)")
