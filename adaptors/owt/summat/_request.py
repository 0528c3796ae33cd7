"""The one place the pipe reaches the current HTTP request.

Steps call ``current_request()`` at run time, never at import, so ``owt.summat``
imports without the runtime; tests replace ``current_request`` (see
``tests/python/summat_fixtures.py``).
"""

from __future__ import annotations

from typing import Any

from .errors import PipeError


def current_request() -> Any:
    """The Flask-like proxy ``owt.request.request`` for the request being served."""
    try:
        from owt.request import request
    except ImportError as exc:
        raise PipeError(
            f"this step reads the HTTP request, but owt.request is not importable ({exc}); "
            "run the pipe inside owt-fcgi"
        ) from exc
    return request
