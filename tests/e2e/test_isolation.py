"""A request cannot hurt anyone else (issue 15; docs/reliability.md, "What an adaptor may change").

Under the default set-up (spawn/owt-serve: lighttpd, an owt-fcgi master on its socket):

- worker state an adaptor changes is put back before it can hurt a later request: signal
  dispositions, its thread's signal mask, fds 0-2, the working directory, the umask, resource
  limits; children it never waits for are reaped;
- a stream that fails half way is cut, so the client sees an incomplete body (an event stream
  gets its ``event: error`` frame first), and the log says so;
- a request-derived byte cannot forge a log line or break /_owt/status;
- idle or slow FastCGI connections to a master cost no thread and are cut after --io-timeout.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import concurrent.futures
import socket
import struct
import subprocess
import time
import urllib.parse
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

import fcgi_client
from conftest_nginx import NginxServer, fresh_nginx, nginx_front  # noqa: F401 (fixtures)
from e2e_cases import code
import owt_e2e
from owt_e2e import OWT_BIN, OwtServer, _stat, b64, in_flight


def fetch(server: OwtServer, path: str, source: str, kwargs: Any = None, timeout: float = 30.0) -> tuple[int, bytes]:
    fields = {"code_b64": b64(code(source))}
    if kwargs is not None:
        fields["kwargs"] = json.dumps(kwargs)
    conn = http.client.HTTPConnection(server.address, server.port, timeout=timeout)
    try:
        conn.request("GET", path + "?" + urllib.parse.urlencode(fields))
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def wait_until(what: Callable[[], Any], timeout: float, message: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = what()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(message)
        time.sleep(0.05)


# ---- worker state ------------------------------------------------------------------------


def test_signal_dispositions_are_restored(fresh_server: Callable[..., OwtServer]) -> None:
    """An adaptor that ignores SIGTERM and SIGPIPE through libc: the worker notices, puts its
    own handlers back, and still drains on SIGTERM."""
    server = fresh_server(("-vv", "--workers", "1"))
    meddle = """
        import ctypes, signal
        def run():
            libc = ctypes.CDLL(None)
            libc.signal.restype = ctypes.c_void_p
            libc.signal(signal.SIGTERM, ctypes.c_void_p(1))   # SIG_IGN
            libc.signal(signal.SIGPIPE, ctypes.c_void_p(0))   # SIG_DFL: a write to a gone client kills
            return "meddled"
    """
    assert fetch(server, "/meddle", meddle) == (200, b"meddled")
    wait_until(lambda: "changed a signal disposition the server relies on: restored" in server.log_text(),
               5, "the worker did not restore its signal handlers")
    (worker,) = server.worker_pids()
    os.kill(worker, 15)
    wait_until(lambda: worker not in server.worker_pids() and server.worker_pids(), 10,
               "SIGTERM did not stop the worker it was ignored in")
    assert fetch(server, "/after", "def run(): return 'ok'") == (200, b"ok")


def test_a_blocked_signal_mask_does_not_outlive_its_request(server: OwtServer) -> None:
    source = """
        import signal
        def run(block=False):
            if block:
                signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGUSR1, signal.SIGRTMIN + 5})
            return sorted(int(s) for s in signal.pthread_sigmask(signal.SIG_BLOCK, []))
    """
    assert fetch(server, "/mask", source, {"block": True})[0] == 200
    # Every thread of the worker, afterwards: nothing blocked (ask more times than there are threads).
    for _ in range(40):
        status, body = fetch(server, "/mask", source)
        assert (status, json.loads(body)) == (200, [])
    assert "changed its thread's signal mask: restored" in server.log_text()
    # The worker's wrapper of signal.pthread_sigmask (it marks the thread to be looked at)
    # looks like the function it wraps.
    looks = """
        import inspect, signal
        def run():
            f = signal.pthread_sigmask
            return [f.__name__, f.__module__, str(inspect.signature(f))]
    """
    status, body = fetch(server, "/looks", looks)
    assert (status, json.loads(body)) == (200, ["pthread_sigmask", "signal", "(how, mask, /)"])


def test_a_mask_blocked_by_native_code_is_put_back_before_the_next_request(
        fresh_server: Callable[..., OwtServer]) -> None:
    """Native code (here libc's pthread_sigmask through ctypes) changes the mask without the
    wrapped signal.pthread_sigmask telling the worker. The sweep reads each thread's mask
    from /proc four times a second; the thread puts it back before its next request."""
    server = fresh_server(("-vv", "--workers", "1"))
    meddle = """
        import ctypes, signal, threading
        def run():
            blocked = ctypes.create_string_buffer(128)  # glibc's sigset_t
            blocked[(signal.SIGUSR1 - 1) // 8] = 1 << ((signal.SIGUSR1 - 1) % 8)
            libc = ctypes.CDLL(None)
            assert libc.pthread_sigmask(signal.SIG_BLOCK, blocked, None) == 0
            return threading.get_native_id()
    """
    (worker,) = server.worker_pids()
    def blocked(tid: int) -> int:
        text = Path(f"/proc/{worker}/task/{tid}/status").read_text()
        found = re.search(r"^SigBlk:\s*([0-9a-f]+)$", text, re.M)
        assert found is not None, text
        return int(found.group(1), 16)
    status, body = fetch(server, "/meddle", meddle)
    assert status == 200, body
    tid = json.loads(body)
    assert blocked(tid) == 1 << (int(signal.SIGUSR1) - 1)
    def put_back() -> bool:
        # The next requests land on some thread; once one lands on that one after the sweep
        # saw it, it starts with the mask put back.
        assert fetch(server, "/next", "def run(): return 1") == (200, b"1")
        return blocked(tid) == 0
    wait_until(put_back, 10, "the thread kept the signal mask native code set")
    assert "an adaptor changed its thread's signal mask: restored" in server.log_text()


def test_a_threads_nice_value_and_cpu_affinity_do_not_outlive_their_request(
        fresh_server: Callable[..., OwtServer]) -> None:
    """os.nice() and os.sched_setaffinity(0, ...) change the calling thread only (as a native
    library that pins its thread does); the next request on that thread would inherit them.
    The worker's sweep sees the change four times a second and puts the values back once the
    thread is between requests."""
    if len(os.sched_getaffinity(0)) < 2:
        owt_e2e.unavailable("needs two CPUs to pin a thread to one")
    server = fresh_server(("-vv", "--workers", "1"))
    meddle = """
        import os, threading
        def run():
            os.nice(3)
            os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
            return [threading.get_native_id(), os.nice(0), sorted(os.sched_getaffinity(0))]
    """
    (worker,) = server.worker_pids()
    status, body = fetch(server, "/meddle", meddle)
    assert status == 200, body
    tid, nice, cpus = json.loads(body)
    def nice_and_cpus(task: int) -> tuple[int, str]:
        """A thread's (or process's) nice value and allowed CPUs, from /proc/<tid>."""
        fields = _stat(task)  # state first: nice is field 16
        allowed = re.search(r"Cpus_allowed_list:\s*(\S+)", Path(f"/proc/{task}/status").read_text())
        assert fields is not None and allowed is not None, task
        return int(fields[16]), allowed.group(1)
    start = nice_and_cpus(worker)
    assert (nice, len(cpus)) == (start[0] + 3, 1), (nice, cpus)
    wait_until(lambda: nice_and_cpus(tid) == start, 10, "the thread kept its nice value or CPU affinity")
    log = server.log_text()
    assert "an adaptor changed its thread's nice value: restored" in log
    assert "an adaptor changed its thread's CPU affinity: restored" in log


def test_per_thread_python_state_does_not_reach_the_next_request(server: OwtServer) -> None:
    """A request thread serves one request after another, where a thread-per-request server
    starts each afresh: a ContextVar a request set, the decimal context it changed, a trace
    function it left (sys.settrace) must not be there for the next request on that thread.
    Each request runs in an empty contextvars context; trace and profile functions are
    removed when it ends (logged)."""
    source = f"""
        # {uuid.uuid4().hex}
        import contextvars, decimal, sys, threading
        who = contextvars.ContextVar("who", default=None)
        def run(meddle=False):
            seen = [threading.get_native_id(), who.get(), decimal.getcontext().prec,
                    sys.gettrace() is not None, sys.getprofile() is not None]
            if meddle:
                who.set("alice")
                decimal.getcontext().prec = 5
                sys.settrace(lambda *a: None)
                sys.setprofile(lambda *a: None)
            return seen
    """
    status, body = fetch(server, "/meddle", source, {"meddle": True})
    assert status == 200, body
    tid = json.loads(body)[0]
    clean = [None, 28, False, False]
    def next_on_that_thread() -> list[Any] | None:
        status, body = fetch(server, "/look", source)
        assert status == 200, body
        seen = json.loads(body)
        assert seen[1:] == clean, f"a request saw what another left on its thread: {seen}"
        return seen if seen[0] == tid else None
    wait_until(next_on_that_thread, 10, "no later request ran on the thread that meddled")
    assert "an adaptor left a trace function on its thread (sys.settrace): removed" in server.log_text()


def test_closing_fds_0_to_2_does_not_redirect_the_log(fresh_server: Callable[..., OwtServer], tmp_path: Path) -> None:
    server = fresh_server(("-vv",))
    os.chmod(tmp_path, 0o777)
    trap = tmp_path / "adaptor-file.txt"
    close_them = f"""
        import os
        def run():
            for fd in (0, 1, 2):
                os.close(fd)
            f = open({str(trap)!r}, "w")     # gets fd 0: what used to be stdin
            g = open({str(trap)!r} + ".2", "w")
            h = open({str(trap)!r} + ".3", "w")
            globals()["keep"] = (f, g, h)
            return "closed"
    """
    assert fetch(server, "/close", close_them) == (200, b"closed")
    wait_until(lambda: "closed or replaced fd 0, 1 or 2: restored" in server.log_text(), 5,
               "fds 0-2 were not restored")
    # A later error and a later print() land in the server's log, not in the adaptor's files.
    assert fetch(server, "/boom", "def run(): raise ValueError('after the close')")[0] == 500
    assert fetch(server, "/print", "def run():\n    print('printed after the close')\n    return 'ok'") == (200, b"ok")
    log = wait_until(lambda: (lambda t: t if "printed after the close" in t else None)(server.log_text()), 5,
                     "print() did not reach the log")
    assert "ValueError: after the close" in log
    for f in tmp_path.iterdir():
        assert "after the close" not in f.read_text(), f


def test_working_directory_and_umask_are_restored(server: OwtServer, tmp_path: Path) -> None:
    meddle = f"""
        import os
        def run():
            os.chdir({str(tmp_path)!r})
            os.umask(0o777)
            return "moved"
    """
    look = """
        import os
        def run():
            mask = os.umask(0o022); os.umask(mask)
            return {"cwd": os.getcwd(), "umask": mask}
    """
    before = json.loads(fetch(server, "/look", look)[1])
    assert fetch(server, "/meddle", meddle) == (200, b"moved")
    wait_until(lambda: json.loads(fetch(server, "/look", look)[1]) == before, 5,
               "cwd and umask were not restored")


def test_resource_limits_are_restored(server: OwtServer) -> None:
    """An adaptor that lowers its worker's descriptor limit (the next request could not be
    accepted) and sets a CPU limit (SIGXCPU would end the worker later): both are put back
    within a quarter second, and the log says what was found."""
    meddle = """
        import os, resource
        def run():
            hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
            resource.setrlimit(resource.RLIMIT_NOFILE, (40, hard))
            resource.setrlimit(resource.RLIMIT_CPU, (86400, resource.getrlimit(resource.RLIMIT_CPU)[1]))
            return os.getpid()
    """
    look = """
        import os, resource
        def run():
            return [os.getpid(), [resource.getrlimit(r) for r in (resource.RLIMIT_NOFILE, resource.RLIMIT_CPU)]]
    """
    _, before = json.loads(fetch(server, "/look", look)[1])
    assert before[0][0] != 40 and before[1][0] != 86400, before
    status, pid = fetch(server, "/meddle", meddle)
    assert status == 200
    def restored_in_that_worker() -> bool:
        seen, limits = json.loads(fetch(server, "/look", look)[1])
        return seen == int(pid) and limits == before
    wait_until(restored_in_that_worker, 10, "the resource limits were not restored")
    log = server.log_text()
    assert "an adaptor changed RLIMIT_NOFILE to soft 40, hard " in log
    assert "an adaptor changed RLIMIT_CPU to soft 86400, hard unlimited: restored to soft unlimited" in log


def test_an_adaptors_locale_leaves_owts_numbers_alone(fresh_server: Callable[..., OwtServer], tmp_path: Path) -> None:
    """locale.setlocale() in an adaptor sets the locale of its whole worker. With a decimal
    comma, printf would write "0,005" into /_owt/metrics and "1,37ms" into the log. owt writes
    its own numbers in the C locale; the adaptor keeps the locale it set, as in any Python
    server; JSON kwargs and results are unaffected."""
    if not Path("/usr/share/i18n/locales/de_DE").is_file():
        owt_e2e.unavailable("needs the de_DE locale source (apt-get install locales)")
    owt_e2e.require_tools("localedef")
    locales = tmp_path / "locales"
    locales.mkdir()
    subprocess.run(["localedef", "-i", "de_DE", "-f", "UTF-8", str(locales / "de_DE.UTF-8")],
                   check=True, capture_output=True, timeout=120)
    for d in (tmp_path, locales):
        os.chmod(d, 0o755)
    server = fresh_server(("-vv", "--workers", "1"))
    german = f"""
        import locale, os
        def run(x):
            os.environ["LOCPATH"] = {str(locales)!r}
            locale.setlocale(locale.LC_ALL, "de_DE.UTF-8")
            return [locale.format_string("%.2f", x), x * 2]
    """
    status, body = fetch(server, "/german", german, {"x": 1.25})
    assert (status, json.loads(body)) == (200, ["1,25", 2.5])
    # Still German for the next adaptor in that worker: its locale is the adaptor's business.
    still = "import locale\ndef run(): return locale.localeconv()['decimal_point']"
    assert fetch(server, "/still", still) == (200, b",")
    conn = http.client.HTTPConnection(server.address, server.port, timeout=30)
    try:
        conn.request("GET", "/_owt/metrics")
        metrics = conn.getresponse().read().decode()
    finally:
        conn.close()
    live = owt_e2e.status(server)
    assert 'le="0.005"' in metrics, metrics[:400]
    samples = [line.rsplit(" ", 1)[1] for line in metrics.splitlines() if line and not line.startswith("#")]
    assert samples and all("," not in v for v in samples), [v for v in samples if "," in v][:5]
    assert live["workers"][0]["latency"]["sum"] > 0
    lines = wait_until(lambda: re.findall(r"GET /still 200 \d+ (\S+)ms", server.log_text()), 5,
                       "no log line for /still")
    assert re.fullmatch(r"\d+\.\d\d", lines[-1]), lines


def test_an_adaptors_timer_or_limit_signal_does_not_end_its_worker(fresh_server: Callable[..., OwtServer]) -> None:
    """signal.setitimer(), signal.alarm() and a CPU or file-size limit send SIGALRM, SIGPROF,
    SIGVTALRM, SIGXCPU or SIGXFSZ, which end a process by default: the worker, and every
    request in flight in it, another client's included. No adaptor can have a handler for
    them in a worker (signal.signal works only in the main thread), so the worker catches and
    drops them, stops a repeating timer, and logs it; a write past the file-size limit fails
    with EFBIG instead."""
    server = fresh_server(("-vv", "--workers", "1"))
    slow = """
        import time
        def run():
            time.sleep(1.5)
            return "slow"
    """
    timers = """
        import errno, os, resource, signal, tempfile, time
        def run():
            signal.setitimer(signal.ITIMER_REAL, 0.02, 0.02)   # repeating
            signal.setitimer(signal.ITIMER_PROF, 0.01)
            start = time.process_time()
            while time.process_time() - start < 0.05:           # CPU time, for the profiling timer
                pass
            time.sleep(0.2)
            os.kill(os.getpid(), signal.SIGXCPU)
            hard = resource.getrlimit(resource.RLIMIT_FSIZE)[1]
            wrote = "all"
            for _ in range(5):  # the worker puts the limit back within 250 ms: maybe before the write
                with tempfile.TemporaryFile(buffering=0) as f:
                    resource.setrlimit(resource.RLIMIT_FSIZE, (10, hard))
                    try:
                        f.write(b"x" * 10)
                        f.write(b"x" * 100)
                    except OSError as e:
                        wrote = errno.errorcode[e.errno]
                        break
            return [os.getpid(), wrote]
    """
    look = """
        import os, signal
        def run():
            return [os.getpid(), signal.getitimer(signal.ITIMER_REAL)]
    """
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        other = pool.submit(fetch, server, "/slow", slow)
        wait_until(lambda: in_flight(server, "/slow") or other.done(), 10, "the slow request never started")
        status, body = fetch(server, "/timers", timers)
        assert status == 200, body
        pid, wrote = json.loads(body)
        assert wrote == "EFBIG"
        assert other.result() == (200, b"slow"), "a request in flight beside the timers was lost"
    log = wait_until(lambda: (lambda t: t if "caught SIGALRM" in t else None)(server.log_text()), 5,
                     "the caught SIGALRM was not logged")
    assert "its timer stopped" in log
    assert server.worker_pids() == [pid]
    seen, timer = json.loads(fetch(server, "/look", look)[1])
    assert (seen, timer) == (pid, [0.0, 0.0]), "the repeating timer was not stopped"


def test_a_worker_whose_own_descriptors_an_adaptor_closed_is_replaced(fresh_server: Callable[..., OwtServer]) -> None:
    """An adaptor that closes every descriptor above 2 through libc (daemon-style code) takes
    the worker's listening socket, eventfds and signal pipe with it: such a worker used to
    spin in poll on closed descriptors, holding its place, and every later request hung. Its
    numbers may soon name other files, so nothing can be mended in place: the worker says
    which one it lost and exits; the master starts another, and the next request is served."""
    server = fresh_server(("-vv", "--workers", "1"))
    close_all = """
        import ctypes, os
        def run():
            libc = ctypes.CDLL(None, use_errno=True)
            for fd in range(3, 1024):
                libc.close(fd)
            return "closed"
    """
    (before,) = server.worker_pids()
    status, _ = fetch(server, "/close-all", close_all)
    assert status in (500, 502, 503), status  # its own connection went too
    wait_until(lambda: (lambda pids: pids and before not in pids)(server.worker_pids()), 10,
               "the damaged worker did not go away")
    assert re.search(r"an adaptor closed or replaced the worker's .* \(fd \d+\): exiting", server.log_text())
    assert fetch(server, "/after", "def run(): return 'ok'") == (200, b"ok")


def test_children_left_behind_are_reaped(server: OwtServer) -> None:
    fork = """
        import os, subprocess
        def run():
            for _ in range(6):
                subprocess.Popen(["true"])          # never waited for
            pid = os.fork()
            if pid == 0:
                os._exit(0)
            return os.getpid()
    """
    pids = {int(fetch(server, f"/fork/{i}", fork)[1]) for i in range(4)}

    def zombies() -> int:
        # A child listed here may be reaped before its stat is read: gone counts as reaped.
        count = 0
        for pid in pids:
            for child in Path(f"/proc/{pid}/task").iterdir():
                try:
                    listed = (child / "children").read_text().split()
                except FileNotFoundError:
                    continue                            # that thread ended meanwhile
                for c in listed:
                    fields = _stat(int(c))
                    count += fields is not None and fields[0] == "Z"
        return count

    wait_until(lambda: zombies() == 0, 10, "zombie children were not reaped")


def test_a_subprocess_that_waits_keeps_its_exit_status(server: OwtServer) -> None:
    """The reaper never takes a child someone is waiting for: returncodes stay right."""
    source = """
        import subprocess
        def run(i):
            return subprocess.run(["sh", "-c", f"sleep 0.{i % 3}; exit {i % 7}"]).returncode
    """

    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        results = list(pool.map(lambda i: fetch(server, f"/rc/{i}", source, {"i": i}), range(24)))
    assert results == [(200, str(i % 7).encode()) for i in range(24)]


# ---- honest streams ----------------------------------------------------------------------


def _whole(data: bytes) -> bool:
    """Whether data is a whole HTTP/1.1 response: its chunked body ended with the
    terminating chunk, or its Content-Length body all came (a front server that had the
    whole short stream before it answered may send it that way)."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    length = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head)
    if length:
        return len(body) >= int(length.group(1))
    return data.endswith(b"\r\n0\r\n\r\n")


def read_raw(server: OwtServer, target: str, timeout: float = 10.0) -> tuple[bytes, bool]:
    """The raw HTTP/1.1 response, and whether its body ended properly (the terminating
    chunk, or all of its Content-Length) rather than with the connection closing first."""
    sock = socket.create_connection((server.address, server.port), timeout=timeout)
    sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())  # keep-alive: no close ends it
    data = b""
    while not _whole(data):
        try:
            piece = sock.recv(65536)
        except ConnectionResetError:
            break
        if not piece:
            break
        data += piece
    sock.close()
    return data, _whole(data)


FAILING_STREAM = """
    import time
    def run(sse=False):
        def chunks():
            yield "data: one\\n\\n" if sse else "one "
            time.sleep(0.1)
            yield "data: two\\n\\n" if sse else "two "
            raise RuntimeError("the model fell over")
        return (chunks(), {"Content-Type": "text/event-stream"}) if sse else chunks()
"""


@pytest.mark.parametrize("front", ["lighttpd", "nginx"])
def test_a_failing_stream_is_cut(front: str, owt_server: Callable[[Sequence[str]], OwtServer],
                                 nginx_front: Callable[..., NginxServer]) -> None:
    server = owt_server(("-vv",)) if front == "lighttpd" else nginx_front(("-vv",))
    target = "/cut?" + urllib.parse.urlencode({"code_b64": b64(code(FAILING_STREAM))})
    data, complete = read_raw(server, target)
    assert data.startswith(b"HTTP/1.1 200"), data[:200]
    assert b"one " in data and b"two " in data
    assert not complete, "the client cannot tell the body was cut: " + repr(data[-120:])
    assert "cut so the client sees it incomplete" in server.log_text()


def test_a_failing_event_stream_sends_its_error_event_then_is_cut(server: OwtServer) -> None:
    target = "/cut-sse?" + urllib.parse.urlencode({"code_b64": b64(code(FAILING_STREAM)),
                                                   "kwargs": json.dumps({"sse": True})})
    data, complete = read_raw(server, target)
    assert b"data: two" in data and b"event: error" in data and b"the model fell over" in data
    assert not complete


def test_a_finished_stream_ends_properly(server: OwtServer) -> None:
    source = "def run():\n    yield 'a'\n    yield 'b'"
    data, complete = read_raw(server, "/whole?" + urllib.parse.urlencode({"code_b64": b64(code(source))}))
    assert complete and b"a" in data


# ---- escaped output ----------------------------------------------------------------------


# lighttpd turns control bytes in a path into "_" itself; nginx passes them on (PATH_INFO is
# the decoded $uri), so these run through nginx, where owt-fcgi's own escaping is what holds.


def test_a_newline_in_the_path_forges_no_log_line(nginx_front: Callable[..., NginxServer]) -> None:
    server = nginx_front(("-vv",))
    forged = "2026-01-01T00:00:00.000Z owt-fcgi[1] error: FORGED"
    path = "/x%0A" + urllib.parse.quote(forged)
    conn = http.client.HTTPConnection(server.address, server.port, timeout=10)
    conn.request("GET", path + "?" + urllib.parse.urlencode({"code": "lambda: 'ok'"}))
    assert conn.getresponse().read() == b"ok"
    conn.close()
    lines = wait_until(lambda: [l for l in server.log_text().splitlines() if "FORGED" in l], 5, "no log line")
    assert all(not l.startswith("2026-01-01T00:00:00.000Z") for l in lines), lines
    assert any("/x\\x0a2026-01-01T00:00:00.000Z\\x20owt-fcgi[1]" in l for l in lines), lines


def test_control_bytes_in_a_path_keep_status_valid_json(nginx_front: Callable[..., NginxServer]) -> None:

    server = nginx_front(("-vv",))
    source = "import time\ndef run():\n    time.sleep(1.0)\n    return 'ok'"
    path = "/c%01%1b%22%5c%7f%c3%28"
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        f = pool.submit(fetch, server, path, source)

        def listed() -> Any:
            conn = http.client.HTTPConnection(server.address, server.port, timeout=10)
            conn.request("GET", "/_owt/status")
            body = conn.getresponse().read()
            conn.close()
            st = json.loads(body)  # valid JSON, whatever the path holds
            return [r for w in st["workers"] for r in w["inflight"] if r["path"].startswith("/c")]

        (rec,) = wait_until(listed, 10, "the request never showed")
        assert rec["path"] == "/c\\x01\\x1b\\x22\\x5c\\x7f\\xc3(", rec
        assert f.result()[0] == 200


# ---- idle and slow FastCGI peers of a master --------------------------------------------------


def test_idle_fastcgi_connections_do_not_block_a_master(tmp_path: Path) -> None:
    """More idle TCP connections than the master has threads: a real request is served at
    once, and the idle ones are closed after --io-timeout."""
    import subprocess

    port = _free_port()
    log = tmp_path / "master.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen([str(OWT_BIN), "--listen", f"127.0.0.1:{port}", "--workers", "1",
                                 "--threads", "2", "--io-timeout", "2", "-vv"], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
    try:
        wait_until(lambda: _can_connect(port), 10, "the master never listened")
        idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(20)]
        slow = socket.create_connection(("127.0.0.1", port))
        slow.sendall(struct.pack(">BBHHBx", 1, 1, 1, 8, 0) + b"\x00\x01\x00\x00\x00\x00\x00\x00")  # begin, no params
        t0 = time.monotonic()
        r = fcgi_client.get(("127.0.0.1", port), "/hello", {"code": "lambda: 'hello'"}, timeout=5)
        assert (r.status, r.body) == (200, b"hello") and time.monotonic() - t0 < 2
        for s in idle + [slow]:
            s.settimeout(6)
            assert s.recv(1) == b"", "an idle connection was not closed after --io-timeout"
            s.close()
    finally:
        proc.terminate()
        proc.wait(15)


def test_a_late_request_goes_to_a_worker_with_a_free_thread(tmp_path: Path) -> None:
    """A connection accepted before its request arrived (parked by the worker that accepted
    it) whose request comes when that worker's only thread is busy: it is served by the
    other worker at once, not after the busy one's request. Where the slow request lands is
    up to the kernel; six rounds make the case where both land on one worker near certain."""
    import subprocess

    os.chmod(tmp_path, 0o777)
    port = _free_port()
    log = tmp_path / "master.log"
    hold = "import os, time\ndef run(release):\n    for _ in range(6000):\n" \
           "        if os.path.exists(release): return 'released'\n        time.sleep(0.01)\n"
    with open(log, "wb") as err, concurrent.futures.ThreadPoolExecutor(2) as pool:
        proc = subprocess.Popen([str(OWT_BIN), "--listen", f"127.0.0.1:{port}", "--workers", "2",
                                 "--threads", "1", "-vv"], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
        try:
            address = ("127.0.0.1", port)
            wait_until(lambda: _can_connect(port), 10, "the master never listened")

            def ready() -> bool:
                st = json.loads(fcgi_client.get(address, "/_owt/status", timeout=5).body)
                return len([w for w in st["workers"] if w["pid"]]) == 2

            wait_until(ready, 20, "the two workers never started")
            for round_ in range(6):
                release = tmp_path / f"release{round_}"
                late = fcgi_client.connect(address, timeout=20)  # accepted now, its request comes later
                held = pool.submit(fcgi_client.get, address, "/hold",
                                   {"code": hold, "kwargs": json.dumps({"release": str(release)})}, 70)

                def holding() -> bool:
                    st = json.loads(fcgi_client.get(address, "/_owt/status", timeout=5).body)
                    return any(r["path"] == "/hold" for w in st["workers"] for r in w["inflight"])

                wait_until(holding, 20, "the holding request never started")
                t0 = time.monotonic()
                r = fcgi_client.exchange(late, fcgi_client.cgi_params("GET", "/late", {"code": "lambda: 'late'"}))
                took = time.monotonic() - t0
                late.close()
                assert (r.status, r.body) == (200, b"late"), r.body
                assert not held.done(), "the holding request ended before the late one was answered"
                release.touch()
                assert held.result().body == b"released"
                assert took < 10, f"round {round_}: the late request waited {took:.1f} s behind a busy thread"
        finally:
            for k in range(6):
                (tmp_path / f"release{k}").touch()
            proc.terminate()
            proc.wait(15)
    assert "new ones passed on to a worker with a free thread" in log.read_text()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _can_connect(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False
