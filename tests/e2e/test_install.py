"""The seed's installing(), offline: owt-fcgi --allow-install --venv DIR through lighttpd.

A real virtualenv (Debian's python3 -m venv, with its own pip) and a local wheel
directory holding a tiny wheel built here with the standard library; the venv's
pip.conf says ``no-index`` and ``find-links`` to that directory, as an operator
without network would. The seed's own form ``pipe().installing(...).const(123)``
answers ``123`` and the package lands in the venv, importable by the next request.
Without --allow-install the same code is a 403 saying how to enable it (e2e_cases.py
checks that on the default server); --allow-install without --venv does not start.
"""

from __future__ import annotations

import base64
import hashlib
import subprocess
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

import owt_e2e
from owt_e2e import OwtServer, get, http_send, post_json, run_cgi

PROBE = "owt_fidelity_probe"
PROBE_DIST = "owt-fidelity-probe"
PROBE_VALUE = "installed from a local wheel"
SITE = Path("lib") / "python3.11" / "site-packages"


def build_wheel(directory: Path, name: str, version: str, value: str) -> Path:
    """A pure-Python wheel of one package whose ``VALUE`` is value (PEP 427, by hand)."""
    dist_info = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": f"VALUE = {value!r}\n".encode(),
        f"{dist_info}/METADATA": (f"Metadata-Version: 2.1\nName: {name.replace('_', '-')}\n"
                                  f"Version: {version}\nSummary: owt-fcgi test package\n").encode(),
        f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: owt-fcgi-tests\nRoot-Is-Purelib: true\n"
                              b"Tag: py3-none-any\n",
    }
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{dist_info}/RECORD,,")
    files[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel = directory / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, data in files.items():
            zf.writestr(path, data)
    return wheel


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with pip whose pip.conf installs only from a local wheel directory."""
    owt_e2e.require_binary()
    base = tmp_path_factory.mktemp("install")
    wheels = base / "wheels"
    wheels.mkdir()
    build_wheel(wheels, PROBE, "1.0", PROBE_VALUE)
    path = base / "env"
    done = subprocess.run(["/usr/bin/python3", "-m", "venv", str(path)], capture_output=True, text=True,
                          timeout=300)
    if done.returncode != 0:
        owt_e2e.unavailable(f"python3 -m venv failed (python3-venv missing?): {done.stderr}")
    (path / "pip.conf").write_text(f"[global]\nno-index = true\nfind-links = {wheels}\n")
    assert not (path / SITE / PROBE).exists()
    return path


def code_req(source: str, path: str = "/install") -> owt_e2e.Req:
    return post_json(path, {"code": source})


def test_installing_from_a_local_wheel_directory(venv: Path,
                                                 fresh_server: Callable[[Sequence[str]], OwtServer]) -> None:
    server = fresh_server(("-vv", "--allow-install", "--venv", str(venv)))
    not_there = code_req(f"lambda: str(__import__('importlib.util').util.find_spec({PROBE!r}) is None)")
    resp = http_send(server, not_there)
    assert (resp.status, resp.text) == (200, "True"), resp.describe()

    # The seed's tests/test_owt.py test_pip_install, with a real pip instead of a mock.
    resp = http_send(server, code_req(f'run = pipe().installing("{PROBE_DIST}").const(123).done()\n'), timeout=300)
    assert (resp.status, resp.text) == (200, "123"), resp.describe() + "\n" + server.log_tail()
    installed = venv / SITE / PROBE / "__init__.py"
    assert installed.read_text() == f"VALUE = {PROBE_VALUE!r}\n"
    assert list((venv / SITE).glob(f"{PROBE}-1.0.dist-info"))
    log = server.log_text()
    assert f"pip install --disable-pip-version-check --no-input {PROBE_DIST}" in log, log[-3000:]

    # Every worker imports it now, and installing it again is quick and changes nothing.
    for _ in range(4):
        resp = http_send(server, code_req(
            f'installing("{PROBE_DIST}==1.0").importing("{PROBE}").f(lambda _: {PROBE}.VALUE)'), timeout=300)
        assert (resp.status, resp.text) == (200, PROBE_VALUE), resp.describe()
    resp = http_send(server, get("/", code=f"import {PROBE}\ndef run():\n    return {PROBE}.__file__\n"))
    assert (resp.status, resp.text) == (200, str(installed)), resp.describe()


def test_a_package_pip_cannot_find_is_a_500_with_pips_words(venv: Path,
                                                            fresh_server: Callable[[Sequence[str]], OwtServer]) -> None:
    server = fresh_server(("-vv", "--allow-install", "--venv", str(venv)))
    resp = http_send(server, code_req('installing("owt-no-such-package").const("ran")'), timeout=300)
    assert resp.status == 500, resp.describe()
    assert resp.text.startswith("Error executing code: PipeError: installing('owt-no-such-package'): "
                                "pip install exited with status 1"), resp.text
    assert "No matching distribution found for owt-no-such-package" in resp.text, resp.text
    assert "ran" not in resp.text
    # and the worker goes on serving
    resp = http_send(server, code_req("lambda: 'still here'"))
    assert (resp.status, resp.text) == (200, "still here")


@pytest.mark.parametrize("spec", ["--index-url=http://127.0.0.1:1/simple", "./somewhere", "x @ file:///etc"])
def test_only_package_requirements_reach_pip(venv: Path, spec: str) -> None:
    run = run_cgi(code_req(f"installing({spec!r}).const('ran')"), ["--allow-install", "--venv", str(venv)])
    assert run.resp.status == 500, run.resp.describe()
    assert "not a package requirement" in run.resp.text
    assert "pip install" not in run.stderr.decode()


def test_allow_install_without_a_venv_does_not_start() -> None:
    owt_e2e.require_binary()
    done = subprocess.run([str(owt_e2e.OWT_BIN), "--cgi", "--allow-install"], capture_output=True, text=True,
                          timeout=30, env={"REQUEST_METHOD": "GET", "QUERY_STRING": "code=lambda: 'ran'"})
    assert done.returncode == 2, done
    assert "--allow-install" in done.stderr and "needs --venv DIR" in done.stderr, done.stderr
    assert "ran" not in done.stdout


def test_refused_with_a_venv_but_without_allow_install(venv: Path) -> None:
    run = run_cgi(code_req(f'installing("{PROBE_DIST}").const("ran")'), ["--venv", str(venv)])
    assert run.resp.status == 403, run.resp.describe()
    assert "start owt-fcgi with --allow-install --venv DIR" in run.resp.text
