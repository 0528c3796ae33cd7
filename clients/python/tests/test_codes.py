"""Code by digest against the local fake server: the first call of a code sends it, later
calls its SHA-256; the 404 "unknown code_sha256" brings one resend in full; a server that
keeps nothing stops the digests; other errors are not resent."""

import hashlib
import json
import threading

import pytest

from conftest import request_fields
from owt_client import Client, CodeMemory, OwtError, is_unknown_code

CODE = 'def run(n):\n    return n * 2\n'
DIGEST = hashlib.sha256(CODE.encode()).hexdigest()


def sent(fake):
    """How each recorded request carried the code: "full", "digest" or None."""
    out = []
    for seen in fake.seen:
        fields = request_fields(seen)
        out.append("full" if "code_b64" in fields else "digest" if "code_sha256" in fields else None)
    return out


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_first_call_in_full_then_by_digest(fake, method):
    client = Client(fake.url + "/store", method=method)
    assert client.run(CODE, n=1) == {"mode": "full", "fields": ["code_b64", "kwargs_b64"]}
    assert client.run(CODE, n=2) == {"mode": "digest", "fields": ["code_sha256", "kwargs_b64"]}
    assert client.run(CODE, n=3)["mode"] == "digest"
    assert request_fields(fake.seen[1])["code_sha256"] == DIGEST
    assert sent(fake) == ["full", "digest", "digest"]
    # Another code starts in full again.
    assert client.run(CODE + "\n", n=1)["mode"] == "full"


def test_unknown_code_is_sent_again_once(fake):
    client = Client(fake.url + "/store")
    client.run(CODE, n=1)
    fake.codes.clear()  # the server forgot it (evicted, restarted on another directory)
    assert client.run(CODE, n=2)["mode"] == "full"
    assert sent(fake) == ["full", "digest", "full"]
    assert client.run(CODE, n=3)["mode"] == "digest"
    assert sent(fake)[-1] == "digest"


def test_a_server_that_keeps_nothing_stops_the_digests(fake):
    client = Client(fake.url + "/nostore")
    for n in range(5):
        assert client.run(CODE, n=n)["mode"] == "full"
    # full, digest (404) full, digest (404) full, then full only: two strikes.
    assert sent(fake) == ["full", "digest", "full", "digest", "full", "full", "full"]


@pytest.mark.parametrize("route", ["/404-empty", "/500"])
def test_other_errors_are_not_resent(fake, route):
    client = Client(fake.url + route)
    client.codes.sent(hashlib.sha256(b"1").hexdigest())  # as if "1" had been sent before
    with pytest.raises(OwtError) as info:
        client.run("1")
    assert not is_unknown_code(info.value.status, info.value.body)
    assert sent(fake) == ["digest"]  # one request: only the unknown-code 404 is resent


def test_by_digest_off(fake):
    client = Client(fake.url + "/store", by_digest=False)
    for n in range(3):
        assert client.run(CODE, n=n)["mode"] == "full"
    assert sent(fake) == ["full"] * 3


def test_memory_shared_between_clients(fake):
    codes = CodeMemory()
    Client(fake.url + "/store", codes=codes).run(CODE, n=1)
    other = Client(fake.url + "/store?x=1", codes=codes, method="GET")
    assert other.run(CODE, n=2)["mode"] == "digest"


def test_stream_by_digest(fake):
    client = Client(fake.url + "/store/stream")
    assert list(client.stream(CODE, n=1)) == ["full"]
    assert list(client.stream(CODE, n=2)) == ["digest"]


def test_remote_function_by_digest(fake):
    client = Client(fake.url + "/store")

    @client.function
    def double(n):
        return n * 2

    assert double(1)["mode"] == "full"
    assert double(2)["mode"] == "digest"


def test_threads_share_one_client(fake):
    client = Client(fake.url + "/store")
    client.run(CODE, n=0)
    modes = []

    def call():
        modes.append(client.run(CODE, n=1)["mode"])

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert modes == ["digest"] * 8


def test_is_unknown_code():
    body = json.dumps({"error": "unknown code_sha256", "code_sha256": DIGEST}).encode()
    assert is_unknown_code(404, body)
    assert not is_unknown_code(400, body)
    assert not is_unknown_code(404, b"no such adaptor")
    assert not is_unknown_code(404, b'{"error": "something else"}')
    assert not is_unknown_code(404, b"{not json")
