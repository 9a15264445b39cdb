"""Tell what a file is from its content, never from its name.

A file's name is a claim made by whoever handed it over; its bytes are the
evidence. Media types therefore come from libmagic (via python-magic) reading
the first bytes of the file.
"""

from __future__ import annotations

import functools
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from svidok.core.errors import ConfigurationError, ExtractionError

if TYPE_CHECKING:
    import magic

__all__ = ["EMPTY_MEDIA_TYPE", "UNKNOWN_MEDIA_TYPE", "MediaKind", "media_kind", "sniff_media_type"]

MediaKind = Literal["image", "video", "audio", "pdf", "document", "archive", "other"]

EMPTY_MEDIA_TYPE = "application/x-empty"
UNKNOWN_MEDIA_TYPE = "application/octet-stream"

# libmagic's own default read limit is about this size; reading it ourselves
# lets us open the file once (any name, any bytes) and report I/O errors clearly.
SNIFF_BYTES = 1024 * 1024

_ARCHIVE_TYPES = frozenset(
    {
        "application/zip",
        "application/x-zip-compressed",
        "application/x-7z-compressed",
        "application/x-rar",
        "application/x-rar-compressed",
        "application/vnd.rar",
        "application/x-tar",
        "application/gzip",
        "application/x-gzip",
        "application/x-bzip2",
        "application/x-xz",
        "application/x-lzma",
        "application/x-lzip",
        "application/zstd",
        "application/x-zstd",
        "application/x-compress",
        "application/x-cpio",
        "application/x-archive",
        "application/x-iso9660-image",
        "application/vnd.ms-cab-compressed",
    }
)

# Containers that libmagic cannot place as audio or video from the header alone;
# ffprobe decides later whether a picture track is present.
_AV_CONTAINERS = frozenset({"application/ogg", "application/mxf", "application/vnd.rn-realmedia"})

_DOCUMENT_TYPES = frozenset(
    {
        "application/msword",
        "application/rtf",
        "application/json",
        "application/xml",
        "application/epub+zip",
        "application/postscript",
        "application/encrypted",  # libmagic's name for password-protected Office files
        "application/x-ole-storage",
        "application/cdfv2",
        "image/svg+xml",  # an XML program, not pixels: treat it as a document
        "image/vnd.djvu",
    }
)

_DOCUMENT_PREFIXES = (
    "text/",
    "message/",
    "application/vnd.openxmlformats-officedocument.",
    "application/vnd.oasis.opendocument.",
    "application/vnd.ms-",
)


@functools.cache
def _magic() -> magic.Magic:
    """The one libmagic handle; python-magic serialises calls on it with a lock."""
    try:
        import magic as magic_module
    except ImportError as exc:  # python-magic raises ImportError when libmagic is absent
        raise ConfigurationError(
            "libmagic is needed to identify files: install libmagic1 (Debian/Ubuntu)",
            cause=str(exc),
        ) from exc
    return magic_module.Magic(mime=True)


def sniff_media_type(path: Path) -> str:
    """Return the MIME type of the file at ``path``, judged from its content.

    Returns ``application/x-empty`` for a zero-byte file and
    ``application/octet-stream`` when libmagic does not recognise the bytes.
    Raises :class:`ExtractionError` if the path is not a readable regular file,
    and :class:`ConfigurationError` if libmagic is not installed.
    """
    try:
        # O_NONBLOCK so that a named pipe put in our way cannot block the open;
        # it has no effect on regular files.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            info = os.fstat(descriptor)
            if not stat.S_ISREG(info.st_mode):
                raise ExtractionError(
                    f"expected a regular file, found {_file_kind(info.st_mode)}: {path}",
                    path=str(path),
                )
            if info.st_size == 0:
                return EMPTY_MEDIA_TYPE
            head = _read_head(descriptor, SNIFF_BYTES)
        finally:
            os.close(descriptor)
    except OSError as exc:
        raise ExtractionError(
            f"unreadable file: expected a readable regular file, got {exc.strerror or exc}",
            path=str(path),
        ) from exc
    if not head:  # the file shrank after fstat; say what we saw
        return EMPTY_MEDIA_TYPE
    try:
        found = _magic().from_buffer(head)
    except ConfigurationError:
        raise
    except Exception as exc:  # python-magic raises its own MagicException
        raise ExtractionError(
            f"libmagic could not classify the file: {exc}", path=str(path)
        ) from exc
    return _normalise(found)


def _read_head(descriptor: int, limit: int) -> bytes:
    """Up to ``limit`` bytes from the start; short reads are retried until end of file."""
    chunks: list[bytes] = []
    remaining = limit
    while remaining > 0 and (chunk := os.read(descriptor, remaining)):
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _normalise(media_type: str) -> str:
    """Lower-case, drop parameters, and map libmagic's empty marker to ours."""
    value = media_type.split(";", 1)[0].strip().lower()
    if not value or "/" not in value:
        return UNKNOWN_MEDIA_TYPE
    if value == "inode/x-empty":
        return EMPTY_MEDIA_TYPE
    return value


def _file_kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a special file"


def media_kind(media_type: str) -> MediaKind:
    """Sort a MIME type into the families that are analysed differently."""
    value = _normalise(media_type)
    if value == "application/pdf":
        return "pdf"
    if value in _DOCUMENT_TYPES or value.startswith(_DOCUMENT_PREFIXES):
        return "document"
    if value in _ARCHIVE_TYPES:
        return "archive"
    if value.startswith("image/"):
        return "image"
    if value.startswith("video/") or value in _AV_CONTAINERS:
        return "video"
    if value.startswith("audio/"):
        return "audio"
    return "other"
