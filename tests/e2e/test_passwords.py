"""Issue 15.9: salted slow password hashes (yescrypt, bcrypt) next to the seed's SHA-256,
through lighttpd and in CGI mode; ``owt-fcgi --hash-password[=FORMAT]``."""

from __future__ import annotations

import hashlib
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest

import owt_e2e
from e2e_cases import basic
from owt_e2e import get, http_send, run_cgi

HELLO = "lambda: 'adaptor-ran'"

USERS = {"yes": "yescrypt pass", "bc": "bcrypt pass", "old": "sha256 pass"}


def hash_password(password: str, fmt: str | None = None) -> str:
    owt_e2e.require_binary()
    argv = [str(owt_e2e.OWT_BIN), "--hash-password" + (f"={fmt}" if fmt else "")]
    done = subprocess.run(argv, input=password + "\n", capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@cache
def auth_options() -> tuple[str, ...]:
    """One user per stored form; the hashes are made by owt-fcgi itself."""
    return ("--auth", "yes:" + hash_password(USERS["yes"]),
            "--auth", "bc:" + hash_password(USERS["bc"], "bcrypt"),
            "--auth", "old:" + hash_password(USERS["old"], "sha256"))


def send(transport: Any, user: str, password: str) -> owt_e2e.Resp:
    return transport.send(get("/", code=HELLO).with_headers(Authorization=basic(user, password)),
                          auth_options())


def test_hash_password_forms() -> None:
    yes = hash_password("pw")
    assert yes.startswith("$y$") and len(yes.rsplit("$", 1)[1]) == 43, yes
    assert hash_password("pw") != yes  # a fresh salt each time
    bc = hash_password("pw", "bcrypt")
    assert bc.startswith("$2b$12$") and len(bc) == 60, bc
    assert hash_password("pw", "yescrypt").startswith("$y$")
    assert hash_password("pw", "sha256") == hashlib.sha256(b"pw").hexdigest()
    for argv, words in ((["--hash-password=md5"], "yescrypt, bcrypt or sha256"),
                        (["--hash-password"], "empty password")):
        done = subprocess.run([str(owt_e2e.OWT_BIN), *argv], input="\n", capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 2 and words in done.stderr, done.stderr


@pytest.mark.parametrize("user", sorted(USERS))
def test_each_stored_form_lets_its_user_in(transport: Any, user: str) -> None:
    resp = send(transport, user, USERS[user])
    assert (resp.status, resp.text) == (200, "adaptor-ran"), resp.describe()


@pytest.mark.parametrize("user,password", [
    ("yes", "yescrypt pasS"), ("yes", "yescrypt pass "), ("yes", "bcrypt pass"),
    ("bc", "bcrypt pas"), ("bc", "yescrypt pass"), ("old", "yescrypt pass"),
    ("nobody", "yescrypt pass"), ("yes", ""),
])
def test_wrong_passwords_are_401(transport: Any, user: str, password: str) -> None:
    resp = send(transport, user, password)
    assert resp.status == 401, resp.describe()
    assert resp.headers.get("WWW-Authenticate") == 'Basic realm="owt"'
    assert "adaptor-ran" not in resp.text


def test_a_remembered_credential_admits_only_itself(owt_server: Any) -> None:
    """Through one lighttpd worker: after the right password was verified (and cached),
    the same user with another password, and another user with it, still get 401."""
    server = owt_server(("--workers", "1", *auth_options()))
    right = get("/", code=HELLO).with_headers(Authorization=basic("yes", USERS["yes"]))
    for _ in range(5):
        resp = http_send(server, right)
        assert resp.status == 200, resp.describe()
    for user, password in (("yes", USERS["yes"] + "x"), ("yes", USERS["yes"][:-1]), ("bc", USERS["yes"]),
                           ("yes", USERS["bc"])):
        wrong = get("/", code=HELLO).with_headers(Authorization=basic(user, password))
        assert http_send(server, wrong).status == 401, (user, password)
    assert http_send(server, right).status == 200
    log = server.log_text()
    for password in USERS.values():
        assert password not in log


def test_auth_file_and_environment_with_crypt_hashes(tmp_path: Path) -> None:
    yes = hash_password("file pw")
    bc = hash_password("env pw", "bcrypt")
    users = tmp_path / "users"
    users.write_text(f"# mixed forms\nfile-user:{yes}\nold-user:{hashlib.sha256(b'old').hexdigest()}\n")
    ok = get("/", code=HELLO).with_headers(Authorization=basic("file-user", "file pw"))
    assert run_cgi(ok, ["--auth-file", str(users)]).resp.status == 200
    old = get("/", code=HELLO).with_headers(Authorization=basic("old-user", "old"))
    assert run_cgi(old, ["--auth-file", str(users)]).resp.status == 200
    env = {"OWT_AUTH": f"file-user:{yes},env-user:{bc}"}
    ok_env = get("/", code=HELLO).with_headers(Authorization=basic("env-user", "env pw"))
    assert run_cgi(ok_env, env=env).resp.status == 200
    bad_env = get("/", code=HELLO).with_headers(Authorization=basic("env-user", "file pw"))
    assert run_cgi(bad_env, env=env).resp.status == 401


@pytest.mark.parametrize("stored,words", [
    ("$1$W2fQAmhY$m90uWRMx4qhHs9nTIX8H.1", "must be yescrypt"),        # md5crypt
    ("$2b$12$ZoHzNCIHAvFoD9WeY.iIfu", "incomplete"),                      # a salt, no hash
    ("$y$j9T$wVe4spmgWkLe.fEqNjAWV/", "incomplete"),
    ("not-a-hash", "64 hex digits"),
])
def test_unusable_hashes_stop_the_start(stored: str, words: str) -> None:
    owt_e2e.require_binary()
    done = subprocess.run([str(owt_e2e.OWT_BIN), "--cgi", "--auth", "u:" + stored], capture_output=True,
                          text=True, timeout=20)
    assert done.returncode == 2 and "--auth" in done.stderr and words in done.stderr, done.stderr
