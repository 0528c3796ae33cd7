"""Fixtures for the owt.summat tests: a current request and the shell setting.

Import the fixtures a test needs into its module:
``from summat_fixtures import fake_request, shell_setting``.
"""

from __future__ import annotations

import json as _json
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

ADAPTORS = Path(__file__).resolve().parents[2] / "adaptors"
if str(ADAPTORS) not in sys.path:
    sys.path.insert(0, str(ADAPTORS))

import owt.request  # noqa: E402
import owt.summat  # noqa: E402


def make_request(
    path: str = "/",
    args: Mapping[str, str] | None = None,
    json: Any = None,
    data: bytes = b"",
    method: str = "GET",
    content_type: str | None = None,
) -> owt.request.Request:
    """An ``owt.request.Request`` as the runtime would build it for these fields."""
    if json is not None:
        data = _json.dumps(json).encode()
        content_type = content_type or "application/json"
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": urlencode(dict(args or {})),
    }
    if content_type:
        environ["CONTENT_TYPE"] = content_type
    if data:
        environ["CONTENT_LENGTH"] = str(len(data))
    return owt.request.Request(environ, data, path)


@pytest.fixture
def fake_request() -> Iterator[Callable[..., owt.request.Request]]:
    """``fake_request(path=..., args=..., json=..., data=...)`` makes that the current request.

    It is bound with ``owt.request.bind`` exactly as the runtime binds a request, so
    the pipe steps and ``owt.request.request`` inside test functions both see it.
    """
    tokens = []

    def install(**fields: Any) -> owt.request.Request:
        req = make_request(**fields)
        tokens.append(owt.request.bind(req))
        return req

    yield install
    for token in reversed(tokens):
        owt.request.unbind(token)


@pytest.fixture
def shell_setting(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[bool], None]]:
    """``shell_setting(True)`` allows ``shell()`` for the test (through ``owt.summat._settings``)."""

    def set_allowed(allowed: bool) -> None:
        monkeypatch.setitem(owt.summat._settings, "allow_shell", allowed)

    yield set_allowed
