"""Code by reference and signed code (issue 17), end to end through spawn/owt-serve and
lighttpd with two workers, and in CGI mode.

- ``code_sha256``: a digest runs on every worker after one full send; an unknown digest is
  a 404 with a JSON body; code sent with a digest that does not match is a 400; the store
  survives a restart and holds its bound while several workers store at once.
- ``code_sig`` under ``--require-signed``: signed, unsigned, tampered and wrong-key requests;
  a signed digest called later by digest alone; code stored unsigned stays refused.
- ``owt-fcgi --sign`` agrees with ``openssl pkeyutl -sign -rawin``; ``--encode --by-digest``
  and ``--key`` print requests that work.

Adaptors here return their worker's pid, so a test can tell which worker ran the code.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import owt_e2e
from e2e_cases import code
from owt_e2e import OWT_BIN, OwtServer, Req, Resp, b64, get, http_send, post_form, post_json, run_cgi

Start = Callable[..., OwtServer]

TWO = ("-vv", "--workers", "2")
"""Every server here has two workers, as the issue asks: code stored by one runs on the other."""


@pytest.fixture
def server(owt_server: Callable[..., OwtServer]) -> OwtServer:
    """The shared two-worker server (its code store is private to this session)."""
    return owt_server(TWO)

ENTRY = re.compile(r"[0-9a-f]{64}")


def adaptor(tag: str, padding: int = 0) -> str:
    """Code that names itself and the worker that ran it; padding makes it longer."""
    return code(f"""
        import os
        def run(**kwargs):
            return f'{tag} pid={{os.getpid()}}'
        """) + ("#" * padding + "\n" if padding else "")


def sha(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def pid_of(resp: Resp) -> int:
    assert resp.status == 200, resp.describe()
    return int(resp.text.rsplit("pid=", 1)[1])


def by_digest(server: OwtServer, source: str, **fields: Any) -> Resp:
    return http_send(server, post_json(code_sha256=sha(source), **fields))


def in_full(server: OwtServer, source: str, **fields: Any) -> Resp:
    return http_send(server, post_json(code_b64=b64(source), **fields))


def two_workers(server: OwtServer) -> list[int]:
    deadline = time.monotonic() + 15
    while len(server.worker_pids()) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    pids = server.worker_pids()
    assert len(pids) == 2, pids
    return pids


def parallel(n: int, fn: Callable[[int], Any]) -> list[Any]:
    results: list[Any] = [None] * n
    errors: list[BaseException] = []

    def one(i: int) -> None:
        try:
            results[i] = fn(i)
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    if errors:
        raise errors[0]
    return results


def entries(store: Path) -> list[Path]:
    return sorted(p for p in store.iterdir() if ENTRY.fullmatch(p.name)) if store.exists() else []


def shared_total(store: Path) -> tuple[int, int]:
    """(bytes, entries) from the store's .usage file."""
    raw = (store / ".usage").read_bytes()
    assert raw[:8] == b"OWTUSE1\n", raw[:8]
    return int.from_bytes(raw[8:16], "little"), int.from_bytes(raw[16:24], "little")


def assert_unknown(resp: Resp, digest: str) -> None:
    assert resp.status == 404, resp.describe()
    assert resp.content_type == "application/json", resp.describe()
    body = resp.json()
    assert body["error"] == "unknown code_sha256", body
    assert body["code_sha256"] == digest.lower(), body


# ---- code_sha256 -----------------------------------------------------------------------------


def test_a_digest_runs_on_every_worker_after_one_full_send(fresh_server: Start) -> None:
    server = fresh_server(TWO)
    workers = set(two_workers(server))
    source = adaptor(f"shared-{uuid.uuid4().hex}")
    assert_unknown(by_digest(server, source), sha(source))
    sender = pid_of(in_full(server, source))
    served: set[int] = set()
    for _ in range(30):
        for resp in parallel(4, lambda _: by_digest(server, source)):
            served.add(pid_of(resp))
        if served == workers:
            break
    assert served == workers, f"digest served by {served}, workers {workers} (full send on {sender})"
    # The query string and a form body carry it as well, upper-case hex too.
    assert pid_of(http_send(server, get(code_sha256=sha(source).upper()))) in workers
    assert pid_of(http_send(server, post_form(code_sha256=sha(source)))) in workers


def test_unknown_digest_is_a_404_with_a_json_body(server: OwtServer) -> None:
    digest = sha(f"never sent {uuid.uuid4().hex}")
    for req in (get(code_sha256=digest.upper()), post_json(code_sha256=digest),
                post_form(code_sha256=digest, kwargs="{'a': 1}")):
        assert_unknown(http_send(server, req), digest)
    # Malformed digests are the client's mistake: 400, in words.
    for bad in ("", "abc", digest + "0", digest[:-1] + "g", base64.b64encode(bytes.fromhex(digest)).decode()):
        resp = http_send(server, get(code_sha256=bad))
        assert resp.status == 400 and "code_sha256 must be 64 hex digits" in resp.text, resp.describe()
    resp = http_send(server, get(code_sha256=digest, adaptor="echo"))
    assert resp.status == 400 and "either code" in resp.text, resp.describe()


def test_code_with_a_digest_that_does_not_match_is_a_400(server: OwtServer) -> None:
    source, other = adaptor("mine"), adaptor("other")
    resp = in_full(server, source, code_sha256=sha(other))
    assert resp.status == 400, resp.describe()
    assert "does not match" in resp.text and sha(source) in resp.text and sha(other) in resp.text
    assert_unknown(by_digest(server, other), sha(other))  # neither was stored
    ok = in_full(server, source, code_sha256=sha(source).upper())
    assert ok.status == 200 and ok.text.startswith("mine pid="), ok.describe()


def test_digest_keeps_the_warm_adaptor(fresh_server: Start) -> None:
    server = fresh_server(("-vv",))  # one worker: every call reaches the same warm module
    source = code(f"""
        COUNT = [0]
        def run():
            COUNT[0] += 1
            return '{uuid.uuid4().hex} %d' % COUNT[0]
        """)
    first = in_full(server, source)
    second = by_digest(server, source)
    third = in_full(server, source)
    counts = [int(r.text.split()[1]) for r in (first, second, third)]
    assert counts == [1, 2, 3], [r.describe() for r in (first, second, third)]


def test_restart_keeps_the_store(fresh_server: Start, tmp_path: Path) -> None:
    state = tmp_path / "state"
    source = adaptor(f"restart-{uuid.uuid4().hex}")
    first = fresh_server((*TWO, "--state-dir", str(state)))
    assert pid_of(in_full(first, source))
    first.stop()
    # owt-serve's default store for --state-dir is DIR/code.
    assert [p.name for p in entries(state / "code")] == [sha(source)]
    second = fresh_server((*TWO, "--state-dir", str(state)))
    workers = set(two_workers(second))
    served: set[int] = set()
    for _ in range(30):
        served |= {pid_of(r) for r in parallel(4, lambda _: by_digest(second, source))}
        if served == workers:
            break
    assert served == workers
    # A plain CGI run pointed at the same directory finds it too.
    cgi = run_cgi(get(code_sha256=sha(source)), ("--code-store", str(state / "code"))).resp
    assert cgi.status == 200 and cgi.text.startswith("restart-"), cgi.describe()


def test_cgi_stores_and_loads(tmp_path: Path) -> None:
    options = ("--code-store", str(tmp_path / "code"))
    source = adaptor("cgi")
    assert_unknown(run_cgi(get(code_sha256=sha(source)), options).resp, sha(source))
    assert run_cgi(get(code_b64=b64(source)), options).resp.status == 200
    resp = run_cgi(get(code_sha256=sha(source)), options).resp
    assert resp.status == 200 and resp.text.startswith("cgi pid="), resp.describe()


def test_the_bound_holds_with_two_workers_storing_at_once(fresh_server: Start, tmp_path: Path) -> None:
    store = tmp_path / "code"
    bound = 64 * 1024
    server = fresh_server((*TWO, "--code-store", str(store), "--code-store-max-bytes", "64K"))
    two_workers(server)
    run = uuid.uuid4().hex
    sources = [adaptor(f"bound-{run}-{i}", padding=4000) for i in range(64)]  # ~4.1 KB entries

    def send(i: int) -> int:
        return pid_of(in_full(server, sources[i]))

    pids = set()
    for batch in range(8):
        pids |= set(parallel(8, lambda i: send(batch * 8 + i)))
    assert len(pids) == 2, f"all stores came from one worker: {pids}"
    files = entries(store)
    total = sum(p.stat().st_size for p in files)
    assert 0 < total <= bound, (total, len(files))
    assert shared_total(store) == (total, len(files))  # the directory's own total, exact
    assert not list(store.glob(".owt-tmp-*"))
    # What is left is sound and runs by digest; what was evicted is a 404 again.
    kept = {p.name for p in files}
    for source in sources[-8:]:
        resp = by_digest(server, source)
        if sha(source) in kept:
            assert resp.status == 200, resp.describe()
        else:
            assert_unknown(resp, sha(source))
    assert_unknown(by_digest(server, sources[0]), sha(sources[0]))  # the oldest went first


def test_a_damaged_entry_is_unknown(fresh_server: Start, tmp_path: Path) -> None:
    store = tmp_path / "code"
    server = fresh_server((*TWO, "--code-store", str(store)))
    source = adaptor("damaged")
    assert in_full(server, source).status == 200
    entry = store / sha(source)
    data = bytearray(entry.read_bytes())
    data[-3] ^= 0x20
    entry.write_bytes(bytes(data))
    resp = by_digest(server, source)
    assert_unknown(resp, sha(source))
    assert "does not hash to its name" in resp.log
    assert not entry.exists()
    assert by_digest(server, source).status == 404
    assert in_full(server, source).status == 200 and by_digest(server, source).status == 200


def test_no_code_refuses_digests(fresh_server: Start, tmp_path: Path) -> None:
    store = tmp_path / "code"
    source = adaptor("nocode")
    assert run_cgi(get(code_b64=b64(source)), ("--code-store", str(store))).resp.status == 200
    server = fresh_server((*TWO, "--no-code", "--code-store", str(store)))
    resp = by_digest(server, source)
    assert resp.status == 403 and "--no-code" in resp.text, resp.describe()


# ---- signatures ------------------------------------------------------------------------------


class Keys:
    """Ed25519 key pairs made with openssl, and signatures made with owt-fcgi --sign."""

    def __init__(self, directory: Path) -> None:
        owt_e2e.require_tools("openssl")
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)

    def make(self, name: str) -> tuple[Path, Path]:
        pem, pub = self.dir / f"{name}.pem", self.dir / f"{name}.pub"
        if not pem.exists():
            subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", str(pem)], check=True)
            subprocess.run(["openssl", "pkey", "-in", str(pem), "-pubout", "-out", str(pub)], check=True)
        return pem, pub

    def sign(self, name: str, source: str) -> str:
        pem, _ = self.make(name)
        f = self.dir / f"{uuid.uuid4().hex}.py"
        f.write_bytes(source.encode("utf-8"))
        done = subprocess.run([str(OWT_BIN), "--sign", str(f), "--key", str(pem)], capture_output=True,
                              text=True, timeout=30)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()


@pytest.fixture
def keys(tmp_path: Path) -> Keys:
    owt_e2e.require_binary()
    return Keys(tmp_path / "keys")


def signed_server(fresh_server: Start, keys: Keys, store: Path, *extra: str) -> OwtServer:
    _, pub = keys.make("trusted")
    return fresh_server((*TWO, "--require-signed", "--trust-key", str(pub), "--code-store", str(store), *extra))


def test_require_signed(fresh_server: Start, keys: Keys, tmp_path: Path) -> None:
    server = signed_server(fresh_server, keys, tmp_path / "code")
    source = adaptor(f"signed-{uuid.uuid4().hex}")
    good = keys.sign("trusted", source)

    unsigned = in_full(server, source)
    assert unsigned.status == 403 and "--require-signed" in unsigned.text, unsigned.describe()
    tampered = in_full(server, source.replace("pid=", "PID="), code_sig=good)
    assert tampered.status == 403 and "not a valid signature" in tampered.text, tampered.describe()
    wrong_key = in_full(server, source, code_sig=keys.sign("stranger", source))
    assert wrong_key.status == 403, wrong_key.describe()
    flipped = base64.b64decode(good)
    flipped = base64.b64encode(flipped[:5] + bytes([flipped[5] ^ 1]) + flipped[6:]).decode()
    assert in_full(server, source, code_sig=flipped).status == 403
    malformed = in_full(server, source, code_sig="not a signature")
    assert malformed.status == 400 and "code_sig" in malformed.text, malformed.describe()
    assert_unknown(by_digest(server, source), sha(source))  # nothing refused was stored

    ok = in_full(server, source, code_sig=good)
    assert ok.status == 200 and ok.text.startswith("signed-"), ok.describe()
    # GET and form carry the signature too.
    assert pid_of(http_send(server, get(code_b64=b64(source), code_sig=good)))
    assert pid_of(http_send(server, post_form(code=source, code_sig=good)))


def test_a_signed_digest_stays_trusted(fresh_server: Start, keys: Keys, tmp_path: Path) -> None:
    server = signed_server(fresh_server, keys, tmp_path / "code")
    workers = set(two_workers(server))
    source = adaptor(f"digest-signed-{uuid.uuid4().hex}")
    assert pid_of(in_full(server, source, code_sig=keys.sign("trusted", source)))
    served: set[int] = set()
    for _ in range(30):
        for resp in parallel(4, lambda _: by_digest(server, source)):  # no code_sig at all
            served.add(pid_of(resp))
        if served == workers:
            break
    assert served == workers
    # A signature sent along with the digest is checked too.
    resp = by_digest(server, source, code_sig=keys.sign("stranger", source))
    assert resp.status == 403, resp.describe()


def test_code_stored_unsigned_is_refused_until_signed(fresh_server: Start, keys: Keys, tmp_path: Path) -> None:
    store = tmp_path / "code"
    source = adaptor(f"later-{uuid.uuid4().hex}")
    # Another server on the same directory, without --require-signed, stored it unsigned.
    assert run_cgi(get(code_b64=b64(source)), ("--code-store", str(store))).resp.status == 200
    server = signed_server(fresh_server, keys, store)
    refused = by_digest(server, source)
    assert refused.status == 403 and "--require-signed" in refused.text, refused.describe()
    # The digest with a good signature runs, and the store keeps that signature.
    assert pid_of(by_digest(server, source, code_sig=keys.sign("trusted", source)))
    assert pid_of(by_digest(server, source))


def test_a_forged_stored_signature_does_not_count(fresh_server: Start, keys: Keys, tmp_path: Path) -> None:
    store = tmp_path / "code"
    server = signed_server(fresh_server, keys, store)
    source = adaptor(f"forged-{uuid.uuid4().hex}")
    assert pid_of(in_full(server, source, code_sig=keys.sign("trusted", source)))
    # Whoever can write the store swaps in a signature by a key the server does not trust.
    entry = store / sha(source)
    data = bytearray(entry.read_bytes())
    assert data[8] & 1
    data[16:80] = base64.b64decode(keys.sign("stranger", source))
    entry.write_bytes(bytes(data))
    resp = by_digest(server, source)
    assert resp.status == 403, resp.describe()


# ---- the command line ------------------------------------------------------------------------


def owt(*args: str) -> subprocess.CompletedProcess[str]:
    owt_e2e.require_binary()
    return subprocess.run([str(OWT_BIN), *args], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("content", [b"def run():\n    return 'hi'\n", "gr\u00fc\u00df \U0001f30d\n".encode(),
                                     b"# " + b"x" * 30000 + b"\n"], ids=["hello", "utf8", "30k"])
def test_sign_agrees_with_openssl(keys: Keys, tmp_path: Path, content: bytes) -> None:
    """(The empty file is RFC 8032's first vector, in tests/unit/test_sign.c: openssl
    pkeyutl prints nothing for an empty input.)"""
    pem, _ = keys.make("trusted")
    f = tmp_path / "adaptor.py"
    f.write_bytes(content)
    ours = owt("--sign", str(f), "--key", str(pem))
    assert ours.returncode == 0, ours.stderr
    theirs = subprocess.run(f"openssl pkeyutl -sign -rawin -inkey '{pem}' -in '{f}' | base64 -w0",
                            shell=True, capture_output=True, text=True, check=True)
    assert ours.stdout == theirs.stdout + "\n"


def test_sign_refuses_what_it_cannot_use(keys: Keys, tmp_path: Path) -> None:
    pem, pub = keys.make("trusted")
    f = tmp_path / "a.py"
    f.write_text("x = 1\n")
    assert owt("--sign", str(f)).returncode == 2
    wrong = owt("--sign", str(f), "--key", str(pub))
    assert wrong.returncode == 1 and "private key" in wrong.stderr
    missing = owt("--sign", str(tmp_path / "none.py"), "--key", str(pem))
    assert missing.returncode == 1 and "none.py" in missing.stderr
    bad_trust = owt("--trust-key", str(pem), "--version")
    assert bad_trust.returncode == 2 and "--trust-key" in bad_trust.stderr
    assert "--trust-key" in owt("--require-signed", "--version").stderr


def test_encode_by_digest_and_signed(fresh_server: Start, keys: Keys, tmp_path: Path) -> None:
    server = signed_server(fresh_server, keys, tmp_path / "code")
    pem, _ = keys.make("trusted")
    f = tmp_path / "adaptor.py"
    source = adaptor(f"encoded-{uuid.uuid4().hex}")
    f.write_text(source)

    digest_only = json.loads(owt("--encode", str(f), "--json", "--by-digest").stdout)
    assert digest_only == {"code_sha256": sha(source)}
    signed_digest = json.loads(owt("--encode", str(f), "{}", "--json", "--by-digest", "--key", str(pem)).stdout)
    assert list(signed_digest) == ["code_sha256", "code_sig", "kwargs_b64"]
    assert signed_digest["code_sig"] == keys.sign("trusted", source)
    query = owt("--encode", str(f), "--by-digest", "--key", str(pem)).stdout.strip()
    assert query.startswith(f"code_sha256={sha(source)}&code_sig=")

    def post(body: str) -> Resp:
        return http_send(server, Req("POST", "/", (), body.encode(), "application/json"))

    assert_unknown(post(owt("--encode", str(f), "--json", "--by-digest").stdout), sha(source))
    assert post(owt("--encode", str(f), "--json").stdout).status == 403  # unsigned
    full_signed = post(owt("--encode", str(f), "--json", "--key", str(pem)).stdout)
    assert full_signed.status == 200 and full_signed.text.startswith("encoded-"), full_signed.describe()
    assert pid_of(post(owt("--encode", str(f), "--json", "--by-digest").stdout))
    ran = subprocess.run(["bash", "-c", owt("--encode", str(f), "--by-digest", "--curl", server.url).stdout],
                         capture_output=True, text=True, timeout=60)
    assert ran.stdout.startswith("encoded-"), ran.stderr
