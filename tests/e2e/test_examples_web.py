"""examples/web: the speech app, assembled and served by owt itself, in a real browser.

``construct_curl.sh URL`` prints a curl command whose adaptor answers the page
(speak.html with speak.js and adaptors/speak.py inlined); ``meta_curl.sh URL`` prints one
whose adaptor runs construct_curl.sh on the server and fetches the page from owt itself.
Both print the browser URL on stderr. The browser test loads the page in Debian's
headless chromium (driven by playwright-core from tests/browser, ``npm ci`` when its
node_modules is missing), types text, clicks Speak and waits for the sentences to arrive
and decode; screenshots go to tests/artifacts/web.png and web-meta.png.
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import pytest

import owt_e2e
from owt_e2e import ARTIFACTS, SRCDIR, OwtServer

WEB = SRCDIR / "examples" / "web"
BROWSER = SRCDIR / "tests" / "browser"
OPTIONS = ("-vv", "--workers", "2")
"""Two workers: the meta adaptor's own request to the server needs the second."""

TEXT = "Ey up, this is owt. Each sentence plays as soon as it arrives. Proper clever, innit?"


@pytest.fixture(scope="module")
def web_server(owt_server: Any) -> OwtServer:
    owt_e2e.require_tools("curl", "jq", "espeak-ng")
    return owt_server(OPTIONS)


def run_script(name: str, url: str) -> tuple[str, str]:
    """(curl command, browser URL) printed by examples/web/NAME."""
    env = dict(os.environ, PATH=owt_e2e._tool_path())
    done = subprocess.run([str(WEB / name), url], cwd="/", env=env, capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    command = done.stdout.strip()
    assert command.startswith("curl ") and "\n" not in command, command[:200]
    [line] = [ln for ln in done.stderr.splitlines() if ln.startswith("Open in a browser: ")]
    return command, line[len("Open in a browser: "):]


def fetch(command: str) -> bytes:
    env = dict(os.environ, PATH=owt_e2e._tool_path())
    done = subprocess.run(["bash", "-c", command], env=env, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout


def test_construct_serves_the_app(web_server: OwtServer) -> None:
    command, url = run_script("construct_curl.sh", web_server.url + "/")
    page = fetch(command).decode("utf-8")
    assert page.startswith("<!doctype html>"), page[:200]
    assert "<title>owt · speak</title>" in page
    assert '{% include "speak.py" %}' not in page
    assert '<script src="/web/speak.js"></script>' not in page
    assert (SRCDIR / "adaptors" / "speak.py").read_text() in page
    assert (WEB / "speak.js").read_text() in page
    # The browser URL answers the same page as text/html.
    with urllib.request.urlopen(url, timeout=30) as r:
        assert r.status == 200
        assert r.headers["Content-Type"] == "text/html; charset=utf-8"
        assert r.read().decode("utf-8") == page


def test_meta_serves_the_same_app(web_server: OwtServer) -> None:
    page = fetch(run_script("construct_curl.sh", web_server.url + "/")[0])
    command, url = run_script("meta_curl.sh", web_server.url + "/")
    assert fetch(command) == page
    with urllib.request.urlopen(url, timeout=30) as r:
        assert r.headers["Content-Type"] == "text/html; charset=utf-8"
        assert r.read() == page


# ---- the browser -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser_driver() -> Path:
    """tests/browser ready to run: node, chromium, and playwright-core installed (npm ci)."""
    owt_e2e.require_tools("node", "npm")
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not os.access(chromium, os.X_OK):
        owt_e2e.unavailable(f"needs Debian's chromium at {chromium} (apt-get install chromium)")
    if not (BROWSER / "node_modules" / "playwright-core").is_dir():
        done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=str(BROWSER),
                              capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            owt_e2e.unavailable(f"npm ci in tests/browser failed:\n{done.stdout}\n{done.stderr}")
    return BROWSER / "speak_page.mjs"


def drive(driver: Path, url: str, screenshot: Path) -> dict[str, Any]:
    screenshot.unlink(missing_ok=True)
    done = subprocess.run(
        ["node", str(driver), "--url", url, "--screenshot", str(screenshot), "--text", TEXT,
         "--min-chunks", "2", "--timeout", "60000"],
        cwd=str(driver.parent), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    return json.loads(done.stdout)


@pytest.mark.parametrize("script,shot", [("construct_curl.sh", "web.png"),
                                         ("meta_curl.sh", "web-meta.png")])
def test_browser_plays_sentences_as_they_arrive(
        web_server: OwtServer, browser_driver: Path, script: str, shot: str) -> None:
    _command, url = run_script(script, web_server.url + "/")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    result = drive(browser_driver, url, ARTIFACTS / shot)
    where = json.dumps({k: v for k, v in result.items() if k != "chunks"}, indent=1)
    assert result["httpStatus"] == 200 and result["title"] == "owt · speak", where
    assert result["state"] == "done", where
    chunks = result["chunks"]
    assert len(chunks) == 3, where  # three sentences in TEXT
    assert [c["index"] for c in chunks] == [0, 1, 2]
    assert all(c["duration"] > 0.2 and c["bytes"] > 44 for c in chunks), chunks
    assert [float(li["duration"]) for li in result["listed"]] == pytest.approx(
        [c["duration"] for c in chunks], abs=0.001)
    assert result["player"] is True
    assert result["owtUrl"] == f"{web_server.url}/speak.wav"
    assert not [line for line in result["console"] if "error" in line.lower()], result["console"]
    png = (ARTIFACTS / shot).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    # The page's EventSource went to the server with speak.py as code_b64.
    assert "GET /speak.wav 200" in web_server.log_text()
