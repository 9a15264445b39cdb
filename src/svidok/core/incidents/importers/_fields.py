"""Reading one field of an upstream record: text, coordinates and identifiers.

Upstream text is untrusted. It is treated as plain text (HTML stays literal,
escaping is the display's job), control characters are removed, and lengths
are capped so that one hostile record cannot exhaust memory downstream.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from svidok.core.incidents.records import TRUNCATED

MAX_DESCRIPTION = 20_000
MAX_TITLE = 1_000
MAX_LINE = 1_000  # location text and other one-line fields
MAX_ID = 200  # an identifier longer than this is not an identifier
MAX_ATTRIBUTE = 20_000
TITLE_LENGTH = 120  # derived titles
# Files are read whole; beyond this size an import is a mistake or an attack
# (ACLED's complete Ukraine export is about a tenth of it).
MAX_FILE_BYTES = 1 << 30

# C0/C1 controls (tab and newline excepted) and the bidirectional overrides that
# can make text display differently from what it says.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_SPACES = re.compile(r"\s+")
# Plain decimal notation only: float() would also take "1_0", "nan" and "infinity".
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


class RowProblem(ValueError):
    """Why one record cannot be imported; becomes a RowError with its row number."""


class Truncations:
    """The names of the fields shortened while reading one record."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def note(self, attributes: dict[str, str]) -> None:
        """Record the shortened fields in the record's attributes, if any."""
        if self.names:
            attributes[TRUNCATED] = ",".join(dict.fromkeys(self.names))


def as_text(value: object) -> str:
    """The upstream value as a string; JSON numbers and booleans keep their JSON spelling."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def multiline(value: object, *, name: str, limit: int, cut: Truncations) -> str:
    """Free text that may span lines (descriptions): newlines kept, controls removed."""
    text = _CONTROLS.sub("", as_text(value).replace("\r\n", "\n").replace("\r", "\n")).strip()
    return _capped(text, name=name, limit=limit, cut=cut)


def one_line(value: object, *, name: str, limit: int = MAX_LINE, cut: Truncations) -> str:
    """Text on one line (titles, places): any run of whitespace becomes one space."""
    text = _SPACES.sub(" ", _CONTROLS.sub(" ", as_text(value))).strip()
    return _capped(text, name=name, limit=limit, cut=cut)


def _capped(text: str, *, name: str, limit: int, cut: Truncations) -> str:
    if len(text) <= limit:
        return text
    cut.names.append(name)
    return text[:limit]


def kept_attributes(fields: dict[str, str], consumed: Iterable[str],
                    cut: Truncations) -> dict[str, str]:
    """The non-empty fields not consumed into incident fields, controls removed, with
    a note of any field shortened while reading the record."""
    skip = set(consumed)
    attributes = {name: multiline(value, name=name, limit=MAX_ATTRIBUTE, cut=cut)
                  for name, value in fields.items() if name not in skip and value.strip()}
    cut.note(attributes)
    return attributes


def identifier(value: object) -> str:
    """An upstream identifier, required and reasonably short."""
    text = _SPACES.sub(" ", _CONTROLS.sub("", as_text(value))).strip()
    if not text:
        raise RowProblem("expected an id, found none")
    if len(text) > MAX_ID:
        raise RowProblem(f"expected an id of at most {MAX_ID} characters, found {len(text):,}")
    return text


def shown(value: object, limit: int = 60) -> str:
    """A value quoted for an error message, shortened so messages stay readable."""
    text = _CONTROLS.sub("?", as_text(value))
    return repr(text if len(text) <= limit else text[:limit] + "…")


def coordinates(latitude: object, longitude: object) -> tuple[float | None, float | None]:
    """Latitude and longitude in degrees (WGS 84), or both ``None`` when both are blank.

    (0, 0) is refused: in practice it is a blank cell turned into a number.
    """
    lat_text, lon_text = as_text(latitude).strip(), as_text(longitude).strip()
    if not lat_text and not lon_text:
        return None, None
    lat = _degrees(lat_text, "latitude", 90.0)
    lon = _degrees(lon_text, "longitude", 180.0)
    if lat == 0.0 and lon == 0.0:
        raise RowProblem("expected a position, found latitude 0 and longitude 0 (a blank "
                         "position turned into numbers)")
    return lat, lon


def _degrees(text: str, name: str, bound: float) -> float:
    expected = f"{name}: expected decimal degrees between -{bound:g} and {bound:g}"
    if not _DECIMAL.fullmatch(text):
        raise RowProblem(f"{expected}, found {shown(text)}")
    degrees = float(text)
    if not -bound <= degrees <= bound:
        raise RowProblem(f"{expected}, found {shown(text)}")
    return degrees


def derived_title(location: str, description: str) -> str:
    """A short title for datasets that have none: the place, then the first sentence."""
    sentence = re.split(r"(?<=[.!?])\s", description.strip(), maxsplit=1)[0].rstrip(".")
    title = f"{location}: {sentence}" if location and sentence else location or sentence
    title = _SPACES.sub(" ", title).strip()
    if len(title) <= TITLE_LENGTH:
        return title
    return title[: TITLE_LENGTH - 1].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"
