"""--venv and --python-path (issue 2, item 2), driven in CGI mode: the interpreter
starts the same way in every mode, and CGI needs no web server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import owt_e2e
from owt_e2e import post_json, run_cgi

MAJOR, MINOR = 3, 11  # the Python owt-fcgi embeds (Debian 12's)

PROBE = """
import sys, numpy, venv_only
def run():
    return {"prefix": sys.prefix, "base_prefix": sys.base_prefix,
            "executable": sys.executable, "venv_only": venv_only.VALUE,
            "numpy": numpy.__version__}
"""


@pytest.fixture(scope="module")
def venv_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real venv made with Debian's python3 -m venv, holding a module of its own."""
    owt_e2e.require_binary()
    path = tmp_path_factory.mktemp("venv") / "env"
    done = subprocess.run(["/usr/bin/python3", "-m", "venv", "--without-pip", str(path)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        owt_e2e.unavailable(f"python3 -m venv failed (python3-venv missing?): {done.stderr}")
    site = path / "lib" / f"python{MAJOR}.{MINOR}" / "site-packages"
    assert site.is_dir(), f"no {site}"
    (site / "venv_only.py").write_text("VALUE = 'from the venv'\n")
    return path


def test_venv_site_packages_and_the_systems(venv_dir: Path) -> None:
    run = run_cgi(post_json("/", {"code": PROBE}), ["--venv", str(venv_dir)])
    assert run.resp.status == 200, run.resp.describe()
    info = run.resp.json()
    assert info["prefix"] == str(venv_dir)
    assert info["base_prefix"] == "/usr"
    assert info["venv_only"] == "from the venv"
    assert info["numpy"]  # Debian's python3-numpy, from the system site-packages
    assert info["executable"].startswith(str(venv_dir) + "/bin/python")


def test_venv_of_another_minor_version_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "old-env"
    (fake / "bin").mkdir(parents=True)
    (fake / "pyvenv.cfg").write_text("home = /usr/bin\ninclude-system-site-packages = false\n"
                                     "version = 3.9.2\n")
    run = run_cgi(post_json("/", {"code": "lambda: 1"}), ["--venv", str(fake)])
    assert run.returncode != 0
    assert run.resp.status == 500
    log = run.stderr.decode()
    assert "was made with Python 3.9" in log and f"embeds Python {MAJOR}.{MINOR}" in log, log


def test_not_a_venv_is_refused(tmp_path: Path) -> None:
    run = run_cgi(post_json("/", {"code": "lambda: 1"}), ["--venv", str(tmp_path)])
    assert run.returncode != 0
    assert "not a virtualenv" in run.stderr.decode()


def test_python_path_adds_to_sys_path(tmp_path: Path) -> None:
    (tmp_path / "extra_mod.py").write_text("def hello():\n    return 'from --python-path'\n")
    code = "import extra_mod\ndef run():\n    return extra_mod.hello()\n"
    run = run_cgi(post_json("/", {"code": code}), ["--python-path", str(tmp_path)])
    assert run.resp.status == 200, run.resp.describe()
    assert run.resp.text == "from --python-path"
    missing = run_cgi(post_json("/", {"code": code}))
    assert missing.resp.status == 500
    assert "ModuleNotFoundError" in missing.resp.text
