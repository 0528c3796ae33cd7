"""man/owt-fcgi.1 and man/owt-serve.1 match what the programs say of themselves.

Every option ``--help`` prints is on the page, every option the page names is one the
program knows, the version is the binary's, and groff renders the page without a warning.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

import owt_e2e
from owt_e2e import LAUNCHER, OWT_BIN, SRCDIR

MAN = SRCDIR / "man"
OPTION = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")
ALWAYS = {"-h", "--help"}


def options(text: str) -> set[str]:
    return set(OPTION.findall(text))


def page_text(page: Path) -> str:
    """The page's source with roff's escapes taken off: ``\\-`` is ``-``, fonts go. The
    EXAMPLES section (other programs' options: curl's) and ``python3 -m`` are left out."""
    text = re.sub(r"^\.SH EXAMPLES$.*?(?=^\.SH )", "", page.read_text(), flags=re.M | re.S)
    text = text.replace("python3 \\-m ", "python3 ")
    text = "\n".join(line for line in text.splitlines() if not line.startswith('.\\"'))
    text = re.sub(r"\\f[BIRP]", "", text).replace("\\-", "-").replace("\\e", "\\")
    return re.sub(r"^\.\w+ ?", "", text, flags=re.M)


def help_of(argv: list[str]) -> str:
    done = subprocess.run(argv + ["--help"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def fcgi_help() -> str:
    owt_e2e.require_binary()
    return help_of([str(OWT_BIN)])


def test_owt_fcgi_page_has_every_option_and_no_other(fcgi_help: str) -> None:
    known, page = options(fcgi_help), options(page_text(MAN / "owt-fcgi.1"))
    assert len(known) > 30, fcgi_help
    assert not known - page, f"in --help, not on man/owt-fcgi.1: {sorted(known - page)}"
    assert not page - known - ALWAYS, f"on man/owt-fcgi.1, unknown to --help: {sorted(page - known)}"


def test_owt_serve_page_has_every_option_and_no_other(fcgi_help: str) -> None:
    serve_help = help_of([str(LAUNCHER)])
    known, page = options(serve_help), options(page_text(MAN / "owt-serve.1"))
    assert {"--address", "--port", "--workers", "--front", "--state-dir", "--insecure"} <= known
    assert not known - page, f"in owt-serve --help, not on man/owt-serve.1: {sorted(known - page)}"
    # The page may name owt-fcgi's options: owt-serve passes them on.
    unknown = page - known - options(fcgi_help) - ALWAYS
    assert not unknown, f"on man/owt-serve.1, unknown to owt-serve and owt-fcgi: {sorted(unknown)}"
    for front in ("lighttpd", "nginx", "apache", "cgi", "spawn-fcgi"):
        assert f"\n{front}\n" in page_text(MAN / "owt-serve.1"), front


def test_pages_carry_the_binary_version() -> None:
    owt_e2e.require_binary()
    version = subprocess.run([str(OWT_BIN), "--version"], capture_output=True, text=True,
                             timeout=30).stdout.split()[1]
    for name in ("owt-fcgi.1", "owt-serve.1"):
        th = next(line for line in (MAN / name).read_text().splitlines() if line.startswith(".TH "))
        assert f'"owt-fcgi {version}"' in th, f"{name}: {th} (owt-fcgi --version says {version})"


@pytest.mark.parametrize("name", ["owt-fcgi.1", "owt-serve.1"])
def test_pages_render_without_warnings(name: str) -> None:
    owt_e2e.require_tools("groff")
    done = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", str(MAN / name)],
                          capture_output=True, text=True, timeout=30,
                          env=dict(os.environ, LC_ALL="C.UTF-8"))
    assert done.returncode == 0 and not done.stderr, done.stderr
