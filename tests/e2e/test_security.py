"""Issue 6: credentials in every malformed shape, auth sources, secrets kept out of
the log, adaptor-name escapes, and the FastCGI peer allow-list."""

from __future__ import annotations

import base64
import hashlib
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

import fcgi_client
import owt_e2e
from e2e_cases import AUTH, PASSWORD, basic
from owt_e2e import b64, get, post_json, run_cgi

HELLO = "lambda: 'adaptor-ran'"


def raw_basic(token: str) -> str:
    return "Basic " + token


@pytest.mark.parametrize("header", [
    raw_basic(base64.b64encode(b"owt-no-colon").decode()),          # no colon
    raw_basic("not base64 at all!"),                                # bad base64
    raw_basic(base64.b64encode(b"owt:").decode()),                  # empty password
    raw_basic(base64.b64encode(b":" + PASSWORD.encode()).decode()), # empty user
    "Bearer " + base64.b64encode(f"owt:{PASSWORD}".encode()).decode(),  # other scheme
    "Basic",                                                        # no token
], ids=["no-colon", "bad-base64", "empty-password", "empty-user", "bearer", "no-token"])
def test_malformed_credentials_are_401(transport: Any, header: str) -> None:
    resp = transport.send(get("/", code=HELLO).with_headers(Authorization=header), AUTH)
    assert resp.status == 401, resp.describe()
    assert resp.headers.get("WWW-Authenticate") == 'Basic realm="owt"'
    assert "adaptor-ran" not in resp.text


def test_a_64_kib_authorization_header_is_refused(transport: Any) -> None:
    huge = raw_basic(base64.b64encode(b"owt:" + b"x" * 48 * 1024).decode())
    assert len(huge) > 64 * 1024
    resp = transport.send(get("/", code=HELLO).with_headers(Authorization=huge), AUTH)
    # lighttpd may refuse the header itself (431) before owt-fcgi sees it.
    assert resp.status in (401, 431), resp.describe()
    assert "adaptor-ran" not in resp.text


def test_right_credentials_pass(transport: Any) -> None:
    resp = transport.send(get("/", code=HELLO).with_headers(Authorization=basic("owt", PASSWORD)), AUTH)
    assert (resp.status, resp.text) == (200, "adaptor-ran"), resp.describe()


def test_secrets_never_reach_the_log(owt_server: Any) -> None:
    server = owt_server(AUTH + ("-vv",))
    wrong = "hunter2-not-the-password"
    for header in (basic("owt", wrong), basic("owt", PASSWORD)):
        owt_e2e.http_send(server, get("/", code=HELLO).with_headers(Authorization=header))
    log = server.log_text()
    for secret in (wrong, PASSWORD, base64.b64encode(f"owt:{wrong}".encode()).decode(),
                   base64.b64encode(f"owt:{PASSWORD}".encode()).decode()):
        assert secret not in log, f"{secret!r} is in the log"
    failures = [line for line in log.splitlines() if "auth failed" in line]
    assert failures and all("127.0.0.1" in line for line in failures), log[-2000:]


def test_hash_password_sha256_matches_sha256() -> None:
    owt_e2e.require_binary()
    done = subprocess.run([str(owt_e2e.OWT_BIN), "--hash-password=sha256"], input=PASSWORD + "\n",
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == hashlib.sha256(PASSWORD.encode()).hexdigest()


def test_auth_file_and_environment(tmp_path: Path) -> None:
    digest = hashlib.sha256(b"pw-file").hexdigest()
    auth_file = tmp_path / "users"
    auth_file.write_text(f"# owt users\n\nfile-user:{digest}\n")
    ok = get("/", code=HELLO).with_headers(Authorization=basic("file-user", "pw-file"))
    assert run_cgi(ok, ["--auth-file", str(auth_file)]).resp.status == 200
    assert run_cgi(get("/", code=HELLO), ["--auth-file", str(auth_file)]).resp.status == 401
    env_digest = hashlib.sha256(b"pw-env").hexdigest()
    env = {"OWT_AUTH": f"a:{digest},env-user:{env_digest}"}
    ok_env = get("/", code=HELLO).with_headers(Authorization=basic("env-user", "pw-env"))
    assert run_cgi(ok_env, env=env).resp.status == 200
    assert run_cgi(get("/", code=HELLO), env=env).resp.status == 401
    bad = tmp_path / "bad-users"
    bad.write_text("no-colon-here\n")
    done = subprocess.run([str(owt_e2e.OWT_BIN), "--cgi", "--auth-file", str(bad)],
                          capture_output=True, text=True, timeout=20)
    assert done.returncode == 2 and "line 1" in done.stderr, done.stderr


@pytest.mark.parametrize("name,statuses", [
    ("../etc/passwd", (400,)),
    ("sota/../os", (400,)),
    ("/etc/passwd", (400,)),
    ("os.system", (404,)),
    ("subprocess.run", (404,)),
    ("owt._runtime.handle", (404,)),
    ("sota._private", (400, 404)),
    ("sota.hard_task.__globals__", (400, 404)),
    ("", (400,)),
])
def test_adaptor_names_cannot_escape(transport: Any, name: str, statuses: tuple[int, ...]) -> None:
    resp = transport.send(get("/", adaptor=name, kwargs="{'command': 'true'}"), ("--no-code",))
    assert resp.status in statuses, resp.describe()


ESCAPE_MODULE = """
import functools
import os

MARKER = {marker!r}

def own(**kwargs):
    return "own function ran"

def touch(*args, **kwargs):
    open(MARKER, "w").close()
    return "escaped"

partial_system = functools.partial(os.system, "touch " + MARKER)

class Callable:
    def __call__(self, **kwargs):
        return touch()

instance = Callable()

class Klass:
    def __init__(self, **kwargs):
        touch()

class Model:
    def predict(self, **kwargs):
        return touch()

bound = Model().predict
environ_get = os.environ.get
system = os.system

class Pipe:
    def done(self):
        return touch

fake_pipe = Pipe()
exec("def from_exec(**kwargs):\\n    return touch()\\n")
"""


@pytest.fixture(scope="module")
def escape_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """An adaptor directory holding owt_escape.py, whose attributes try to run something
    that is not a function of the module itself; each touches the marker file if called."""
    root = tmp_path_factory.mktemp("escape")
    marker = root / "escaped"
    adaptors = root / "adaptors"
    adaptors.mkdir()
    (adaptors / "owt_escape.py").write_text(ESCAPE_MODULE.format(marker=str(marker)))
    return adaptors, marker


@pytest.mark.parametrize("name", [
    "owt_escape.partial_system",
    "owt_escape.instance",
    "owt_escape.Klass",
    "owt_escape.bound",
    "owt_escape.environ_get",
    "owt_escape.system",
    "owt_escape.fake_pipe",
    "owt_escape.from_exec",
    "owt_escape.os.system",
    "owt_escape.os.path.join",
    "owt_escape.functools.partial",
    "owt_escape.Model.predict",
    "owt_escape.own.x",
])
def test_no_code_serves_only_the_modules_own_functions(transport: Any, escape_dir: tuple[Path, Path],
                                                       name: str) -> None:
    adaptors, marker = escape_dir
    marker.unlink(missing_ok=True)
    options = ("--no-code", "--adaptors", str(adaptors))
    resp = transport.send(get("/", adaptor=name, kwargs="{'command': 'true'}"), options)
    assert resp.status == 404, resp.describe()
    assert "escaped" not in resp.text
    assert not marker.exists(), f"{name} ran code"
    resp = transport.send(get("/", adaptor="owt_escape.own"), options)
    assert (resp.status, resp.text) == (200, "own function ran"), resp.describe()


def _start_master(options: list[str], port: int, log: Path) -> subprocess.Popen[bytes]:
    owt_e2e.require_binary()
    proc = subprocess.Popen([str(owt_e2e.OWT_BIN), "--listen", f"127.0.0.1:{port}", "--workers", "1", "-vv",
                             *options], stdout=subprocess.DEVNULL, stderr=log.open("wb"))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with fcgi_client.connect(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise AssertionError(log.read_text())


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_allow_list_refuses_other_peers(tmp_path: Path) -> None:
    port = owt_e2e.free_port()
    proc = _start_master(["--allow-from", "192.0.2.1,2001:db8::/32"], port, tmp_path / "refuse.log")
    try:
        with pytest.raises(ConnectionError):
            fcgi_client.get(("127.0.0.1", port), "/", {"code": HELLO})
    finally:
        _stop(proc)
    assert "not in --allow-from" in (tmp_path / "refuse.log").read_text()


def test_allow_list_admits_listed_peers(tmp_path: Path) -> None:
    port = owt_e2e.free_port()
    proc = _start_master(["--allow-from", "127.0.0.0/8"], port, tmp_path / "admit.log")
    try:
        resp = fcgi_client.get(("127.0.0.1", port), "/", {"code": HELLO})
        assert (resp.status, resp.body) == (200, b"adaptor-ran")
    finally:
        _stop(proc)


def test_web_server_addrs_environment(tmp_path: Path) -> None:
    port = owt_e2e.free_port()
    os.environ["FCGI_WEB_SERVER_ADDRS"] = "192.0.2.7"
    try:
        proc = _start_master([], port, tmp_path / "env.log")
    finally:
        del os.environ["FCGI_WEB_SERVER_ADDRS"]
    try:
        with pytest.raises(ConnectionError):
            fcgi_client.get(("127.0.0.1", port), "/", {"code": HELLO})
    finally:
        _stop(proc)


def test_public_listen_needs_auth_or_allow_list(tmp_path: Path) -> None:
    owt_e2e.require_binary()
    done = subprocess.run([str(owt_e2e.OWT_BIN), "--listen", "0.0.0.0:0", "--workers", "1"],
                          capture_output=True, text=True, timeout=20)
    assert done.returncode == 2
    assert "--insecure" in done.stderr and "--allow-from" in done.stderr


def test_owt_serve_refuses_a_public_address_without_auth() -> None:
    owt_e2e.require_binary()
    serve = owt_e2e.ROOT / "spawn" / "owt-serve" if hasattr(owt_e2e, "ROOT") else None
    serve = serve or Path(__file__).resolve().parents[2] / "spawn" / "owt-serve"
    for address in ("0.0.0.0", "192.0.2.10", "::"):
        done = subprocess.run([str(serve), "--address", address, "--port", "9"],
                              capture_output=True, text=True, timeout=30)
        assert done.returncode == 2, (address, done.stdout, done.stderr)
        assert "without --auth" in done.stderr and "--insecure" in done.stderr


# ---- loopback means loopback: decided from the resolved numeric address ------------------

NOT_LOOPBACK = ("127.attacker.example", "127.0.0.1.attacker.example", "localhost.attacker.example",
                "127.0.0.1.5")


@pytest.mark.parametrize("address", NOT_LOOPBACK)
def test_owt_serve_refuses_a_name_that_looks_like_loopback_without_auth(address: str) -> None:
    owt_e2e.require_binary()
    env = dict(os.environ, OWT_BIN=str(owt_e2e.OWT_BIN))
    done = subprocess.run([str(owt_e2e.LAUNCHER), "--address", address, "--port", str(owt_e2e.free_port())],
                          capture_output=True, text=True, timeout=30, env=env, stdin=subprocess.DEVNULL)
    assert done.returncode == 2, (address, done.stdout, done.stderr)
    assert "without --auth" in done.stderr and "not a loopback address" in done.stderr, done.stderr
    assert "Owt serving on" not in done.stdout


LOOPBACK_HELPER = owt_e2e.LAUNCHER.parent / "owt-loopback"


@pytest.mark.parametrize("address,loopback", [
    ("127.0.0.1", True), ("127.0.0.2", True), ("127.255.255.254", True), ("127.1", True),
    ("::1", True), ("[::1]", True), ("0:0:0:0:0:0:0:1", True), ("::ffff:127.0.0.1", True),
    ("localhost", True),
    ("127.attacker.example", False), ("127.0.0.1.attacker.example", False), ("127.0.0.1.5", False),
    ("localhost.attacker.example", False), ("0.0.0.0", False), ("::", False), ("192.0.2.10", False),
    ("::ffff:192.0.2.10", False), ("fe80::1%lo", False), ("cafe", False), ("", False), ("-s", False),
])
def test_owt_loopback_decides_from_the_resolved_address(address: str, loopback: bool) -> None:
    done = subprocess.run([str(LOOPBACK_HELPER), address], capture_output=True, text=True, timeout=20,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == (0 if loopback else 1), (address, done.stderr)


@pytest.mark.parametrize("address", NOT_LOOPBACK)
def test_owt_spawn_fcgi_refuses_a_name_that_looks_like_loopback_without_auth(address: str) -> None:
    owt_e2e.require_binary()
    owt_e2e.require_tools("spawn-fcgi", "multiwatch")
    env = dict(os.environ, OWT_BIN=str(owt_e2e.OWT_BIN))
    done = subprocess.run([str(owt_e2e.LAUNCHER.parent / "owt-spawn-fcgi"), "--listen",
                           f"{address}:{owt_e2e.free_port()}", "--workers", "1"],
                          capture_output=True, text=True, timeout=30, env=env, stdin=subprocess.DEVNULL)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "without --auth" in done.stderr and "not a loopback" in done.stderr, done.stderr


@pytest.mark.parametrize("address", ["127.0.0.2", "::1", "localhost"])
def test_owt_serve_serves_loopback_addresses_without_auth(address: str) -> None:
    owt_e2e.require_binary()
    owt_e2e.require_tools("lighttpd", "curl")
    srv = owt_e2e.OwtServer(("-vv",), name=f"loopback-{address.replace(':', '_')}")
    srv.address = address
    try:
        srv.start()
        resp = owt_e2e.http_send(srv, get("/", code=HELLO))
        assert (resp.status, resp.text) == (200, "adaptor-ran"), resp.describe()
    finally:
        srv.terminate()
        srv.stop()


@pytest.mark.parametrize("address", NOT_LOOPBACK + ("example.invalid",))
def test_listen_refuses_names_instead_of_looking_them_up(address: str) -> None:
    owt_e2e.require_binary()
    started = time.monotonic()
    done = subprocess.run([str(owt_e2e.OWT_BIN), "--listen", f"{address}:0", "--workers", "1"],
                          capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)
    assert done.returncode == 2, done.stderr
    assert "numeric IPv4 or IPv6 address, or localhost" in done.stderr, done.stderr
    assert time.monotonic() - started < 10  # refused, not resolved (no resolver timeout)


@pytest.mark.parametrize("host", ["127.0.0.2", "[::1]", "localhost"])
def test_listen_on_a_loopback_address_runs_without_auth(tmp_path: Path, host: str) -> None:
    owt_e2e.require_binary()
    port = owt_e2e.free_port()
    log = tmp_path / "master.log"
    proc = subprocess.Popen([str(owt_e2e.OWT_BIN), "--listen", f"{host}:{port}", "--workers", "1", "-vv"],
                            stdout=subprocess.DEVNULL, stderr=log.open("wb"), stdin=subprocess.DEVNULL)
    try:
        target = ("127.0.0.2" if host == "127.0.0.2" else "::1" if host == "[::1]" else "localhost", port)
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"the master exited {proc.returncode}: {log.read_text()}")
            try:
                resp = fcgi_client.get(target, "/", {"code": HELLO})
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError(log.read_text()) from None
                time.sleep(0.05)
        assert (resp.status, resp.body) == (200, b"adaptor-ran")
    finally:
        _stop(proc)
