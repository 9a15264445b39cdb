"""JSON-safe metadata, and the summary normalised from it.

Metadata holds no floats, so that it can go straight into
:func:`svidok.core.canonical.canonical_json`. The summary gathers what a
reader wants first (created time, GPS position, pixel size, page count) from
whichever tool's group has it, as exact text: no float ever touches a number.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

MAX_FIELD_CHARS = 4096  # longer metadata values are listed in "omitted", not copied

_EXIF_DATETIME = re.compile(
    r"^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?\s*(Z|[+-]\d{2}:?\d{2})?$"
)
_ISO6709 = re.compile(r"^([+-]\d+(?:\.\d+)?)([+-]\d+(?:\.\d+)?)([+-]\d+(?:\.\d+)?)?")


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


def text_size(value: Any) -> int:
    """Characters ``value`` would take as JSON (cheap for the common scalar cases)."""
    if isinstance(value, str):
        return len(value)
    if value is None or isinstance(value, bool | int):
        return 8
    return len(json.dumps(value, ensure_ascii=False))


# --------------------------------------------------------------------------- summary


def fill_summary(metadata: dict[str, Any], summary: dict[str, Any]) -> None:
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
        if (text := exif_datetime_iso(metadata.get(group, {}).get(tag))) is not None:
            return text, f"{group}:{tag}"
    probe = metadata.get("ffprobe", {})
    tagged = [("format", probe.get("format", {}).get("tags", {}))]
    tagged += [(f"streams[{i}]", s.get("tags", {})) for i, s in enumerate(probe.get("streams", []))]
    for where, tags in tagged:
        for key, value in tags.items() if isinstance(tags, dict) else ():
            if key.lower() == "creation_time" and (text := _iso_datetime(value)) is not None:
                return text, f"ffprobe:{where}.{key}"
    for group, tag in (("pdf", "CreateDate"), ("quicktime", "CreateDate")):
        if (text := exif_datetime_iso(metadata.get(group, {}).get(tag))) is not None:
            return text, f"{group}:{tag}"
    return None


def exif_datetime_iso(value: Any) -> str | None:
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
            if (when := exif_datetime_iso(composite.get("GPSDateTime"))) is not None:
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


def parse_duration_ms(value: Any) -> int | None:
    """A duration in seconds (as exiftool or ffprobe gave it) in whole milliseconds."""
    text = _decimal_text(value)
    if text is None:
        return None
    milliseconds = (Decimal(text) * 1000).to_integral_value(rounding=ROUND_HALF_UP)
    return int(milliseconds) if milliseconds >= 0 else None
