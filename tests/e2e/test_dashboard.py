"""The dashboard at /_owt/ and the data behind it (/_owt/history, durations in /_owt/status).

The page is checked as served (self-contained, behind auth, its headers) and then driven in
Debian's headless chromium (tests/browser/dashboard_page.mjs, playwright-core): the status
rows appear, the chart draws, and the playground runs a streaming adaptor whose chunks
arrive over time. The screenshot goes to tests/artifacts/dashboard.png.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

import owt_e2e
from owt_e2e import ARTIFACTS, OwtServer, Req, http_send
from test_examples_web import browser_driver  # noqa: F401  (npm ci, chromium)

USER, PASSWORD = "ada", "analytical-engine"
OPTIONS = ("-vv", "--workers", "2", "--auth", f"{USER}:{hashlib.sha256(PASSWORD.encode()).hexdigest()}")
AUTH = ("Authorization", "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode())


@pytest.fixture(scope="module")
def dash_server(owt_server: Any) -> OwtServer:
    return owt_server(OPTIONS)


def get(server: OwtServer, path: str, auth: bool = True) -> owt_e2e.Resp:
    return http_send(server, Req("GET", path, headers=(AUTH,) if auth else ()))


def run_code(server: OwtServer, path: str, code: str) -> owt_e2e.Resp:
    return http_send(server, Req("GET", path, query=(("code", code),), headers=(AUTH,)))


def test_the_page_is_behind_auth_and_self_contained(dash_server: OwtServer) -> None:
    assert get(dash_server, "/_owt/", auth=False).status == 401
    assert get(dash_server, "/_owt/health", auth=False).status == 200  # the one public page
    r = get(dash_server, "/_owt/")
    assert r.status == 200 and r.content_type == "text/html; charset=utf-8", r.describe()
    page = r.text
    assert page.startswith("<!doctype html>") and "<title>owt · dashboard</title>" in page
    # No external assets: no URL with a scheme, no src= or href= anywhere.
    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]", page.replace("http://www.w3.org/2000/svg", ""))
    assert not re.search(r"\s(src|href)=", page)
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "connect-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["X-Frame-Options"] == "DENY"
    # /_owt without the slash: a redirect to the page, behind auth too.
    assert get(dash_server, "/_owt", auth=False).status == 401
    moved = get(dash_server, "/_owt")
    assert (moved.status, moved.headers["Location"]) == (308, "_owt/"), moved.describe()
    assert urllib.parse.urljoin(dash_server.url + "/_owt", "_owt/") == dash_server.url + "/_owt/"
    # Only GET: the page never runs code.
    assert http_send(dash_server, Req("POST", "/_owt/", body=b"{}", content_type="application/json",
                                      headers=(AUTH,))).status == 405


def test_durations_reach_status_and_history(dash_server: OwtServer) -> None:
    before = get(dash_server, "/_owt/status").json()
    slow = run_code(dash_server, "/slow", "import time\ndef run():\n    time.sleep(0.3)\n    return 'slept'\n")
    assert slow.status == 200 and slow.text == "slept", slow.describe()
    after = get(dash_server, "/_owt/status").json()
    b, a = before["totals"]["latency"], after["totals"]["latency"]
    assert a["count"] == b["count"] + 2  # the slow request and the first status request
    assert a["sum"] - b["sum"] >= 0.3
    le = after["buckets_le"]
    assert le[:3] == [0.005, 0.01, 0.025] and le[-1] == 10 and len(a["buckets"]) == len(le) + 1
    over_250ms = le.index(0.5)  # the bucket (0.25 s, 0.5 s]
    assert a["buckets"][over_250ms] - b["buckets"][over_250ms] == 1, (b, a)
    history = get(dash_server, "/_owt/history").json()
    assert history["step"] == 5 and len(history["steps"]) == 60
    times = [s["t"] for s in history["steps"]]
    assert times == sorted(times) and times[-1] <= history["now"] < times[-1] + 5
    recent = history["steps"][-3:]
    assert sum(s["requests"] for s in recent) >= 2
    assert sum(s["buckets"][over_250ms] for s in recent) >= 1
    assert sum(s["latency_sum"] for s in recent) >= 0.3
    # The warm-adaptor counts the runtime reports.
    worker = next(w for w in after["workers"] if w["requests"] > 0 and w["warm"]["compiled"] > 0)
    assert worker["warm"]["adaptors"] >= 1
    metrics = get(dash_server, "/_owt/metrics").text
    assert "# TYPE owt_request_duration_seconds histogram" in metrics
    assert re.search(r'owt_request_duration_seconds_bucket\{pid="\d+",le="\+Inf"\} \d+', metrics)
    assert "owt_warm_adaptors{pid=" in metrics


def test_browser_shows_workers_chart_and_streamed_run(dash_server: OwtServer, browser_driver: Path) -> None:
    driver = browser_driver.parent / "dashboard_page.mjs"
    shot = ARTIFACTS / "dashboard.png"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot.unlink(missing_ok=True)
    done = subprocess.run(
        ["node", str(driver), "--url", f"{dash_server.url}/_owt/#every=250", "--screenshot", str(shot),
         "--user", USER, "--password", PASSWORD, "--kwargs", '{"n": 4}', "--min-workers", "2",
         "--timeout", "60000"],
        cwd=str(driver.parent), capture_output=True, text=True, timeout=150)
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    result = json.loads(done.stdout)
    where = json.dumps({k: v for k, v in result.items() if k not in ("run",)}, indent=1)[:3000]
    assert result["httpStatus"] == 200 and result["title"] == "owt · dashboard", where
    # Status rows: one per worker, the real ones.
    pids = sorted(result["before"]["pids"])
    assert result["before"]["rows"] == 2 and pids == sorted(dash_server.worker_pids()), where
    # The playground's run was listed in flight, and its chunks arrived over time.
    assert result["sawInflight"] is True, where
    run = result["run"]
    assert run["state"] == "done" and run["status"] == 200, run
    assert run["text"] == "chunk 0\nchunk 1\nchunk 2\nchunk 3\n" == result["output"], run
    arrived = [c["t"] for c in run["chunks"]]
    assert len(arrived) >= 2 and result["chunkItems"] == len(arrived), run
    assert arrived[-1] - arrived[0] >= 1.0, f"the chunks arrived together (buffered): {arrived}"
    # The chart drew the last minutes: bars for the steps with requests, the latency lines.
    assert result["dash"]["chartSteps"] >= 1 and result["bars"] >= 1 and result["lines"] == 2, where
    assert result["dash"]["failures"] == 0, where
    assert "hit rate" in result["cache"], where
    assert not [line for line in result["console"] if "error" in line.lower()], result["console"]
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    assert "POST /playground 200" in dash_server.log_text()
