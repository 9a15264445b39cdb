"""Uploads stream to temporary files in the instance, within a size limit.

Django's multipart parser hands each chunk to this handler, which writes it
to disk, so a 20 GB file never sits in memory. A request larger than
``SVIDOK_UPLOAD_MAX_BYTES`` is refused as soon as that is known (from its
Content-Length, or while counting), and the view answers 413.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import StopUpload, TemporaryFileUploadHandler

TOO_LARGE = "svidok_upload_too_large"


def upload_limit() -> int:
    return int(settings.SVIDOK_UPLOAD_MAX_BYTES)


class LimitedTemporaryFileUploadHandler(TemporaryFileUploadHandler):
    def __init__(self, request: Any = None) -> None:
        super().__init__(request)
        self.received = 0
        self.refuse = False

    def handle_raw_input(self, input_data: Any, META: Any, content_length: int,
                         boundary: Any, encoding: str | None = None) -> None:
        Path(settings.FILE_UPLOAD_TEMP_DIR).mkdir(parents=True, exist_ok=True)
        self.refuse = content_length > upload_limit()
        if self.refuse:
            self._mark()

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        if self.refuse:
            # Reset the connection: reading 20 GB only to throw it away helps no one.
            raise StopUpload(connection_reset=True)
        super().new_file(*args, **kwargs)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > upload_limit():
            self._mark()
            raise StopUpload(connection_reset=True)
        return super().receive_data_chunk(raw_data, start)

    def _mark(self) -> None:
        if self.request is not None:
            setattr(self.request, TOO_LARGE, True)


def upload_refused(request: Any) -> bool:
    """Whether the request's upload was cut off for exceeding the limit."""
    try:
        request.FILES  # noqa: B018 — parsing is lazy; the handler marks the request while parsing
    except Exception:  # noqa: S110 — a malformed body is reported by whoever parses it first
        pass
    return bool(getattr(request, TOO_LARGE, False))
