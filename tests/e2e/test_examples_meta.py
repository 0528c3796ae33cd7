"""examples/meta: owt inside owt, through ``owt.server.main`` and nested spawn/owt-serve.

The outer server runs on a base port P with P+1..P+5 free. ``owt_in_owt.sh`` gets its
answer from a nested server on P+1; ``layers.sh`` runs the seed's five-layer loop, layer k
answering from P+k. Afterwards every nested server must be gone: no process whose
environment carries this test's marker (set on the outer server, inherited by everything
it starts) other than the outer server's own, none whose command line or lighttpd config
names a nested port, and nothing listening on P+1..P+5.
"""

from __future__ import annotations

import os
import random
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import owt_e2e
from owt_e2e import SRCDIR, OwtServer, proc_cmdline, proc_comm

META = SRCDIR / "examples" / "meta"
LAYERS = 5


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_run(length: int) -> int:
    """A port P with P..P+length-1 all free on loopback.

    Below the kernel's ephemeral range, so that no other server started on a free
    port (bind to 0) or outgoing connection takes one of them while the test runs.
    """
    rng = random.Random()
    high = max(_ephemeral_low(), 12000) - length
    for _ in range(200):
        base = rng.randrange(10000, high)
        if all(_bindable(base + i) for i in range(length)):
            return base
    raise RuntimeError(f"no {length} consecutive free ports")


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""


def marked_processes(marker: str) -> list[int]:
    """Live processes whose environment contains marker."""
    out = []
    needle = marker.encode()
    for entry in os.listdir("/proc"):
        if entry.isdigit() and needle in _read(f"/proc/{entry}/environ"):
            stat = _read(f"/proc/{entry}/stat")
            if stat and stat[stat.rindex(b")") + 2:][:1] not in (b"Z", b"X"):
                out.append(int(entry))
    return sorted(out)


def port_processes(ports: set[int]) -> list[str]:
    """Processes whose command line, or lighttpd config, names one of ports."""
    found = []
    port_words = {f"--port {p}" for p in ports} | {f"--port={p}" for p in ports}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        cmd = proc_cmdline(pid)
        hit = any(w in cmd for w in port_words)
        if not hit and proc_comm(pid) == "lighttpd":
            m = re.search(r"-f (\S+)", cmd)
            conf = _read(m.group(1)).decode(errors="replace") if m else ""
            hit = any(re.search(rf"^server\.port\s*=\s*{p}\s*$", conf, re.M) for p in ports)
        if not hit:
            try:
                cwd = os.readlink(f"/proc/{pid}/cwd")
            except OSError:
                cwd = ""
            if "/owt-serve." in cwd:
                conf = _read(os.path.join(cwd, "lighttpd.conf")).decode(errors="replace")
                hit = any(re.search(rf"^server\.port\s*=\s*{p}\s*$", conf, re.M) for p in ports)
        if hit:
            found.append(f"{pid} {proc_comm(pid)} ({cmd})")
    return found


def listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


class Outer:
    def __init__(self, server: OwtServer, marker: str) -> None:
        self.server = server
        self.marker = marker
        self.base = server.port
        self.nested = {server.port + i for i in range(1, LAYERS + 1)}

    @property
    def url(self) -> str:
        return f"{self.server.url}/owt"

    def leftovers(self, timeout: float = 10.0) -> list[str]:
        """What is left of the nested servers (waiting up to timeout for it to go)."""
        own = set(self.server.started_pids)
        if self.server.proc is not None:
            own.add(self.server.proc.pid)  # the outer owt-serve itself
        deadline = time.monotonic() + timeout
        while True:
            left = [f"{p} {proc_comm(p)} ({proc_cmdline(p)})"
                    for p in marked_processes(self.marker) if p not in own]
            left += port_processes(self.nested)
            left += [f"something listens on nested port {p}" for p in sorted(self.nested) if listening(p)]
            if not left or time.monotonic() > deadline:
                return left
            time.sleep(0.2)


@pytest.fixture
def outer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Outer]:
    owt_e2e.require_binary()
    owt_e2e.require_tools("lighttpd", "curl")
    marker_dir = tmp_path / f"owt-e2e-meta-{os.getpid()}-{random.randrange(1 << 30)}"
    marker_dir.mkdir()
    marker = str(marker_dir)
    # PYTHONPATH reaches every worker (lighttpd's bin-copy-environment) and, through
    # owt.server.main, every nested owt-serve, lighttpd and worker: a harmless marker.
    pythonpath = os.pathsep.join(p for p in (marker, os.environ.get("PYTHONPATH", "")) if p)
    base = free_run(LAYERS + 1)
    monkeypatch.setattr(owt_e2e, "free_port", lambda: base)
    server = OwtServer(("-vv", "--workers", "2"), name=f"meta-outer-{base}",
                       env={"PYTHONPATH": pythonpath})
    server.start()
    monkeypatch.undo()
    out = Outer(server, marker)
    try:
        yield out
    finally:
        left = out.leftovers(timeout=0)
        if left:  # a failed test: take the nested servers down too
            for line in left:
                pid = line.split()[0]
                if pid.isdigit():
                    try:
                        os.kill(int(pid), 9)
                    except ProcessLookupError:
                        pass
        server.stop()


def run(script: str, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PATH=owt_e2e._tool_path())
    return subprocess.run([str(META / script), *args], cwd="/", env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_owt_in_owt_answers_from_the_next_port(outer: Outer) -> None:
    done = run("owt_in_owt.sh", outer.url, timeout=60)
    assert done.returncode == 0, done.stderr + outer.server.log_tail()
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Running: curl -sS -G --data-urlencode code_b64="), lines[0][:100]
    assert lines[1] == "Result:"
    assert lines[2] == f"Hello, owt-inside-owt, from 127.0.0.1:{outer.base + 1}!", done.stdout[-500:]
    assert outer.leftovers() == []
    log = outer.server.log_text()
    assert f"going one level down to port {outer.base + 1}" in log
    assert f"Killed server on {outer.base + 1}" in log


def test_five_layers_on_five_ports_and_nothing_left(outer: Outer) -> None:
    done = run("layers.sh", outer.url, str(LAYERS), timeout=200)
    assert done.returncode == 0, done.stderr + outer.server.log_tail()
    lines = done.stdout.splitlines()
    assert len(lines) == 2 * LAYERS, done.stdout
    ports = []
    for k in range(1, LAYERS + 1):
        name = "owt" + "-inside-owt" * k
        assert lines[2 * k - 2] == f"layer: {name}"
        m = re.fullmatch(rf"Result:  Hello, {re.escape(name)}, from 127\.0\.0\.1:(\d+)!", lines[2 * k - 1])
        assert m, lines[2 * k - 1]
        ports.append(int(m.group(1)))
    assert ports == [outer.base + k for k in range(1, LAYERS + 1)]
    assert len(set(ports)) == LAYERS
    assert outer.leftovers() == []
    log = outer.server.log_text()
    # The outer server started the first nested server once per layer, and stopped it each time.
    assert log.count(f"Killed server on {outer.base + 1}") == LAYERS
