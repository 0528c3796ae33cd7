"""python3 -m owt_client, run as users run it."""

import base64
import json
import os
import subprocess
import sys

from conftest import PACKAGE_ROOT, PASSWORD, USER

HELLO = 'def run(name):\n    return f"Hello, {name}!"\n'


def cli(*args, stdin=None, env=None):
    full_env = dict(os.environ, PYTHONPATH=PACKAGE_ROOT)
    full_env.pop("OWT_URL", None)
    full_env.pop("OWT_PASSWORD", None)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "owt_client", *args], input=stdin,
                          capture_output=True, env=full_env, timeout=30)


def _b64(text):
    return base64.b64encode(text.encode("utf-8")).decode()


def test_encode_query_with_args():
    r = cli("--code", HELLO, "--arg", "name", "owt", "--encode", "query")
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode() == (
        "code_b64=ZGVmIHJ1bihuYW1lKToKICAgIHJldHVybiBmIkhlbGxvLCB7bmFtZX0hIgo%3D"
        "&kwargs_b64=eyJuYW1lIjoib3d0In0%3D\n")


def test_arg_values_are_json_when_they_parse():
    r = cli("--code", "x", "--arg", "n", "3", "--arg", "s", "hello world", "--arg", "l", "[1, \"a\"]",
            "--arg", "q", '"7"', "--arg", "t", "true", "--encode", "json")
    body = json.loads(r.stdout)
    assert json.loads(base64.b64decode(body["kwargs_b64"])) == {
        "n": 3, "s": "hello world", "l": [1, "a"], "q": "7", "t": True}


def test_bare_kwargs_and_flags():
    r = cli("--adaptor", "sota.hard_task", "--kwargs", '"solve AGI"', "--use-cache",
            "--cache-kwargs", "--fn-name", "f", "--encode", "json")
    assert json.loads(r.stdout) == {
        "kwargs_b64": _b64('"solve AGI"'), "fn_name": "f", "adaptor": "sota.hard_task",
        "use_cache": True, "cache_kwargs": True}


def test_file_and_stdin(tmp_path):
    path = tmp_path / "adaptor.py"
    path.write_text(HELLO, encoding="utf-8")
    r1 = cli("--file", str(path), "--encode", "query")
    r2 = cli("--file", "-", "--encode", "query", stdin=HELLO.encode())
    assert r1.stdout == r2.stdout == ("code_b64=" + _b64(HELLO).replace("=", "%3D") + "\n").encode()


def test_usage_errors():
    assert cli("--kwargs", "{}", "--encode", "query").returncode == 2
    assert cli("--code", "x", "--kwargs", "{nope", "--encode", "query").returncode == 2
    assert cli("--code", "x").returncode == 2
    assert cli("--code", "x", "--kwargs", "{}", "--arg", "a", "1").returncode == 2


def test_post_and_get_against_server(fake):
    r = cli("--url", fake.url + "/echo", "--code", HELLO, "--arg", "name", "owt")
    assert r.returncode == 0, r.stderr
    seen = json.loads(r.stdout)
    assert seen["method"] == "POST"
    r = cli("--url", fake.url + "/echo", "--code", HELLO, "--method", "get")
    assert json.loads(r.stdout)["query"] == "code_b64=" + _b64(HELLO).replace("=", "%3D")


def test_outputs(fake):
    assert cli("--url", fake.url + "/text", "--code", "x").stdout == "h\u00e9llo \U0001f30d".encode()
    assert cli("--url", fake.url + "/bytes", "--code", "x").stdout == bytes(range(256))
    assert cli("--url", fake.url + "/json", "--code", "x").stdout == '{"a":[1,2],"\u00fc":null}\n'.encode()


def test_stream(fake):
    fake.gate.set()
    r = cli("--url", fake.url + "/sse", "--code", "x", "--stream")
    assert r.stdout.decode() == "one\ntwo\nlines\n\u00fc\n[DONE]\n"


def test_error_exit(fake):
    r = cli("--url", fake.url + "/500", "--code", "x")
    assert r.returncode == 1
    assert r.stderr.decode() == "owt_client: HTTP 500: Error executing code: ValueError: boom \u00fc\n"


def test_auth(fake):
    assert cli("--url", fake.url + "/auth/text", "--code", "x").returncode == 1
    r = cli("--url", fake.url + "/auth/text", "--code", "x", "--user", USER, "--password", PASSWORD)
    assert r.returncode == 0, r.stderr
    r = cli("--url", fake.url + "/auth/text", "--code", "x", "--user", USER, env={"OWT_PASSWORD": PASSWORD})
    assert r.returncode == 0, r.stderr
