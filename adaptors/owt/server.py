"""The web server the client reached, as adaptors see it (``Server.sing()``, ``_SERVER``)."""

from __future__ import annotations

import os

from owt.request import current_or_none

__all__ = ["Server", "main", "configure", "find_launcher"]

_DEFAULT_ADDRESS = "0.0.0.0"
_DEFAULT_PORT = 9876

_address = _DEFAULT_ADDRESS
_port = _DEFAULT_PORT


def _as_port(value: object) -> int | None:
    try:
        port = int(str(value))
    except ValueError:
        return None
    return port if 0 <= port <= 65535 else None


def configure(address: str | None = None, port: int | str | None = None) -> None:
    """Set the address and port reported outside a request.

    Unset values come from ``OWT_ADDRESS`` / ``OWT_PORT``, then 0.0.0.0 / 9876.
    """
    global _address, _port
    _address = address or os.environ.get("OWT_ADDRESS") or _DEFAULT_ADDRESS
    chosen = _as_port(port) if port is not None else None
    if chosen is None:
        chosen = _as_port(os.environ.get("OWT_PORT", _DEFAULT_PORT))
    _port = _DEFAULT_PORT if chosen is None else chosen


class Server:
    """The server answering the current request.

    ``address`` and ``port`` are read from the request's ``SERVER_ADDR`` and
    ``SERVER_PORT`` each time, so one instance (``_SERVER``) serves every request.
    """

    __slots__ = ()

    @classmethod
    def sing(cls) -> "Server":
        """The server (there is one per worker)."""
        return _SERVER

    @property
    def address(self) -> str:
        """The address the client connected to (``SERVER_ADDR``)."""
        req = current_or_none()
        if req is not None:
            value = req.environ.get("SERVER_ADDR")
            if value:
                return value
        return _address

    @property
    def port(self) -> int:
        """The port the client connected to (``SERVER_PORT``), as an int."""
        req = current_or_none()
        if req is not None:
            value = _as_port(req.environ.get("SERVER_PORT", ""))
            if value is not None:
                return value
        return _port

    def __repr__(self) -> str:
        return f"<Server {self.address}:{self.port}>"


_SERVER = Server()


def find_launcher(package_file: str | None = None) -> str:
    """The owt-serve to run: ``$OWT_SERVE``; else ``spawn/owt-serve`` of the tree this
    package came with (``adaptors/owt`` in a checkout, ``$(pkgdatadir)/adaptors/owt``
    installed: looked for as imported, then with links resolved); else ``owt-serve`` on
    PATH (Debian's python3 imports the package from dist-packages, owt-serve is in
    /usr/bin). ``package_file`` stands for this module's ``__file__``.
    """
    import shutil
    from pathlib import Path

    chosen = os.environ.get("OWT_SERVE")
    if chosen:
        return chosen
    here = Path(os.path.abspath(package_file or __file__)).parent
    for package_dir in (here, here.resolve()):
        candidate = package_dir.parent.parent / "spawn" / "owt-serve"
        if os.access(candidate, os.X_OK):
            return str(candidate)
    on_path = shutil.which("owt-serve")
    if on_path:
        return on_path
    raise FileNotFoundError(f"owt-serve is neither beside {here} (spawn/owt-serve) nor on PATH "
                            "(set OWT_SERVE)")


def main(
    port: int = _DEFAULT_PORT,
    address: str = "127.0.0.1",
    workers: int = 2,
    options: tuple[str, ...] | list[str] = (),
    ready: object = None,
) -> int:
    """Serve owt on address:port with ``spawn/owt-serve``; block until it stops.

    Meant for ``multiprocessing.Process(target=server.main, kwargs={"port": p})``
    (examples/meta): SIGTERM or SIGINT to this process (``Process.terminate()``)
    is forwarded to owt-serve, which stops its web server and every worker before
    this returns. Two workers by default, so the nested server can answer a request
    that one of its own adaptors makes to it. ``options`` go to owt-serve and
    owt-fcgi (``--front nginx``, ``--cache-dir DIR``, ...); a non-loopback address
    needs ``--auth`` (or env ``OWT_AUTH``) there, as for owt-serve itself.
    ``ready`` (a ``multiprocessing.Event``, or a callable) is set, or called, once
    owt-serve prints "Owt serving on ADDR:PORT": the server answers and its own
    start-up checks are over.

    owt-serve is :func:`find_launcher`'s. Called inside owt-fcgi, the nested server
    runs the same binary. Returns owt-serve's exit status.
    """
    import signal
    import subprocess
    import sys
    import threading
    from typing import Any

    launcher = find_launcher()
    if not os.access(launcher, os.X_OK):
        raise FileNotFoundError(f"owt-serve not found at {launcher} (set OWT_SERVE)")
    env = dict(os.environ)
    if not env.get("OWT_BIN"):
        try:
            exe = os.readlink("/proc/self/exe")
        except OSError:
            exe = ""
        exe = exe.removesuffix(" (deleted)")  # rebuilt since: the path has the new binary
        if os.path.basename(exe).startswith("owt-fcgi") and os.access(exe, os.X_OK):
            env["OWT_BIN"] = exe
    argv = [launcher, "--address", str(address), "--port", str(int(port)),
            "--workers", str(int(workers)), *[str(o) for o in options]]

    def relay(stream: Any) -> None:
        """Copy owt-serve's output to ours; signal ``ready`` at "Owt serving on"."""
        for line in stream:
            try:
                sys.stdout.write(line.decode("utf-8", "replace"))
                sys.stdout.flush()
            except (OSError, ValueError):
                pass
            if ready is not None and line.startswith(b"Owt serving on "):
                if callable(getattr(ready, "set", None)):
                    ready.set()  # type: ignore[attr-defined]
                elif callable(ready):
                    ready()

    procs: list[subprocess.Popen[bytes]] = []
    stopping: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        stopping.append(signum)
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)

    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, forward)
    try:
        proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
        procs.append(proc)
        if stopping:
            proc.send_signal(signal.SIGTERM)
        threading.Thread(target=relay, args=(proc.stdout,), daemon=True).start()
        return proc.wait()
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        for sig, handler in previous.items():
            if handler is not None:  # None: a handler installed from C, left as it is
                signal.signal(sig, handler)



def _cli(argv: list[str] | None = None) -> int:
    """``python -m owt.server [--address A] [--port P] [--workers N] [owt-serve options]``:
    the seed's start command, here starting owt-fcgi behind lighttpd."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m owt.server", description=_cli.__doc__)
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=_DEFAULT_PORT)
    parser.add_argument("--workers", type=int, default=2)
    args, rest = parser.parse_known_args(argv)
    return main(port=args.port, address=args.address, workers=args.workers, options=rest)


if __name__ == "__main__":
    raise SystemExit(_cli())
