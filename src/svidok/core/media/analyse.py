"""Analyse stored evidence files: metadata, thumbnails, keyframes, contact sheets.

The caller has already stored the original bytes; this module only reads that
stored copy. Evidence must never be lost to a failed analysis, so nothing
about a file's content raises: every problem becomes a sentence in
``Analysis.errors`` (what was expected, what was found) and the batch goes on.

Speed matters (an ingest of many photographs), so:

* one ``exiftool -stay_open`` process serves the analyser's whole lifetime and
  reads a whole batch of paths per command, on a worker thread, while the main
  thread decodes thumbnails (Pillow releases the GIL while decoding);
* JPEGs are decoded at reduced scale (``Image.draft``) for thumbnails;
* videos cost one ``ffprobe`` and one ``ffmpeg`` process each.

Metadata is JSON-safe and holds no floats, so that it can go straight into
:func:`svidok.core.canonical.canonical_json`.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
import logging
import math
import os
import re
import secrets
import select
import shutil
import subprocess
import tempfile
import time
import uuid
import warnings
import weakref
import zipfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from types import TracebackType
from typing import Any

from PIL import ExifTags, Image, ImageDraw, ImageFile, ImageFont, UnidentifiedImageError

from svidok.core.errors import ConfigurationError, ExtractionError
from svidok.core.media.sniff import (
    EMPTY_MEDIA_TYPE,
    UNKNOWN_MEDIA_TYPE,
    media_kind,
    sniff_media_type,
)

__all__ = ["Analysis", "DerivedFile", "MediaAnalyser"]

log = logging.getLogger(__name__)

THUMBNAIL_QUALITY = 85
KEYFRAME_QUALITY = "3"  # ffmpeg's -q:v scale: 2 (best) .. 31
KEYFRAME_MAX_SIDE = 1280  # keyframes are previews; the original keeps every pixel
MAX_FIELD_CHARS = 4096  # longer metadata values are listed in "omitted", not copied
MAX_ARCHIVE_NAMES = 200

EXIFTOOL_MISSING = "exiftool not found: install libimage-exiftool-perl"
# -G: family-0 group names ("EXIF:Make"); -n: numbers, not prose; -q: no
# "1 image files read" chatter on stderr.
EXIFTOOL_ARGS = ("-json", "-G", "-n", "-q", "-api", "LargeFileSupport=1")
EXIFTOOL_BATCH_SIZE = 128
EXIFTOOL_TIMEOUT_S = 30.0  # per command, plus EXIFTOOL_TIMEOUT_PER_FILE_S per path
EXIFTOOL_TIMEOUT_PER_FILE_S = 2.0
EXIFTOOL_MAX_OUTPUT_BYTES = 256 * 1024 * 1024
FFPROBE_TIMEOUT_S = 60.0
FFMPEG_TIMEOUT_S = 180.0

# File-group tags that describe the stored copy (its name in the store, its
# permissions, when we touched it), not the evidence; keeping them would make
# a re-analysis of the same bytes give different metadata.
_STORE_COPY_TAGS = frozenset(
    {
        "FileName",
        "Directory",
        "FileModifyDate",
        "FileAccessDate",
        "FileInodeChangeDate",
        "FileCreateDate",
        "FilePermissions",
        "FileAttributes",
        "FileUserID",
        "FileGroupID",
        "FileDeviceNumber",
        "FileInodeNumber",
        "FileHardLinks",
        "FileBlockSize",
        "FileBlockCount",
        "FileDeviceID",
    }
)
_ZIP_TYPES = frozenset({"application/zip", "application/x-zip-compressed"})
_BINARY_PLACEHOLDER = re.compile(r"^\(Binary data (\d+) bytes")
_EXIF_DATETIME = re.compile(
    r"^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?\s*(Z|[+-]\d{2}:?\d{2})?$"
)
_ISO6709 = re.compile(r"^([+-]\d+(?:\.\d+)?)([+-]\d+(?:\.\d+)?)([+-]\d+(?:\.\d+)?)?")


@dataclass(frozen=True)
class DerivedFile:
    """A temporary file made from the evidence, for the caller to store as its own blob."""

    kind: str  # "thumbnail" | "keyframe" | "contact_sheet"
    path: Path
    media_type: str  # "image/jpeg"
    details: dict[str, Any]  # JSON-safe, no floats


@dataclass(frozen=True)
class Analysis:
    """What could be learnt from one file, and what could not."""

    media_type: str
    metadata: dict[str, Any]  # JSON-safe, no floats; groups plus "summary"
    errors: list[str]
    derived: list[DerivedFile]


# --------------------------------------------------------------------------- JSON safety


def json_safe(value: Any) -> Any:
    """Return ``value`` as plain JSON data with no floats.

    Floats become their ``repr`` text (their binary value cannot be reproduced
    byte for byte by every JSON library); bytes become ``base64:...``; other
    objects become their ``str``.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)  # drops subclasses such as IntEnum or pypdf's NumberObject
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, bytes | bytearray):
        return "base64:" + base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict):
        return {_clean_text(str(key)): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(item) for item in value]
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return _clean_text(str(value))


def _clean_text(text: str) -> str:
    """Plain ``str`` that encodes as UTF-8 (lone surrogates become U+FFFD)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return str(text)


def _text_size(value: Any) -> int:
    """Characters ``value`` would take as JSON (cheap for the common scalar cases)."""
    if isinstance(value, str):
        return len(value)
    if value is None or isinstance(value, bool | int):
        return 8
    return len(json.dumps(value, ensure_ascii=False))


# --------------------------------------------------------------------------- exiftool


def _stop_process(process: subprocess.Popen[bytes], *, kill: bool = False) -> None:
    """End an exiftool process politely (or not), and release its pipes."""
    if process.poll() is None:
        if not kill:
            try:
                assert process.stdin is not None
                os.set_blocking(process.stdin.fileno(), True)
                process.stdin.write(b"-stay_open\nFalse\n")
                process.stdin.flush()
            except (OSError, ValueError):
                kill = True
        if kill:
            process.kill()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            try:
                stream.close()
            except OSError:
                pass


class _ExifTool:
    """One ``exiftool -stay_open`` process, fed commands through its stdin.

    PyExifTool 0.5.6 is deliberately not used for this: it has no timeout, and
    if exiftool dies during a command it spins forever on the closed pipe. An
    ingest must not hang on one hostile file, so this client reads both pipes
    under a deadline, kills the process when the deadline passes, and lets the
    caller start a fresh one.
    """

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the process; raise ConfigurationError if exiftool is not installed."""
        executable = shutil.which("exiftool")
        if executable is None:
            raise ConfigurationError(EXIFTOOL_MISSING)
        process = subprocess.Popen(
            [executable, "-stay_open", "True", "-@", "-", "-common_args", *EXIFTOOL_ARGS],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert process.stdin is not None
        os.set_blocking(process.stdin.fileno(), False)
        self._process = process
        # Stops the process even if the analyser is dropped without close().
        self._finalizer = weakref.finalize(self, _stop_process, process)

    def close(self, *, kill: bool = False) -> None:
        """Stop the process (kill it if ``kill``); safe to call more than once."""
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        if self._process is not None:
            _stop_process(self._process, kill=kill)
            self._process = None

    def query(self, arguments: Sequence[bytes], timeout: float) -> tuple[bytes, str]:
        """Run one command; return its stdout (JSON) and its stderr text.

        Raises ExtractionError if exiftool dies, floods its output, or does not
        answer within ``timeout`` seconds; the process is then gone.
        """
        process = self._process
        if process is None:
            raise ExtractionError("exiftool is not running")
        if process.poll() is not None:
            said = _remaining_stderr(process)
            self.close(kill=True)
            raise ExtractionError(
                f"exiftool exited with status {process.returncode}: {said or 'no message'}"
            )
        assert process.stdin is not None and process.stdout is not None
        assert process.stderr is not None
        # An unguessable number, so that no file's metadata can forge the end
        # of the output and leave the rest to be misread as the next answer.
        sequence = secrets.randbelow(10**15) + 1
        ready = b"{ready%d}" % sequence
        done = b"done%d" % sequence
        command = b"\n".join([*arguments, b"-echo4", done, b"-execute%d" % sequence])
        try:
            out, err = self._exchange(process, command + b"\n", ready, done, timeout)
        except ExtractionError:
            self.close(kill=True)
            raise
        stdout = out.rstrip()[: -len(ready)]
        stderr = err.rstrip()[: -len(done)].decode("utf-8", "replace").strip()
        return stdout, stderr

    @staticmethod
    def _exchange(
        process: subprocess.Popen[bytes], command: bytes, ready: bytes, done: bytes, timeout: float
    ) -> tuple[bytes, bytes]:
        assert process.stdin is not None and process.stdout is not None
        assert process.stderr is not None
        stdin, stdout, stderr = (
            process.stdin.fileno(),
            process.stdout.fileno(),
            process.stderr.fileno(),
        )
        buffers = {stdout: bytearray(), stderr: bytearray()}
        markers = {stdout: ready, stderr: done}
        pending = memoryview(command)
        # poll, not select: a busy server may hold descriptors beyond select's 1024.
        poller = select.poll()
        poller.register(stdin, select.POLLOUT)
        poller.register(stdout, select.POLLIN)
        poller.register(stderr, select.POLLIN)
        waiting = {stdout, stderr}
        deadline = time.monotonic() + timeout
        while waiting:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ExtractionError(f"exiftool did not answer within {timeout:g} s")
            for fd, event in poller.poll(math.ceil(remaining * 1000)):
                if fd == stdin:
                    pending = _feed(stdin, pending, event)
                    if not pending:
                        poller.unregister(stdin)
                    continue
                chunk = os.read(fd, 65536)
                if not chunk:
                    said = bytes(buffers[stderr][-300:]).decode("utf-8", "replace").strip()
                    raise ExtractionError(f"exiftool exited unexpectedly: {said or 'no message'}")
                buffer = buffers[fd]
                buffer += chunk
                if len(buffer) > EXIFTOOL_MAX_OUTPUT_BYTES:
                    raise ExtractionError(
                        f"exiftool output exceeded {EXIFTOOL_MAX_OUTPUT_BYTES} bytes"
                    )
                if _ends_with_marker(buffer, markers[fd]):
                    poller.unregister(fd)
                    waiting.discard(fd)
        return bytes(buffers[stdout]), bytes(buffers[stderr])


def _feed(stdin: int, pending: memoryview, event: int) -> memoryview:
    """Write what the pipe will take of ``pending``; return the rest."""
    if event & (select.POLLERR | select.POLLHUP | select.POLLNVAL):
        raise ExtractionError("exiftool stopped reading commands")
    try:
        return pending[os.write(stdin, pending) :]
    except BlockingIOError:
        return pending
    except OSError as exc:
        raise ExtractionError(f"exiftool stopped reading commands: {exc}") from exc


def _remaining_stderr(process: subprocess.Popen[bytes]) -> str:
    """What a dead exiftool left on stderr (its last words, for the error message)."""
    try:
        assert process.stderr is not None
        said = process.stderr.read(4096) or b""
    except (OSError, ValueError):
        return ""
    return said.decode("utf-8", "replace").strip()[-300:]


def _ends_with_marker(buffer: bytearray, marker: bytes) -> bool:
    """True if ``marker`` stands on a line of its own at the very end of ``buffer``."""
    window = len(marker) + 16  # look at the tail only: outputs can be megabytes
    tail = bytes(buffer[-window:]).rstrip()
    if tail.endswith(b"\n" + marker):
        return True
    return len(buffer) < window and tail.lstrip() == marker


# --------------------------------------------------------------------------- per-file report


@dataclass
class _Report:
    """The mutable state of one file's analysis, frozen into an Analysis at the end."""

    path: Path
    media_type: str = UNKNOWN_MEDIA_TYPE
    readable: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    omitted: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    derived: list[DerivedFile] = field(default_factory=list)

    def error(self, message: str) -> None:
        self.errors.append(message)

    def merge_exiftool(self, entry: dict[str, Any] | str) -> None:
        """Fold one exiftool JSON object (or the reason there is none) into the report."""
        if isinstance(entry, str):
            self.error(entry)
            return
        for key, value in entry.items():
            if key == "SourceFile":
                continue
            group, separator, tag = key.partition(":")
            if not separator:
                group, tag = "Other", key
            if group == "File" and tag in _STORE_COPY_TAGS:
                continue
            if isinstance(value, str) and (binary := _BINARY_PLACEHOLDER.match(value)):
                self.omitted.append(f"{group}:{tag} (binary data, {binary.group(1)} bytes)")
                continue
            size = _text_size(value)
            if size > MAX_FIELD_CHARS:
                self.omitted.append(f"{group}:{tag} ({size} characters)")
                continue
            self.metadata.setdefault(group.lower(), {})[tag] = value
        problem = self.metadata.get("exiftool", {}).get("Error")
        # For bytes libmagic does not know, "unrecognised format" has been said
        # already; exiftool's "Unknown file type" or "File format error" (it
        # guesses from the name) would only repeat it. It stays in the metadata.
        if problem and self.media_type != UNKNOWN_MEDIA_TYPE:
            self.error(f"exiftool reported an error: {problem}")

    def finish(self) -> Analysis:
        """Compute the summary and freeze the report."""
        metadata = self.metadata
        try:
            _fill_summary(metadata, self.summary)
        except Exception as exc:  # a summary is a convenience; never lose the rest over it
            log.exception("summary failed for %s", self.path)
            self.error(f"summary could not be computed: {type(exc).__name__}: {exc}")
        if self.omitted:
            metadata["omitted"] = sorted(self.omitted)
        if "gps" in self.summary:
            metadata["gps"] = self.summary["gps"]
        metadata["summary"] = self.summary
        return Analysis(
            media_type=self.media_type,
            metadata=metadata,
            errors=list(self.errors),
            derived=list(self.derived),
        )


# --------------------------------------------------------------------------- summary


def _fill_summary(metadata: dict[str, Any], summary: dict[str, Any]) -> None:
    """Add created time, GPS position, size and page count found in ``metadata``."""
    if "created" not in summary and (created := _created(metadata)) is not None:
        summary["created"], summary["created_source"] = created
    if (gps := _gps(metadata)) is not None:
        summary["gps"] = gps
    if "width" not in summary and (size := _image_size(metadata)) is not None:
        summary["width"], summary["height"] = size
    if "pages" not in summary:
        pages = metadata.get("pdf", {}).get("PageCount")
        if isinstance(pages, int) and not isinstance(pages, bool):
            summary["pages"] = pages


def _created(metadata: dict[str, Any]) -> tuple[str, str] | None:
    """The creation time as ISO 8601 text, and where it was found."""
    for group, tag in (
        ("composite", "SubSecDateTimeOriginal"),
        ("exif", "DateTimeOriginal"),
        ("xmp", "DateTimeOriginal"),
        ("exif", "CreateDate"),
        ("xmp", "CreateDate"),
        ("quicktime", "CreationDate"),  # Apple's tag, in local time with an offset
    ):
        if (text := _exif_datetime_iso(metadata.get(group, {}).get(tag))) is not None:
            return text, f"{group}:{tag}"
    probe = metadata.get("ffprobe", {})
    tagged = [("format", probe.get("format", {}).get("tags", {}))]
    tagged += [(f"streams[{i}]", s.get("tags", {})) for i, s in enumerate(probe.get("streams", []))]
    for where, tags in tagged:
        for key, value in tags.items() if isinstance(tags, dict) else ():
            if key.lower() == "creation_time" and (text := _iso_datetime(value)) is not None:
                return text, f"ffprobe:{where}.{key}"
    for group, tag in (("pdf", "CreateDate"), ("quicktime", "CreateDate")):
        if (text := _exif_datetime_iso(metadata.get(group, {}).get(tag))) is not None:
            return text, f"{group}:{tag}"
    return None


def _exif_datetime_iso(value: Any) -> str | None:
    """``2024:05:01 12:34:56[.123][+03:00]`` as ISO 8601; None for blanks and zeros."""
    if not isinstance(value, str) or not (match := _EXIF_DATETIME.match(value.strip())):
        return None
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    try:
        dt.datetime(year, month, day, hour, minute, second)
    except ValueError:  # "0000:00:00 00:00:00" is how cameras say "unknown"
        return None
    fraction, zone = match.group(7) or "", match.group(8) or ""
    if zone not in ("", "Z") and ":" not in zone:
        zone = f"{zone[:3]}:{zone[3:]}"
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}{fraction}{zone}"


def _iso_datetime(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.datetime.fromisoformat(value.strip()).isoformat()
    except ValueError:
        return None


def _gps(metadata: dict[str, Any]) -> dict[str, Any] | None:
    """A normalised position (decimal degrees as text) from the first source that has one."""
    composite = metadata.get("composite", {})
    exif = metadata.get("exif", {})
    xmp = metadata.get("xmp", {})
    candidates: list[tuple[str, Any, Any]] = [
        ("composite", composite.get("GPSLatitude"), composite.get("GPSLongitude")),
        (
            "exif",
            _signed(exif.get("GPSLatitude"), exif.get("GPSLatitudeRef"), "S"),
            _signed(exif.get("GPSLongitude"), exif.get("GPSLongitudeRef"), "W"),
        ),
        ("xmp", xmp.get("GPSLatitude"), xmp.get("GPSLongitude")),
    ]
    tags = metadata.get("ffprobe", {}).get("format", {}).get("tags", {})
    for key, value in tags.items() if isinstance(tags, dict) else ():
        if "location" in key.lower() and isinstance(value, str):
            if match := _ISO6709.match(value.strip()):
                candidates.append((f"ffprobe:{key}", match.group(1), match.group(2)))
    for source, latitude, longitude in candidates:
        lat, lon = _decimal_text(latitude), _decimal_text(longitude)
        if lat is None or lon is None:
            continue
        if abs(Decimal(lat)) > 90 or abs(Decimal(lon)) > 180:
            continue
        position: dict[str, Any] = {"latitude": lat, "longitude": lon, "source": source}
        if source == "composite":
            if (altitude := _decimal_text(composite.get("GPSAltitude"))) is not None:
                position["altitude"] = altitude
            if (when := _exif_datetime_iso(composite.get("GPSDateTime"))) is not None:
                position["datetime"] = when
        return position
    return None


def _signed(value: Any, reference: Any, negative: str) -> str | None:
    text = _decimal_text(value)
    if text is None or not isinstance(reference, str):
        return text
    if reference.strip().upper().startswith(negative) and not text.startswith("-"):
        return f"-{text}"
    return text


def _decimal_text(value: Any) -> str | None:
    """Exact decimal text of a number that exiftool or ffprobe gave (as int or text)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return str(number) if number.is_finite() else None


def _image_size(metadata: dict[str, Any]) -> tuple[int, int] | None:
    size = metadata.get("composite", {}).get("ImageSize")
    if isinstance(size, str):
        parts = size.replace("x", " ").split()
        if len(parts) == 2 and all(part.isdigit() for part in parts):
            return int(parts[0]), int(parts[1])
    return None


def _duration_ms(value: Any) -> int | None:
    text = _decimal_text(value)
    if text is None:
        return None
    milliseconds = (Decimal(text) * 1000).to_integral_value(rounding=ROUND_HALF_UP)
    return int(milliseconds) if milliseconds >= 0 else None


# --------------------------------------------------------------------------- helpers


def _new_output(workdir: Path, kind: str) -> Path:
    """A fresh, empty, uniquely named JPEG path under ``workdir``."""
    descriptor, name = tempfile.mkstemp(prefix=f"{kind}-", suffix=".jpg", dir=workdir)
    os.close(descriptor)
    return Path(name)


def _discard(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


def _ffmpeg_url(path: Path) -> bytes:
    """An input/output name ffmpeg takes literally: no option, protocol or pattern parsing."""
    return b"file:" + os.fsencode(path)


def _tool_message(stderr: bytes, path: Path) -> str:
    """The last line of a tool's complaint, without the store path in it."""
    text = stderr.decode("utf-8", "replace")
    for name in (os.fsdecode(_ffmpeg_url(path)), os.fsdecode(path)):
        text = text.replace(name, "input")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no message"


def _to_rgb(image: Image.Image) -> Image.Image:
    """An RGB or L image for JPEG; transparency is laid over white."""
    if image.mode in ("RGB", "L"):
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        # 16-bit greys: keep the high byte rather than clipping at 255.
        return image.point(lambda value: value * (1 / 256)).convert("L")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def _pillow_media_types() -> frozenset[str]:
    Image.init()
    return frozenset(value.lower() for value in Image.MIME.values())


# --------------------------------------------------------------------------- images


def _make_thumbnail(report: _Report, *, workdir: Path, size: int, max_pixels: int) -> None:
    """Add a JPEG thumbnail (longest side ``size``, EXIF orientation applied), or errors."""
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        report.error(
            "thumbnail skipped: PIL.ImageFile.LOAD_TRUNCATED_IMAGES is enabled in this process, "
            "so a truncated image could not be told from a whole one"
        )
        return
    try:
        # Our own limit (checked below) governs; Pillow's global warning would
        # only repeat it, so silence that, but keep Pillow's hard error.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(report.path)
    except Image.DecompressionBombError as exc:
        report.error(f"decompression bomb: {exc}")
        return
    except UnidentifiedImageError as exc:
        if report.media_type in _pillow_media_types():
            report.error(f"truncated or corrupt image: {exc}")
        else:
            report.error(f"unsupported image format: Pillow cannot decode {report.media_type}")
        return
    except Exception as exc:
        report.error(f"truncated or corrupt image: {exc}")
        return
    with image:
        width, height = image.size
        report.summary["width"], report.summary["height"] = width, height
        if width < 1 or height < 1:
            report.error(f"truncated or corrupt image: it claims {width}x{height} pixels")
            return
        if width * height > max_pixels:
            report.error(
                f"decompression bomb: {width}x{height} pixels exceeds the limit of "
                f"{max_pixels} pixels"
            )
            return
        try:
            if image.format in ("JPEG", "MPO"):
                image.draft("RGB", (size, size))  # decode at 1/2, 1/4 or 1/8 scale
            image.load()
            thumbnail = _to_rgb(image)
            # BILINEAR after a draft-scale decode looks the same as LANCZOS at a
            # third of the cost (Pillow antialiases when it shrinks).
            thumbnail.thumbnail((size, size), Image.Resampling.BILINEAR)
        except Image.DecompressionBombError as exc:
            report.error(f"decompression bomb: {exc}")
            return
        except Exception as exc:  # truncated data, broken streams, decoder errors
            report.error(f"truncated or corrupt image: {exc}")
            return
        thumbnail = _apply_orientation(report, image, thumbnail)
        try:
            output = _new_output(workdir, "thumbnail")
        except OSError as exc:
            report.error(f"thumbnail could not be written: {exc}")
            return
        try:
            thumbnail.save(output, "JPEG", quality=THUMBNAIL_QUALITY)
        except Exception as exc:
            _discard(output)
            report.error(f"thumbnail could not be written: {exc}")
            return
        report.derived.append(
            DerivedFile(
                kind="thumbnail",
                path=output,
                media_type="image/jpeg",
                details={"width": thumbnail.width, "height": thumbnail.height},
            )
        )


# Pillow's own table, as in ImageOps.exif_transpose.
_ORIENTATION_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _apply_orientation(report: _Report, source: Image.Image, thumbnail: Image.Image) -> Image.Image:
    """Turn the thumbnail as the EXIF (or XMP) orientation of ``source`` says.

    The orientation is read from the source image because colour conversion
    may have produced a new image without the original's EXIF.
    """
    try:
        orientation = source.getexif().get(ExifTags.Base.Orientation, 1)
    except Exception as exc:
        report.error(f"could not read the EXIF orientation; thumbnail left as stored: {exc}")
        return thumbnail
    method = _ORIENTATION_TRANSPOSE.get(orientation) if isinstance(orientation, int) else None
    return thumbnail.transpose(method) if method is not None else thumbnail


# --------------------------------------------------------------------------- audio and video


def _run_tool(
    name: str, arguments: list[bytes | str], timeout: float
) -> subprocess.CompletedProcess[bytes]:
    """Run ffprobe/ffmpeg; raise ExtractionError for missing tool or timeout."""
    executable = shutil.which(name)
    if executable is None:
        raise ExtractionError(f"{name} not found: install ffmpeg", reason="missing")
    try:
        return subprocess.run(
            [executable, *arguments],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ExtractionError(
            f"{name} did not finish within {timeout:g} s", reason="timeout"
        ) from exc
    except OSError as exc:
        raise ExtractionError(f"{name} could not be started: {exc}", reason="os") from exc


def _probe(report: _Report, kind: str) -> dict[str, Any] | None:
    """Run ffprobe and store its findings under metadata["ffprobe"]."""
    try:
        result = _run_tool(
            "ffprobe",
            [
                "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
                _ffmpeg_url(report.path),
            ],
            FFPROBE_TIMEOUT_S,
        )  # fmt: skip
    except ExtractionError as exc:
        timed_out = exc.extra.get("reason") == "timeout"
        report.error(f"corrupt {kind}: {exc.message}" if timed_out else exc.message)
        return None
    if result.returncode != 0:
        message = _tool_message(result.stderr, report.path)
        report.error(f"corrupt {kind}: ffprobe could not read the file: {message}")
        return None
    try:
        probe = json.loads(
            result.stdout.decode("utf-8", "replace"), parse_float=str, parse_constant=str
        )
    except ValueError as exc:
        report.error(f"corrupt {kind}: ffprobe gave unreadable output: {exc}")
        return None
    if not isinstance(probe, dict):
        report.error(f"corrupt {kind}: ffprobe gave unexpected output")
        return None
    format_section = probe.get("format")
    if isinstance(format_section, dict):
        format_section.pop("filename", None)  # the store's path, not the evidence's
    safe: dict[str, Any] = json_safe(probe)
    report.metadata["ffprobe"] = safe
    return safe


def _picture_stream(probe: dict[str, Any]) -> dict[str, Any] | None:
    """The first real video stream (cover art in audio files does not count)."""
    for stream in probe.get("streams", []):
        if not isinstance(stream, dict) or stream.get("codec_type") != "video":
            continue
        disposition = stream.get("disposition", {})
        if isinstance(disposition, dict) and disposition.get("attached_pic") == 1:
            continue
        return stream
    return None


def _probe_duration_ms(probe: dict[str, Any]) -> int | None:
    duration = _duration_ms(probe.get("format", {}).get("duration"))
    if duration:
        return duration
    streams = [s for s in probe.get("streams", []) if isinstance(s, dict)]
    durations = [d for s in streams if (d := _duration_ms(s.get("duration")))]
    return max(durations) if durations else None


def _analyse_audio_video(report: _Report, *, workdir: Path, keyframes: int, cell_size: int) -> None:
    kind = "video" if report.media_type.startswith("video/") else "audio"
    probe = _probe(report, kind)
    if probe is None:
        return
    duration = _probe_duration_ms(probe)
    if duration is not None:
        report.summary["duration_ms"] = duration
    picture = _picture_stream(probe)
    has_audio = any(
        isinstance(s, dict) and s.get("codec_type") == "audio" for s in probe.get("streams", [])
    )
    if picture is None:
        # A sound recording in a video container (browser recordings are often
        # video/webm, and MP4 audio is often called video/mp4) is not corrupt.
        if not has_audio:
            report.error(f"corrupt {kind}: ffprobe found no {kind} stream")
        return
    for key in ("width", "height"):
        if isinstance(picture.get(key), int):
            report.summary[key] = picture[key]
    if keyframes < 1:
        return
    index = picture.get("index")
    if not isinstance(index, int):
        report.error("keyframes skipped: ffprobe gave no index for the video stream")
        return
    frames = _extract_keyframes(report, workdir, index, duration, keyframes)
    if frames:
        _make_contact_sheet(report, workdir, frames, cell_size)


def _keyframe_times(duration_ms: int | None, count: int) -> list[int]:
    """Evenly spaced times, each in the middle of its slice (never at the very end)."""
    if not duration_ms:
        return [0]
    times = sorted({duration_ms * (2 * i + 1) // (2 * count) for i in range(count)})
    return times


def _seconds(milliseconds: int) -> str:
    return f"{milliseconds // 1000}.{milliseconds % 1000:03d}"


def _extract_keyframes(
    report: _Report, workdir: Path, stream_index: int, duration_ms: int | None, count: int
) -> list[DerivedFile]:
    """Extract frames at evenly spaced times in one ffmpeg process."""
    times = _keyframe_times(duration_ms, count)
    outputs: list[Path] = []
    try:
        outputs.extend(_new_output(workdir, "keyframe") for _ in times)
    except OSError as exc:
        report.error(f"keyframe extraction failed: no room for the frames: {exc}")
        for output in outputs:
            _discard(output)
        return []
    scale = (
        f"scale=w='min({KEYFRAME_MAX_SIDE},iw)':h='min({KEYFRAME_MAX_SIDE},ih)'"
        ":force_original_aspect_ratio=decrease"
    )
    arguments: list[bytes | str] = ["-nostdin", "-hide_banner", "-v", "error", "-y"]
    for time_ms in times:
        # -ss before -i seeks the input (fast, and accurate when transcoding).
        arguments += ["-ss", _seconds(time_ms), "-i", _ffmpeg_url(report.path)]
    for number, output in enumerate(outputs):
        arguments += [
            "-map", f"{number}:{stream_index}", "-frames:v", "1", "-vf", scale,
            "-q:v", KEYFRAME_QUALITY, "-f", "image2", "-update", "1", _ffmpeg_url(output),
        ]  # fmt: skip
    try:
        result = _run_tool("ffmpeg", arguments, FFMPEG_TIMEOUT_S)
    except ExtractionError as exc:
        report.error(f"keyframe extraction failed: {exc.message}")
        for output in outputs:
            _discard(output)
        return []
    if result.returncode != 0:
        message = _tool_message(result.stderr, report.path)
        report.error(f"keyframe extraction failed: ffmpeg said: {message}")
    frames: list[DerivedFile] = []
    for time_ms, output in zip(times, outputs, strict=True):
        frame = _checked_frame(output, time_ms)
        if frame is None:
            _discard(output)
            report.error(f"keyframe at {time_ms} ms: ffmpeg produced no usable frame")
            continue
        frames.append(frame)
    report.derived.extend(frames)
    return frames


def _checked_frame(output: Path, time_ms: int) -> DerivedFile | None:
    """The frame at ``output`` if it is a whole JPEG, else None."""
    try:
        if output.stat().st_size == 0:
            return None
        with Image.open(output) as image:
            image.load()  # a frame cut short by a failing ffmpeg must not pass
            width, height = image.size
    except Exception:
        return None
    return DerivedFile(
        kind="keyframe",
        path=output,
        media_type="image/jpeg",
        details={"time_ms": time_ms, "width": width, "height": height},
    )


def _make_contact_sheet(
    report: _Report, workdir: Path, frames: list[DerivedFile], cell_size: int
) -> None:
    """Lay the keyframes out in a grid, each labelled with its time."""
    try:
        sheet, columns, rows = _compose_sheet(frames, cell_size)
        output = _new_output(workdir, "contact_sheet")
        try:
            sheet.save(output, "JPEG", quality=THUMBNAIL_QUALITY)
        except Exception:
            _discard(output)
            raise
    except Exception as exc:
        report.error(f"contact sheet failed: {exc}")
        return
    report.derived.append(
        DerivedFile(
            kind="contact_sheet",
            path=output,
            media_type="image/jpeg",
            details={
                "width": sheet.width,
                "height": sheet.height,
                "columns": columns,
                "rows": rows,
                "times_ms": [frame.details["time_ms"] for frame in frames],
            },
        )
    )


def _compose_sheet(frames: list[DerivedFile], cell_size: int) -> tuple[Image.Image, int, int]:
    gap = 4
    columns = math.ceil(math.sqrt(len(frames)))
    rows = math.ceil(len(frames) / columns)
    first_width, first_height = frames[0].details["width"], frames[0].details["height"]
    cell_width = cell_size
    cell_height = max(1, min(cell_size * 2, cell_size * first_height // max(1, first_width)))
    sheet = Image.new(
        "RGB",
        (columns * cell_width + (columns + 1) * gap, rows * cell_height + (rows + 1) * gap),
        (24, 24, 24),
    )
    draw = ImageDraw.Draw(sheet)
    font = _label_font(max(10, cell_width // 16))
    for number, frame in enumerate(frames):
        with Image.open(frame.path) as image:
            cell = image.convert("RGB")
            cell.thumbnail((cell_width, cell_height), Image.Resampling.BILINEAR)
        row, column = divmod(number, columns)
        left = gap + column * (cell_width + gap) + (cell_width - cell.width) // 2
        top = gap + row * (cell_height + gap) + (cell_height - cell.height) // 2
        sheet.paste(cell, (left, top))
        label = _clock(frame.details["time_ms"])
        box = draw.textbbox((left + 4, top + 4), label, font=font)
        draw.rectangle((box[0] - 2, box[1] - 2, box[2] + 2, box[3] + 2), fill=(0, 0, 0))
        draw.text((left + 4, top + 4), label, fill=(255, 255, 255), font=font)
    return sheet, columns, rows


def _label_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except Exception:  # Pillow built without FreeType: the fixed bitmap font will do
        return ImageFont.load_default()


def _clock(milliseconds: int) -> str:
    minutes, rest = divmod(milliseconds, 60_000)
    hours, minutes = divmod(minutes, 60)
    seconds = _seconds(rest).zfill(6)
    return f"{hours}:{minutes:02d}:{seconds}" if hours else f"{minutes:02d}:{seconds}"


# --------------------------------------------------------------------------- PDF


def _analyse_pdf(report: _Report) -> None:
    """Document information via pypdf; exiftool's PDF group lands beside it."""
    from pypdf import PasswordType, PdfReader

    try:
        reader = PdfReader(report.path)
    except Exception as exc:
        report.error(f"corrupt PDF: pypdf could not read it: {exc}")
        return
    pdf: dict[str, Any] = report.metadata.setdefault("pdf", {})
    header = reader.pdf_header
    if isinstance(header, str) and header.startswith("%PDF-"):
        pdf["version"] = header[5:].strip()[:8]
    pdf["encrypted"] = bool(reader.is_encrypted)
    if reader.is_encrypted:
        try:
            opened = reader.decrypt("") != PasswordType.NOT_DECRYPTED
        except Exception as exc:  # unsupported algorithm, missing crypto library, damage
            report.error(f"encrypted PDF could not be opened: {exc}")
            return
        if not opened:
            report.error(
                "password-protected PDF: a user password is needed to open it; "
                "only unencrypted metadata was read"
            )
            return
    try:
        pages = len(reader.pages)
        pdf["pages"] = pages
        report.summary["pages"] = pages
    except Exception as exc:
        report.error(f"corrupt PDF: the page tree could not be read: {exc}")
    try:
        document = reader.metadata
    except Exception as exc:
        report.error(f"corrupt PDF: the document information could not be read: {exc}")
        return
    if document is None:
        return
    for key in list(document.keys()):
        name = _snake(str(key).lstrip("/"))
        try:
            value = json_safe(document[key])
        except Exception as exc:
            report.error(f"corrupt PDF: document information {key} is unreadable: {exc}")
            continue
        if _text_size(value) > MAX_FIELD_CHARS:
            report.omitted.append(f"pdf:{name} ({_text_size(value)} characters)")
            continue
        pdf[name] = value
    try:
        created = document.creation_date
    except Exception:  # malformed date text: the raw text is already in pdf["creation_date"]
        created = None
    if created is not None:
        report.summary["created"] = created.isoformat()
        report.summary["created_source"] = "pdf:CreationDate"


def _snake(name: str) -> str:
    """``CreationDate`` -> ``creation_date``, so pypdf's keys never meet exiftool's."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower() or "unnamed"


# --------------------------------------------------------------------------- archives


def _analyse_zip(report: _Report) -> None:
    try:
        with zipfile.ZipFile(report.path) as archive:
            entries = archive.infolist()
    except Exception as exc:
        report.error(f"corrupt archive: expected a readable ZIP directory, found: {exc}")
        return
    encrypted = sum(1 for entry in entries if entry.flag_bits & 0x1)
    names = [json_safe(entry.filename) for entry in entries[:MAX_ARCHIVE_NAMES]]
    report.metadata["archive"] = {
        "format": "zip",
        "entries": len(entries),
        "encrypted_entries": encrypted,
        "uncompressed_bytes": sum(entry.file_size for entry in entries),
        "names": names,
        "names_truncated": len(entries) > MAX_ARCHIVE_NAMES,
    }
    if encrypted:
        report.error(
            f"password-protected archive: {encrypted} of {len(entries)} entries are encrypted"
        )


# --------------------------------------------------------------------------- the analyser


class MediaAnalyser:
    """Analyse stored files in batches; a context manager owning one exiftool process.

    ::

        with MediaAnalyser(workdir=tmp) as analyser:
            for analysis in analyser.analyse_many(paths):
                ...

    Every temporary output goes under ``workdir``; the caller stores the
    ``derived`` files and cleans the directory. One analyser serves one thread
    at a time.
    """

    def __init__(
        self,
        *,
        workdir: Path,
        thumbnail_size: int = 320,
        keyframes: int = 4,
        max_image_pixels: int = 150_000_000,
    ) -> None:
        if thumbnail_size < 1:
            raise ConfigurationError(f"thumbnail_size must be at least 1, got {thumbnail_size}")
        if keyframes < 0:
            raise ConfigurationError(f"keyframes must be 0 or more, got {keyframes}")
        if max_image_pixels < 1:
            raise ConfigurationError(f"max_image_pixels must be at least 1, got {max_image_pixels}")
        self.workdir = Path(os.path.abspath(workdir))
        self.thumbnail_size = thumbnail_size
        self.keyframes = keyframes
        self.max_image_pixels = max_image_pixels
        self._exiftool = _ExifTool()
        self._executor: ThreadPoolExecutor | None = None

    def __enter__(self) -> MediaAnalyser:
        try:
            self.workdir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigurationError(
                f"the analysis work directory could not be created: {exc}",
                workdir=str(self.workdir),
            ) from exc
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="svidok-exiftool")
        self._ensure_exiftool()  # start now so the first batch does not pay for it
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop the worker thread and the exiftool process."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        self._exiftool.close()

    def analyse(self, path: Path) -> Analysis:
        """Analyse one file (a batch of one)."""
        return self.analyse_many([path])[0]

    def analyse_many(self, paths: Sequence[Path]) -> list[Analysis]:
        """Analyse ``paths``; return one Analysis per path, in the same order.

        Never raises because of a file's content: problems are in each
        Analysis's ``errors``. Derived files are written under ``workdir``;
        store them before cleaning it.
        """
        if self._executor is None:
            raise ConfigurationError(
                "MediaAnalyser must be entered before use: "
                "`with MediaAnalyser(workdir=...) as analyser:`"
            )
        self.workdir.mkdir(parents=True, exist_ok=True)  # the caller may have cleaned it
        reports = [_Report(path=Path(os.path.abspath(path))) for path in paths]
        for report in reports:
            _sniff(report)
        for_exiftool = [r for r in reports if r.readable and r.media_type != EMPTY_MEDIA_TYPE]
        # exiftool works in its own process while this thread decodes images.
        future = self._executor.submit(self._exiftool_metadata, [r.path for r in for_exiftool])
        try:
            for report in reports:
                if report.readable:
                    _guarded(report, functools.partial(self._analyse_kind, report))
        finally:
            try:
                found = future.result()
            except Exception as exc:
                log.exception("exiftool batch failed")
                found = [f"metadata extraction failed: {exc}"] * len(for_exiftool)
        for report, entry in zip(for_exiftool, found, strict=True):
            _guarded(report, functools.partial(report.merge_exiftool, entry))
        return [report.finish() for report in reports]

    # -- per kind

    def _analyse_kind(self, report: _Report) -> None:
        media_type = report.media_type
        if media_type == EMPTY_MEDIA_TYPE:
            report.error("empty file: 0 bytes")
            return
        kind = media_kind(media_type)
        if kind == "image":
            _make_thumbnail(
                report,
                workdir=self.workdir,
                size=self.thumbnail_size,
                max_pixels=self.max_image_pixels,
            )
        elif kind in ("video", "audio"):
            _analyse_audio_video(
                report,
                workdir=self.workdir,
                keyframes=self.keyframes,
                cell_size=self.thumbnail_size,
            )
        elif kind == "pdf":
            _analyse_pdf(report)
        elif kind == "archive" and media_type in _ZIP_TYPES:
            _analyse_zip(report)
        elif media_type == "application/encrypted":
            report.error(
                "password-protected document: an encrypted container (as Office writes "
                "password-protected files); its content needs the password"
            )
        elif media_type == UNKNOWN_MEDIA_TYPE:
            report.error(f"unrecognised format: {media_type}")

    # -- exiftool

    def _ensure_exiftool(self) -> str | None:
        """Start exiftool if it is not running; return why it cannot run, if so."""
        if self._exiftool.running:
            return None
        self._exiftool.close()
        try:
            self._exiftool.start()
        except ConfigurationError as exc:
            return exc.message
        except OSError as exc:
            return f"metadata extraction failed: exiftool could not be started: {exc}"
        return None

    def _exiftool_metadata(self, paths: list[Path]) -> list[dict[str, Any] | str]:
        """One JSON object (or the reason there is none) per path, same order."""
        results: list[dict[str, Any] | str] = []
        links_dir = self.workdir / f"exiftool-links-{uuid.uuid4().hex}"
        try:
            for start in range(0, len(paths), EXIFTOOL_BATCH_SIZE):
                chunk = paths[start : start + EXIFTOOL_BATCH_SIZE]
                results.extend(self._exiftool_chunk(chunk, links_dir))
        finally:
            shutil.rmtree(links_dir, ignore_errors=True)
        return results

    def _exiftool_chunk(self, paths: list[Path], links_dir: Path) -> list[dict[str, Any] | str]:
        problem = self._ensure_exiftool()
        if problem is not None:
            return [problem] * len(paths)
        arguments = [_exiftool_argument(path, links_dir) for path in paths]
        found: list[dict[str, Any] | str | None] = [
            argument if isinstance(argument, str) else None for argument in arguments
        ]
        wanted: dict[str, list[int]] = {}  # a path may come twice in one batch
        for index, argument in enumerate(arguments):
            if isinstance(argument, bytes):
                wanted.setdefault(os.fsdecode(argument), []).append(index)
        if wanted:
            batch = [argument for argument in arguments if isinstance(argument, bytes)]
            timeout = EXIFTOOL_TIMEOUT_S + EXIFTOOL_TIMEOUT_PER_FILE_S * len(batch)
            try:
                entries, _ = self._exiftool_json(batch, timeout)
            except ExtractionError as exc:
                # One hostile file must not cost the others their metadata:
                # ask again file by file below.
                log.warning("exiftool batch of %d failed (%s); retrying per file", len(batch), exc)
                entries = []
            for entry in entries:
                source = entry.get("SourceFile") if isinstance(entry, dict) else None
                for index in wanted.get(source, []) if isinstance(source, str) else []:
                    found[index] = entry
        results: list[dict[str, Any] | str] = []
        for argument, entry in zip(arguments, found, strict=True):
            if entry is None:
                assert isinstance(argument, bytes)
                entry = self._exiftool_one(argument)
            results.append(entry)
        return results

    def _exiftool_one(self, argument: bytes) -> dict[str, Any] | str:
        problem = self._ensure_exiftool()
        if problem is not None:
            return problem
        try:
            entries, stderr = self._exiftool_json([argument], EXIFTOOL_TIMEOUT_S)
        except ExtractionError as exc:
            return f"metadata extraction failed: {exc.message}"
        if entries and isinstance(entries[0], dict):
            return entries[0]
        message = stderr.replace(os.fsdecode(argument), "input").strip() or "no message"
        return f"metadata extraction failed: exiftool returned nothing ({message[:300]})"

    def _exiftool_json(self, arguments: list[bytes], timeout: float) -> tuple[list[Any], str]:
        stdout, stderr = self._exiftool.query(arguments, timeout)
        if not stdout.strip():
            return [], stderr
        try:
            # Numbers stay as the text exiftool printed: no floats, no rounding.
            entries = json.loads(
                stdout.decode("utf-8", "replace"), parse_float=str, parse_constant=str
            )
        except ValueError as exc:
            raise ExtractionError(f"exiftool gave unreadable JSON: {exc}") from exc
        if not isinstance(entries, list):
            raise ExtractionError("exiftool gave JSON that is not a list")
        return entries, stderr


def _exiftool_argument(path: Path, links_dir: Path) -> bytes | str:
    """The path as exiftool should read it, or why it cannot be given.

    exiftool reads one argument per line, so a path with a line break in it
    is passed as a symlink with a plain name instead.
    """
    raw = os.fsencode(path)
    if b"\n" not in raw and b"\r" not in raw:
        return raw
    try:
        links_dir.mkdir(exist_ok=True)
        link = links_dir / f"{uuid.uuid4().hex}"
        link.symlink_to(path)
    except OSError as exc:
        return f"metadata extraction failed: could not link the file for exiftool: {exc}"
    linked = os.fsencode(link)
    if b"\n" in linked or b"\r" in linked:
        return "metadata extraction failed: the work directory's path contains a line break"
    return linked


def _sniff(report: _Report) -> None:
    try:
        report.media_type = sniff_media_type(report.path)
    except (ExtractionError, ConfigurationError) as exc:
        report.error(exc.message)
        return
    except Exception as exc:
        report.error(f"unreadable file: {type(exc).__name__}: {exc}")
        return
    report.readable = True


def _guarded(report: _Report, step: Callable[[], object]) -> None:
    """Run one step; an unexpected failure becomes an error entry, not a lost batch."""
    try:
        step()
    except Exception as exc:
        log.exception("analysis step failed for %s", report.path)
        report.error(f"analysis failed unexpectedly: {type(exc).__name__}: {exc}")
