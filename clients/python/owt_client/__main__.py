"""Command line: python3 -m owt_client --url URL (--code TEXT | --file F | --adaptor NAME) ...

Prints a text result as is, a JSON result as one line of JSON, and bytes raw. Exit status
0 on success, 1 when the call failed (the server's message goes to stderr), 2 on usage
errors.
"""

import argparse
import json
import os
import sys
from typing import Any, List, Optional, Sequence

from .client import Client, OwtError
from .encoding import compact_json, encode_fields, query_from_fields, sha256_hex
from .sign import Signer, SigningError

PROG = "owt_client"


def _value(text: str) -> Any:
    """A --arg VALUE: JSON when it parses, else the text itself."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Run Python code on an owt server and print the result.",
    )
    p.add_argument("--url", default=os.environ.get("OWT_URL"),
                   help="endpoint URL, path included (default: $OWT_URL)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--code", metavar="TEXT", help="the Python source to run")
    src.add_argument("--file", metavar="F", help="read the source from F ('-': stdin)")
    src.add_argument("--adaptor", metavar="NAME", help="call a named adaptor on the server instead")
    kw = p.add_mutually_exclusive_group()
    kw.add_argument("--kwargs", metavar="JSON", help="the kwargs as JSON (an object, or any value)")
    kw.add_argument("--arg", nargs=2, action="append", metavar=("NAME", "VALUE"), default=[],
                    help="one kwarg; VALUE is read as JSON when it parses, else as a string (repeatable)")
    p.add_argument("--method", default="POST", type=str.upper, choices=["GET", "POST"],
                   help="GET sends a query string, POST a JSON body (default POST)")
    p.add_argument("--fn-name", metavar="N", help="the function to call (server default: run)")
    p.add_argument("--use-cache", action="store_true", help="let the server cache the response")
    p.add_argument("--cache-kwargs", action="store_true", help="make the kwargs part of the cache key")
    p.add_argument("--stream", action="store_true",
                   help="print each event's data (event streams) or each chunk as it arrives")
    p.add_argument("--user", metavar="U", help="Basic auth user")
    p.add_argument("--password", metavar="P", default=os.environ.get("OWT_PASSWORD"),
                   help="Basic auth password (default: $OWT_PASSWORD)")
    p.add_argument("--timeout", type=float, metavar="SECONDS", help="socket timeout")
    p.add_argument("--encode", choices=["query", "json", "url"],
                   help="print the request encoding instead of sending it")
    p.add_argument("--by-digest", action="store_true",
                   help="send the code's SHA-256 (code_sha256); the code itself only if the server "
                        "does not have it")
    p.add_argument("--sign-key", metavar="PEM",
                   help="sign the code with this Ed25519 private key (code_sig, for --require-signed)")
    return p


def _write(out: Any, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bytes):
        out.write(value)
    elif isinstance(value, str):
        out.write(value.encode("utf-8"))
    else:
        out.write(compact_json(value).encode("utf-8") + b"\n")
    out.flush()


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)

    code: Optional[str] = args.code
    if args.file is not None:
        try:
            if args.file == "-":
                code = sys.stdin.buffer.read().decode("utf-8")
            else:
                with open(args.file, encoding="utf-8") as f:
                    code = f.read()
        except (OSError, UnicodeDecodeError) as err:
            parser.error("cannot read --file %s: %s" % (args.file, err))

    kwargs: Any = None
    if args.kwargs is not None:
        try:
            kwargs = json.loads(args.kwargs)
        except ValueError as err:
            parser.error("--kwargs is not JSON: %s" % err)
    elif args.arg:
        kwargs = {name: _value(value) for name, value in args.arg}

    options = dict(fn_name=args.fn_name, adaptor=args.adaptor,
                   use_cache=args.use_cache, cache_kwargs=args.cache_kwargs)
    out = sys.stdout.buffer
    signer = None
    if args.sign_key:
        try:
            signer = Signer(args.sign_key)
        except SigningError as err:
            parser.error("--sign-key %s: %s" % (args.sign_key, err))

    if args.encode in ("query", "json"):
        sig = signer.sign(code.encode("utf-8")) if signer is not None and code else None
        fields = encode_fields(code, kwargs, by_digest=args.by_digest, code_sig=sig, **options)
        text = query_from_fields(fields) if args.encode == "query" else compact_json(dict(fields))
        _write(out, text + "\n")
        return 0

    if not args.url:
        parser.error("--url (or $OWT_URL) is required")
    auth = None
    if args.user is not None:
        if args.password is None:
            parser.error("--user needs --password (or $OWT_PASSWORD)")
        auth = (args.user, args.password)
    client = Client(args.url, auth, method=args.method, timeout=args.timeout, signing_key=signer)
    if args.by_digest and code:
        client.codes.sent(sha256_hex(code.encode("utf-8")))  # try the digest first

    if args.encode == "url":
        _write(out, client.get_url(code, kwargs, by_digest=args.by_digest, **options) + "\n")
        return 0

    try:
        if args.stream:
            with client.call_stream(code, kwargs, **options) as stream:
                for item in stream:
                    _write(out, item + "\n" if isinstance(item, str) else item)
        else:
            _write(out, client.call(code, kwargs, **options))
    except OwtError as err:
        status = "" if err.status is None else "HTTP %d: " % err.status
        sys.stderr.write("%s: %s%s\n" % (PROG, status, err.message))
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


def run(argv: Optional[List[str]] = None) -> None:
    sys.exit(main(argv))


if __name__ == "__main__":
    run()
