"""The end-to-end harness: requests as data, a real server behind lighttpd, CGI runs.

A :class:`Req` describes one HTTP request independently of how it travels; both
transports (:class:`HttpTransport` through ``spawn/owt-serve`` and lighttpd,
:class:`CgiTransport` through ``owt-fcgi --cgi``) answer it with a :class:`Resp`.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
SRCDIR = Path(os.environ.get("OWT_SRCDIR") or HERE.parents[1]).resolve()
BUILDDIR = Path(os.environ.get("OWT_BUILDDIR") or SRCDIR).resolve()
OWT_BIN = Path(os.environ.get("OWT_BIN") or BUILDDIR / "owt-fcgi").resolve()
LAUNCHER = SRCDIR / "spawn" / "owt-serve"
ARTIFACTS = SRCDIR / "tests" / "artifacts"
LOGS = ARTIFACTS / f"e2e-{os.getpid()}"
"""This session's server logs: one directory per pytest process, so concurrent runs never share a file."""

CGI_ADDRESS = "127.0.0.1"
CGI_PORT = 8089
"""What a CGI run reports as the server it was reached on (``SERVER_ADDR``/``SERVER_PORT``)."""

START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0


# ---- tools ------------------------------------------------------------------------


def in_ci() -> bool:
    return bool(os.environ.get("CI"))


def unavailable(reason: str) -> None:
    """Skip locally; fail under CI, where every tool must be installed."""
    if in_ci():
        pytest.fail(f"{reason} (CI is set: a missing tool is a failure)", pytrace=False)
    pytest.skip(reason)


def require_tools(*names: str) -> None:
    missing = [n for n in names if shutil.which(n, path=_tool_path()) is None]
    if missing:
        unavailable(f"needs {', '.join(missing)} (apt-get install {' '.join(missing)})")


def require_binary() -> None:
    if not (OWT_BIN.is_file() and os.access(OWT_BIN, os.X_OK)):
        unavailable(f"no owt-fcgi binary at {OWT_BIN} (build it with make, or set OWT_BIN)")


def _tool_path() -> str:
    return os.environ.get("PATH", "") + os.pathsep + "/usr/sbin:/sbin"


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 10.0, every: float = 0.05) -> None:
    """Poll condition until it holds; fail naming what was awaited after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for: {what}")
        time.sleep(every)


# ---- encoding helpers ------------------------------------------------------------


def b64(text: str | bytes) -> str:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return base64.b64encode(data).decode("ascii")


def b64_urlsafe(text: str | bytes) -> str:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return base64.urlsafe_b64encode(data).decode("ascii")


def b64_unpadded(text: str | bytes) -> str:
    return b64(text).rstrip("=")


def b64_wrapped(text: str | bytes) -> str:
    """What plain ``base64`` (no ``-w 0``) prints: lines of 76 and a final newline."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    return base64.encodebytes(data).decode("ascii")


# ---- requests and responses ------------------------------------------------------


@dataclass(frozen=True)
class Req:
    """One HTTP request: method, path, query pairs, body, content type, extra headers."""

    method: str = "GET"
    path: str = "/"
    query: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    content_type: str | None = None
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def query_string(self) -> str:
        return urllib.parse.urlencode(self.query)

    def with_headers(self, **headers: str) -> "Req":
        extra = tuple((k.replace("_", "-"), v) for k, v in headers.items())
        return Req(self.method, self.path, self.query, self.body, self.content_type,
                   self.headers + extra)


def _pairs(fields: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> tuple[tuple[str, str], ...]:
    items = fields.items() if isinstance(fields, Mapping) else fields
    return tuple((str(k), str(v)) for k, v in items)


def get(path: str = "/", fields: Mapping[str, Any] | Iterable[tuple[str, Any]] = (), **kw: Any) -> Req:
    """GET with the fields in the query string."""
    return Req("GET", path, _pairs(fields) + _pairs(kw))


def post_json(path: str = "/", obj: Any = None, query: Mapping[str, Any] = {}, **kw: Any) -> Req:
    """POST with one JSON object as the body."""
    body = obj if obj is not None else kw
    return Req("POST", path, _pairs(query), json.dumps(body).encode("utf-8"), "application/json")


def post_form(path: str = "/", fields: Mapping[str, Any] | Iterable[tuple[str, Any]] = (),
              query: Mapping[str, Any] = {}, **kw: Any) -> Req:
    """POST with an ``application/x-www-form-urlencoded`` body."""
    body = urllib.parse.urlencode(_pairs(fields) + _pairs(kw)).encode("ascii")
    return Req("POST", path, _pairs(query), body, "application/x-www-form-urlencoded")


def post_raw(path: str, body: bytes, content_type: str | None,
             query: Mapping[str, Any] | Iterable[tuple[str, Any]] = ()) -> Req:
    return Req("POST", path, _pairs(query), body, content_type)


class Headers:
    """Response headers, looked up case-insensitively (repeated ones joined with ', ')."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self.pairs = list(pairs)
        self._map: dict[str, str] = {}
        for name, value in self.pairs:
            key = name.lower()
            self._map[key] = f"{self._map[key]}, {value}" if key in self._map else value

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._map.get(name.lower(), default)

    def __getitem__(self, name: str) -> str:
        return self._map[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._map

    def __repr__(self) -> str:
        return f"Headers({self.pairs!r})"


@dataclass
class Resp:
    status: int
    headers: Headers
    body: bytes
    log: str = ""
    """What the server wrote to its error log for this request (CGI: stderr)."""
    complete: bool = True
    """False when the body ended short (the server cut a failed stream): body holds what came."""

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def content_type(self) -> str | None:
        return self.headers.get("Content-Type")

    def describe(self) -> str:
        body = self.body if len(self.body) <= 600 else self.body[:600] + b"..."
        return f"{self.status} {self.headers.pairs!r} {body!r}"


# ---- processes ---------------------------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (state first)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return raw[raw.rindex(")") + 2:].split()


def proc_comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "?"


def proc_cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


def session_members(sid: int) -> list[int]:
    """Live (non-zombie) processes whose session id is sid."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        st = _stat(int(entry))
        if st is None or st[0] in ("Z", "X"):
            continue
        if int(st[3]) == sid:
            out.append(int(entry))
    return sorted(out)


def children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = _stat(int(entry))
            if st is not None and int(st[1]) == pid:
                out.append(int(entry))
    return out


def status(server: OwtServer) -> dict[str, Any]:
    """The server's /_owt/status, parsed."""
    conn = http.client.HTTPConnection(server.address, server.port, timeout=10)
    try:
        conn.request("GET", "/_owt/status")
        return json.loads(conn.getresponse().read())
    finally:
        conn.close()


def in_flight(server: OwtServer, path: str) -> bool:
    """Whether a request to path is in flight in any worker, by /_owt/status."""
    return any(r["path"] == path for w in status(server)["workers"] for r in w["inflight"])


def proc_status_number(path: str, field: str) -> int:
    """The number a /proc status file (/proc/PID/status, /proc/PID/task/TID/status) gives
    for field (its first word: kB for the Vm* fields)."""
    for line in Path(path).read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in {path}")


def rss_kib(pid: int) -> int:
    return proc_status_number(f"/proc/{pid}/status", "VmRSS")


def prune_artifacts() -> None:
    """Remove the log directories of e2e sessions whose pytest process is gone."""
    if not ARTIFACTS.is_dir():
        return
    for entry in ARTIFACTS.glob("e2e-*"):
        pid = entry.name[4:]
        if pid.isdigit() and int(pid) != os.getpid() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(entry, ignore_errors=True)


def shipped_adaptors() -> Path:
    """The adaptors tree OWT_BIN uses: beside the binary, else the source tree's (lib/owt_paths.c)."""
    env = os.environ.get("OWT_ADAPTORS_HOME")
    for candidate in ([Path(env)] if env else []) + [OWT_BIN.parent / "adaptors", SRCDIR / "adaptors"]:
        if (candidate / "owt" / "__init__.py").is_file():
            return candidate
    return SRCDIR / "adaptors"


def can_read(user: str, path: Path) -> bool:
    """Whether ``user`` may read ``path`` (always true unless we are root and may switch)."""
    if os.geteuid() != 0:
        return True
    probe = subprocess.run(["runuser", "-u", user, "--", "test", "-r", str(path)],
                           capture_output=True, timeout=10)
    return probe.returncode == 0


@contextlib.contextmanager
def runtime_readable_by(user: str) -> Iterator[dict[str, str]]:
    """The environment for an owt-fcgi that drops to ``user`` (``--user``): nothing when that
    user can read the shipped adaptors tree, else ``OWT_ADAPTORS_HOME`` naming a copy of it in
    a temporary directory everyone can read (a clone in root's home, mode 700, is private)."""
    adaptors = shipped_adaptors()
    if can_read(user, adaptors / "owt" / "__init__.py"):
        yield {}
        return
    copy = Path(tempfile.mkdtemp(prefix="owt-runtime-"))
    try:
        shutil.copytree(adaptors, copy / "adaptors", ignore=shutil.ignore_patterns("__pycache__"))
        subprocess.run(["chmod", "-R", "a+rX", str(copy)], check=True, timeout=30)
        yield {"OWT_ADAPTORS_HOME": str(copy / "adaptors")}
    finally:
        shutil.rmtree(copy, ignore_errors=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


_STATE_DIRS: set[str] = set()
"""Private directories of servers not stopped through :meth:`OwtServer.stop`: removed at exit."""


@atexit.register
def _remove_state_dirs() -> None:
    for path in list(_STATE_DIRS):
        shutil.rmtree(path, ignore_errors=True)
    _STATE_DIRS.clear()


class OwtServer:
    """``spawn/owt-serve`` on a free loopback port with owt-fcgi options, stderr in a file.

    :meth:`stop` sends SIGTERM to the launcher and checks that every lighttpd and
    owt-fcgi process it started has gone.
    """

    def __init__(self, options: Sequence[str] = (), name: str = "owt", env: Mapping[str, str] | None = None):
        self.options = tuple(options)
        self.name = name
        self.address = "127.0.0.1"
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.sid: int | None = None
        self.started_pids: dict[int, str] = {}
        self.env = dict(env or {})
        self.state_dir: str | None = None
        self._terminated = False
        LOGS.mkdir(parents=True, exist_ok=True)
        self.stderr_path = LOGS / f"{name}.stderr.log"
        self.stdout_path = LOGS / f"{name}.stdout.log"

    @property
    def url(self) -> str:
        return f"http://{self.address}:{self.port}"

    def start(self) -> "OwtServer":
        env = dict(os.environ)
        env["OWT_BIN"] = str(OWT_BIN)
        env["PATH"] = _tool_path()
        env.update(self.env)
        last_error = ""
        for _attempt in range(3):
            self.port = free_port()
            argv = [str(LAUNCHER), "--address", self.address, "--port", str(self.port),
                    *self.launcher_options(), *self.options]
            with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
                self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                             cwd=str(SRCDIR), env=env, start_new_session=True)
            deadline = time.monotonic() + START_TIMEOUT
            while time.monotonic() < deadline:
                if "Owt serving on" in self.stdout_path.read_text(errors="replace"):
                    self._record_processes()
                    return self
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
            last_error = self.log_tail()
            self._kill_all()
            self._remove_state()
            if "Address already in use" not in last_error and "bind" not in last_error.lower():
                break
        rc = self.proc.returncode if self.proc else None
        self.proc = None
        raise RuntimeError(
            f"owt-serve {' '.join(self.options)} did not print 'Owt serving on' "
            f"(exit {rc}); stderr tail:\n{last_error}"
        )

    def _record_processes(self) -> None:
        assert self.proc is not None
        front = [p for p in children(self.proc.pid) if proc_comm(p) == "lighttpd"]
        if not front:
            raise RuntimeError(f"owt-serve (pid {self.proc.pid}) has no lighttpd child")
        self.sid = int(_stat(front[0])[3])  # type: ignore[index]
        for pid in session_members(self.sid):
            self.started_pids[pid] = proc_comm(pid)

    def owt_pids(self) -> list[int]:
        """Every owt-fcgi process of this server now (master and workers)."""
        if self.sid is None:
            return []
        return [p for p in session_members(self.sid) if proc_comm(p) == "owt-fcgi"]

    def _parents(self, pids: list[int]) -> set[int]:
        return {int(st[1]) for p in pids if (st := _stat(p)) is not None}

    def fastcgi_socket(self) -> str:
        """The path of the unix socket lighttpd made for owt-fcgi (the master's fd 0)."""
        pid = self.master_pid() or self.owt_pids()[0]
        inode = os.readlink(f"/proc/{pid}/fd/0").removeprefix("socket:[").removesuffix("]")
        with open("/proc/net/unix") as table:
            for line in table:
                fields = line.split()
                if len(fields) >= 8 and fields[6] == inode:
                    return fields[7]
        raise AssertionError(f"fd 0 of owt-fcgi {pid} is not a bound unix socket")

    def master_pid(self) -> int | None:
        """The owt-fcgi master (the parent of the workers), if this front runs one."""
        pids = self.owt_pids()
        masters = [p for p in pids if p in self._parents(pids)]
        return masters[0] if masters else None

    def worker_pids(self) -> list[int]:
        """The owt-fcgi worker processes serving requests for this server now (a
        master, which only forks them, is not one)."""
        pids = self.owt_pids()
        parents = self._parents(pids)
        return [p for p in pids if p not in parents]

    def log_text(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def log_tail(self, lines: int = 40) -> str:
        return tail(self.stderr_path, lines)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def launcher_options(self) -> list[str]:
        """A private response cache and code store, so runs never share them (owt-serve's
        defaults are per port, in the user's state folder)."""
        if "--state-dir" in self.options:
            return []
        wanted = [(opt, name) for opt, name in (("--cache-dir", "cache"), ("--code-store", "code"))
                  if not any(o == opt or o.startswith(opt + "=") for o in self.options)]
        if not wanted:
            return []
        if self.state_dir is None:
            self.state_dir = tempfile.mkdtemp(prefix="owt-e2e-")
            _STATE_DIRS.add(self.state_dir)
        return [arg for opt, name in wanted for arg in (opt, os.path.join(self.state_dir, name))]

    def terminate(self) -> None:
        """Send SIGTERM to the launcher (:meth:`stop` waits for it and checks)."""
        if self.proc is not None and not self._terminated and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            self._terminated = True

    def stop(self) -> None:
        """SIGTERM the launcher; raise AssertionError naming any process left behind."""
        if self.proc is None:
            return
        problems = []
        if self.proc.poll() is None or self._terminated:
            self.terminate()
            try:
                rc = self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                problems.append(f"owt-serve did not exit within {STOP_TIMEOUT:.0f} s of SIGTERM")
                rc = None
            if rc not in (None, 0):
                problems.append(f"owt-serve exited {rc} on SIGTERM")
        else:
            problems.append(f"owt-serve had already exited ({self.proc.returncode}) before SIGTERM")
        left = self._wait_session_gone(5.0)
        if left:
            problems.append("processes left behind: " + "; ".join(
                f"{pid} {proc_comm(pid)} ({proc_cmdline(pid)})" for pid in left))
        self._kill_all()
        self.proc = None
        self._terminated = False
        self._remove_state()
        if problems:
            raise AssertionError(f"{self.name}: " + " / ".join(problems) + f"\nstderr tail:\n{self.log_tail()}")

    def _wait_session_gone(self, timeout: float) -> list[int]:
        deadline = time.monotonic() + timeout
        while True:
            left = session_members(self.sid) if self.sid is not None else []
            left += [p for p, comm in self.started_pids.items()
                     if p not in left and _stat(p) is not None and _stat(p)[0] not in ("Z", "X")  # type: ignore[index]
                     and proc_comm(p) == comm]
            if not left or time.monotonic() > deadline:
                return left
            time.sleep(0.05)

    def _remove_state(self) -> None:
        if self.state_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)
            _STATE_DIRS.discard(self.state_dir)
            self.state_dir = None

    def _kill_all(self) -> None:
        """Last resort so a failed run leaves nothing behind."""
        for pid in (session_members(self.sid) if self.sid is not None else []):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(5)


# ---- transports --------------------------------------------------------------------


class HttpTransport:
    """Requests through lighttpd to the server for a set of options."""

    name = "http"

    def __init__(self, server_for: Callable[[Sequence[str]], OwtServer]) -> None:
        self.server_for = server_for

    def context(self, options: Sequence[str] = ()) -> dict[str, Any]:
        server = self.server_for(options)
        return {"address": server.address, "port": server.port, "host": f"{server.address}:{server.port}",
                "transport": "http"}

    def send(self, req: Req, options: Sequence[str] = (), timeout: float = 30.0) -> Resp:
        server = self.server_for(options)
        return http_send(server, req, timeout=timeout)


def http_send(server: OwtServer, req: Req, timeout: float = 30.0) -> Resp:
    """One request over a fresh connection with http.client: exactly the given headers and body."""
    import http.client

    try:
        before = os.path.getsize(server.stderr_path)
    except OSError:
        before = 0
    conn = http.client.HTTPConnection(server.address, server.port, timeout=timeout)
    try:
        target = urllib.parse.quote(req.path, safe="/:@!$&'()*+,;=-._~")
        if req.query:
            target += "?" + req.query_string
        headers = dict(req.headers)
        if req.content_type is not None:
            headers["Content-Type"] = req.content_type
        if req.method not in ("GET", "HEAD") or req.body:
            headers["Content-Length"] = str(len(req.body))
        conn.request(req.method, target, body=req.body or None, headers=headers)
        r = conn.getresponse()
        complete = True
        try:
            body = r.read()
        except http.client.IncompleteRead as exc:
            body, complete = exc.partial, False
        resp = Resp(r.status, Headers(r.getheaders()), body, complete=complete)
    finally:
        conn.close()
    resp.log = _log_since(server, before)
    return resp


def _log_since(server: OwtServer, offset: int) -> str:
    try:
        with open(server.stderr_path, "rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


_PASS_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH", "OWT_ADAPTORS_HOME",
             "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "PYTHONMALLOC")


def cgi_environ(req: Req) -> dict[str, str]:
    env = {k: os.environ[k] for k in _PASS_ENV if k in os.environ}
    env.update({
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "SERVER_SOFTWARE": "owt-e2e",
        "SERVER_NAME": CGI_ADDRESS,
        "SERVER_ADDR": CGI_ADDRESS,
        "SERVER_PORT": str(CGI_PORT),
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "40000",
        "REQUEST_METHOD": req.method,
        "QUERY_STRING": req.query_string,
        "PATH_INFO": req.path,
        "SCRIPT_NAME": "",
        "REQUEST_URI": req.path + ("?" + req.query_string if req.query else ""),
        "HTTP_HOST": f"{CGI_ADDRESS}:{CGI_PORT}",
    })
    if req.body or req.method not in ("GET", "HEAD"):
        env["CONTENT_LENGTH"] = str(len(req.body))
    if req.content_type is not None:
        env["CONTENT_TYPE"] = req.content_type
    for name, value in req.headers:
        key = "HTTP_" + name.upper().replace("-", "_")
        if key == "HTTP_CONTENT_TYPE":
            env["CONTENT_TYPE"] = value
        elif key == "HTTP_CONTENT_LENGTH":
            env["CONTENT_LENGTH"] = value
        else:
            env[key] = value
    return env


def parse_cgi(out: bytes) -> tuple[int, Headers, bytes]:
    """A CGI response: a ``Status:`` line and headers, a blank line, the body."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        head, found, body = out.partition(sep)
        if found:
            break
    else:
        raise AssertionError(f"no blank line after the CGI headers: {out[:300]!r}")
    pairs = []
    status = 200
    for line in head.replace(b"\r\n", b"\n").split(b"\n"):
        name, colon, value = line.decode("latin-1").partition(":")
        if not colon:
            raise AssertionError(f"malformed CGI header line {line!r} in {out[:300]!r}")
        if name.lower() == "status":
            status = int(value.strip().split()[0])
        else:
            pairs.append((name.strip(), value.strip()))
    return status, Headers(pairs), body


@dataclass
class CgiRun:
    argv: list[str]
    env: dict[str, str]
    returncode: int
    stdout: bytes
    stderr: bytes
    resp: Resp = field(init=False)

    def __post_init__(self) -> None:
        status, headers, body = parse_cgi(self.stdout)
        self.resp = Resp(status, headers, body, self.stderr.decode("utf-8", "replace"))


def run_cgi(req: Req, options: Sequence[str] = (), timeout: float = 30.0,
            env: Mapping[str, str] | None = None) -> CgiRun:
    """``owt-fcgi --cgi [options]`` with the request as environment and stdin."""
    environ = cgi_environ(req)
    environ.update(env or {})
    argv = [str(OWT_BIN), "--cgi", *options]
    p = subprocess.run(argv, input=req.body, env=environ, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout, cwd=str(SRCDIR))
    return CgiRun(argv, environ, p.returncode, p.stdout, p.stderr)


class CgiTransport:
    name = "cgi"

    def context(self, options: Sequence[str] = ()) -> dict[str, Any]:
        return {"address": CGI_ADDRESS, "port": CGI_PORT, "host": f"{CGI_ADDRESS}:{CGI_PORT}",
                "transport": "cgi"}

    def send(self, req: Req, options: Sequence[str] = (), timeout: float = 30.0) -> Resp:
        run = run_cgi(req, options, timeout=timeout)
        hint = ""
        if run.returncode == 23 and "ASAN_OPTIONS" in os.environ:
            hint = " (23: LeakSanitizer found a leak; see the log_path in ASAN_OPTIONS)"
        assert run.returncode == 0, (
            f"owt-fcgi --cgi exited {run.returncode}{hint}; stderr:\n"
            f"{run.stderr.decode(errors='replace')[-3000:]}")
        return run.resp
