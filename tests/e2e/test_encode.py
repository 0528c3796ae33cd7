"""owt-fcgi --encode and --once (issue 9, item 1): the printed requests work against a real
server, match the clients' shared vectors, and --once answers through the CGI path."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

import owt_e2e
from owt_e2e import OWT_BIN, OwtServer, http_send, post_raw, Req

ROOT = Path(__file__).resolve().parents[2]
ECHO = ROOT / "examples" / "echo" / "echo.py"
KWARGS = "{'name': 'owt'}"


def owt(*args: str) -> subprocess.CompletedProcess[str]:
    owt_e2e.require_binary()
    return subprocess.run([str(OWT_BIN), *args], capture_output=True, text=True, timeout=60)


def test_encode_query_is_a_working_get(server: OwtServer) -> None:
    done = owt("--encode", str(ECHO), KWARGS)
    assert done.returncode == 0, done.stderr
    query = done.stdout.strip()
    assert query.startswith("code_b64=") and "&kwargs_b64=" in query
    resp = http_send(server, Req("GET", "/hello", query=tuple(
        tuple(p.split("=", 1)) for p in query.split("&"))))  # type: ignore[arg-type]
    assert resp.status == 200, resp.describe()
    assert resp.text == f"Hello, owt, from {server.address}:{server.port}!"


def test_encode_json_is_a_working_post(server: OwtServer) -> None:
    done = owt("--encode", str(ECHO), KWARGS, "--json")
    body = json.loads(done.stdout)
    assert base64.b64decode(body["code_b64"]).decode() == ECHO.read_text()
    assert base64.b64decode(body["kwargs_b64"]).decode() == KWARGS
    resp = http_send(server, post_raw("/hello", done.stdout.strip().encode(), "application/json"))
    assert resp.text == f"Hello, owt, from {server.address}:{server.port}!", resp.describe()


def test_encode_curl_runs_as_printed(server: OwtServer) -> None:
    owt_e2e.require_tools("curl")
    done = owt("--encode", str(ECHO), KWARGS, "--curl", f"{server.url}/hello")
    assert done.stdout.startswith("curl --json '")
    ran = subprocess.run(["bash", "-c", done.stdout], capture_output=True, text=True, timeout=60)
    assert ran.stdout == f"Hello, owt, from {server.address}:{server.port}!", ran.stderr


def _vectors() -> list[dict[str, Any]]:
    cases = json.loads((ROOT / "clients" / "vectors.json").read_text())
    return [c for c in cases
            if set(c) <= {"name", "code", "kwargs", "by_digest", "code_sig", "expected"} and "code" in c]


@pytest.mark.parametrize("case", _vectors(), ids=lambda c: c["name"])
def test_encode_matches_the_client_vectors(case: dict[str, Any], tmp_path: Path) -> None:
    src = tmp_path / "adaptor.py"
    src.write_bytes(case["code"].encode())
    args = ["--encode", str(src)]
    if case.get("by_digest"):
        args.append("--by-digest")
    if case.get("code_sig"):  # the vectors' signatures are by clients/signing.json's key
        key = tmp_path / "key.pem"
        key.write_text(json.loads((ROOT / "clients" / "signing.json").read_text())["private_key_pem"])
        args += ["--key", str(key)]
    kwargs = case.get("kwargs")
    if kwargs not in (None, {}):
        args.append(json.dumps(kwargs, separators=(",", ":"), ensure_ascii=False))
    assert owt(*args).stdout.strip() == case["expected"]["query"]
    assert json.loads(owt(*args, "--json").stdout) == case["expected"]["json"]


def test_once_runs_one_request_without_a_web_server() -> None:
    done = owt("--once", str(ECHO), KWARGS, "--path", "/hello")
    assert done.returncode == 0, done.stderr
    status, headers, body = owt_e2e.parse_cgi(done.stdout.encode())
    assert status == 200
    assert body == b"Hello, owt, from 127.0.0.1:0!"


def test_once_reports_adaptor_errors_like_the_server(tmp_path: Path) -> None:
    src = tmp_path / "boom.py"
    src.write_text("def run():\n    raise ValueError('boom')\n")
    done = owt("--once", str(src))
    status, _, body = owt_e2e.parse_cgi(done.stdout.encode())
    assert (status, body) == (500, b"Error executing code: ValueError: boom")


def test_encode_and_once_need_a_file() -> None:
    for mode in ("--encode", "--once"):
        done = owt(mode)
        assert done.returncode == 2 and "FILE.py" in done.stderr
    done = owt("--encode", "/no/such/file.py")
    assert done.returncode == 1 and "/no/such/file.py" in done.stderr
