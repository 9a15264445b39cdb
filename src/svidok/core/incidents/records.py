"""What an import produces: incidents as their upstream dataset describes them,
and the rows that could not be read, each with the reason.

Imported incidents are plain values, not database rows: the same file parsed
twice gives equal values, and :func:`fingerprint` tells an unchanged upstream
record from an updated one on re-import.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields
from datetime import datetime

from svidok.core.canonical import canonical_json
from svidok.core.incidents.vocab import (
    EventType,
    LocationPrecision,
    ObjectType,
    SubType,
    TimePrecision,
    Weapon,
)

# Part of the hashed content, so that a change to what is fingerprinted changes
# every fingerprint rather than silently matching old ones.
FINGERPRINT_VERSION = "svidok.imported-incident.v1"
# Attribute key under which parsers name the fields they shortened.
TRUNCATED = "svidok.truncated"


@dataclass(frozen=True, slots=True)
class SourceRef:
    """One cited source of an imported incident."""

    upstream_id: str | None
    url: str | None  # None when hidden upstream ("HIDDEN") or absent
    title: str
    description: str
    hidden: bool


@dataclass(frozen=True, slots=True)
class ImportedIncident:
    """One incident as an upstream dataset records it, mapped to Svidok's vocabularies."""

    dataset: str
    upstream_id: str
    row: int  # 1-based record number in the file; for CSV the header is record 1
    title: str
    description: str
    start: datetime | None  # timezone-aware UTC
    end: datetime | None  # timezone-aware UTC, exclusive end of the precision window
    time_precision: TimePrecision
    latitude: float | None
    longitude: float | None
    location_text: str
    event_type: EventType | None
    sub_type: SubType | None
    weapons: tuple[Weapon, ...]
    objects: tuple[ObjectType, ...]
    sources: tuple[SourceRef, ...]
    attributes: dict[str, str]  # every upstream field not mapped above, verbatim
    location_precision: LocationPrecision | None = None  # None when upstream does not say


@dataclass(frozen=True, slots=True)
class RowError:
    """A record that could not be imported; ``reason`` says what was expected and found."""

    row: int
    upstream_id: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class ParsedDataset:
    """Everything read from one file: the incidents and the records refused."""

    dataset: str
    incidents: list[ImportedIncident]
    errors: list[RowError]


_COMPARED = tuple(f.name for f in fields(ImportedIncident) if f.name not in ("row", "attributes"))


def _plain(value: object) -> object:
    """A canonical-JSON-ready form of a field value (floats by their shortest repr,
    which round-trips exactly; canonical JSON refuses floats)."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, SourceRef):
        return {f.name: getattr(value, f.name) for f in fields(SourceRef)}
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, str):
        return str(value)  # enum members become their plain code
    return value


def canonical_content(incident: ImportedIncident) -> dict[str, object]:
    """The incident's content as plain JSON values, without its position in the file."""
    content = {name: _plain(getattr(incident, name)) for name in _COMPARED}
    content["attributes"] = _plain(incident.attributes)
    return content


def fingerprint(incident: ImportedIncident) -> str:
    """A stable SHA-256 (64 lowercase hex) of the incident's content, ``row`` excluded:
    moving a record within its file does not change it; editing any field does."""
    payload = {"version": FINGERPRINT_VERSION, "incident": canonical_content(incident)}
    return hashlib.sha256(canonical_json(payload)).hexdigest()


def changes(old: ImportedIncident, new: ImportedIncident) -> dict[str, tuple[object, object]]:
    """The fields that differ, as ``{name: (old, new)}``; ``row`` is not compared.

    Attributes are compared key by key (``"attributes.<key>"``, ``None`` where a
    key is absent), so a reviewer sees which upstream column changed. The result
    is empty exactly when the two fingerprints are equal.
    """
    changed: dict[str, tuple[object, object]] = {}
    for name in _COMPARED:
        before, after = getattr(old, name), getattr(new, name)
        if _plain(before) != _plain(after):
            changed[name] = (before, after)
    for key in sorted(old.attributes.keys() | new.attributes.keys()):
        before_value, after_value = old.attributes.get(key), new.attributes.get(key)
        if before_value != after_value:
            changed[f"attributes.{key}"] = (before_value, after_value)
    return changed
