"""Many requests at once in one worker: threads, async adaptors, batching (docs/concurrency.md).

Through the default front (spawn/owt-serve: lighttpd starting an owt-fcgi master on its
socket) and through nginx in front of an owt-fcgi --listen master:

- 64 requests that each wait 50 ms with the GIL released run at once in one worker: a
  barrier of 64 in the adaptor proves they overlap, and the wave takes about 50 ms;
- a module-level "model" is built once per worker under 32 concurrent cold requests;
- one request's timeout (Python-level, or stuck in C) leaves the others' answers intact;
- owt inside owt: an adaptor calling the server it runs on, with default options;
- async adaptors share one event loop; their timeouts and departed clients cancel the task;
- owt.batch gathers concurrent calls and gives each caller its own result or exception;
- /_owt/status lists every request in flight;
- a segfault in one thread ends the requests in flight in that worker, and nothing else.
"""

from __future__ import annotations

import concurrent.futures
import http.client
import json
import os
import resource
import socket
import time
import urllib.parse
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from conftest_nginx import NginxServer, fresh_nginx, nginx_front  # noqa: F401 (fixtures)
from e2e_cases import code
import fcgi_client
from owt_e2e import OWT_BIN, OwtServer, _stat, b64, in_flight, proc_status_number, status

def _sanitized() -> bool:
    try:
        return b"__asan_init" in OWT_BIN.read_bytes()
    except OSError:
        return False


SLOW = 4.0 if _sanitized() else 1.0
"""Time bounds are scaled under the sanitizers (every call several times slower)."""


def fetch(server: OwtServer, path: str, source: str, kwargs: Any = None, timeout: float = 60.0,
          method: str = "GET") -> tuple[int, bytes]:
    """One request carrying source (and kwargs as JSON) on a fresh connection."""
    fields = {"code_b64": b64(code(source))}
    if kwargs is not None:
        fields["kwargs"] = json.dumps(kwargs)
    conn = http.client.HTTPConnection(server.address, server.port, timeout=timeout)
    try:
        if method == "GET":
            conn.request("GET", path + "?" + urllib.parse.urlencode(fields))
        else:
            conn.request("POST", path, body=json.dumps(fields), headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def send_fastcgi(sock: socket.socket, path: str, source: str, kwargs: Any = None) -> None:
    """The request fetch() makes, written as FastCGI records straight to a worker's socket."""
    query = {"code_b64": b64(code(source))}
    if kwargs is not None:
        query["kwargs"] = json.dumps(kwargs)
    fcgi_client.send_request(sock, fcgi_client.cgi_params("GET", path, query))


def hand_to_dispatcher(sock_path: str) -> None:
    """Connections are accepted in order: once a later one is answered, every connection
    opened before it was accepted, found empty and given to the dispatcher to wait on."""
    assert fcgi_client.get(sock_path, "/_owt/health").status == 200


def many(n: int, call: Callable[[int], Any]) -> list[Any]:
    """call(0..n-1), all at once from n client threads; results in order."""
    with concurrent.futures.ThreadPoolExecutor(n) as pool:
        return list(pool.map(call, range(n)))


def wait_until(what: Callable[[], Any], timeout: float, message: str) -> Any:
    """what()'s first true value, polled until timeout."""
    deadline = time.monotonic() + timeout
    while not (got := what()):
        if time.monotonic() > deadline:
            raise AssertionError(message)
        time.sleep(0.02)
    return got


def nonce() -> str:
    """Makes an adaptor's source unique, so it is cold on every server."""
    return uuid.uuid4().hex


BARRIER_WAVE = """
    # {nonce}
    import os, threading, time
    _arrived = threading.Barrier({n}, timeout={barrier_timeout})
    def run(i):
        _arrived.wait()      # every one of the {n} requests is in flight at once
        t0 = time.monotonic()
        time.sleep(0.05)     # waits with the GIL released, like a model call
        return {{"i": i, "pid": os.getpid(), "t0": t0, "t1": time.monotonic()}}
"""


def one_wave(server: OwtServer, n: int) -> None:
    source = BARRIER_WAVE.format(nonce=nonce(), n=n, barrier_timeout=10 * SLOW)
    fetch(server, "/warm", source.replace("_arrived.wait()", "pass"), {"i": -1})  # compile it first
    results = many(n, lambda i: fetch(server, f"/wave/{i}", source, {"i": i}))
    assert all(s == 200 for s, _ in results), [r for r in results if r[0] != 200][:3]
    answers = [json.loads(body) for _, body in results]
    assert sorted(a["i"] for a in answers) == list(range(n))
    assert len({a["pid"] for a in answers}) == 1, "all on one worker"
    # They passed a barrier of n: all n ran at once. The 50 ms waits overlap: one wave.
    start, end = min(a["t0"] for a in answers), max(a["t1"] for a in answers)
    assert end - start < 0.05 + 0.25 * SLOW, f"the waits spread over {end - start:.3f} s"


def test_64_requests_on_one_worker_in_one_wave_default_front(owt_server: Callable[[Sequence[str]], OwtServer]) -> None:
    one_wave(owt_server(("-vv", "--threads", "64")), 64)


def test_64_requests_on_one_worker_in_one_wave_nginx(nginx_front: Callable[..., NginxServer]) -> None:
    one_wave(nginx_front(("-vv", "--threads", "64"), workers=1), 64)


def test_the_default_serves_16_waiting_requests_at_once(server: OwtServer) -> None:
    one_wave(server, 16)


def test_requests_on_connections_that_waited_each_get_a_thread(server: OwtServer) -> None:
    """16 FastCGI connections the worker accepted before their requests came (the dispatcher
    holds them: an idle peer must not hold a thread), then the 16 requests at once, on the
    default server's own socket. The dispatcher hands them to the 16 idle threads in one go:
    each must get a thread, or the barrier of 16 breaks. Several rounds: a lost wake-up
    between the dispatcher and its idle threads only shows when the hand-overs race."""
    sock_path = server.fastcgi_socket()
    source = BARRIER_WAVE.format(nonce=nonce(), n=16, barrier_timeout=5 * SLOW)
    fetch(server, "/warm", source.replace("_arrived.wait()", "pass"), {"i": -1})
    for round_ in range(8):
        socks = [fcgi_client.connect(sock_path, timeout=30 * SLOW) for _ in range(16)]
        try:
            hand_to_dispatcher(sock_path)
            for i, s in enumerate(socks):
                send_fastcgi(s, f"/wait/{round_}/{i}", source, {"i": i})
            answers = many(16, lambda i: fcgi_client.read_response(socks[i]))
        finally:
            for s in socks:
                s.close()
        got = [(a.status, a.body) for a in answers]
        assert all(st == 200 for st, _ in got), (round_, [g for g in got if g[0] != 200][:2])
        assert sorted(json.loads(b)["i"] for _, b in got) == list(range(16))


def test_while_the_leader_serves_a_connection_that_waited_new_ones_are_accepted(server: OwtServer) -> None:
    """A connection accepted before its request came waits in the dispatcher; when the request
    comes, the thread that was leading (accepting) serves it. Nobody accepts then until the
    dispatcher gives the lead to an idle thread: a new connection must still be served while
    that request runs, also when the worker had been idle (nothing to wake the dispatcher)."""
    sock_path = server.fastcgi_socket()
    source = f"""
        # {nonce()}
        import time
        def run():
            time.sleep(3)
            return "slow"
    """
    with fcgi_client.connect(sock_path, timeout=30 * SLOW) as held:
        hand_to_dispatcher(sock_path)
        time.sleep(0.3)  # an idle worker: the dispatcher no longer looks out for the lead
        send_fastcgi(held, "/held-slow", source)
        t0 = time.monotonic()
        wait_until(lambda: in_flight(server, "/held-slow"), 2.0,
                   "no other connection was served while the held one's request ran")
        assert time.monotonic() - t0 < 2.5
        assert fcgi_client.read_response(held).body == b"slow"


def test_connections_whose_request_comes_late_are_served(server: OwtServer) -> None:
    """A connection the leader accepted before its request came waits in the dispatcher's
    poll (a web server writes right after connecting, but not always before the accept).
    12 connections whose requests come 2 to 24 ms after they connect, while the leader
    accepts the next ones: each is answered, with its own result."""
    sock_path = server.fastcgi_socket()
    source = f"""
        # {nonce()}
        def run(i):
            return {{"i": i}}
    """
    fetch(server, "/warm", source, {"i": -1})
    for round_ in range(3):
        socks = [fcgi_client.connect(sock_path, timeout=30 * SLOW) for _ in range(12)]
        try:
            for i, s in enumerate(socks):
                time.sleep(0.002)
                send_fastcgi(s, f"/late/{round_}/{i}", source, {"i": i})
            got = [fcgi_client.read_response(s) for s in socks]
        finally:
            for s in socks:
                s.close()
        assert [(a.status, json.loads(a.body)["i"]) for a in got] == [(200, i) for i in range(12)]


def test_a_connection_waiting_for_its_request_is_not_held_by_a_busy_leader(server: OwtServer) -> None:
    """A quiet connection, then a request that keeps the thread that accepted both busy for
    3 s: the quiet one waits in the dispatcher, holding no thread, and its request, when it
    comes, is answered by another thread while the slow one still runs."""
    sock_path = server.fastcgi_socket()
    slow = f"""
        # {nonce()}
        import time
        def run():
            time.sleep(3)
            return "slow"
    """
    quick = f"""
        # {nonce()}
        def run():
            return "quick"
    """
    fetch(server, "/warm", quick)
    with fcgi_client.connect(sock_path, timeout=30 * SLOW) as quiet, \
         fcgi_client.connect(sock_path, timeout=30 * SLOW) as busy:
        send_fastcgi(busy, "/slow", slow)
        wait_until(lambda: in_flight(server, "/slow"), 5.0 * SLOW, "the slow request never started")
        send_fastcgi(quiet, "/quick", quick)
        answer = fcgi_client.read_response(quiet)
        assert (answer.status, answer.body) == (200, b"quick")
        assert in_flight(server, "/slow"), "the quick request was answered only after the slow one"
        assert fcgi_client.read_response(busy).body == b"slow"


def descriptor_hog(release: Path) -> str:
    """An adaptor whose thread takes every descriptor its worker may open, and every one that
    comes free (its own request's connection, once answered), until release exists."""
    return f"""
        # {nonce()}
        import os, threading, time
        held = []
        def hold_all_until_released():
            deadline = time.monotonic() + 120
            while not os.path.exists({str(release)!r}) and time.monotonic() < deadline:
                try:
                    held.append(os.open("/dev/null", os.O_RDONLY | os.O_CLOEXEC))
                except OSError:
                    time.sleep(0.005)
            for fd in held:
                os.close(fd)
            held.clear()
        def run():
            threading.Thread(target=hold_all_until_released, daemon=True).start()
            return "holding"
    """


def hold_every_descriptor(server: OwtServer, tmp_path: Path) -> tuple[int, Path]:
    """Run descriptor_hog in server's only worker and wait until it holds every descriptor
    the worker may open. Returns the worker and the path that lets them go once it exists."""
    os.chmod(tmp_path, 0o777)
    release = tmp_path / "release"
    (worker,) = server.worker_pids()
    soft = resource.prlimit(worker, resource.RLIMIT_NOFILE)[0]
    assert fetch(server, "/hold", descriptor_hog(release)) == (200, b"holding")
    wait_until(lambda: len(os.listdir(f"/proc/{worker}/fd")) >= soft, 10.0 * SLOW,
               "the adaptor did not take every descriptor")
    return worker, release


def start_with_few_descriptors(fresh_server: Callable[..., OwtServer], options: Sequence[str] = ()) -> OwtServer:
    """A server started with at most 512 descriptors a process (inherited), so an adaptor has
    few to take. (Lowering it from outside a running worker would be undone by the worker, as
    an adaptor's change is.)"""
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(512, limit[0]), limit[1]))
    try:
        return fresh_server(tuple(options)) if options else fresh_server()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, limit)


def test_a_worker_out_of_descriptors_waits_for_them_without_spinning(fresh_server: Callable[..., OwtServer],
                                                                     tmp_path: Path) -> None:
    """An adaptor holds every descriptor its worker may open: accept4 fails (EMFILE) while a
    connection waits in the listening socket's queue, which poll keeps reporting. The leader
    waits 10 ms between tries instead of going round at full speed; once descriptors are
    free again, the waiting request is served."""
    server = start_with_few_descriptors(fresh_server)
    hello = f"""
        # {nonce()}
        def run():
            return "hello"
    """
    assert fetch(server, "/hello", hello) == (200, b"hello")
    worker, release = hold_every_descriptor(server, tmp_path)
    def cpu_seconds() -> float:
        fields = _stat(worker)  # state first: utime and stime are fields 11 and 12
        assert fields is not None, "the worker is gone"
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(fetch, server, "/hello", hello, None, 60.0 * SLOW)
        try:
            wait_until(lambda: "cannot accept a FastCGI connection: Too many open files" in server.log_text(),
                       10.0 * SLOW, "the worker never said it ran out of descriptors")
            before, t0 = cpu_seconds(), time.monotonic()
            time.sleep(1.0)  # a span to measure the worker's CPU over, not a wait for state
            used = (cpu_seconds() - before) / (time.monotonic() - t0)
            assert used < 0.3, f"the worker used {used:.0%} of a core while out of descriptors"
            assert not waiting.done(), "the request was answered while the worker had no descriptor for it"
        finally:
            release.touch()
        assert waiting.result() == (200, b"hello")


def test_a_worker_out_of_descriptors_longer_than_the_io_timeout_is_recycled(
        fresh_server: Callable[..., OwtServer], tmp_path: Path) -> None:
    """Quiet connections give their descriptors back at --io-timeout; when the worker still has
    none well after that, something else holds them (here an adaptor that never lets go, as
    one leaking a descriptor a request would): the worker recycles, and the request waiting
    in the listening socket's queue is served by its replacement."""
    server = start_with_few_descriptors(fresh_server, ("-vv", "--workers", "1", "--io-timeout", "1"))
    worker, release = hold_every_descriptor(server, tmp_path)
    try:
        hello = "def run(): return 'served'"
        assert fetch(server, "/waiting", hello, timeout=60.0 * SLOW) == (200, b"served")
        assert worker not in server.worker_pids()
        assert "longer than --io-timeout: recycling" in server.log_text()
    finally:
        release.touch()


def test_quick_requests_one_after_another_stay_on_one_thread(server: OwtServer) -> None:
    """The thread that accepted a request leads again when it is done; an idle thread takes
    over only when nobody has led for a millisecond and a connection waits, or a connection
    became ready while the leader served (a promotion, counted in /_owt/status). So requests
    that come one after another are served by one thread, as with --threads 1. On a busy
    machine a thread can still be off the CPU after it wrote its response, when the next
    request comes: a promotion then, and once two threads serve, the one that comes back while
    the other serves leads, so the next few requests may go back and forth until one thread
    is back first. Handing the lead on at every accept, as before, woke a follower for every
    request and changed thread at every other request or more."""
    source = f"""
        # {nonce()}
        import os, threading
        def run():
            return f"{{os.getpid()}}:{{threading.get_ident()}}"
    """
    def promotions() -> int:
        return sum(w["promotions"] for w in status(server)["workers"])
    for _ in range(10):  # the first ones compile it and warm up
        assert fetch(server, "/which-thread", source)[0] == 200
    before = promotions()
    served = [fetch(server, "/which-thread", source) for _ in range(50)]
    moved = promotions() - before
    assert all(s == 200 for s, _ in served), served[:3]
    idents = [body for _, body in served]
    switches = sum(a != b for a, b in zip(idents, idents[1:]))
    assert switches < len(served) // 4, (f"{switches} changes of thread in 50 requests one after another "
                                         f"({moved} promotions, {len(set(idents))} threads)")
    assert moved < len(served) // 2, f"{moved} promotions in 50 requests one after another"


def dispatcher_wakeups(pid: int) -> int:
    """How often the worker's dispatcher (its main thread) has gone to sleep and been woken."""
    return proc_status_number(f"/proc/{pid}/task/{pid}/status", "voluntary_ctxt_switches")


def test_quick_requests_do_not_keep_the_dispatcher_awake(server: OwtServer) -> None:
    """While the leader serves and followers idle, the dispatcher looks out for a request
    that keeps the leader so long that a follower should take the lead (a promotion). It
    looked every millisecond as long as requests kept coming (one in each 100 ms is enough),
    so any steady stream of them, quick ones included, woke it a thousand times a second,
    each wake-up dearer on a VM than the look. Now, while its looks find the leader back at
    the socket, it looks half as often each time, down to every 10 ms, and a promotion
    brings it back to every millisecond. A quick request every 20 ms here: the dispatcher
    woke ~900 times a second before, ~105 now (100 looks and the 4 of the hygiene sweep;
    more when lighttpd sends a request a moment after opening its connection, which the
    dispatcher then waits on)."""
    source = f"""
        # {nonce()}
        def run():
            return "quick"
    """
    for _ in range(10):  # the first ones compile it and warm up
        assert fetch(server, "/quick", source) == (200, b"quick")
    [worker] = server.worker_pids()
    before, start, served = dispatcher_wakeups(worker), time.monotonic(), 0
    while time.monotonic() - start < 1.5:
        assert fetch(server, "/quick", source) == (200, b"quick")
        served += 1
        time.sleep(0.02)
    per_second = (dispatcher_wakeups(worker) - before) / (time.monotonic() - start)
    assert served >= 15, f"only {served} requests in 1.5 s"
    assert per_second < 500, f"the dispatcher woke {per_second:.0f} times a second for {served} quick requests"


def test_a_model_is_built_once_per_worker(owt_server: Callable[[Sequence[str]], OwtServer], tmp_path: Path) -> None:
    server = owt_server(("-vv", "--workers", "2", "--threads", "32"))
    builds = tmp_path / "builds"
    builds.mkdir(mode=0o777)
    source = f"""
        # {nonce()}
        import os, time
        time.sleep(0.5)                       # loading the weights
        with open({str(builds)!r} + "/" + str(os.getpid()), "a") as f:
            f.write("built\\n")
        MODEL = object()
        def run(i):
            return {{"pid": os.getpid(), "model": id(MODEL)}}
    """
    results = many(32, lambda i: fetch(server, f"/cold/{i}", source, {"i": i}))
    assert all(s == 200 for s, _ in results), results[:3]
    pids = {json.loads(b)["pid"] for _, b in results}
    files = sorted(builds.iterdir())
    assert {int(f.name) for f in files} == pids
    for f in files:
        assert f.read_text() == "built\n", f"{f.name} built the module more than once"
    models = {}
    for _, body in results:
        answer = json.loads(body)
        models.setdefault(answer["pid"], set()).add(answer["model"])
    assert all(len(ids) == 1 for ids in models.values()), models


def test_one_requests_timeout_leaves_the_others_intact(owt_server: Callable[[Sequence[str]], OwtServer]) -> None:
    server = owt_server(("-vv", "--timeout", "2", "--kill-grace", "2"))
    slow = f"""
        # {nonce()}
        import time
        def run(i):
            time.sleep(0.3)
            return f"done {{i}}"
    """
    spin = """
        def run(i):
            while True:
                pass
    """

    def call(i: int) -> tuple[int, bytes]:
        return fetch(server, f"/spin/{i}", spin, {"i": i}) if i == 0 else fetch(server, f"/ok/{i}", slow, {"i": i})

    t0 = time.monotonic()
    results = many(12, call)
    assert results[0][0] == 504 and b"Timeout" in results[0][1], results[0]
    assert results[1:] == [(200, f"done {i}".encode()) for i in range(1, 12)]
    assert time.monotonic() - t0 < 2 + 2 * SLOW


def test_a_request_stuck_in_c_is_answered_and_its_worker_replaced(fresh_server: Callable[..., OwtServer]) -> None:
    """The hard deadline: 504 for the stuck request; the worker stops accepting, its other
    requests in flight finish (they are younger: their own deadlines are later), it exits,
    and the master's replacement serves what comes next."""
    server = fresh_server(("-vv", "--timeout", "3", "--kill-grace", "0.5"))
    stuck = """
        import threading
        def run():
            threading.Event().wait()    # blocks in C, never runs Python again
    """
    slow = """
        import time
        def run(i):
            time.sleep(2.5)
            return i
    """
    before = set(server.worker_pids())
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        t0 = time.monotonic()
        stuck_answer = pool.submit(fetch, server, "/stuck", stuck)
        wait_until(lambda: time.monotonic() - t0 > 2.0, 10, "")
        # In flight when the stuck request's hard deadline (3.5 s) comes: they must finish.
        others = [pool.submit(fetch, server, f"/slow/{i}", slow, {"i": i}) for i in range(4)]
        code_, body = stuck_answer.result()
        took = time.monotonic() - t0
        assert code_ == 504 and b"did not stop" in body, (code_, body)
        assert 3.4 <= took < 3.5 + 2 * SLOW, took
        assert [f.result() for f in others] == [(200, str(i).encode()) for i in range(4)]
    wait_until(lambda: set(server.worker_pids()) and not set(server.worker_pids()) & before, 20 * SLOW,
               "the stuck worker was not replaced")
    assert fetch(server, "/after", "def run(): return 'fresh'") == (200, b"fresh")
    assert "this worker drains and exits" in server.log_text()


def test_a_request_holding_the_gil_for_good_ends_its_worker(fresh_server: Callable[..., OwtServer],
                                                           tmp_path: Path) -> None:
    """C code that holds the GIL and never returns: no request of that worker can finish.
    At the hard deadline it is answered 504, the others in flight 503 (retry), and the worker
    exits at once; the replacement serves."""
    server = fresh_server(("-vv", "--timeout", "1", "--kill-grace", "1"))
    marker = tmp_path / "holding"
    os.chmod(tmp_path, 0o777)
    stuck = """
        import ctypes, os
        def run(marker):
            libc = ctypes.PyDLL(None)         # PyDLL: the calls keep the GIL
            m = ctypes.create_string_buffer(64)
            fd = os.open(marker, os.O_WRONLY | os.O_CREAT, 0o644)
            libc.pthread_mutex_lock(m)        # takes the mutex
            libc.write(fd, b"x", 1)           # "about to block": the next call never returns,
            libc.pthread_mutex_lock(m)        # and holds the GIL all along
    """
    before = set(server.worker_pids())
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        stuck_answer = pool.submit(fetch, server, "/stuck", stuck, {"marker": str(marker)})
        wait_until(lambda: marker.exists() and marker.stat().st_size > 0, 10 * SLOW,
                   "the stuck request never took the GIL")
        hostage = pool.submit(fetch, server, "/hostage", "def run(): return 'late'")
        assert stuck_answer.result()[0] == 504
        code_, body = hostage.result()
        assert code_ == 503 and b"retry" in body, (code_, body)
    wait_until(lambda: set(server.worker_pids()) and not set(server.worker_pids()) & before, 20 * SLOW,
               "the stuck worker was not replaced")
    assert fetch(server, "/after", "def run(): return 'fresh'") == (200, b"fresh")
    assert "holds the Python interpreter for good" in server.log_text()


def test_owt_inside_owt_on_the_default_server(server: OwtServer) -> None:
    """An adaptor that calls the server it runs on (the seed's web app and meta examples)."""
    inner = code("def run(name): return f'Hello, {name}!'")
    outer = f"""
        import json, urllib.parse, urllib.request
        def run(name):
            srv = Server.sing()
            q = urllib.parse.urlencode({{"code": {inner!r}, "kwargs": json.dumps({{"name": name}})}})
            with urllib.request.urlopen(f"http://{{srv.address}}:{{srv.port}}/inner?{{q}}", timeout=20) as r:
                return "outer got: " + r.read().decode()
    """
    results = many(8, lambda i: fetch(server, f"/outer/{i}", outer, {"name": f"owt{i}"}, timeout=30))
    assert results == [(200, f"outer got: Hello, owt{i}!".encode()) for i in range(8)]


def test_async_adaptors_share_one_event_loop(server: OwtServer) -> None:
    source = f"""
        # {nonce()}
        import asyncio, threading, time
        async def run(i):
            t0 = time.monotonic()
            await asyncio.sleep(0.3)
            return {{"i": i, "loop": threading.get_ident(), "t0": t0, "t1": time.monotonic(),
                    "path": request.path}}
    """
    results = many(24, lambda i: fetch(server, f"/async/{i}", source, {"i": i}))
    answers = [json.loads(b) for s, b in results if s == 200]
    assert len(answers) == 24, results[:3]
    assert [a["path"] for a in answers] == [f"/async/{i}" for i in range(24)]  # the request, inside
    assert len({a["loop"] for a in answers}) == 1  # one loop thread
    assert max(a["t1"] for a in answers) - min(a["t0"] for a in answers) < 0.3 + 0.5 * SLOW


def test_async_generator_items_arrive_as_they_come(server: OwtServer) -> None:
    source = """
        import asyncio
        async def run():
            for i in range(3):
                yield f"item {i}\\n"
                await asyncio.sleep(0.3)
    """
    conn = http.client.HTTPConnection(server.address, server.port, timeout=20)
    conn.request("GET", "/agen?" + urllib.parse.urlencode({"code_b64": b64(code(source))}))
    r = conn.getresponse()
    arrivals = []
    t0 = time.monotonic()
    while (line := r.readline()):
        arrivals.append((line, time.monotonic() - t0))
    conn.close()
    assert [a[0] for a in arrivals] == [b"item 0\n", b"item 1\n", b"item 2\n"]
    assert arrivals[0][1] < 0.25 * SLOW and arrivals[1][1] > 0.25 and arrivals[2][1] > 0.55


def awaits_until_cancelled(marker: Path) -> str:
    """An async adaptor that waits 30 s and writes marker when its task is cancelled."""
    return f"""
        import asyncio
        async def run():
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                open({str(marker)!r}, "w").write("cancelled")
                raise
    """


def test_async_timeout_cancels_the_task(owt_server: Callable[[Sequence[str]], OwtServer], tmp_path: Path) -> None:
    server = owt_server(("-vv", "--timeout", "1"))
    marker = tmp_path / "cancelled"
    os.chmod(tmp_path, 0o777)
    source = awaits_until_cancelled(marker)
    assert fetch(server, "/atimeout", source)[0] == 504
    wait_until(marker.exists, 5 * SLOW, "the task was not cancelled")


def test_a_client_that_leaves_cancels_the_async_task(nginx_front: Callable[..., NginxServer], tmp_path: Path) -> None:
    """nginx ends the FastCGI request as soon as its client leaves (lighttpd only notices
    when it next writes to the client: docs/concurrency.md)."""
    server = nginx_front(("-vv",))
    marker = tmp_path / "cancelled"
    os.chmod(tmp_path, 0o777)
    source = awaits_until_cancelled(marker)
    sock = socket.create_connection((server.address, server.port))
    target = "/leaving?" + urllib.parse.urlencode({"code_b64": b64(code(source))})
    sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    wait_until(lambda: in_flight(server, "/leaving"), 10 * SLOW, "the request never started")
    sock.close()
    wait_until(marker.exists, 10 * SLOW, "the task was not cancelled when its client left")
    wait_until(lambda: not in_flight(server, "/leaving"), 10 * SLOW, "the request is still in flight")


BATCHED = """
    # {nonce}
    import threading
    @batch(max_size=8, max_wait_ms=300)
    def double(items):
        if "boom" in items:
            raise ValueError("the model failed on this batch")
        return [ValueError(f"bad item {{x}}") if x == "bad" else x * 2 for x in items]
    def run(x=None, stats=False):
        if stats:
            return double.stats()
        return {{"in": x, "out": double(x)}}
"""


def test_batch_gathers_concurrent_calls(server: OwtServer) -> None:
    source = BATCHED.format(nonce=nonce())
    results = many(16, lambda i: fetch(server, "/batch", source, {"x": i}))
    assert [json.loads(b) for _, b in results] == [{"in": i, "out": 2 * i} for i in range(16)]
    stats = json.loads(fetch(server, "/batch", source, {"stats": True})[1])
    sizes = {int(k): v for k, v in stats["sizes"].items()}
    assert stats["items"] == 16 and sum(k * v for k, v in sizes.items()) == 16
    assert max(sizes) == 8, f"calls were not gathered: batch sizes {sizes}"
    assert stats["batches"] <= 4, sizes


def test_batch_gives_each_caller_its_own_exception(server: OwtServer) -> None:
    source = BATCHED.format(nonce=nonce())
    results = many(4, lambda i: fetch(server, "/batch", source, {"x": ["bad", 1, 2, 3][i]}))
    assert results[0][0] == 500 and b"ValueError: bad item bad" in results[0][1]
    assert [json.loads(b) for _, b in results[1:]] == [{"in": i, "out": 2 * i} for i in (1, 2, 3)]
    results = many(4, lambda i: fetch(server, "/batch", source, {"x": ["boom", 1, 2, 3][i]}))
    failed = [r for r in results if r[0] == 500]
    assert failed and all(b"the model failed on this batch" in b for _, b in failed)
    assert all(json.loads(b)["out"] == 2 * json.loads(b)["in"] for s, b in results if s == 200)


def test_status_lists_every_request_in_flight(server: OwtServer) -> None:
    source = """
        import time
        def run():
            time.sleep(1.5)
            return "ok"
    """
    paths = [f"/inflight/{i}" for i in range(5)]
    with concurrent.futures.ThreadPoolExecutor(5) as pool:
        futures = [pool.submit(fetch, server, p, source) for p in paths]
        wait_until(lambda: set(paths) <= {r["path"] for w in status(server)["workers"] for r in w["inflight"]},
                   10 * SLOW, "not every request is listed")
        st = status(server)
        seen = [r for w in st["workers"] for r in w["inflight"] if r["path"].startswith("/inflight/")]
        assert len({r["thread"] for r in seen}) == 5 and all(r["method"] == "GET" for r in seen)
        assert st["totals"]["busy"] >= 6  # the five and this status request
        assert [f.result() for f in futures] == [(200, b"ok")] * 5


def test_status_reports_each_workers_memory(server: OwtServer) -> None:
    """rss_bytes is each worker's resident memory, sampled by its dispatcher a few times a
    second (an embedded Python is tens of MB)."""
    def reported() -> list[int] | None:
        rss = [w["rss_bytes"] for w in status(server)["workers"]]
        return rss if rss and all(r > 0 for r in rss) else None

    got = wait_until(reported, 5 * SLOW, "a worker does not report its memory")
    assert len(got) == len(server.worker_pids())
    for rss in got:
        assert 8 << 20 < rss < 4 << 30, rss


def test_a_segfault_costs_its_workers_requests_in_flight_only(fresh_server: Callable[..., OwtServer]) -> None:
    """docs/reliability.md: with threads, a crash ends every request in flight in that worker;
    requests it had not accepted yet wait in the socket's backlog and are all served."""
    server = fresh_server(("-vv", "--threads", "8"))
    crash = """
        import ctypes, time
        def run():
            time.sleep(1)
            return ctypes.string_at(0)
    """
    slow = """
        import time
        def run(i):
            time.sleep(3)
            return i
    """
    hello = "def run(i): return i"
    before = set(server.worker_pids())
    with concurrent.futures.ThreadPoolExecutor(40) as pool:
        crasher = pool.submit(fetch, server, "/crash", crash)
        in_flight = [pool.submit(fetch, server, f"/slow/{i}", slow, {"i": i}) for i in range(6)]
        wait_until(lambda: status(server)["totals"]["busy"] >= 8, 10 * SLOW, "the worker never filled up")
        queued = [pool.submit(fetch, server, f"/queued/{i}", hello, {"i": i}) for i in range(20)]
        assert crasher.result()[0] >= 500
        assert all(f.result()[0] >= 500 for f in in_flight), "a request in flight outlived its worker"
        assert [f.result() for f in queued] == [(200, str(i).encode()) for i in range(20)]
    assert not set(server.worker_pids()) & before


def test_a_segfault_spares_the_other_workers_requests(fresh_server: Callable[..., OwtServer],
                                                       tmp_path: Path) -> None:
    """Two workers with requests in flight; a crash in one: exactly the requests in flight on
    the crashed worker fail, those on the other one succeed."""
    server = fresh_server(("-vv", "--workers", "2", "--threads", "5"))
    # The slow requests hold their threads until the test releases them (a file appears),
    # so all eight are in flight when the crash comes, however loaded the machine.
    release = tmp_path / "release"
    os.chmod(tmp_path, 0o777)
    slow = """
        import os, time
        def run(i, release):
            for _ in range(3000):
                if os.path.exists(release):
                    break
                time.sleep(0.01)
            return os.getpid()
    """
    crash = """
        import ctypes
        def run():
            ctypes.string_at(0)
    """
    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        # 8 requests fill one worker (5 threads) and spill onto the other (3): a busy
        # worker accepts nothing.
        slows = [pool.submit(fetch, server, f"/slow/{i}", slow, {"i": i, "release": str(release)})
                 for i in range(8)]

        def where() -> dict[str, int] | None:
            st = status(server)
            placed = {r["path"]: w["pid"] for w in st["workers"] for r in w["inflight"]
                      if r["path"].startswith("/slow/")}
            return placed if len(placed) == 8 else None

        placed = wait_until(where, 10 * SLOW, "the slow requests never all started")
        before = set(server.worker_pids())
        assert len(set(placed.values())) == 2, placed
        assert fetch(server, "/crash", crash)[0] >= 500  # lands on the worker with free threads
        release.touch()
        results = [f.result() for f in slows]
    crashed = before - set(server.worker_pids())
    assert len(crashed) == 1, (before, server.worker_pids())
    (victim,) = crashed
    for i, (status_, body) in enumerate(results):
        if placed[f"/slow/{i}"] == victim:
            assert status_ >= 500, f"/slow/{i} was on the crashed worker: {status_} {body!r}"
        else:
            assert (status_, int(body)) == (200, placed[f"/slow/{i}"]), f"/slow/{i}: {status_} {body!r}"


def test_stress_many_threads_disconnects_and_timeouts(owt_server: Callable[[Sequence[str]], OwtServer]) -> None:
    """Many requests at once, some timing out, some streaming, some whose client leaves:
    every answered one is right, and the worker serves normally afterwards."""
    server = owt_server(("-vv", "--threads", "32", "--timeout", "2", "--kill-grace", "3"))
    hello = "def run(i): return f'hello {i}'"
    slow = "import time\ndef run(i):\n    time.sleep(0.2)\n    return f'slow {i}'"
    late = "import time\ndef run(i):\n    time.sleep(30)"
    spin = "def run(i):\n    while True: pass"
    stream = "import time\ndef run(i):\n    for k in range(5):\n        yield f'{i}:{k} '\n        time.sleep(0.05)"

    def leave(i: int) -> tuple[int, bytes]:
        sock = socket.create_connection((server.address, server.port))
        target = "/leave?" + urllib.parse.urlencode({"code_b64": b64(code(stream)), "kwargs": json.dumps({"i": i})})
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        sock.recv(64)
        sock.close()
        return (0, b"left")

    def call(i: int) -> tuple[str, int, bytes]:
        kind = "spin" if i in (7, 57) else ["hello", "slow", "late", "stream", "leave"][i % 5]
        if kind == "leave":
            return (kind, *leave(i))
        src = {"hello": hello, "slow": slow, "late": late, "spin": spin, "stream": stream}[kind]
        return (kind, *fetch(server, f"/{kind}/{i}", src, {"i": i}))

    results = many(100, call)
    for kind, status_, body in results:
        if kind == "hello":
            assert status_ == 200 and body.startswith(b"hello "), (kind, status_, body)
        elif kind == "slow":
            assert status_ == 200 and body.startswith(b"slow "), (kind, status_, body)
        elif kind in ("late", "spin"):
            assert status_ == 504, (kind, status_, body)
        elif kind == "stream":
            i = int(body.split(b":", 1)[0])
            assert status_ == 200 and body == b"".join(f"{i}:{k} ".encode() for k in range(5))
    assert fetch(server, "/after", hello, {"i": 1}) == (200, b"hello 1")
    wait_until(lambda: status(server)["totals"]["busy"] <= 1, 10 * SLOW, "requests still in flight")
