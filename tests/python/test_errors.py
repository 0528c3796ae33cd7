"""owt._errors: the error kinds C maps to statuses, and adaptor error text."""

from __future__ import annotations

import pytest

from owt._errors import (
    AdaptorError,
    AdaptorTimeout,
    BadRequest,
    Forbidden,
    NotFound,
    OwtError,
    adaptor_error,
    describe,
)


@pytest.mark.parametrize(
    ("cls", "kind"),
    [(BadRequest, "bad_request"), (Forbidden, "forbidden"), (NotFound, "not_found"), (AdaptorError, "adaptor"), (AdaptorTimeout, "timeout")],
)
def test_kinds(cls: type[OwtError], kind: str) -> None:
    err = cls("msg")
    assert err.kind == kind and err.message == "msg" and str(err) == "msg" and err.traceback is None


def test_describe() -> None:
    assert describe(ValueError("bad")) == "ValueError: bad"
    assert describe(KeyError("k")) == "KeyError: 'k'"


def _raise() -> None:
    raise ValueError("deep")


def test_adaptor_error_message_and_traceback() -> None:
    try:
        _raise()
    except ValueError as exc:
        err = adaptor_error(exc, log=False)
    assert isinstance(err, AdaptorError)
    assert err.message == "Error executing code: ValueError: deep"
    assert err.traceback and 'raise ValueError("deep")' in err.traceback


@pytest.mark.parametrize(("status", "cls"), [(400, BadRequest), (403, Forbidden), (404, NotFound), (504, AdaptorTimeout), (418, AdaptorError), ("404", AdaptorError)])
def test_owt_status_picks_the_kind(status: object, cls: type[OwtError]) -> None:
    exc = RuntimeError("x")
    exc.owt_status = status  # type: ignore[attr-defined]
    assert type(adaptor_error(exc, log=False)) is cls
