"""The mapping that tells the generic importer how to read a dataset's columns.

A mapping is written in TOML (see ``docs/import-mapping.md``) and read into a
frozen :class:`Mapping`. Reading checks everything that can be checked before
any data is seen — unknown keys (typos), vocabulary codes in value tables, the
time zone — so that a bad mapping fails once, naming the key, instead of
failing on every row.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, cast

from svidok.core.errors import InvalidInput
from svidok.core.incidents.importers._classify import ValueTable
from svidok.core.incidents.importers._time import KYIV, zone
from svidok.core.incidents.vocab import (
    EventType,
    LocationPrecision,
    ObjectType,
    SubType,
    TimePrecision,
    Weapon,
)

Inference = Literal["none", "sub_type", "event_type"]

# Which vocabulary each value table maps into, and whether a cell may give several codes.
TABLE_VOCABULARIES: dict[str, tuple[type[StrEnum], bool]] = {
    "event_type": (EventType, False),
    "sub_type": (SubType, False),
    "weapons": (Weapon, True),
    "objects": (ObjectType, True),
    "time_precision": (TimePrecision, False),
    "location_precision": (LocationPrecision, False),
}
_TOP_KEYS = {"dataset", "timezone", "infer_from_weapons", "file", "fields", "defaults", "tables"}
_FILE_KEYS = {"encoding", "delimiter"}
_FIELD_KEYS = {"id", "title", "description", "date", "date_format", "time", "time_format",
               "midnight_means_unknown", "latitude", "longitude", "location", "sources"}
_DEFAULT_KEYS = {"time_precision", "location_precision"}
_TABLE_KEYS = {"column", "match", "unknown", "split", "values"}


@dataclass(frozen=True, slots=True)
class Mapping:
    """How to read one dataset's columns (CSV) or properties (GeoJSON)."""

    dataset: str
    id: str
    title: str | None = None  # None: derived from the location and the description
    description: str | None = None
    date: str | None = None
    date_format: str = "iso"  # "iso" (ISO 8601) or a strptime pattern such as "%d.%m.%Y"
    time: str | None = None
    time_format: str = "%H:%M"
    midnight_means_unknown: bool = False  # 00:00 stands for "time not recorded"
    latitude: str | None = None
    longitude: str | None = None
    location: tuple[str, ...] = ()  # joined with ", " into the location text
    sources: tuple[str, ...] = ()  # columns holding source addresses
    timezone: str = KYIV  # the zone of dates and times without an offset
    time_precision: TimePrecision = TimePrecision.DAY  # when no time of day is known
    location_precision: LocationPrecision | None = None
    tables: tuple[tuple[str, ValueTable], ...] = ()
    infer_from_weapons: Inference = "none"
    encoding: str = "utf-8"
    delimiter: str = ","

    def table(self, name: str) -> ValueTable | None:
        return dict(self.tables).get(name)

    @property
    def consumed(self) -> frozenset[str]:
        """Columns whose whole content lands in an incident field; every other
        column is kept verbatim in the incident's attributes."""
        single = (self.id, self.title, self.description, self.date, self.time,
                  self.latitude, self.longitude)
        return frozenset(name for name in (*single, *self.sources) if name)

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column the mapping names, each once, in a stable order."""
        named = [*self.consumed, *self.location, *(table.column for _, table in self.tables)]
        return tuple(sorted(set(named)))


def load_mapping(path: Path) -> Mapping:
    """Read a TOML mapping file; raises :class:`InvalidInput` naming what is wrong."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInput(f"expected a mapping file at {path}, found nothing there") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read mapping {path}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"mapping {path.name}: expected TOML, {exc}") from exc
    return mapping_from_dict(document)


def mapping_from_dict(document: dict[str, Any]) -> Mapping:
    """Build a :class:`Mapping` from the parsed TOML document."""
    _only(document, _TOP_KEYS, "the mapping")
    file = _section(document, "file", _FILE_KEYS)
    fields = _section(document, "fields", _FIELD_KEYS)
    defaults = _section(document, "defaults", _DEFAULT_KEYS)
    tables_doc = _section(document, "tables", set(TABLE_VOCABULARIES))
    timezone = _text(document, "timezone", default=KYIV)
    zone(timezone)  # fail now, not on the first row
    inference = _text(document, "infer_from_weapons", default="none")
    if inference not in ("none", "sub_type", "event_type"):
        raise InvalidInput("infer_from_weapons: expected 'none', 'sub_type' or 'event_type', "
                           f"found {inference!r}")
    location_precision = defaults.get("location_precision")
    return Mapping(
        dataset=_text(document, "dataset", required=True),
        id=_text(fields, "id", required=True, where="fields."),
        title=_optional(fields, "title"),
        description=_optional(fields, "description"),
        date=_optional(fields, "date"),
        date_format=_text(fields, "date_format", default="iso", where="fields."),
        time=_optional(fields, "time"),
        time_format=_text(fields, "time_format", default="%H:%M", where="fields."),
        midnight_means_unknown=_flag(fields, "midnight_means_unknown"),
        latitude=_optional(fields, "latitude"),
        longitude=_optional(fields, "longitude"),
        location=_names(fields, "location"),
        sources=_names(fields, "sources"),
        timezone=timezone,
        time_precision=_code(TimePrecision, defaults.get("time_precision", "day"),
                             "defaults.time_precision"),
        location_precision=(None if location_precision is None else _code(
            LocationPrecision, location_precision, "defaults.location_precision")),
        tables=tuple((name, _table(name, spec)) for name, spec in tables_doc.items()),
        infer_from_weapons=cast(Inference, inference),
        encoding=_text(file, "encoding", default="utf-8", where="file."),
        delimiter=_delimiter(file),
    )


def _only(section: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(section) - allowed)
    if unknown:
        raise InvalidInput(f"{where}: expected only the keys {', '.join(sorted(allowed))}; "
                           f"found {', '.join(unknown)}")


def _section(document: dict[str, Any], name: str, allowed: set[str]) -> dict[str, Any]:
    section = document.get(name, {})
    if not isinstance(section, dict):
        raise InvalidInput(f"[{name}]: expected a table, found {type(section).__name__}")
    _only(section, allowed, f"[{name}]")
    return section


def _text(section: dict[str, Any], key: str, *, default: str | None = None,
          required: bool = False, where: str = "") -> str:
    value = section.get(key, default)
    if (required and not value) or not isinstance(value, str):
        raise InvalidInput(f"{where}{key}: expected a non-empty string, found {value!r}")
    return value


def _optional(fields: dict[str, Any], key: str) -> str | None:
    value = fields.get(key)
    if value is None or value == "":
        return None
    return _text(fields, key, where="fields.")


def _flag(fields: dict[str, Any], key: str) -> bool:
    value = fields.get(key, False)
    if not isinstance(value, bool):
        raise InvalidInput(f"fields.{key}: expected true or false, found {value!r}")
    return value


def _names(fields: dict[str, Any], key: str) -> tuple[str, ...]:
    value = fields.get(key, [])
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        raise InvalidInput(f"fields.{key}: expected a column name or a list of them, "
                           f"found {value!r}")
    return tuple(names)


def _delimiter(file: dict[str, Any]) -> str:
    delimiter = _text(file, "delimiter", default=",", where="file.")
    if len(delimiter) != 1:
        raise InvalidInput(f"file.delimiter: expected one character, found {delimiter!r}")
    return delimiter


def _code(vocabulary: type[StrEnum], value: object, where: str) -> Any:
    codes = [member.value for member in vocabulary]
    if not isinstance(value, str) or value not in codes:
        raise InvalidInput(f"{where}: expected one of {', '.join(codes)}; found {value!r}")
    return vocabulary(value)


def _table(name: str, spec: object) -> ValueTable:
    where = f"tables.{name}"
    if not isinstance(spec, dict):
        raise InvalidInput(f"[{where}]: expected a table, found {type(spec).__name__}")
    _only(spec, _TABLE_KEYS, f"[{where}]")
    vocabulary, several = TABLE_VOCABULARIES[name]
    match = _text(spec, "match", default="exact", where=f"{where}.")
    unknown = _text(spec, "unknown", default="error", where=f"{where}.")
    if match not in ("exact", "keyword") or unknown not in ("error", "ignore"):
        raise InvalidInput(f"[{where}]: expected match = 'exact' or 'keyword' and unknown = "
                           f"'error' or 'ignore', found {match!r} and {unknown!r}")
    values = spec.get("values", {})
    if not isinstance(values, dict) or not values:
        raise InvalidInput(f"[{where}.values]: expected a table of upstream value = code(s)")
    entries: dict[str, tuple[str, ...]] = {}
    for upstream, codes in values.items():
        listed: Iterable[object] = [codes] if isinstance(codes, str) else codes
        if not isinstance(listed, list | str) or (not several and len(list(listed)) != 1):
            expected = "a code or a list of codes" if several else "one code"
            raise InvalidInput(f"{where}.values.{upstream!r}: expected {expected}, "
                               f"found {codes!r}")
        entries[upstream] = tuple(
            str(_code(vocabulary, code, f"{where}.values.{upstream!r}")) for code in listed)
    split = spec.get("split")
    if split is not None and (not isinstance(split, str) or not split):
        raise InvalidInput(f"{where}.split: expected a separator such as ';', found {split!r}")
    return ValueTable.build(_text(spec, "column", required=True, where=f"{where}."), entries,
                            match=cast(Any, match), unknown=cast(Any, unknown), split=split)
