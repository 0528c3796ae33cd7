"""An explicit response: body plus status, headers and content type."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["Response"]

HeadersArg = Mapping[str, Any] | Iterable[tuple[str, Any]] | None


class Response:
    """What an adaptor returns to choose the status, headers or content type.

    ``body`` is anything an adaptor may return (str, bytes, a dict for JSON,
    a generator to stream, ...). ``content_type``, when given, wins over a
    Content-Type in ``headers``, which wins over the one the body implies.
    """

    __slots__ = ("body", "status", "headers", "content_type")

    def __init__(
        self,
        body: Any = None,
        status: int = 200,
        headers: HeadersArg = None,
        content_type: str | None = None,
    ) -> None:
        self.body = body
        self.status = status
        self.headers = headers
        self.content_type = content_type

    def __repr__(self) -> str:
        return f"<Response {self.status}>"
