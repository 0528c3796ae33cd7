"""``multipart/form-data`` bodies → form fields and uploaded files."""

from __future__ import annotations

import io
import os
from typing import BinaryIO

from owt._multidict import MultiDict

__all__ = ["FileStorage", "parse"]


class FileStorage:
    """One uploaded file (``request.files["name"]``), held in memory."""

    __slots__ = ("name", "filename", "content_type", "data")

    def __init__(self, name: str, filename: str, content_type: str, data: bytes) -> None:
        self.name = name
        self.filename = filename
        self.content_type = content_type
        self.data = data

    @property
    def mimetype(self) -> str:
        """The content type without parameters."""
        return self.content_type.split(";", 1)[0].strip().lower()

    @property
    def stream(self) -> BinaryIO:
        """The contents as a fresh binary file object."""
        return io.BytesIO(self.data)

    def read(self) -> bytes:
        """The whole contents."""
        return self.data

    def save(self, destination: str | os.PathLike[str] | BinaryIO) -> None:
        """Write the contents to a path or a binary file object."""
        if hasattr(destination, "write"):
            destination.write(self.data)  # type: ignore[union-attr]
            return
        with open(destination, "wb") as out:  # type: ignore[arg-type]
            out.write(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        return f"<FileStorage {self.filename!r} ({self.content_type}, {len(self.data)} bytes)>"


def parse(body: bytes, content_type: str) -> tuple[MultiDict, MultiDict]:
    """(form fields, files) of a multipart body; both empty when it does not parse."""
    fields: list[tuple[str, str]] = []
    files: list[tuple[str, FileStorage]] = []
    header = b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\n\r\n"
    try:
        import email.parser  # only multipart uploads pay for the email package
        import email.policy

        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(header + body)
        parts = list(message.iter_parts()) if message.is_multipart() else []
    except Exception:  # noqa: BLE001 - a malformed body is an empty form, as for urlencoded
        return MultiDict(), MultiDict()
    for part in parts:
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is None:
            charset = part.get_content_charset() or "utf-8"
            fields.append((name, data.decode(charset, "replace")))
        else:
            files.append((name, FileStorage(name, filename, part.get_content_type(), data)))
    return MultiDict(fields), MultiDict(files)  # type: ignore[arg-type]
