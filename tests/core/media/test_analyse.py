"""MediaAnalyser: metadata, derived files, and errors instead of exceptions.

Every fixture is made here, in tmp_path: Pillow images with EXIF, ffmpeg test
videos, pypdf documents, zip archives, and deliberately broken files.
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import stat
import struct
import subprocess
import sys
import threading
import time
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageFile
from PIL.ExifTags import GPS, IFD, Base

from svidok.core.canonical import canonical_json
from svidok.core.errors import ConfigurationError, ExtractionError
from svidok.core.media import analyse, exiftool
from svidok.core.media.analyse import Analysis, MediaAnalyser, json_safe
from svidok.core.media.metadata import exif_datetime_iso

HAS_EXIFTOOL = shutil.which("exiftool") is not None
HAS_FFMPEG = shutil.which("ffmpeg") is not None and shutil.which("ffprobe") is not None
needs_exiftool = pytest.mark.skipif(not HAS_EXIFTOOL, reason="exiftool is not installed")
needs_ffmpeg = pytest.mark.skipif(not HAS_FFMPEG, reason="ffmpeg/ffprobe are not installed")
needs_zip = pytest.mark.skipif(shutil.which("zip") is None, reason="the zip tool is not installed")
needs_setpriv = pytest.mark.skipif(
    not sys.platform.startswith("linux") or shutil.which("setpriv") is None,
    reason="util-linux setpriv (Linux) is not installed",
)

EXIFTOOL_MISSING = "exiftool not found: install libimage-exiftool-perl"
RED, BLUE = (220, 20, 20), (20, 20, 220)


# --------------------------------------------------------------------------- fixture makers


def make_jpeg(
    path: Path,
    size: tuple[int, int] = (400, 300),
    *,
    orientation: int | None = None,
    gps: bool = True,
) -> Path:
    """A JPEG whose left half is red and right half blue, with camera EXIF."""
    image = Image.new("RGB", size, BLUE)
    image.paste(RED, (0, 0, size[0] // 2, size[1]))
    exif = Image.Exif()
    exif[Base.Make] = "SvidokCam"
    if orientation is not None:
        exif[Base.Orientation] = orientation
    exif.get_ifd(IFD.Exif)[Base.DateTimeOriginal] = "2024:05:01 12:34:56"
    exif.get_ifd(IFD.Exif)[Base.OffsetTimeOriginal] = "+03:00"
    if gps:
        info = exif.get_ifd(IFD.GPSInfo)
        info[GPS.GPSLatitudeRef] = "N"
        info[GPS.GPSLatitude] = (50.0, 27.0, 0.0)
        info[GPS.GPSLongitudeRef] = "W"
        info[GPS.GPSLongitude] = (30.0, 31.0, 12.0)
    image.save(path, "JPEG", exif=exif, quality=90)
    return path


def make_png(path: Path, size: tuple[int, int] = (64, 48), mode: str = "RGB") -> Path:
    color: Any = {"RGB": (0, 128, 0), "RGBA": (0, 0, 0, 0), "I;16": 40000, "P": 3}[mode]
    Image.new(mode, size, color).save(path, "PNG")
    return path


def make_png_claiming(path: Path, width: int, height: int) -> Path:
    """A tiny PNG whose header claims ``width`` x ``height`` (CRC fixed so it parses)."""
    buffer = io.BytesIO()
    Image.new("L", (1, 1)).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    data[16:24] = struct.pack(">II", width, height)  # IHDR width and height
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    path.write_bytes(bytes(data))
    return path


def make_video(path: Path, *, seconds: int = 3, audio_only: bool = False) -> Path:
    source = (
        f"sine=duration={seconds}"
        if audio_only
        else (f"testsrc=duration={seconds}:size=320x240:rate=10")
    )
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", source,
         "-metadata", "creation_time=2024-05-01T10:00:00Z", "-f", "mp4", f"file:{path}"],
        check=True,
    )  # fmt: skip
    return path


def make_pdf(path: Path, *, user_password: str | None = None) -> Path:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.add_blank_page(200, 200)
    writer.add_metadata(
        {
            "/Title": "Звіт про обстріл",
            "/Author": "Svidok test",
            "/CreationDate": "D:20240501123456+03'00'",
        }
    )
    if user_password is not None:
        # AES-128: exiftool takes seconds to try the empty password on AES-256.
        writer.encrypt(user_password=user_password, owner_password="owner", algorithm="AES-128")
    with path.open("wb") as stream:
        writer.write(stream)
    return path


def no_floats(value: Any) -> bool:
    if isinstance(value, float):
        return False
    if isinstance(value, dict):
        return all(no_floats(item) for item in value.values())
    if isinstance(value, list):
        return all(no_floats(item) for item in value)
    return True


def assert_json_safe(analysis: Analysis) -> None:
    assert no_floats(analysis.metadata)
    canonical_json(analysis.metadata)  # raises on floats, NaN, non-string keys
    for derived in analysis.derived:
        assert no_floats(derived.details)
        canonical_json(derived.details)


def derived(analysis: Analysis, kind: str) -> list[analyse.DerivedFile]:
    return [item for item in analysis.derived if item.kind == kind]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path / "work"


@pytest.fixture
def analyser(workdir: Path) -> Iterator[MediaAnalyser]:
    with MediaAnalyser(workdir=workdir) as instance:
        yield instance


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not HAS_FFMPEG:
        pytest.skip("ffmpeg/ffprobe are not installed")
    return make_video(tmp_path_factory.mktemp("video") / "clip.mp4")


# --------------------------------------------------------------------------- images


@needs_exiftool
def test_jpeg_metadata_gps_and_created(analyser: MediaAnalyser, tmp_path: Path) -> None:
    result = analyser.analyse(make_jpeg(tmp_path / "photo.jpg"))
    assert result.errors == []
    assert result.media_type == "image/jpeg"
    metadata = result.metadata
    assert metadata["exif"]["Make"] == "SvidokCam"
    assert metadata["file"]["MIMEType"] == "image/jpeg"
    assert "FileName" not in metadata["file"]  # describes the stored copy, not the evidence
    assert metadata["gps"] == {"latitude": "50.45", "longitude": "-30.52", "source": "composite"}
    summary = metadata["summary"]
    assert summary["gps"] == metadata["gps"]
    assert summary["created"] == "2024-05-01T12:34:56+03:00"
    assert summary["width"] == 400 and summary["height"] == 300
    assert_json_safe(result)


def test_thumbnail_respects_exif_orientation(analyser: MediaAnalyser, tmp_path: Path) -> None:
    result = analyser.analyse(make_jpeg(tmp_path / "turned.jpg", orientation=6))
    (thumbnail,) = derived(result, "thumbnail")
    assert thumbnail.media_type == "image/jpeg"
    assert thumbnail.details == {"width": 240, "height": 320}
    with Image.open(thumbnail.path) as image:
        assert image.format == "JPEG" and image.size == (240, 320)
        # Orientation 6 is "rotate 90 degrees clockwise": the red left half is now on top.
        top, bottom = image.getpixel((120, 20)), image.getpixel((120, 300))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    assert top[0] > 150 and top[2] < 100
    assert bottom[2] > 150 and bottom[0] < 100
    assert result.metadata["summary"]["width"] == 400  # stored pixels, before turning


def test_thumbnail_is_bounded_and_in_workdir(
    analyser: MediaAnalyser, tmp_path: Path, workdir: Path
) -> None:
    result = analyser.analyse(make_jpeg(tmp_path / "big.jpg", size=(1600, 1200)))
    (thumbnail,) = derived(result, "thumbnail")
    assert thumbnail.details == {"width": 320, "height": 240}
    assert thumbnail.path.parent == workdir


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "I;16", "P"])
def test_png_thumbnail(analyser: MediaAnalyser, tmp_path: Path, mode: str) -> None:
    result = analyser.analyse(make_png(tmp_path / "picture.png", (640, 200), mode))
    assert result.media_type == "image/png"
    assert result.errors == []
    (thumbnail,) = derived(result, "thumbnail")
    assert thumbnail.details == {"width": 320, "height": 100}
    with Image.open(thumbnail.path) as image:
        assert image.mode in ("RGB", "L")
        if mode == "RGBA":  # fully transparent pixels are laid over white
            assert image.getpixel((10, 10)) == (255, 255, 255)


def test_one_pixel_image(analyser: MediaAnalyser, tmp_path: Path) -> None:
    path = tmp_path / "dot.png"
    Image.new("RGB", (1, 1), (1, 2, 3)).save(path)
    result = analyser.analyse(path)
    assert result.errors == []
    (thumbnail,) = derived(result, "thumbnail")
    assert thumbnail.details == {"width": 1, "height": 1}


def test_truncated_jpeg_is_flagged_without_thumbnail(
    analyser: MediaAnalyser, tmp_path: Path
) -> None:
    whole = make_jpeg(tmp_path / "whole.jpg", size=(800, 600)).read_bytes()
    path = tmp_path / "cut.jpg"
    path.write_bytes(whole[: len(whole) // 2])
    result = analyser.analyse(path)
    assert result.media_type == "image/jpeg"
    assert any(error.startswith("truncated or corrupt image:") for error in result.errors)
    assert derived(result, "thumbnail") == []


def test_load_truncated_images_elsewhere_blocks_thumbnails(
    analyser: MediaAnalyser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    result = analyser.analyse(make_jpeg(tmp_path / "photo.jpg"))
    assert any("LOAD_TRUNCATED_IMAGES" in error for error in result.errors)
    assert derived(result, "thumbnail") == []


def test_decompression_bomb_beyond_pillow_limit(analyser: MediaAnalyser, tmp_path: Path) -> None:
    started = time.monotonic()
    result = analyser.analyse(make_png_claiming(tmp_path / "bomb.png", 30000, 30000))
    assert time.monotonic() - started < 10
    assert result.media_type == "image/png"
    assert any(error.startswith("decompression bomb:") for error in result.errors)
    assert derived(result, "thumbnail") == []
    assert_json_safe(result)


def test_decompression_bomb_beyond_our_limit(analyser: MediaAnalyser, tmp_path: Path) -> None:
    # 169 Mpx: over our 150 Mpx default, under Pillow's own hard limit.
    result = analyser.analyse(make_png_claiming(tmp_path / "bomb.png", 13000, 13000))
    assert (
        "decompression bomb: 13000x13000 pixels exceeds the limit of 150000000 pixels"
        in result.errors
    )
    assert result.metadata["summary"]["width"] == 13000
    assert derived(result, "thumbnail") == []


def test_pixel_limit_is_per_analyser(workdir: Path, tmp_path: Path) -> None:
    path = make_png(tmp_path / "small.png", (20, 20))
    with MediaAnalyser(workdir=workdir, max_image_pixels=100) as strict:
        result = strict.analyse(path)
    assert "decompression bomb: 20x20 pixels exceeds the limit of 100 pixels" in result.errors
    assert derived(result, "thumbnail") == []
    with MediaAnalyser(workdir=workdir) as lenient:
        assert derived(lenient.analyse(path), "thumbnail")


def test_unsupported_image_format(analyser: MediaAnalyser, tmp_path: Path) -> None:
    path = tmp_path / "picture.heic"
    # An ISO-BMFF header with the HEIC brand: libmagic says image/heic, Pillow cannot read it.
    path.write_bytes(struct.pack(">I", 24) + b"ftypheic" + b"\0\0\0\0" + b"mif1heic" + b"\0" * 64)
    result = analyser.analyse(path)
    if result.media_type != "image/heic":
        pytest.skip(f"this libmagic calls it {result.media_type}")
    assert "unsupported image format: Pillow cannot decode image/heic" in result.errors


# --------------------------------------------------------------------------- empty and unknown


def test_zero_byte_file(analyser: MediaAnalyser, tmp_path: Path) -> None:
    path = tmp_path / "empty.mp4"
    path.touch()
    result = analyser.analyse(path)
    assert result.media_type == "application/x-empty"
    assert result.errors == ["empty file: 0 bytes"]
    assert result.derived == []
    assert result.metadata == {"summary": {}}


@needs_exiftool
def test_random_bytes(analyser: MediaAnalyser, tmp_path: Path) -> None:
    path = tmp_path / "noise.jpg"
    path.write_bytes(bytes((i * 73 + 41) % 251 for i in range(4096)))
    result = analyser.analyse(path)
    assert result.media_type == "application/octet-stream"
    assert result.errors == ["unrecognised format: application/octet-stream"]
    assert result.metadata["file"]["FileSize"] == 4096


@needs_exiftool
def test_text_file_gets_generic_metadata(analyser: MediaAnalyser, tmp_path: Path) -> None:
    path = tmp_path / "statement.txt"
    path.write_text("Свідчення: о 04:50 почався обстріл.\n", encoding="utf-8")
    result = analyser.analyse(path)
    assert result.media_type == "text/plain"
    assert result.errors == []
    assert result.metadata["file"]["MIMEType"] == "text/plain"


def test_missing_file_is_an_error_not_an_exception(analyser: MediaAnalyser, tmp_path: Path) -> None:
    result = analyser.analyse(tmp_path / "gone.jpg")
    assert result.media_type == "application/octet-stream"
    assert len(result.errors) == 1 and result.errors[0].startswith("unreadable file:")


# --------------------------------------------------------------------------- video and audio


@needs_ffmpeg
def test_video_keyframes_contact_sheet_and_summary(
    analyser: MediaAnalyser, video: Path, workdir: Path
) -> None:
    result = analyser.analyse(video)
    assert result.errors == []
    assert result.media_type == "video/mp4"
    summary = result.metadata["summary"]
    assert summary["duration_ms"] == 3000
    assert (summary["width"], summary["height"]) == (320, 240)
    assert summary["created"] == "2024-05-01T10:00:00+00:00"
    probe = result.metadata["ffprobe"]
    assert probe["streams"][0]["codec_type"] == "video"
    assert "filename" not in probe["format"]
    frames = derived(result, "keyframe")
    assert [frame.details["time_ms"] for frame in frames] == [375, 1125, 1875, 2625]
    for frame in frames:
        assert frame.details["width"] == 320 and frame.details["height"] == 240
        assert frame.path.parent == workdir
        with Image.open(frame.path) as image:
            assert image.format == "JPEG" and image.size == (320, 240)
    (sheet,) = derived(result, "contact_sheet")
    assert sheet.details["columns"] == 2 and sheet.details["rows"] == 2
    assert sheet.details["times_ms"] == [375, 1125, 1875, 2625]
    with Image.open(sheet.path) as image:
        assert image.size == (sheet.details["width"], sheet.details["height"])
    assert_json_safe(result)


@needs_ffmpeg
@pytest.mark.parametrize(
    "name", ["відео 1.mp4", "-leading dash.mp4", "new\nline.mp4", "a'b\"c$(x).mp4"]
)
def test_video_with_awkward_name(
    analyser: MediaAnalyser, video: Path, tmp_path: Path, name: str
) -> None:
    path = tmp_path / name
    shutil.copyfile(video, path)
    result = analyser.analyse(path)
    assert result.errors == []
    assert len(derived(result, "keyframe")) == 4
    if HAS_EXIFTOOL:
        assert result.metadata["quicktime"]["ImageWidth"] == 320


@needs_ffmpeg
def test_no_keyframes_when_asked_for_none(workdir: Path, video: Path) -> None:
    with MediaAnalyser(workdir=workdir, keyframes=0) as instance:
        result = instance.analyse(video)
    assert result.errors == []
    assert [d.kind for d in result.derived] == ["tmk"]  # the video hash, not pictures
    assert result.metadata["summary"]["duration_ms"] == 3000


@needs_ffmpeg
def test_a_video_gets_frame_hashes_and_a_tmk_file(analyser: MediaAnalyser, video: Path) -> None:
    result = analyser.analyse(video)
    perceptual = result.metadata["perceptual"]
    assert perceptual["kind"] == "video" and perceptual["frames"]
    assert perceptual["tmk"]["frames"] > 0 and len(perceptual["tmk"]["vector"]) == 1368
    [tmk] = [d for d in result.derived if d.kind == "tmk"]
    assert tmk.path.stat().st_size == 263_344  # ThreatExchange's .tmk layout


@needs_ffmpeg
def test_without_perceptual_hashes_a_video_gets_none(workdir: Path, video: Path) -> None:
    with MediaAnalyser(workdir=workdir, perceptual=False) as instance:
        result = instance.analyse(video)
    assert "perceptual" not in result.metadata
    assert "tmk" not in [d.kind for d in result.derived]


@needs_ffmpeg
def test_zero_length_video(analyser: MediaAnalyser, tmp_path: Path) -> None:
    path = tmp_path / "nothing.mp4"
    path.touch()
    result = analyser.analyse(path)
    assert result.errors == ["empty file: 0 bytes"]


@needs_ffmpeg
def test_truncated_video(analyser: MediaAnalyser, video: Path, tmp_path: Path) -> None:
    path = tmp_path / "cut.mp4"
    path.write_bytes(video.read_bytes()[:3000])
    result = analyser.analyse(path)
    assert result.media_type == "video/mp4"
    assert any(error.startswith("corrupt video:") for error in result.errors)
    assert result.derived == []
    assert_json_safe(result)


@needs_ffmpeg
def test_sound_in_a_video_container_is_not_corrupt(analyser: MediaAnalyser, tmp_path: Path) -> None:
    path = make_video(tmp_path / "voice.mp4", seconds=1, audio_only=True)
    result = analyser.analyse(path)
    assert result.errors == []
    assert result.derived == []
    assert result.metadata["summary"]["duration_ms"] > 900


@needs_ffmpeg
def test_video_without_picture_or_sound(analyser: MediaAnalyser, tmp_path: Path) -> None:
    subtitles = tmp_path / "words.srt"
    subtitles.write_text("1\n00:00:00,000 --> 00:00:01,000\nhello\n")
    path = tmp_path / "words.mp4"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(subtitles), "-c:s", "mov_text",
         "-f", "mp4", str(path)],
        check=True,
    )  # fmt: skip
    result = analyser.analyse(path)
    if result.media_type != "video/mp4":
        pytest.skip(f"this libmagic calls it {result.media_type}")
    assert result.errors == ["corrupt video: ffprobe found no video stream"]
    assert result.derived == []


@needs_ffmpeg
def test_audio(analyser: MediaAnalyser, tmp_path: Path) -> None:
    path = tmp_path / "voice.wav"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=duration=2", str(path)],
        check=True,
    )
    result = analyser.analyse(path)
    assert result.media_type.startswith("audio/")
    assert result.errors == []
    assert result.derived == []
    assert result.metadata["summary"]["duration_ms"] == 2000


def test_missing_ffmpeg(
    analyser: MediaAnalyser, video_bytes_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    result = analyser.analyse(video_bytes_path)
    assert "ffprobe not found: install ffmpeg" in result.errors


@pytest.fixture
def video_bytes_path(tmp_path: Path, video: Path) -> Path:
    path = tmp_path / "copy.mp4"
    shutil.copyfile(video, path)
    return path


# --------------------------------------------------------------------------- PDF


def test_pdf_document_information(analyser: MediaAnalyser, tmp_path: Path) -> None:
    result = analyser.analyse(make_pdf(tmp_path / "report.pdf"))
    assert result.errors == []
    assert result.media_type == "application/pdf"
    pdf = result.metadata["pdf"]
    assert pdf["title"] == "Звіт про обстріл"
    assert pdf["author"] == "Svidok test"
    assert pdf["creation_date"] == "D:20240501123456+03'00'"
    assert pdf["encrypted"] is False
    assert pdf["pages"] == 2
    summary = result.metadata["summary"]
    assert summary["pages"] == 2
    assert summary["created"] == "2024-05-01T12:34:56+03:00"
    assert_json_safe(result)


def test_password_protected_pdf(analyser: MediaAnalyser, tmp_path: Path) -> None:
    result = analyser.analyse(make_pdf(tmp_path / "locked.pdf", user_password="secret"))
    assert any(error.startswith("password-protected PDF") for error in result.errors)
    pdf = result.metadata["pdf"]
    assert pdf["encrypted"] is True
    assert "title" not in pdf  # the document information is encrypted too
    if HAS_EXIFTOOL:  # what is readable without the password is kept
        assert "Encryption" in pdf and pdf["PDFVersion"]
    assert_json_safe(result)


def test_corrupt_pdf(analyser: MediaAnalyser, tmp_path: Path) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.4\n" + b"garbage " * 50)
    result = analyser.analyse(path)
    assert result.media_type == "application/pdf"
    assert any(error.startswith("corrupt PDF:") for error in result.errors)


# --------------------------------------------------------------------------- archives


def test_zip_listing(analyser: MediaAnalyser, tmp_path: Path) -> None:
    path = tmp_path / "bundle.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("фото/1.txt", "a")
        archive.writestr("2.txt", "bb")
    result = analyser.analyse(path)
    assert result.errors == []
    assert result.metadata["archive"] == {
        "format": "zip",
        "entries": 2,
        "encrypted_entries": 0,
        "uncompressed_bytes": 3,
        "names": ["фото/1.txt", "2.txt"],
        "names_truncated": False,
    }


@needs_zip
def test_password_protected_zip(analyser: MediaAnalyser, tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("names of witnesses")
    path = tmp_path / "locked.zip"
    subprocess.run(["zip", "-q", "-P", "pass", str(path), "secret.txt"], check=True, cwd=tmp_path)
    result = analyser.analyse(path)
    assert "password-protected archive: 1 of 1 entries are encrypted" in result.errors
    assert result.metadata["archive"]["encrypted_entries"] == 1


def test_corrupt_zip(analyser: MediaAnalyser, tmp_path: Path) -> None:
    whole = tmp_path / "whole.zip"
    with zipfile.ZipFile(whole, "w") as archive:
        archive.writestr("a.txt", "a" * 100)
    path = tmp_path / "cut.zip"
    path.write_bytes(whole.read_bytes()[:-30])  # central directory cut off
    result = analyser.analyse(path)
    assert result.media_type == "application/zip"
    assert any(error.startswith("corrupt archive:") for error in result.errors)


# --------------------------------------------------------------------------- batches and exiftool


@needs_exiftool
def test_batch_keeps_order_and_isolates_failures(analyser: MediaAnalyser, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.touch()
    paths = [
        make_jpeg(tmp_path / "one.jpg"),
        tmp_path / "absent.jpg",
        empty,
        make_png(tmp_path / "two.png"),
        make_jpeg(tmp_path / "new\nline.jpg"),
        make_pdf(tmp_path / "three.pdf"),
    ]
    results = analyser.analyse_many(paths)
    assert [r.media_type for r in results] == [
        "image/jpeg",
        "application/octet-stream",
        "application/x-empty",
        "image/png",
        "image/jpeg",
        "application/pdf",
    ]
    assert results[0].errors == [] and results[0].metadata["exif"]["Make"] == "SvidokCam"
    assert results[1].errors[0].startswith("unreadable file:")
    assert results[2].errors == ["empty file: 0 bytes"]
    assert results[3].metadata["png"]["ImageWidth"] == 64
    assert results[4].metadata["gps"]["latitude"] == "50.45"  # passed to exiftool via a link
    assert results[5].metadata["pdf"]["PageCount"] == 2
    for result in results:
        assert_json_safe(result)


@needs_exiftool
def test_binary_and_huge_fields_are_omitted(analyser: MediaAnalyser, tmp_path: Path) -> None:
    path = make_jpeg(tmp_path / "photo.jpg")
    thumbnail = make_jpeg(tmp_path / "small.jpg", size=(40, 30), gps=False)
    subprocess.run(
        ["exiftool", "-q", "-overwrite_original", f"-ThumbnailImage<={thumbnail}",
         "-XMP-dc:Description=" + "x" * 6000, str(path)],
        check=True,
    )  # fmt: skip
    result = analyser.analyse(path)
    assert result.errors == []
    assert "ThumbnailImage" not in result.metadata["exif"]
    assert "Description" not in result.metadata.get("xmp", {})
    size = thumbnail.stat().st_size
    assert result.metadata["omitted"] == [
        f"EXIF:ThumbnailImage (binary data, {size} bytes)",
        "XMP:Description (6000 characters)",
    ]
    assert_json_safe(result)


@needs_exiftool
def test_file_name_that_is_not_utf8(analyser: MediaAnalyser, tmp_path: Path) -> None:
    path = Path(os.fsdecode(os.fsencode(tmp_path) + b"/caf\xe9 \xff.jpg"))
    make_jpeg(path)
    result = analyser.analyse(path)
    assert result.errors == []
    assert result.metadata["exif"]["Make"] == "SvidokCam"
    assert derived(result, "thumbnail")
    assert_json_safe(result)


@needs_exiftool
def test_same_path_twice_in_a_batch(
    analyser: MediaAnalyser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_query = exiftool.ExifToolClient.query
    calls: list[int] = []

    def counting(self: exiftool.ExifToolClient, arguments: Any, timeout: float) -> Any:
        calls.append(len(arguments))
        return real_query(self, arguments, timeout)

    monkeypatch.setattr(exiftool.ExifToolClient, "query", counting)
    path = make_jpeg(tmp_path / "photo.jpg")
    first, second = analyser.analyse_many([path, path])
    assert calls == [2]  # both answered by the one batch call
    assert first.metadata == second.metadata
    assert first.metadata["exif"]["Make"] == "SvidokCam"


def test_empty_batch(analyser: MediaAnalyser) -> None:
    assert analyser.analyse_many([]) == []


@needs_exiftool
def test_same_bytes_same_metadata(analyser: MediaAnalyser, tmp_path: Path) -> None:
    first = make_jpeg(tmp_path / "first.jpg")
    second = tmp_path / "elsewhere" / "second name.jpg"
    second.parent.mkdir()
    shutil.copyfile(first, second)
    os.utime(second, (0, 0))
    one, two = analyser.analyse_many([first, second])
    assert one.metadata == two.metadata


@needs_exiftool
def test_batch_failure_falls_back_to_one_call_per_file(
    analyser: MediaAnalyser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_query = exiftool.ExifToolClient.query
    calls: list[int] = []

    def flaky(self: exiftool.ExifToolClient, arguments: Any, timeout: float) -> Any:
        files = [a for a in arguments]
        calls.append(len(files))
        if len(files) > 1:
            raise ExtractionError("simulated crash on a hostile file")
        return real_query(self, arguments, timeout)

    monkeypatch.setattr(exiftool.ExifToolClient, "query", flaky)
    paths = [make_jpeg(tmp_path / f"{n}.jpg") for n in range(3)]
    results = analyser.analyse_many(paths)
    assert calls == [3, 1, 1, 1]
    assert all(r.errors == [] and r.metadata["exif"]["Make"] == "SvidokCam" for r in results)


@needs_exiftool
def test_exiftool_killed_between_batches_is_restarted(
    analyser: MediaAnalyser, tmp_path: Path
) -> None:
    path = make_jpeg(tmp_path / "photo.jpg")
    assert analyser.analyse(path).errors == []
    process = analyser._exiftool.client._process
    assert process is not None
    process.kill()
    process.wait()
    result = analyser.analyse(path)
    assert result.errors == []
    assert result.metadata["exif"]["Make"] == "SvidokCam"


def fake_exiftool(directory: Path, body: str) -> Path:
    directory.mkdir(exist_ok=True)
    script = directory / "exiftool"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return directory


def test_missing_exiftool(workdir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    photo = make_jpeg(tmp_path / "photo.jpg")
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    with MediaAnalyser(workdir=workdir) as instance:
        result = instance.analyse(photo)
    assert result.errors == [EXIFTOOL_MISSING]
    assert derived(result, "thumbnail")  # the rest of the analysis still happens
    assert result.metadata["summary"]["width"] == 400


def test_hung_exiftool_times_out(
    workdir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    photo = make_jpeg(tmp_path / "photo.jpg")
    sleep = shutil.which("sleep")
    monkeypatch.setenv("PATH", str(fake_exiftool(tmp_path / "bin", f"exec {sleep} 60")))
    monkeypatch.setattr(exiftool, "EXIFTOOL_TIMEOUT_S", 0.5)
    monkeypatch.setattr(exiftool, "EXIFTOOL_TIMEOUT_PER_FILE_S", 0.0)
    started = time.monotonic()
    with MediaAnalyser(workdir=workdir) as instance:
        result = instance.analyse(photo)
    assert time.monotonic() - started < 10
    assert result.errors == ["metadata extraction failed: exiftool did not answer within 0.5 s"]
    assert derived(result, "thumbnail")


def test_dying_exiftool(workdir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    photo = make_jpeg(tmp_path / "photo.jpg")
    monkeypatch.setenv("PATH", str(fake_exiftool(tmp_path / "bin", "echo broken >&2; exit 3")))
    with MediaAnalyser(workdir=workdir) as instance:
        result = instance.analyse(photo)
    assert len(result.errors) == 1
    assert result.errors[0].startswith("metadata extraction failed: exiftool")
    assert derived(result, "thumbnail")


def test_must_be_entered(workdir: Path, tmp_path: Path) -> None:
    instance = MediaAnalyser(workdir=workdir)
    with pytest.raises(ConfigurationError, match="must be entered"):
        instance.analyse_many([make_png(tmp_path / "a.png")])


@pytest.mark.parametrize(
    "options", [{"thumbnail_size": 0}, {"keyframes": -1}, {"max_image_pixels": 0}]
)
def test_rejects_bad_options(workdir: Path, options: dict[str, int]) -> None:
    with pytest.raises(ConfigurationError):
        MediaAnalyser(workdir=workdir, **options)


@needs_exiftool
def test_exiftool_process_stops_on_exit(workdir: Path) -> None:
    with MediaAnalyser(workdir=workdir) as instance:
        process = instance._exiftool.client._process
        assert process is not None and process.poll() is None
    assert process.poll() is not None


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid``: a scan of /proc/*/status, no psutil needed."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:  # it ended while we looked
            continue
        for line in status.splitlines():
            if line.startswith("PPid:"):
                if int(line.split()[1]) == pid:
                    found.append(int(entry.name))
                break
    return found


def _start_time(pid: int) -> str | None:
    """When ``pid`` started (field 22 of /proc/<pid>/stat), or None if it is gone or a zombie."""
    try:
        stat_text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat_text.rsplit(")", 1)[1].split()  # fields[0] is field 3, the state
    return None if fields[0] in ("Z", "X") else fields[19]


def _is_running(pid: int, started: str | None) -> bool:
    """Whether the very process that was ``pid`` (not a reuse of its number) still runs."""
    return started is not None and _start_time(pid) == started


@needs_exiftool
@needs_setpriv
def test_exiftool_dies_with_a_killed_ingest(workdir: Path, tmp_path: Path) -> None:
    # exiftool -stay_open does not exit when its stdin closes, and SIGKILL runs
    # no finalizer: without PR_SET_PDEATHSIG it would run on forever.
    photo = make_jpeg(tmp_path / "photo.jpg")
    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from svidok.core.media.analyse import MediaAnalyser\n"
        "with MediaAnalyser(workdir=Path(sys.argv[1])) as analyser:\n"
        "    print(repr(analyser.analyse(Path(sys.argv[2])).errors), flush=True)\n"
        "    time.sleep(120)\n"
    )
    ingest = subprocess.Popen(
        [sys.executable, "-c", code, str(workdir), str(photo)], stdout=subprocess.PIPE
    )
    exiftools: list[tuple[int, str | None]] = []
    try:
        assert ingest.stdout is not None
        assert ingest.stdout.readline() == b"[]\n"  # analysed, exiftool included
        for pid in _children(ingest.pid):
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"exiftool" in command:
                exiftools.append((pid, _start_time(pid)))
        assert len(exiftools) == 1 and _is_running(*exiftools[0])
        ingest.kill()
        ingest.wait()
        deadline = time.monotonic() + 5
        while _is_running(*exiftools[0]) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _is_running(*exiftools[0])
    finally:
        if ingest.poll() is None:
            ingest.kill()
            ingest.wait()
        if ingest.stdout is not None:
            ingest.stdout.close()
        for pid, started in exiftools:  # do not leave a stray exiftool behind a failure
            if _is_running(pid, started):
                os.kill(pid, signal.SIGKILL)


@needs_exiftool
def test_exiftool_outlives_the_thread_that_entered_the_analyser(
    workdir: Path, tmp_path: Path
) -> None:
    # PR_SET_PDEATHSIG fires when the *thread* that started exiftool ends, so
    # exiftool must not be started by whichever thread happens to enter.
    photo = make_jpeg(tmp_path / "photo.jpg")
    instance = MediaAnalyser(workdir=workdir)

    def enter_and_end() -> None:
        instance.__enter__()
        # Long enough for setpriv to set the signal before this thread ends:
        # a process started by this thread would then be killed with it.
        time.sleep(0.5)

    entering = threading.Thread(target=enter_and_end)
    entering.start()
    entering.join()
    try:
        process = instance._exiftool.client._process
        assert process is not None
        time.sleep(0.5)  # the OS thread may end a moment after join() returns
        assert process.poll() is None
        result = instance.analyse(photo)
        assert result.errors == []
        assert instance._exiftool.client._process is process  # not restarted
        assert process.poll() is None
    finally:
        instance.close()
    assert process.returncode == 0  # stopped politely, not killed


# --------------------------------------------------------------------------- helpers


def test_json_safe() -> None:
    assert json_safe({"a": 1.5, "b": [2.0, b"\x00\xff"], 3: (True, None)}) == {
        "a": "1.5",
        "b": ["2.0", "base64:AP8="],
        "3": [True, None],
    }
    assert json_safe(float("nan")) == "nan"
    cleaned = json_safe("lone \udcff surrogate")
    assert "\ufffd" in cleaned and cleaned.encode("utf-8")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024:05:01 12:34:56", "2024-05-01T12:34:56"),
        ("2024:05:01 12:34:56.25+0300", "2024-05-01T12:34:56.25+03:00"),
        ("2024:05:01 12:34:56Z", "2024-05-01T12:34:56Z"),
        ("0000:00:00 00:00:00", None),
        ("    :  :     :  :  ", None),
        (20240501, None),
    ],
)
def test_exif_datetime(text: Any, expected: str | None) -> None:
    assert exif_datetime_iso(text) == expected


def test_core_media_does_not_import_django() -> None:
    # In a fresh interpreter: pytest-django has already imported Django in this one.
    code = (
        "import sys, svidok.core.media.analyse, svidok.core.media.sniff; "
        "sys.exit('django' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
