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
