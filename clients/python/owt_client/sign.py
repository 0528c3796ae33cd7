"""Signing code for servers that run only signed code (``--require-signed``).

``code_sig`` is the base64 Ed25519 signature of the code's UTF-8 bytes, exactly what
``owt-fcgi --sign FILE --key PEM`` and ``openssl pkeyutl -sign -rawin`` give. Python's
standard library has no Ed25519: the ``cryptography`` package is used when it can be
imported (Debian: python3-cryptography), else the ``openssl`` command.
"""

import base64
import os
import subprocess
import tempfile
import threading
from typing import Any, Dict, Optional, Union

__all__ = ["Signer", "SigningError"]


class SigningError(Exception):
    """The key cannot be used, or signing failed."""


def _load_cryptography_key(pem: bytes) -> Optional[Any]:
    try:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import load_pem_private_key
    except ImportError:
        return None
    try:
        key = load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as err:
        raise SigningError("not an unencrypted PEM private key: %s" % err) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningError("not an Ed25519 key (make one with `openssl genpkey -algorithm ed25519`)")
    return key


class Signer:
    """Signs code with one Ed25519 private key (a PEM file, or its bytes).

    Signatures are deterministic, so each code is signed once and remembered.
    """

    def __init__(self, key: Union[str, bytes, "os.PathLike[str]"], *, openssl: str = "openssl",
                 backend: Optional[str] = None) -> None:
        if isinstance(key, bytes):
            self._pem = key
        else:
            try:
                with open(key, "rb") as f:
                    self._pem = f.read()
            except OSError as err:
                raise SigningError("cannot read the key %s: %s" % (key, err)) from None
        self._openssl = openssl
        self._cache: Dict[bytes, str] = {}
        self._lock = threading.Lock()
        self._key = _load_cryptography_key(self._pem) if backend in (None, "cryptography") else None
        if self._key is None and backend == "cryptography":
            raise SigningError("the cryptography package is not installed")
        self.backend = "cryptography" if self._key is not None else "openssl"
        if self._key is None:
            self.sign(b"owt")  # fail now, not at the first call, when the key or openssl is unusable

    def sign(self, data: bytes) -> str:
        """The base64 Ed25519 signature of data."""
        with self._lock:
            cached = self._cache.get(data)
        if cached is not None:
            return cached
        raw = self._key.sign(data) if self._key is not None else self._openssl_sign(data)
        sig = base64.b64encode(raw).decode("ascii")
        with self._lock:
            if len(self._cache) >= 256:
                self._cache.clear()
            self._cache[data] = sig
        return sig

    def _openssl_sign(self, data: bytes) -> bytes:
        if not data:
            raise SigningError("openssl pkeyutl cannot sign empty input (and empty code is never sent)")
        with tempfile.TemporaryDirectory(prefix="owt-sign-") as tmp:
            key_path, data_path = os.path.join(tmp, "key.pem"), os.path.join(tmp, "data")
            with open(os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
                f.write(self._pem)
            with open(data_path, "wb") as f:
                f.write(data)
            try:
                done = subprocess.run([self._openssl, "pkeyutl", "-sign", "-rawin", "-inkey", key_path,
                                       "-in", data_path], capture_output=True, timeout=30)
            except OSError as err:
                raise SigningError("cannot run %s: %s" % (self._openssl, err)) from None
        if done.returncode != 0 or len(done.stdout) != 64:
            raise SigningError("openssl could not sign with this key: %s"
                               % done.stderr.decode("utf-8", "replace").strip())
        return done.stdout
