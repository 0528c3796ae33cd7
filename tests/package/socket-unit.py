#!/usr/bin/python3
"""What systemd does for a socket unit and its service, for a root without systemd.

    socket-unit.py UNIT.socket UNIT.service

Binds the socket's ListenStream (a unix path) with its SocketUser, SocketGroup,
SocketMode and Backlog, makes the service's CacheDirectory, reads its Environment and
EnvironmentFile, and execs its ExecStart with the socket on fd 0 (StandardInput=socket)
as a user of systemd's dynamic range (DynamicUser=yes). Used by tests/package/check to
run the installed units' own lines, unchanged, in a fresh Debian root.
"""

from __future__ import annotations

import grp
import os
import pwd
import re
import shlex
import socket
import sys

DYNAMIC_UID = 61184  # the first uid of systemd's DynamicUser range


def unit(path: str) -> dict[str, list[str]]:
    """KEY -> values, in order (comments and section headers left out)."""
    values: dict[str, list[str]] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;[":
                continue
            key, _, value = line.partition("=")
            values.setdefault(key.strip(), []).append(value.strip())
    return values


def one(values: dict[str, list[str]], key: str, default: str | None = None) -> str:
    found = values.get(key)
    if not found:
        if default is None:
            sys.exit(f"socket-unit.py: no {key}=")
        return default
    return found[-1]


def expand(argv: list[str], env: dict[str, str]) -> list[str]:
    """systemd's ExecStart: ${VAR} is one word, $VAR splits into words."""
    out: list[str] = []
    for word in argv:
        whole = re.fullmatch(r"\$([A-Za-z_][A-Za-z0-9_]*)", word)
        if whole:
            out.extend(env.get(whole.group(1), "").split())
            continue
        out.append(re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda m: env.get(m.group(1), ""), word))
    return out


def main() -> None:
    sock_unit, service = unit(sys.argv[1]), unit(sys.argv[2])
    if one(service, "StandardInput") != "socket" or one(sock_unit, "Accept", "no") != "no":
        sys.exit("socket-unit.py: only StandardInput=socket with Accept=no")
    path = one(sock_unit, "ListenStream")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    os.chown(path, pwd.getpwnam(one(sock_unit, "SocketUser", "root")).pw_uid,
             grp.getgrnam(one(sock_unit, "SocketGroup", "root")).gr_gid)
    os.chmod(path, int(one(sock_unit, "SocketMode", "0666"), 8))
    listener.listen(int(one(sock_unit, "Backlog", "4096")))

    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
    for line in service.get("Environment", []):
        for pair in shlex.split(line):
            key, _, value = pair.partition("=")
            env[key] = value
    for name in service.get("EnvironmentFile", []):
        optional = name.startswith("-")
        name = name.lstrip("-")
        if optional and not os.path.exists(name):
            continue
        with open(name, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith("#") and "=" in line:
                    key, _, value = line.partition("=")
                    env[key.strip()] = value.strip().strip('"')

    uid = gid = 0
    if one(service, "DynamicUser", "no") == "yes":
        uid = gid = DYNAMIC_UID
    for cache in service.get("CacheDirectory", []):
        for name in cache.split():
            where = os.path.join("/var/cache", name)
            os.makedirs(where, exist_ok=True)
            os.chown(where, uid, gid)

    argv = expand(shlex.split(one(service, "ExecStart")), env)
    os.dup2(listener.fileno(), 0)
    listener.close()
    if uid:
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    os.chdir("/")
    os.execve(argv[0], argv, env)


if __name__ == "__main__":
    main()
