"""spawn/snippets/: what the Debian package puts in /etc for lighttpd, nginx and Apache.

Each snippet is included, unchanged but for its socket path and port, into the smallest
main configuration of its server (what Debian's own main files add for it: mod_fastcgi for
lighttpd, a server block for nginx, mod_proxy_fcgi for Apache), in front of an owt-fcgi
master on a unix socket, as the owt-fcgi.socket unit would hold it. Through each: a GET
with kwargs, a POST JSON request, the URL path as ``request.path``, Basic auth reaching
owt-fcgi (401 without, 200 with), and live streaming. tests/package/check runs the
lighttpd snippet again inside a Debian root, enabled with lighttpd-enable-mod.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import owt_e2e
from conftest_fronts import APACHE_MODULES, AUTH
from owt_e2e import OWT_BIN, SRCDIR, b64, free_port
from test_fronts import ECHO, STREAM, Daemon, assert_streams_live, q, send

SNIPPETS = SRCDIR / "spawn" / "snippets"
SOCKET = "/run/owt-fcgi.sock"
ADDRESS = "127.0.0.1:9876"


@pytest.fixture(scope="module")
def state() -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="owt-snippets-"))
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def backend(state: Path) -> Iterator[Path]:
    """owt-fcgi workers on a unix socket, as owt-fcgi.socket + owt-fcgi.service hold them."""
    owt_e2e.require_binary()
    sock = state / "owt-fcgi.sock"
    master = Daemon("snippets-owt-fcgi", [str(OWT_BIN), "--listen", f"unix:{sock}", "--workers", "2",
                                          "--socket-mode", "666", "--auth", AUTH, "-v"])
    deadline = time.monotonic() + 15
    while not sock.exists():
        assert master.proc.poll() is None and time.monotonic() < deadline, master.tail()
        time.sleep(0.05)
    yield sock
    master.stop()


def snippet(name: str, sock: Path, port: int, out: Path) -> Path:
    text = (SNIPPETS / name).read_text()
    assert SOCKET in text and (name == "nginx.conf" or ADDRESS in text), name
    out.write_text(text.replace(SOCKET, str(sock)).replace(ADDRESS, f"127.0.0.1:{port}"))
    return out


def lighttpd(state: Path, sock: Path, port: int) -> list[str]:
    owt_e2e.require_tools("lighttpd")
    main = state / "lighttpd.conf"
    main.write_text(f"""server.document-root = "{state}"
server.bind = "127.0.0.1"
server.port = {free_port()}
# what Debian's conf-available/10-fastcgi.conf (the snippet's "depends") adds
server.modules += ( "mod_fastcgi" )
include "{snippet("lighttpd.conf", sock, port, state / "50-owt-fcgi.conf")}"
""")
    return ["lighttpd", "-D", "-f", str(main)]


def nginx(state: Path, sock: Path, port: int) -> list[str]:
    owt_e2e.require_tools("nginx")
    main = state / "nginx.conf"
    temp = " ".join(f"{kind}_temp_path {state}/nginx-{kind};" for kind in
                    ("client_body", "fastcgi", "proxy", "uwsgi", "scgi"))
    main.write_text(f"""daemon off;
pid {state}/nginx.pid;
error_log stderr warn;
events {{}}
http {{
  access_log off;
  {temp}
  server {{
    listen 127.0.0.1:{port};
    location / {{ include {snippet("nginx.conf", sock, port, state / "owt-fcgi.nginx")}; }}
  }}
}}
""")
    return ["nginx", "-c", str(main)]


def apache(state: Path, sock: Path, port: int) -> list[str]:
    owt_e2e.require_tools("apache2")
    if not (APACHE_MODULES / "mod_proxy_fcgi.so").is_file():
        owt_e2e.unavailable("needs mod_proxy_fcgi (apt-get install apache2)")
    run_as = "User www-data\nGroup www-data\n" if os.geteuid() == 0 else ""
    main = state / "apache2.conf"
    main.write_text(f"""ServerRoot "{state}"
PidFile "{state}/apache2.pid"
DefaultRuntimeDir "{state}"
Mutex file:{state} default
ServerName localhost
ErrorLog "/dev/stderr"
LogLevel warn
{run_as}LoadModule mpm_event_module {APACHE_MODULES}/mod_mpm_event.so
LoadModule authz_core_module {APACHE_MODULES}/mod_authz_core.so
# what `a2enmod proxy_fcgi` enables
LoadModule proxy_module {APACHE_MODULES}/mod_proxy.so
LoadModule proxy_fcgi_module {APACHE_MODULES}/mod_proxy_fcgi.so
Include "{snippet("apache2.conf", sock, port, state / "owt-fcgi.apache.conf")}"
""")
    return ["apache2", "-DFOREGROUND", "-f", str(main)]


FRONTS = {"lighttpd": lighttpd, "nginx": nginx, "apache": apache}


@pytest.fixture(scope="module", params=list(FRONTS))
def front(request: pytest.FixtureRequest, state: Path, backend: Path) -> Iterator[int]:
    port = free_port()
    work = state / request.param
    work.mkdir()
    server = Daemon(f"snippet-{request.param}", FRONTS[request.param](work, backend, port),
                    dict(os.environ, PATH=owt_e2e._tool_path()))
    try:
        server.wait_http(port)
        yield port
    finally:
        server.stop()


def test_get_with_kwargs(front: int) -> None:
    a = send(front, "GET", "/some/path?" + q(code_b64=b64(ECHO), kwargs="{'name': 'owt'}"))
    assert a.status == 200, a.body[:300]
    assert a.json()["kwargs"] == {"name": "owt"} and a.json()["path"] == "/some/path"


def test_post_json(front: int) -> None:
    body = json.dumps({"code_b64": b64(ECHO), "kwargs": {"k": [1, 2]}}).encode()
    a = send(front, "POST", "/post/it", body, {"Content-Type": "application/json"})
    assert a.status == 200, a.body[:300]
    assert (a.json()["path"], a.json()["method"], a.json()["kwargs"]) == ("/post/it", "POST", {"k": [1, 2]})


def test_auth_reaches_owt_fcgi(front: int) -> None:
    target = "/x?" + q(code="lambda: 'in'")
    assert send(front, "GET", target, auth=False).status == 401
    a = send(front, "GET", target)
    assert (a.status, a.body) == (200, b"in")


def test_streams_live(front: int) -> None:
    assert_streams_live(front, "/stream?" + q(code_b64=b64(STREAM)), "snippet")
