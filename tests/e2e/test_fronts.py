"""owt-fcgi behind every front server: lighttpd, nginx, Apache mod_fcgid, CGI, spawn-fcgi.

For each ``spawn/owt-serve --front``: the seed's echo examples, a POST JSON request,
auth through the front (401 without, 200 with), the URL path as ``request.path``, a
long GET query, and streaming measured by chunk arrival times. Then the set-ups that
are not an owt-serve front: spawn-fcgi restarting a dead worker, the shared-host
recipe (spawn/shared-host under a real Apache with .htaccess), systemd socket
activation (systemd-socket-activate, and the unit files through systemd-analyze).
docs/deploy.md shows the same commands.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import owt_e2e
from conftest_fronts import (AUTH, PASSWORD, USER, FrontServer, auth_header, front_server,  # noqa: F401
                             front_servers, log_of, reachable_by, require_front)
from owt_e2e import LOGS, OWT_BIN, SRCDIR, b64, free_port, session_members

STREAM = """
import time
def run():
    for i in range(3):
        if i:
            time.sleep(0.3)
        yield f"chunk {i}\\n"
"""

ECHO = """
def run(**kwargs):
    return {"path": request.path, "method": request.method, "json": request.json,
            "args": dict(request.args), "kwargs": kwargs,
            "content_type": request.headers.get("Content-Type")}
"""


# ---- plain HTTP helpers -----------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):  # type: ignore[no-untyped-def]
        return json.loads(self.body)


def send(port: int, method: str, target: str, body: bytes | None = None,
         headers: dict[str, str] | None = None, auth: bool = True, timeout: float = 20.0) -> Answer:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        h = dict(headers or {})
        if auth:
            h.setdefault("Authorization", auth_header())
        conn.request(method, target, body=body, headers=h)
        r = conn.getresponse()
        return Answer(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    finally:
        conn.close()


def stream_times(port: int, target: str, auth: bool = True, timeout: float = 20.0) -> tuple[int, list[float], bytes]:
    """GET target; when each of "chunk 0/1/2" first arrived (seconds after the request)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Authorization": auth_header()} if auth else {}
        start = time.monotonic()
        conn.request("GET", target, headers=headers)
        r = conn.getresponse()
        body = b""
        times: list[float] = []
        while True:
            piece = r.read1(65536)
            if not piece:
                break
            body += piece
            now = time.monotonic() - start
            while len(times) < 3 and f"chunk {len(times)}".encode() in body:
                times.append(now)
        return r.status, times, body
    finally:
        conn.close()


def assert_streams_live(port: int, target: str, what: str) -> list[float]:
    status, times, body = stream_times(port, target)
    assert status == 200, f"{what}: {status} {body[:300]!r}"
    assert body == b"chunk 0\nchunk 1\nchunk 2\n", f"{what}: {body!r}"
    assert len(times) == 3, f"{what}: {times}"
    assert times[2] - times[0] >= 0.5, f"{what}: chunks arrived together (buffered): {times}"
    return times


def q(**fields: str) -> str:
    return urllib.parse.urlencode(fields)


def run_example(script: str, url: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PATH=owt_e2e._tool_path())
    return subprocess.run([f"./examples/echo/{script}", url], cwd=str(SRCDIR), env=env,
                          capture_output=True, text=True, timeout=30)


# ---- every owt-serve front ---------------------------------------------------------


@pytest.mark.parametrize("script,expected", [
    ("echo_script.sh", "Hello, owt!"),
    ("echo_kwargs.sh", "Hello, owt, from {address}:{port}!"),
    ("echo_request.sh", "Hello, owt, from {address}:{port}!"),
])
def test_echo_examples(front_server: FrontServer, script: str, expected: str) -> None:
    owt_e2e.require_tools("jo")
    s = front_server
    url = f"http://{USER}:{PASSWORD}@{s.address}:{s.port}"
    done = run_example(script, url)
    assert done.returncode == 0, done.stderr + log_of(s)
    assert done.stdout == expected.format(address=s.address, port=s.port), done.stderr + log_of(s)


def test_post_json(front_server: FrontServer) -> None:
    s = front_server
    body = json.dumps({"code_b64": b64(ECHO), "kwargs": {"name": "owt", "n": 3}}).encode()
    a = send(s.port, "POST", "/some/where?x=1", body, {"Content-Type": "application/json"})
    assert a.status == 200, a.body[:500].decode(errors="replace") + log_of(s)
    got = a.json()
    assert got["path"] == "/some/where"
    assert got["method"] == "POST"
    assert got["kwargs"] == {"name": "owt", "n": 3}
    assert got["json"]["kwargs"] == {"name": "owt", "n": 3}
    assert got["args"] == {"x": "1"}
    assert got["content_type"] == "application/json"
    assert a.headers["content-type"] == "application/json"
    assert a.headers.get("x-content-type-options") == "nosniff"


def test_auth_through_front(front_server: FrontServer) -> None:
    s = front_server
    target = "/private?" + q(code="lambda: 'secret'")
    none = send(s.port, "GET", target, auth=False)
    assert none.status == 401, none.body + log_of(s).encode()
    assert none.headers.get("www-authenticate") == 'Basic realm="owt"'
    wrong = send(s.port, "GET", target, headers={"Authorization": auth_header(USER, "nope")})
    assert wrong.status == 401
    ok = send(s.port, "GET", target)
    assert (ok.status, ok.body) == (200, b"secret"), ok.body + log_of(s).encode()
    health = send(s.port, "GET", "/_owt/health", auth=False)
    assert (health.status, health.body.strip()) == (200, b"ok")


def test_request_path_is_the_url_path(front_server: FrontServer) -> None:
    s = front_server
    code = q(code="lambda: request.path")
    for target, path in [("/", "/"), ("/hello", "/hello"), ("/a/b%20c/d.wav", "/a/b c/d.wav"),
                         ("/b64/x/y", "/b64/x/y")]:
        a = send(s.port, "GET", f"{target}?{code}")
        assert (a.status, a.body.decode()) == (200, path), f"{target}: {a.status} {a.body[:300]!r}" + log_of(s)


def test_long_get_query(front_server: FrontServer) -> None:
    """GET carries base64 code in the URL: a 25 KB query (under the 28 KiB GET limit) goes through every front."""
    s = front_server
    code = "def run():\n    return 'long'\n" + "# padding\n" * 1900
    target = "/long?" + q(code_b64=b64(code))
    assert len(target) > 25000
    a = send(s.port, "GET", target)
    assert (a.status, a.body) == (200, b"long"), f"{a.status} {a.body[:300]!r}" + log_of(s)


GET_LIMIT = 28 * 1024
"""owt-fcgi's --max-query default: the longest query string every shipped front passes on."""

FRONT_REFUSAL = {
    # front -> (status, what its error log says) for a request head past the front's own limit
    "lighttpd": (431, "oversized request-header -> sending Status 431"),
    "spawn-fcgi": (431, "oversized request-header -> sending Status 431"),
    "cgi": (431, "oversized request-header -> sending Status 431"),
    "nginx": (414, "a request line over 30 KiB, answered 414 (send it as a POST body)"),
    "apache": (414, "AH00565: request failed: client's request-line exceeds LimitRequestLine"),
}


def query_of(length: int) -> str:
    """A query string of exactly length bytes whose code answers 'ok'."""
    head = q(code="lambda: 'ok'") + "&pad="
    return head + "x" * (length - len(head))


def test_get_limit(front_server: FrontServer) -> None:
    """docs/protocol.md, "Long requests": a query of 28 KiB works through every front; one
    byte more is owt-fcgi's 414 saying to POST (logged); a request line past the front's own
    limit is the front's 414 or 431 with the same advice (logged by the front)."""
    s = front_server
    at = send(s.port, "GET", "/limit?" + query_of(GET_LIMIT))
    assert (at.status, at.body) == (200, b"ok"), f"{s.front}: {at.status} {at.body[:300]!r}" + log_of(s)

    refused = f"refused a query string of {GET_LIMIT + 1} bytes (over --max-query {GET_LIMIT})"
    before = s.log_text().count(refused)  # counted, not sliced: lighttpd may rewrite its log file
    over = send(s.port, "GET", "/limit?" + query_of(GET_LIMIT + 1))
    text = over.body.decode(errors="replace")
    assert over.status == 414, f"{s.front}: {over.status} {text[:300]}" + log_of(s)
    assert over.headers["content-type"] == "text/plain; charset=utf-8"
    assert f"the query string is {GET_LIMIT + 1} bytes, over this server's GET limit of {GET_LIMIT} bytes" in text
    assert "send the fields as a POST body" in text, text
    owt_e2e.wait_for(lambda: s.log_text().count(refused) > before, f"{s.front}: owt-fcgi logs the refusal",
                     timeout=10)

    status, logged = FRONT_REFUSAL[s.front]
    before = s.log_text().count(logged)
    far = send(s.port, "GET", "/limit?" + query_of(40 * 1024))
    text = far.body.decode(errors="replace")
    assert far.status == status, f"{s.front}: {far.status} {text[:300]}" + log_of(s)
    assert "Long requests go as a POST body" in text and "GET queries up to 28 KiB are taken" in text, text
    owt_e2e.wait_for(lambda: s.log_text().count(logged) > before, f"{s.front} logs its refusal", timeout=10)

    # The same fields as a POST body go through, whatever their size.
    code = "def run():\n    return 'posted'\n" + "# padding\n" * 6000
    post = send(s.port, "POST", "/limit", json.dumps({"code_b64": b64(code)}).encode(),
                {"Content-Type": "application/json"})
    assert (post.status, post.body) == (200, b"posted"), f"{s.front}: {post.status} {post.body[:300]!r}"


def test_streaming_is_live(front_server: FrontServer) -> None:
    s = front_server
    times = assert_streams_live(s.port, "/stream?" + q(code_b64=b64(STREAM)), s.front)
    print(f"{s.front}: chunks at {', '.join(f'{t:.3f}' for t in times)} s")


def test_body_over_the_limit_is_413(front_server: FrontServer) -> None:
    """owt-serve's default --max-body is 16M: a bigger body is refused, never passed on cut or empty."""
    s = front_server
    body = b"x" * (16 * 1024 * 1024 + 200 * 1024)
    try:
        a = send(s.port, "POST", "/big?" + q(code="lambda: len(request.data)"), body,
                 {"Content-Type": "application/octet-stream"})
    except (ConnectionError, http.client.HTTPException) as exc:  # a front may close after its 413
        pytest.fail(f"{s.front}: no answer to an over-limit body: {exc!r}" + log_of(s))
    assert a.status == 413, f"{s.front}: {a.status} {a.body[:200]!r}" + log_of(s)
    ok = send(s.port, "POST", "/small?" + q(code="lambda: len(request.data)"), b"y" * 300_000,
              {"Content-Type": "application/octet-stream"})
    assert (ok.status, ok.body) == (200, b"300000"), f"{s.front}: {ok.status} {ok.body[:200]!r}"


GONE = """
import os, time
def run(marker):
    i = 0
    try:
        while i < 400:
            yield f"tick {i}\\n"
            i += 1
            time.sleep(0.05)
    finally:
        with open(marker + ".tmp", "w") as f:
            f.write(str(i))
        os.rename(marker + ".tmp", marker)
"""


def test_client_gone_closes_the_generator(front_server: FrontServer) -> None:
    """PROTOCOL 6: the client goes away mid-stream -> the generator is closed (finally runs)."""
    s = front_server
    marker = Path(tempfile.gettempdir()) / f"owt-gone-{os.getpid()}-{s.front}"
    marker.unlink(missing_ok=True)
    query = q(code_b64=b64(GONE), kwargs=json.dumps({"marker": str(marker)}))
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
    try:
        conn.request("GET", "/gone?" + query, headers={"Authorization": auth_header()})
        r = conn.getresponse()
        assert r.status == 200, r.read(300)
        assert r.read1(100).startswith(b"tick 0")
        conn.sock.shutdown(socket.SHUT_RDWR)
    finally:
        conn.close()
    deadline = time.monotonic() + 5
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        assert marker.exists(), f"{s.front}: the generator was not closed within 5 s" + log_of(s)
        assert int(marker.read_text()) < 100, marker.read_text()
    finally:
        marker.unlink(missing_ok=True)


# ---- spawn-fcgi: multiwatch restarts a dead worker ----------------------------------


def test_spawn_fcgi_restarts_a_dead_worker(front_servers) -> None:  # type: ignore[no-untyped-def]
    s = front_servers("spawn-fcgi")
    before = sorted(s.worker_pids())
    assert len(before) == 2, f"want 2 owt-fcgi under multiwatch, have {before}" + log_of(s)
    os.kill(before[0], signal.SIGKILL)
    after: list[int] = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        after = sorted(s.worker_pids())
        if len(after) == 2 and before[0] not in after:
            break
        time.sleep(0.1)
    assert len(after) == 2 and before[0] not in after, f"{before} -> {after}" + log_of(s)
    s.started_pids.update({p: "owt-fcgi" for p in after})
    for _ in range(6):
        a = send(s.port, "GET", "/again?" + q(code="lambda: 'fine'"))
        assert (a.status, a.body) == (200, b"fine"), log_of(s)


# ---- a web server we start ourselves (not through owt-serve) ------------------------


class Daemon:
    """A foreground server in its own session, stderr to an artifact; stop() checks nothing is left."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
        LOGS.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.log = LOGS / f"{name}.stderr.log"
        with open(self.log, "wb") as err:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                                         start_new_session=True, env=env, cwd=str(SRCDIR))

    def tail(self) -> str:
        return f"\n--- {self.name} stderr ---\n{owt_e2e.tail(self.log, 30)}"

    def wait_http(self, port: int, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.proc.returncode})" + self.tail())
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not listen on {port}" + self.tail())

    def stop(self) -> None:
        sid = self.proc.pid
        if self.proc.poll() is None:
            os.killpg(sid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        deadline = time.monotonic() + 5
        while session_members(sid) and time.monotonic() < deadline:
            time.sleep(0.05)
        left = session_members(sid)
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        assert not left, f"{self.name}: left behind {left}" + self.tail()


def render(template: Path, out: Path, values: dict[str, str]) -> Path:
    text = template.read_text()
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    out.write_text(text)
    return out


@pytest.fixture
def workdir() -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="owt-front-"))
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


# ---- shared host: Apache + mod_fcgid, .htaccess and owt.fcgi in a web directory -------


def test_shared_host_recipe(workdir: Path) -> None:
    require_front("apache")
    run_user = "www-data" if os.geteuid() == 0 else subprocess.run(
        ["id", "-un"], capture_output=True, text=True).stdout.strip()
    run_group = subprocess.run(["id", "-gn", run_user], capture_output=True, text=True).stdout.strip()
    port = free_port()
    docroot = workdir / "htdocs"
    docroot.mkdir()
    (workdir / "fcgid").mkdir()
    if os.geteuid() == 0:
        shutil.chown(workdir / "fcgid", run_user, run_group)
    render(SRCDIR / "spawn/shared-host/apache-host.conf", workdir / "httpd.conf", {
        "STATE_DIR": str(workdir), "ADDRESS": "127.0.0.1", "PORT": str(port), "DOCROOT": str(docroot),
        "RUN_USER": run_user, "RUN_GROUP": run_group, "OUTPUT_BUFFER": "FcgidOutputBufferSize 0"})

    # The user's part, as docs/deploy.md has it: the two files, the wrapper's paths, a password.
    shutil.copy(SRCDIR / "spawn/shared-host/htaccess", docroot / ".htaccess")
    shutil.copy(SRCDIR / "spawn/shared-host/owt.fcgi", docroot / "owt.fcgi")
    users = workdir / "owt-users"
    hashed = subprocess.run([str(OWT_BIN), "--hash-password"], input=PASSWORD, capture_output=True,
                            text=True, timeout=10, check=True).stdout.strip()
    users.write_text(f"{USER}:{hashed}\n")
    users.chmod(0o644)
    owt_bin = OWT_BIN
    if not reachable_by(run_user, OWT_BIN):
        # The build tree is private: the "account" gets a copy, as a user would build one.
        (workdir / "owt").mkdir()
        owt_bin = Path(shutil.copy(OWT_BIN, workdir / "owt" / "owt-fcgi"))
        shutil.copytree(SRCDIR / "adaptors", workdir / "owt" / "adaptors")
    subprocess.run(["sed", "-i", "-e", f"s|^OWT_FCGI=.*|OWT_FCGI={owt_bin}|",
                    "-e", f"s|^OWT_USERS=.*|OWT_USERS={users}|", "-e", "s|^OWT_CACHE=.*|OWT_CACHE=|",
                    str(docroot / "owt.fcgi")], check=True, timeout=10)
    (docroot / "owt.fcgi").chmod(0o755)
    # A second directory with the .htaccess's optional mod_rewrite block switched on.
    pretty = docroot / "pretty"
    pretty.mkdir()
    shutil.copy(docroot / "owt.fcgi", pretty / "owt.fcgi")
    shutil.copy(docroot / ".htaccess", pretty / ".htaccess")
    subprocess.run(["sed", "-i", "-e", "s/^#<IfModule/<IfModule/", "-e", "s/^#  Rewrite/  Rewrite/",
                    "-e", "s|^#</IfModule>|</IfModule>|", str(pretty / ".htaccess")], check=True, timeout=10)
    pretty.chmod(0o755)

    env = dict(os.environ, PATH=owt_e2e._tool_path())
    apache = Daemon("shared-host-apache", ["apache2", "-DFOREGROUND", "-f", str(workdir / "httpd.conf")], env)
    try:
        apache.wait_http(port)
        code = q(code="lambda: request.path")
        a = send(port, "GET", f"/owt.fcgi/hello?{code}", auth=False)
        assert a.status == 401, a.body[:300] + apache.tail().encode()
        a = send(port, "GET", f"/owt.fcgi/hello?{code}")
        assert (a.status, a.body) == (200, b"/hello"), a.body[:300] + apache.tail().encode()
        body = json.dumps({"code_b64": b64(ECHO), "kwargs": {"k": 1}}).encode()
        a = send(port, "POST", "/owt.fcgi/post/it", body, {"Content-Type": "application/json"})
        assert a.status == 200, a.body[:300] + apache.tail().encode()
        assert a.json()["path"] == "/post/it" and a.json()["kwargs"] == {"k": 1}
        url = f"http://{USER}:{PASSWORD}@127.0.0.1:{port}/owt.fcgi"
        done = run_example("echo_kwargs.sh", url)
        assert done.stdout == f"Hello, owt, from 127.0.0.1:{port}!", done.stderr + apache.tail()
        assert_streams_live(port, "/owt.fcgi/stream?" + q(code_b64=b64(STREAM)), "shared host")
        for target, path in [("/pretty/hello/world", "/hello/world"), ("/pretty/", "/")]:
            a = send(port, "GET", f"{target}?{code}")
            assert (a.status, a.body.decode()) == (200, path), f"{target}: {a.status} {a.body[:300]!r}" + apache.tail()
        # Everything else in the directory stays Apache's: the wrapper is run, never shown.
        a = send(port, "GET", "/.htaccess", auth=False)
        assert a.status == 403
    finally:
        apache.stop()


# ---- systemd socket activation ---------------------------------------------------------


def test_systemd_socket_activate(workdir: Path) -> None:
    """The sd_listen_fds protocol (LISTEN_FDS, fd 3): systemd-socket-activate holds the socket,
    starts owt-fcgi on the first connection; lighttpd (spawn/lighttpd-socket.conf) in front."""
    owt_e2e.require_binary()
    owt_e2e.require_tools("systemd-socket-activate", "lighttpd")
    sock = workdir / "owt-fcgi.sock"
    env = dict(os.environ, PATH=owt_e2e._tool_path())
    passed = [f"--setenv={k}" for k in ("OWT_ADAPTORS_HOME", "PYTHONPATH", "LANG", "ASAN_OPTIONS",
                                         "UBSAN_OPTIONS", "LSAN_OPTIONS") if k in os.environ]
    activator = Daemon("systemd-socket-activate",
                       ["systemd-socket-activate", "--listen", str(sock), *passed,
                        str(OWT_BIN), "--auth", AUTH, "-vv"], env)
    lighttpd = None
    try:
        deadline = time.monotonic() + 10
        while not sock.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sock.exists(), activator.tail()
        port = free_port()
        conf = render(SRCDIR / "spawn/lighttpd-socket.conf", workdir / "lighttpd.conf", {
            "ADDRESS": "127.0.0.1", "PORT": str(port), "STATE_DIR": str(workdir), "MAX_BODY_KB": "16448"})
        (workdir / "www").mkdir()
        lighttpd = Daemon("socket-lighttpd", ["lighttpd", "-D", "-f", str(conf)], env)
        lighttpd.wait_http(port)
        a = send(port, "GET", "/activated/path?" + q(code="lambda: request.path"), auth=False)
        assert a.status == 401, a.body[:300] + activator.tail()
        a = send(port, "GET", "/activated/path?" + q(code="lambda: request.path"))
        assert (a.status, a.body) == (200, b"/activated/path"), a.body[:300] + activator.tail()
        # The activation variables are not handed on to what adaptors start.
        a = send(port, "GET", "/env?" + q(code="lambda: [k for k in __import__('os').environ if k.startswith('LISTEN_')]"))
        assert (a.status, a.json()) == (200, []), a.body[:300]
        assert_streams_live(port, "/stream?" + q(code_b64=b64(STREAM)), "socket activation")
        assert "serving FastCGI on fd 0" in owt_e2e.tail(activator.log, 100)
    finally:
        if lighttpd is not None:
            lighttpd.stop()
        activator.stop()


UNITS = ("owt-fcgi.socket", "owt-fcgi.service", "owt-fcgi@.socket", "owt-fcgi@.service")


def test_systemd_units_verify(workdir: Path) -> None:
    """The unit files parse cleanly (systemd-analyze verify prints nothing), the socket goes on fd 0."""
    owt_e2e.require_tools("systemd-analyze")
    for unit in UNITS:
        shutil.copy(SRCDIR / "spawn" / unit, workdir / unit)
    names = ["owt-fcgi.socket", "owt-fcgi.service", "owt-fcgi@pool.socket", "owt-fcgi@pool.service"]
    done = subprocess.run(["systemd-analyze", "verify", "--man=no", *names], cwd=str(workdir),
                          capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, SYSTEMD_LOG_LEVEL="notice"))
    noise = [line for line in (done.stdout + done.stderr).splitlines()
             if line.strip() and "Cannot add dependency job" not in line]
    assert done.returncode == 0 and not noise, "\n".join(noise)
    for unit in UNITS:
        text = (SRCDIR / "spawn" / unit).read_text()
        if unit.endswith(".socket"):
            assert "Accept=no" in text, unit
        else:
            assert "StandardInput=socket" in text and "KillMode=mixed" in text, unit
