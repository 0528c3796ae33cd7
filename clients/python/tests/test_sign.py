"""Signing (code_sig) against clients/signing.json: both backends (the cryptography
package, the openssl command) give the signatures owt-fcgi --sign gives; a client with a
key signs every code it sends, by digest too."""

import os
import shutil

import pytest

from conftest import load_signing, request_fields
from owt_client import Client, Signer, SigningError, encode_fields

SIGNING = load_signing()


def backends():
    out = []
    try:
        import cryptography  # noqa: F401
        out.append("cryptography")
    except ImportError:
        pass
    if shutil.which("openssl"):
        out.append("openssl")
    return out


@pytest.fixture
def key_file(tmp_path):
    path = tmp_path / "key.pem"
    path.write_text(SIGNING["private_key_pem"])
    return str(path)


def test_some_backend_is_here():
    if not backends() and os.environ.get("CI"):
        pytest.fail("neither python3-cryptography nor openssl: signing is not tested")
    assert backends(), "install python3-cryptography or openssl"


@pytest.mark.parametrize("backend", backends())
@pytest.mark.parametrize("case", SIGNING["cases"], ids=lambda c: c["name"])
def test_signatures_match_the_vectors(key_file, backend, case):
    signer = Signer(key_file, backend=backend)
    assert signer.backend == backend
    assert signer.sign(case["code"].encode("utf-8")) == case["code_sig"]


def test_key_bytes_work_too():
    signer = Signer(SIGNING["private_key_pem"].encode())
    case = SIGNING["cases"][1]
    assert signer.sign(case["code"].encode()) == case["code_sig"]


@pytest.mark.parametrize("backend", backends())
def test_unusable_keys_are_refused_at_once(tmp_path, backend):
    pub = tmp_path / "key.pub"
    pub.write_text(SIGNING["public_key_pem"])
    with pytest.raises(SigningError):
        Signer(str(pub), backend=backend)
    with pytest.raises(SigningError):
        Signer(str(tmp_path / "missing.pem"), backend=backend)


def test_client_signs_full_and_digest_calls(fake, key_file):
    case = SIGNING["cases"][1]
    client = Client(fake.url + "/store", signing_key=key_file)
    client.run(case["code"])
    client.run(case["code"])
    first, second = (request_fields(s) for s in fake.seen)
    assert first["code_sig"] == case["code_sig"] and "code_b64" in first
    assert second["code_sig"] == case["code_sig"] and "code_sha256" in second
    assert client.get_url(case["code"]).count("code_sig=") == 1


def test_encode_fields_places_the_signature():
    fields = encode_fields("x", {"a": 1}, code_sig="SIG", by_digest=True)
    assert [name for name, _ in fields] == ["code_sha256", "code_sig", "kwargs_b64"]
