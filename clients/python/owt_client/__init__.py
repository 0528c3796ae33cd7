"""owt_client: call Python code on an owt server over HTTP. Standard library only.

    from owt_client import Client
    owt = Client("http://localhost:8080/hello")
    owt.run("def run(name):\\n    return f'Hello, {name}!'\\n", name="owt")  # 'Hello, owt!'
"""

from .client import Client, OwtError, RemoteFunction, Stream, function_source
from .codes import CodeMemory, is_unknown_code
from .encoding import compact_json, encode_fields, encode_json, encode_query, sha256_hex
from .sign import Signer, SigningError
from .sse import Event, SSEParser

__all__ = [
    "Client",
    "CodeMemory",
    "Event",
    "OwtError",
    "RemoteFunction",
    "SSEParser",
    "Signer",
    "SigningError",
    "Stream",
    "compact_json",
    "encode_fields",
    "encode_json",
    "encode_query",
    "function_source",
    "is_unknown_code",
    "sha256_hex",
]

__version__ = "0.1.0"
