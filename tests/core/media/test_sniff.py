"""Media types come from the bytes, never from the file name."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from svidok.core.errors import ExtractionError
from svidok.core.media import sniff
from svidok.core.media.sniff import media_kind, sniff_media_type

needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")


def _image_bytes(fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 20, 30)).save(buffer, fmt)
    return buffer.getvalue()


def _zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("note.txt", "hello")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (_image_bytes("JPEG"), "image/jpeg"),
        (_image_bytes("PNG"), "image/png"),
        (_image_bytes("GIF"), "image/gif"),
        (_zip_bytes(), "application/zip"),
        (b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n", "application/pdf"),
        ("Свідчення очевидця.\n".encode(), "text/plain"),
    ],
)
def test_sniffs_common_types(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "sample"
    path.write_bytes(content)
    assert sniff_media_type(path) == expected


def test_name_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "holiday.jpg"
    path.write_bytes(_image_bytes("PNG"))
    assert sniff_media_type(path) == "image/png"


def test_zero_bytes_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "nothing.mp4"
    path.touch()
    assert sniff_media_type(path) == "application/x-empty"


def test_random_bytes_are_unknown(tmp_path: Path) -> None:
    path = tmp_path / "noise.jpg"
    # Fixed bytes with no magic number, so the test cannot flake on a lucky draw.
    path.write_bytes(bytes((i * 73 + 41) % 251 for i in range(4096)))
    assert sniff_media_type(path) == "application/octet-stream"


@pytest.mark.parametrize(
    "name", ["with space.png", "-leading-dash.png", "new\nline.png", "фото 1.png"]
)
def test_awkward_names(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(_image_bytes("PNG"))
    assert sniff_media_type(path) == "image/png"


@needs_ffmpeg
def test_sniffs_video(tmp_path: Path) -> None:
    path = tmp_path / "clip"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=duration=1:size=64x48:rate=5",
         "-f", "mp4", str(path)],
        check=True,
    )  # fmt: skip
    assert sniff_media_type(path) == "video/mp4"


def test_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(ExtractionError, match="unreadable file"):
        sniff_media_type(tmp_path / "absent")


def test_directory_raises(tmp_path: Path) -> None:
    with pytest.raises(ExtractionError, match="expected a regular file, found a directory"):
        sniff_media_type(tmp_path)


def test_named_pipe_raises_without_blocking(tmp_path: Path) -> None:
    path = tmp_path / "pipe"
    os.mkfifo(path)
    with pytest.raises(ExtractionError, match="named pipe"):
        sniff_media_type(path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file")
def test_unreadable_file_raises(tmp_path: Path) -> None:
    path = tmp_path / "locked.png"
    path.write_bytes(_image_bytes("PNG"))
    path.chmod(0)
    with pytest.raises(ExtractionError, match="unreadable file"):
        sniff_media_type(path)


def test_one_magic_handle_is_reused() -> None:
    assert sniff._magic() is sniff._magic()


@pytest.mark.parametrize(
    ("media_type", "kind"),
    [
        ("image/jpeg", "image"),
        ("image/heic", "image"),
        ("IMAGE/PNG", "image"),
        ("image/svg+xml", "document"),
        ("video/mp4", "video"),
        ("video/MP2T", "video"),
        ("application/ogg", "video"),
        ("audio/mpeg", "audio"),
        ("application/pdf", "pdf"),
        ("application/zip", "archive"),
        ("application/x-7z-compressed", "archive"),
        ("application/gzip", "archive"),
        ("text/plain", "document"),
        ("text/html; charset=utf-8", "document"),
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "document"),
        ("application/vnd.oasis.opendocument.text", "document"),
        ("application/msword", "document"),
        ("application/encrypted", "document"),
        ("application/octet-stream", "other"),
        ("application/x-empty", "other"),
        ("application/x-executable", "other"),
        ("nonsense", "other"),
    ],
)
def test_media_kind(media_type: str, kind: str) -> None:
    assert media_kind(media_type) == kind


def test_permission_error_raises(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Works as root too, where chmod 000 does not stop reading.
    path = tmp_path / "locked.png"
    path.write_bytes(_image_bytes("PNG"))

    def refuse(*args: object, **kwargs: object) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "open", refuse)  # the same module object sniff uses
    with pytest.raises(ExtractionError, match="unreadable file: .*Permission denied"):
        sniff_media_type(path)
