"""Fixtures for the owt.summat tests: a fake current request and the shell setting.

Import the fixtures a test needs into its module:
``from summat_fixtures import fake_request, shell_setting``.
"""

from __future__ import annotations

import json as _json
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

ADAPTORS = Path(__file__).resolve().parents[2] / "adaptors"
if str(ADAPTORS) not in sys.path:
    sys.path.insert(0, str(ADAPTORS))

import owt.summat  # noqa: E402
import owt.summat._request  # noqa: E402


class FakeRequest:
    """The Flask-like fields the pipe steps read, with plain values."""

    def __init__(
        self,
        path: str = "/",
        args: Mapping[str, str] | None = None,
        json: Any = None,
        data: bytes = b"",
        method: str = "GET",
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.path = path
        self.args = dict(args or {})
        self.method = method
        self.environ = dict(environ or {})
        if json is not None and not data:
            data = _json.dumps(json).encode()
        self.data = data
        self.json = json
        self.form: dict[str, str] = {}


@pytest.fixture
def fake_request(monkeypatch: pytest.MonkeyPatch) -> Callable[..., FakeRequest]:
    """``fake_request(path=..., args=..., json=..., data=...)`` makes that the current request.

    Steps reach the request only through ``owt.summat._request.current_request``,
    which this replaces for the test.
    """

    def install(**fields: Any) -> FakeRequest:
        request = FakeRequest(**fields)
        monkeypatch.setattr(owt.summat._request, "current_request", lambda: request)
        return request

    return install


@pytest.fixture
def shell_setting(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[bool], None]]:
    """``shell_setting(True)`` allows ``shell()`` for the test (through ``owt.summat._settings``)."""

    def set_allowed(allowed: bool) -> None:
        monkeypatch.setitem(owt.summat._settings, "allow_shell", allowed)

    yield set_allowed
