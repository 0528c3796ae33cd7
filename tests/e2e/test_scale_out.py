"""Scale-out: nginx with an upstream of two owt-fcgi masters on two hosts.

The hosts are two network namespaces (``owt-a``, ``owt-b`` plus a per-run suffix) joined
to the root namespace by veth pairs with addresses in a /30 each, made here and removed
in teardown. Each runs ``owt-fcgi --listen ADDR:9000``; nginx in the root namespace
hashes on ``X-Owt-Affinity`` / ``code_b64`` (spawn/nginx-scale-out.conf).

Needs root and ``ip netns``: skipped otherwise, a failure under CI.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import owt_e2e
from owt_e2e import LOGS, OWT_BIN, SRCDIR, b64, free_port

TEMPLATE = SRCDIR / "spawn" / "nginx-scale-out.conf"
BACKEND_PORT = 9000


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10, check=check)


def _require_netns() -> None:
    owt_e2e.require_binary()
    owt_e2e.require_tools("nginx", "ip")
    if os.geteuid() != 0:
        owt_e2e.unavailable("scale-out needs root (network namespaces)")
    probe = f"owt-probe-{os.getpid()}"
    made = _ip("netns", "add", probe, check=False)
    if made.returncode != 0:
        owt_e2e.unavailable(f"ip netns does not work here: {made.stderr.strip()}")
    _ip("netns", "del", probe, check=False)


@dataclass
class Host:
    """One namespace, its veth pair and the owt-fcgi master in it."""

    name: str
    ns: str
    veth_root: str
    veth_ns: str
    root_addr: str
    addr: str
    proc: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    @property
    def backend(self) -> str:
        return f"{self.addr}:{BACKEND_PORT}"


@dataclass
class Cluster:
    hosts: list[Host]
    state: Path
    port: int = 0
    nginx: subprocess.Popen[bytes] | None = None
    nginx_log: Path | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _make_host(letter: str, index: int, tag: str) -> Host:
    # 10.231.X.0/30 and 10.231.X.4/30, X from the pid so that parallel runs differ.
    x = os.getpid() % 250 + 1
    base = 4 * index
    host = Host(name=letter, ns=f"owt-{letter}-{tag}", veth_root=f"vo{letter}{tag}"[:15],
                veth_ns=f"vn{letter}{tag}"[:15], root_addr=f"10.231.{x}.{base + 1}",
                addr=f"10.231.{x}.{base + 2}")
    _ip("netns", "add", host.ns)
    _ip("link", "add", host.veth_root, "type", "veth", "peer", "name", host.veth_ns, "netns", host.ns)
    _ip("addr", "add", f"{host.root_addr}/30", "dev", host.veth_root)
    _ip("link", "set", host.veth_root, "up")
    _ip("netns", "exec", host.ns, "ip", "addr", "add", f"{host.addr}/30", "dev", host.veth_ns)
    _ip("netns", "exec", host.ns, "ip", "link", "set", host.veth_ns, "up")
    _ip("netns", "exec", host.ns, "ip", "link", "set", "lo", "up")
    return host


def _start_backend(host: Host) -> None:
    LOGS.mkdir(parents=True, exist_ok=True)
    host.log = LOGS / f"scale-out-{host.name}.stderr.log"
    argv = ["ip", "netns", "exec", host.ns, str(OWT_BIN), "--listen", host.backend, "--workers", "2",
            "--allow-from", host.root_addr, "--cache-dir", "", "-vv"]
    with open(host.log, "wb") as err:
        host.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                                     start_new_session=True, cwd=str(SRCDIR))
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host.addr, BACKEND_PORT), timeout=1):
                return
        except OSError:
            if host.proc.poll() is not None:
                break
            time.sleep(0.1)
    raise RuntimeError(f"backend {host.backend} did not come up:\n{owt_e2e.tail(host.log)}")


def _kill_host_processes(host: Host) -> None:
    """SIGKILL everything running in the host's namespace (only our own processes live there)."""
    listed = _ip("netns", "pids", host.ns, check=False)
    for pid in listed.stdout.split():
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass
    if host.proc is not None:
        try:
            os.killpg(host.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            host.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass


def _teardown_host(host: Host) -> None:
    _kill_host_processes(host)
    for _ in range(50):
        if not _ip("netns", "pids", host.ns, check=False).stdout.split():
            break
        time.sleep(0.1)
    _ip("link", "del", host.veth_root, check=False)
    _ip("netns", "del", host.ns, check=False)


def render_nginx(state: Path, listen: str, backends: list[str]) -> Path:
    """The sed command of docs/deploy.md ("Scale-out") that fills the template."""
    servers = "\\n    ".join(f"server {b} max_fails=1 fail_timeout=5s;" for b in backends)
    conf = state / "nginx.conf"
    script = ('sed -e "s|@LISTEN@|$LISTEN|" -e "s|@STATE_DIR@|$STATE|g" -e "s|@BACKENDS@|$BACKENDS|" '
              '"$TEMPLATE" > "$STATE/nginx.conf"')
    subprocess.run(["bash", "-c", script], check=True, timeout=10,
                   env=dict(os.environ, LISTEN=listen, STATE=str(state), BACKENDS=servers, TEMPLATE=str(TEMPLATE)))
    return conf


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    _require_netns()
    tag = f"{os.getpid() % 100000}"
    state = Path(tempfile.mkdtemp(prefix="owt-scale-out."))
    os.chmod(state, 0o755)
    hosts: list[Host] = []
    c = Cluster(hosts, state)
    try:
        for index, letter in enumerate("ab"):
            hosts.append(_make_host(letter, index, tag))
        for host in hosts:
            _start_backend(host)
        for _attempt in range(3):
            c.port = free_port()
            conf = render_nginx(state, f"127.0.0.1:{c.port}", [h.backend for h in hosts])
            c.nginx_log = LOGS / "scale-out-nginx.stderr.log"
            with open(c.nginx_log, "wb") as err:
                c.nginx = subprocess.Popen(["nginx", "-c", str(conf)], stdin=subprocess.DEVNULL,
                                           stdout=err, stderr=err, start_new_session=True)
            if _wait_http(c.url + "/_owt/health", c.nginx):
                break
            _stop(c.nginx)
        else:
            raise RuntimeError(f"nginx did not come up:\n{owt_e2e.tail(c.nginx_log)}")
        yield c
    finally:
        if c.nginx is not None:
            _stop(c.nginx)
        for host in hosts:
            _teardown_host(host)
        shutil.rmtree(state, ignore_errors=True)
        left = [h.ns for h in hosts if h.ns in _ip("netns", "list", check=False).stdout]
        assert not left, f"namespaces left behind: {left}"


def _wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(5)


# ---- a FastCGI request straight to one backend ------------------------------------


def fcgi_get(host: str, port: int, path: str, query: str = "", timeout: float = 5.0) -> tuple[int, bytes]:
    """GET over FastCGI to HOST:PORT (bypassing nginx): (status, body)."""

    def record(kind: int, content: bytes) -> bytes:
        return struct.pack("!BBHHBx", 1, kind, 1, len(content), 0) + content

    def pair(name: str, value: str) -> bytes:
        k, v = name.encode(), value.encode()

        def length(n: int) -> bytes:
            return bytes([n]) if n < 128 else struct.pack("!I", n | 0x80000000)

        return length(len(k)) + length(len(v)) + k + v

    params = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": query,
              "REQUEST_URI": path + ("?" + query if query else ""), "SERVER_PROTOCOL": "HTTP/1.1",
              "GATEWAY_INTERFACE": "CGI/1.1", "SERVER_NAME": host, "SERVER_PORT": str(port),
              "REMOTE_ADDR": "127.0.0.1", "CONTENT_LENGTH": "0"}
    message = (record(1, struct.pack("!HB5x", 1, 0)) + record(4, b"".join(pair(k, v) for k, v in params.items()))
               + record(4, b"") + record(5, b""))
    raw = b""
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(message)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                break
            raw += chunk
            if _has_end_request(raw):
                break
    out = b""
    i = 0
    while i + 8 <= len(raw):
        _v, kind, _rid, clen, plen = struct.unpack("!BBHHB", raw[i:i + 7])
        if kind == 6:
            out += raw[i + 8:i + 8 + clen]
        i += 8 + clen + plen
    head, _, body = out.partition(b"\r\n\r\n")
    status = 200
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"status:"):
            status = int(line.split()[1])
    return status, body


def _has_end_request(raw: bytes) -> bool:
    i = 0
    while i + 8 <= len(raw):
        _v, kind, _rid, clen, plen = struct.unpack("!BBHHB", raw[i:i + 7])
        if kind == 3 and i + 8 + clen <= len(raw):
            return True
        i += 8 + clen + plen
    return False


def backend_requests(host: Host) -> int:
    status, body = fcgi_get(host.addr, BACKEND_PORT, "/_owt/status")
    assert status == 200, body
    return int(json.loads(body)["totals"]["requests"])


# ---- the test ------------------------------------------------------------------------

COUNTER = """
n = 0
def run(label=""):
    global n
    n += 1
    return {"label": label, "n": n}
"""


def _get(url: str, timeout: float = 10.0, headers: dict[str, str] | None = None) -> tuple[int, str, bytes]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers.get("X-Owt-Backend", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("X-Owt-Backend", ""), e.read()


def test_affinity_and_failover(cluster: Cluster) -> None:
    a, b = cluster.hosts
    by_addr = {h.backend: h for h in cluster.hosts}

    # One adaptor (one code_b64): every request lands on one backend, whose module-level
    # counter grows 1, 2, 3... across its workers' warm copies.
    query = urllib.parse.urlencode({"code_b64": b64(COUNTER), "kwargs": '{"label": "one"}'})
    before = {h.name: backend_requests(h) for h in cluster.hosts}
    seen: set[str] = set()
    counts: list[int] = []
    for _ in range(12):
        status, backend, body = _get(f"{cluster.url}/count?{query}")
        assert status == 200, body
        seen.add(backend)
        counts.append(json.loads(body)["n"])
    assert len(seen) == 1, f"one adaptor spread over {seen}"
    home = by_addr[seen.pop()]
    other = b if home is a else a
    assert sum(1 for c in counts if c == 1) <= 2, f"more fresh counters than workers: {counts}"
    assert max(counts) >= 6, counts
    # /_owt/status read from each backend's own address (every request counts, this one
    # too): the home backend served the twelve, the other only the first status read.
    assert backend_requests(home) - before[home.name] >= 12
    assert backend_requests(other) - before[other.name] <= 1, "the other backend served the adaptor too"
    # The same adaptor sent straight to the other backend starts from a fresh counter there.
    status, body = fcgi_get(other.addr, BACKEND_PORT, "/count", query)
    assert status == 200 and json.loads(body)["n"] == 1, body

    # X-Owt-Affinity wins over the code: with it, the request follows the header.
    landed = {}
    for key in (f"k{i}" for i in range(16)):
        status, backend, body = _get(f"{cluster.url}/count?{query}", headers={"X-Owt-Affinity": key})
        assert status == 200, body
        landed[key] = backend
        status2, backend2, _ = _get(f"{cluster.url}/count?{query}", headers={"X-Owt-Affinity": key})
        assert status2 == 200 and backend2 == backend, f"{key}: {backend} then {backend2}"
    assert set(landed.values()) == {a.backend, b.backend}, f"16 keys all on one backend: {landed}"

    # Kill one host's owt-fcgi (master and workers, SIGKILL): every later request succeeds,
    # the ones that hashed to it included.
    _kill_host_processes(home)
    failures = []
    for i in range(30):
        key = f"k{i % 16}"
        status, backend, body = _get(f"{cluster.url}/count?{query}", headers={"X-Owt-Affinity": key})
        if status != 200 or backend.split(", ")[-1] != other.backend:
            failures.append((key, status, backend, body[:200]))
        status, backend, body = _get(f"{cluster.url}/count?{query}")
        if status != 200:
            failures.append(("code", status, backend, body[:200]))
    assert not failures, failures
