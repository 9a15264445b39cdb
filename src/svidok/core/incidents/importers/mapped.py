"""Importing any CSV or GeoJSON incident dataset, described by a TOML mapping.

The mapping (see ``docs/import-mapping.md``) names the columns that hold the
id, title, description, date, time, position, place and sources, and gives
value tables that turn upstream words into Svidok's vocabularies. Every
column the mapping does not consume is kept verbatim in the incident's
attributes, so nothing upstream said is lost.

Each record is read in this order, and the first problem refuses the record:

1. its id (required, unique within the file);
2. its value tables (event type, sub-type, weapons, objects, precisions);
3. its date and time, into a UTC window at the right precision;
4. its position (GeoJSON: the Point geometry; CSV: the latitude/longitude columns);
5. its event type, completed from the weapons as far as the mapping allows;
6. its texts, sources and remaining attributes.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from svidok.core.errors import InvalidInput
from svidok.core.incidents.importers._classify import event_from_weapons
from svidok.core.incidents.importers._collect import Collector
from svidok.core.incidents.importers._fields import (
    MAX_DESCRIPTION,
    MAX_TITLE,
    RowProblem,
    Truncations,
    as_text,
    coordinates,
    derived_title,
    identifier,
    kept_attributes,
    multiline,
    one_line,
    shown,
)
from svidok.core.incidents.importers._files import csv_records, read_text, undecodable
from svidok.core.incidents.importers._mapping import Mapping, load_mapping
from svidok.core.incidents.importers._sources import sources_in_cell
from svidok.core.incidents.importers._time import DateReader
from svidok.core.incidents.records import ImportedIncident, ParsedDataset, SourceRef
from svidok.core.incidents.vocab import (
    EVENT_TYPE_OF,
    SUBTYPES_OF,
    EventType,
    LocationPrecision,
    ObjectType,
    SubType,
    TimePrecision,
    Weapon,
)

__all__ = ["FEATURE_ID", "Mapping", "load_mapping", "parse_csv", "parse_geojson"]

FEATURE_ID = "@id"  # names a GeoJSON feature's own "id" member in a mapping
Position = tuple[float | None, float | None]


def parse_csv(path: Path, mapping: Mapping) -> ParsedDataset:
    """Parse a CSV file as the mapping describes it.

    Raises :class:`InvalidInput` if the file cannot be read or lacks a column
    the mapping names; every other problem is a row error.
    """
    _, records = csv_records(path, required=mapping.columns, encoding=mapping.encoding,
                             delimiter=mapping.delimiter)
    reader = _RecordReader(mapping)
    for row, fields, problem in records:
        reader.read(row, fields, problem)
    return reader.collector.result()


def parse_geojson(path: Path, mapping: Mapping) -> ParsedDataset:
    """Parse a GeoJSON FeatureCollection: positions from Point geometries, fields
    from properties (the feature's own ``id`` is the property ``@id``).

    A feature without geometry falls back to the mapping's latitude/longitude
    properties, if any; other geometry types are row errors.
    """
    features = _features(path)
    _require_property(features, mapping.id, path)
    reader = _RecordReader(mapping)
    for row, feature in enumerate(features, start=1):
        if not isinstance(feature, dict):
            reader.collector.refuse(row, None, "expected a GeoJSON Feature object, found "
                                               f"{type(feature).__name__}")
            continue
        fields = _properties(feature)
        try:
            position = _point(feature.get("geometry"))
        except RowProblem as problem:
            reader.read(row, fields, problem)
            continue
        reader.read(row, fields, None, position)
    return reader.collector.result()


class _RecordReader:
    """Turns the fields of one record into an incident or a row error."""

    def __init__(self, mapping: Mapping) -> None:
        self.mapping = mapping
        self.collector = Collector(mapping.dataset)
        self.dates = DateReader(mapping.date_format, mapping.time_format,
                                mapping.midnight_means_unknown, mapping.time_precision,
                                mapping.timezone)

    def read(self, row: int, fields: dict[str, str], problem: RowProblem | None,
             position: Position | None = None) -> None:
        upstream_id: str | None = None
        try:
            if problem is not None:
                upstream_id = _readable_id(fields.get(self.mapping.id))
                raise problem
            upstream_id = identifier(fields.get(self.mapping.id))
            self.collector.claim(row, upstream_id)
            self.collector.accept(self._incident(row, upstream_id, fields, position))
        except RowProblem as refused:
            self.collector.refuse(row, upstream_id, str(refused))

    def _incident(self, row: int, upstream_id: str, fields: dict[str, str],
                  position: Position | None) -> ImportedIncident:
        mapping, cut = self.mapping, Truncations()
        codes = {name: table.codes(fields.get(table.column, ""))
                 for name, table in mapping.tables}
        start, end, time_precision = self._when(fields, _single(codes, "time_precision"))
        if position is None:
            position = ((None, None) if not (mapping.latitude and mapping.longitude) else
                        coordinates(fields.get(mapping.latitude), fields.get(mapping.longitude)))
        weapons = tuple(Weapon(code) for code in codes.get("weapons", ()))
        event_type, sub_type = self._event(codes, weapons)
        located = _single(codes, "location_precision")
        description = multiline(fields.get(mapping.description or "", ""), name="description",
                                limit=MAX_DESCRIPTION, cut=cut)
        places = (one_line(fields.get(name, ""), name=name, cut=cut) for name in mapping.location)
        location_text = ", ".join(place for place in places if place)
        title = one_line(fields.get(mapping.title or "", ""), name="title", limit=MAX_TITLE,
                         cut=cut) or derived_title(location_text, description) or upstream_id
        sources: list[SourceRef] = []
        for column in mapping.sources:
            sources.extend(sources_in_cell(fields.get(column, ""), title=column, cut=cut))
        attributes = kept_attributes(fields, mapping.consumed, cut)
        return ImportedIncident(
            dataset=mapping.dataset, upstream_id=upstream_id, row=row, title=title,
            description=description, start=start, end=end, time_precision=time_precision,
            latitude=position[0], longitude=position[1], location_text=location_text,
            event_type=event_type, sub_type=sub_type, weapons=weapons,
            objects=tuple(ObjectType(code) for code in codes.get("objects", ())),
            sources=tuple(sources), attributes=attributes,
            location_precision=(mapping.location_precision if located is None
                                else LocationPrecision(located)),
        )

    def _when(self, fields: dict[str, str], precision: str | None
              ) -> tuple[datetime | None, datetime | None, TimePrecision]:
        """The UTC window of the record's date and time; no date column, no window."""
        chosen = None if precision is None else TimePrecision(precision)
        if not self.mapping.date:
            return None, None, chosen or self.mapping.time_precision
        return self.dates.window(fields.get(self.mapping.date, ""),
                                 fields.get(self.mapping.time or "", ""), chosen)

    def _event(self, codes: dict[str, tuple[str, ...]],
               weapons: tuple[Weapon, ...]) -> tuple[EventType | None, SubType | None]:
        """The event type and sub-type from their tables, completed from the weapons
        as far as the mapping allows; a sub-type outside its event type is refused."""
        given_type, given_sub = _single(codes, "event_type"), _single(codes, "sub_type")
        event_type = EventType(given_type) if given_type else None
        sub_type = SubType(given_sub) if given_sub else None
        if sub_type is not None:
            if event_type is not None and sub_type not in SUBTYPES_OF[event_type]:
                raise RowProblem(f"sub_type: expected one of the sub-types of {event_type.value}, "
                                 f"found {sub_type.value}")
            return EVENT_TYPE_OF[sub_type], sub_type
        inference = self.mapping.infer_from_weapons
        if inference == "none":
            return event_type, None
        implied_type, implied_sub = event_from_weapons(weapons)
        if event_type is None:
            return (implied_type, implied_sub) if inference == "event_type" else (None, None)
        return event_type, implied_sub if implied_type is event_type else None


def _single(codes: dict[str, tuple[str, ...]], table: str) -> str | None:
    found = codes.get(table, ())
    if len(found) > 1:
        raise RowProblem(f"{table}: expected one value, found {', '.join(found)}")
    return found[0] if found else None


def _readable_id(value: str | None) -> str | None:
    """The record's id for an error report, if it can be read at all."""
    if value is None or undecodable(value):
        return None
    try:
        return identifier(value)
    except RowProblem:
        return None


def _features(path: Path) -> list[object]:
    text = read_text(path, "utf-8")
    if undecodable(text):
        raise InvalidInput(f"{path.name}: expected UTF-8 GeoJSON, found byte "
                           f"{undecodable(text)}")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{path.name}: expected GeoJSON, found invalid JSON ({exc})") from None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        found = document.get("type") if isinstance(document, dict) else type(document).__name__
        raise InvalidInput(f"{path.name}: expected a GeoJSON FeatureCollection, found {found!r}")
    features = document.get("features")
    if not isinstance(features, list):
        raise InvalidInput(f"{path.name}: expected a list of features, found "
                           f"{type(features).__name__}")
    return features


def _require_property(features: list[object], name: str, path: Path) -> None:
    """Refuse the file when no feature has the id property: it is the wrong file or
    the wrong mapping, not a file of bad records."""
    seen: set[str] = set()
    for feature in features:
        if isinstance(feature, dict):
            properties = feature.get("properties")
            seen.update(properties if isinstance(properties, dict) else ())
            if name == FEATURE_ID and "id" in feature:
                return
    if features and name not in seen:
        raise InvalidInput(f"{path.name}: expected features with the property {name!r}; "
                           f"found {', '.join(sorted(seen)) or 'no properties'}")


def _properties(feature: dict[str, object]) -> dict[str, str]:
    properties = feature.get("properties")
    fields = {str(key): (json.dumps(value, ensure_ascii=False)
                         if isinstance(value, dict | list) else as_text(value))
              for key, value in (properties.items() if isinstance(properties, dict) else ())}
    if "id" in feature:
        fields[FEATURE_ID] = as_text(feature["id"])
    return fields


def _point(geometry: object) -> Position | None:
    if geometry is None:
        return None
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    if kind != "Point" or not isinstance(geometry, dict):
        raise RowProblem(f"geometry: expected a Point, found {shown(kind or geometry)}")
    position = geometry.get("coordinates")
    if not isinstance(position, list) or len(position) < 2:
        raise RowProblem(f"geometry: expected [longitude, latitude], found {shown(position)}")
    longitude, latitude = position[0], position[1]  # GeoJSON puts longitude first
    if isinstance(longitude, bool) or isinstance(latitude, bool):
        raise RowProblem(f"geometry: expected numbers, found {shown(position)}")
    return coordinates(latitude, longitude)
