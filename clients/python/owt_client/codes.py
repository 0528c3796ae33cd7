"""Which code the server already has: a client sends code in full once, then by digest.

PROTOCOL.md §2: ``code_sha256`` names code the server has seen. A server that does not
have it (never sent, evicted, or keeping no code store) answers 404 with the JSON body
``{"error": "unknown code_sha256", ...}``; the client then sends the code in full again.
A server that forgets the same code twice in a row keeps none (or too little to matter):
for that code the client stops trying the digest.
"""

import json
import threading
from typing import Any, Dict, Optional, Set

__all__ = ["CodeMemory", "UNKNOWN_CODE", "is_unknown_code"]

UNKNOWN_CODE = "unknown code_sha256"
"""The ``error`` of the 404 that asks for the code in full."""

_GIVE_UP_AFTER = 2


def is_unknown_code(status: Optional[int], body: bytes) -> bool:
    """Whether a response is the server's "unknown code_sha256" 404."""
    if status != 404 or not body.lstrip().startswith(b"{"):
        return False
    try:
        value: Any = json.loads(body.decode("utf-8"))
    except ValueError:
        return False
    return isinstance(value, dict) and value.get("error") == UNKNOWN_CODE


class CodeMemory:
    """Digests one server has (as far as this client knows); safe to share between threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: Set[str] = set()
        self._misses: Dict[str, int] = {}

    def has(self, digest: str) -> bool:
        """True when the next call of this code may go by digest."""
        with self._lock:
            return digest in self._known

    def sent(self, digest: str) -> None:
        """The code went in full and the server answered 2xx: it has it now."""
        with self._lock:
            if self._misses.get(digest, 0) < _GIVE_UP_AFTER:
                self._known.add(digest)

    def worked(self, digest: str) -> None:
        """A call by digest was answered: the server keeps this code."""
        with self._lock:
            self._misses.pop(digest, None)

    def unknown(self, digest: str) -> None:
        """The server answered "unknown code_sha256": send the code in full next."""
        with self._lock:
            self._known.discard(digest)
            self._misses[digest] = self._misses.get(digest, 0) + 1

    def forget(self) -> None:
        """Forget everything (e.g. after pointing the client at another server)."""
        with self._lock:
            self._known.clear()
            self._misses.clear()
