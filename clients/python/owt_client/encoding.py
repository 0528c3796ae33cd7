"""The canonical request encoding shared by every owt client (clients/README.md).

Pure functions, no I/O: the unit tests check them byte for byte against
clients/vectors.json.
"""

import base64
import hashlib
import json
import urllib.parse
from typing import Any, Dict, List, Optional, Tuple, Union

__all__ = [
    "FIELD_ORDER",
    "b64",
    "compact_json",
    "encode_fields",
    "encode_json",
    "encode_query",
    "percent_encode",
    "sha256_hex",
]

FIELD_ORDER = ("code_b64", "code_sha256", "code_sig", "kwargs_b64", "fn_name", "adaptor",
               "use_cache", "cache_kwargs")

Field = Tuple[str, Union[str, bool]]


def b64(data: bytes) -> str:
    """Standard base64 with padding and no line breaks."""
    return base64.b64encode(data).decode("ascii")


def sha256_hex(data: bytes) -> str:
    """The lower-case hex SHA-256 of data: code_sha256 of a source's UTF-8 bytes."""
    return hashlib.sha256(data).hexdigest()


def compact_json(value: Any) -> str:
    """The compact JSON text of a kwargs value: no spaces, non-ASCII as itself.

    Raises ValueError for NaN/Infinity and TypeError for values JSON cannot hold.
    """
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def percent_encode(text: str) -> str:
    """Percent-encode the UTF-8 of text, keeping only RFC 3986 unreserved characters."""
    return urllib.parse.quote(text, safe="-._~")


def encode_fields(
    code: Union[str, bytes, None] = None,
    kwargs: Any = None,
    *,
    fn_name: Optional[str] = None,
    adaptor: Optional[str] = None,
    use_cache: bool = False,
    cache_kwargs: bool = False,
    by_digest: bool = False,
    code_sig: Optional[str] = None,
) -> List[Field]:
    """The request fields, in canonical order.

    code is text (encoded as UTF-8) or already-encoded bytes; kwargs is any JSON value,
    and None or {} mean no kwargs. Flags are only sent when true. by_digest sends the
    code's SHA-256 (code_sha256) instead of the code; code_sig is the base64 Ed25519
    signature of the code, sent as it is.
    """
    fields: List[Field] = []
    if code:
        raw = code if isinstance(code, bytes) else code.encode("utf-8")
        if by_digest:
            fields.append(("code_sha256", sha256_hex(raw)))
        else:
            fields.append(("code_b64", b64(raw)))
    if code_sig:
        fields.append(("code_sig", code_sig))
    if kwargs is not None and not (isinstance(kwargs, dict) and not kwargs):
        fields.append(("kwargs_b64", b64(compact_json(kwargs).encode("utf-8"))))
    if fn_name:
        fields.append(("fn_name", fn_name))
    if adaptor:
        fields.append(("adaptor", adaptor))
    if use_cache:
        fields.append(("use_cache", True))
    if cache_kwargs:
        fields.append(("cache_kwargs", True))
    return fields


def query_from_fields(fields: List[Field]) -> str:
    """The query string (no leading '?') of already-built fields."""
    return "&".join(
        name + "=" + percent_encode("true" if value is True else str(value))
        for name, value in fields
    )


def encode_query(*args: Any, **kwargs: Any) -> str:
    """The GET query string of a call; arguments as encode_fields."""
    return query_from_fields(encode_fields(*args, **kwargs))


def encode_json(*args: Any, **kwargs: Any) -> Dict[str, Union[str, bool]]:
    """The POST JSON body (as a dict) of a call; arguments as encode_fields."""
    return dict(encode_fields(*args, **kwargs))
