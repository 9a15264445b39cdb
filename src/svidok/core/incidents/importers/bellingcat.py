"""Bellingcat's "Civilian Harm in Ukraine" TimeMap data, in either of its shapes.

1. The export: a folder with ``export_events.json`` (events citing source ids
   and association ids), ``export_sources.json`` (sources by id, each with
   ``paths``; the path ``HIDDEN`` marks a source withheld to protect someone)
   and ``export_associations.json`` (association ids → ``filter_paths`` such as
   ``["Weapon System", "Cluster munitions"]``). Any of the three files, or the
   folder, may be given.
2. The denormalised list: one JSON array of events, each with its sources
   inline (``{id, path, description}``) and its filters as ``{key, value}``.

Dates are MM/DD/YYYY in Ukrainian local time (Europe/Kyiv). The export's
``time`` is always "00:00", which in practice means "not recorded": such events
get day precision, from local midnight to the next. Bellingcat has no titles;
one is derived from the location and the first sentence of the description.
Event type and sub-type follow from the weapon system where it implies them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from svidok.core.errors import InvalidInput
from svidok.core.incidents.importers._classify import event_from_weapons
from svidok.core.incidents.importers._collect import Collector
from svidok.core.incidents.importers._fields import (
    MAX_DESCRIPTION,
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
from svidok.core.incidents.importers._files import read_bytes
from svidok.core.incidents.importers._sources import is_hidden, web_address
from svidok.core.incidents.importers._time import DateReader
from svidok.core.incidents.records import ImportedIncident, ParsedDataset, SourceRef
from svidok.core.incidents.urls import MAX_URL_LENGTH
from svidok.core.incidents.vocab import ObjectType, TimePrecision, Weapon

DATASET = "bellingcat"
EVENTS, SOURCES, ASSOCIATIONS = (
    "export_events.json", "export_sources.json", "export_associations.json")
AREA, WEAPON_SYSTEM = "Type of area affected", "Weapon System"
REQUIRED_KEYS = ("id", "date", "latitude", "longitude")
# Keys read into incident fields; any other key of an event is kept as an attribute.
_READ = frozenset({"id", "date", "time", "latitude", "longitude", "location", "description",
                   "sources", "associations", "filters"})

OBJECT_OF_AREA: dict[str, ObjectType] = {
    "residential": ObjectType.RESIDENTIAL,
    "industrial": ObjectType.INDUSTRIAL,
    "administrative": ObjectType.ADMINISTRATIVE,
    "healthcare": ObjectType.HEALTHCARE,
    "school or childcare": ObjectType.SCHOOL_OR_CHILDCARE,
    "military": ObjectType.MILITARY,
    "undefined": ObjectType.UNDEFINED,
    "commercial": ObjectType.COMMERCIAL,
    "religious": ObjectType.RELIGIOUS,
    "cultural": ObjectType.CULTURAL,
    "roads/highways/transport": ObjectType.TRANSPORT,
    "humanitarian": ObjectType.HUMANITARIAN,
    "food/food infrastructure": ObjectType.FOOD,
}
WEAPON_OF_SYSTEM: dict[str, Weapon] = {
    "he rocket artillery": Weapon.HE_ROCKET_ARTILLERY,
    "he artillery inc mortars": Weapon.HE_ARTILLERY,
    "he tube artillery": Weapon.HE_TUBE_ARTILLERY,
    "cluster munitions": Weapon.CLUSTER_MUNITIONS,
    "incendiary munitions": Weapon.INCENDIARY,
    "cruise missile": Weapon.CRUISE_MISSILE,
    "ballistic missile": Weapon.BALLISTIC_MISSILE,
    "thermobaric munition": Weapon.THERMOBARIC,
    "vehicle mounted weapon": Weapon.VEHICLE_MOUNTED_WEAPON,
    "small arms": Weapon.SMALL_ARMS,
    "air strike": Weapon.AIR_STRIKE,
    "land mines": Weapon.LAND_MINES,
    "anti-air missile": Weapon.ANTI_AIR_MISSILE,
    "loitering munition": Weapon.LOITERING_MUNITION,
    "unknown": Weapon.UNKNOWN,
}


def parse(path: Path) -> ParsedDataset:
    """Parse Bellingcat's TimeMap export (folder or any of its files) or its
    denormalised JSON list. Raises InvalidInput if the data cannot be read at all."""
    if path.is_dir() or path.name in (EVENTS, SOURCES, ASSOCIATIONS):
        folder = path if path.is_dir() else path.parent
        return _parse_export(folder)
    document = _load(path)
    if isinstance(document, list) and any(isinstance(e, dict) and "associations" in e
                                          for e in document):
        return _parse_export(path.parent, events=document)
    return _parse_events(_events(document, path.name), _inline_source_refs, _inline_filters)


def _parse_export(folder: Path, events: Any = None) -> ParsedDataset:
    if events is None:
        events = _load(folder / EVENTS)
    sources = _load(folder / SOURCES)
    associations = _load(folder / ASSOCIATIONS)
    if not isinstance(sources, dict):
        raise InvalidInput(f"{SOURCES}: expected an object of sources by id, found "
                           f"{type(sources).__name__}")
    if not isinstance(associations, list):
        raise InvalidInput(f"{ASSOCIATIONS}: expected a list of associations, found "
                           f"{type(associations).__name__}")
    filters: dict[str, tuple[str, str]] = {}
    for association in associations:
        paths = association.get("filter_paths") if isinstance(association, dict) else None
        if not (isinstance(paths, list) and len(paths) == 2 and "id" in association):
            raise InvalidInput(f"{ASSOCIATIONS}: expected entries with an id and filter_paths "
                               f"[key, value], found {shown(association, 120)}")
        filters[as_text(association["id"])] = (as_text(paths[0]), as_text(paths[1]))

    def source_refs(event: dict[str, Any], cut: Truncations) -> list[SourceRef]:
        refs: list[SourceRef] = []
        for source_id in _list(event, "sources"):
            source = sources.get(as_text(source_id))
            if not isinstance(source, dict):
                raise RowProblem(f"sources: expected {shown(source_id)} in {SOURCES}, "
                                 "found no such source")
            paths = source.get("paths")
            for source_path in paths if isinstance(paths, list) else [paths]:
                refs.append(_source_ref(as_text(source_id), source_path, source.get("title"),
                                        source.get("description"), cut))
        return refs

    def filter_pairs(event: dict[str, Any]) -> list[tuple[str, str]]:
        pairs = []
        for association_id in _list(event, "associations"):
            pair = filters.get(as_text(association_id))
            if pair is None:
                raise RowProblem(f"associations: expected {shown(association_id)} in "
                                 f"{ASSOCIATIONS}, found no such association")
            pairs.append(pair)
        return pairs

    return _parse_events(_events(events, EVENTS), source_refs, filter_pairs)


def _inline_source_refs(event: dict[str, Any], cut: Truncations) -> list[SourceRef]:
    refs = []
    for source in _list(event, "sources"):
        if not isinstance(source, dict):
            raise RowProblem(f"sources: expected objects with id, path and description, "
                             f"found {shown(source)}")
        refs.append(_source_ref(as_text(source.get("id")) or None, source.get("path"),
                                source.get("title"), source.get("description"), cut))
    return refs


def _inline_filters(event: dict[str, Any]) -> list[tuple[str, str]]:
    pairs = []
    for item in _list(event, "filters"):
        if not isinstance(item, dict) or "key" not in item or "value" not in item:
            raise RowProblem(f"filters: expected objects with key and value, found {shown(item)}")
        pairs.append((as_text(item["key"]), as_text(item["value"])))
    return pairs


SourceReader = Callable[[dict[str, Any], Truncations], list[SourceRef]]
FilterReader = Callable[[dict[str, Any]], list[tuple[str, str]]]


def _parse_events(events: list[Any], source_refs: SourceReader,
                  filter_pairs: FilterReader) -> ParsedDataset:
    collector = Collector(DATASET)
    dates = DateReader("%m/%d/%Y", "%H:%M", midnight_means_unknown=True,
                       default_precision=TimePrecision.DAY)
    for row, event in enumerate(events, start=1):
        upstream_id: str | None = None
        try:
            if not isinstance(event, dict):
                raise RowProblem(f"expected an event object, found {type(event).__name__}")
            upstream_id = identifier(event.get("id"))
            collector.claim(row, upstream_id)
            cut = Truncations()
            incident = _incident(row, upstream_id, event, dates, cut,
                                 source_refs(event, cut), filter_pairs(event))
            collector.accept(incident)
        except RowProblem as problem:
            collector.refuse(row, upstream_id, str(problem))
    return collector.result()


def _incident(row: int, upstream_id: str, event: dict[str, Any], dates: DateReader,
              cut: Truncations, sources: list[SourceRef],
              filters: list[tuple[str, str]]) -> ImportedIncident:
    start, end, precision = dates.window(as_text(event.get("date")), as_text(event.get("time")))
    latitude, longitude = coordinates(event.get("latitude"), event.get("longitude"))
    weapons: list[Weapon] = []
    objects: list[ObjectType] = []
    other: dict[str, list[str]] = {}
    for key, value in filters:
        if key == WEAPON_SYSTEM:
            weapons.append(_known(WEAPON_OF_SYSTEM, value, "weapon system"))
        elif key == AREA:
            objects.append(_known(OBJECT_OF_AREA, value, "type of area affected"))
        else:
            other.setdefault(f"filter: {key}", []).append(value)
    event_type, sub_type = event_from_weapons(weapons)
    description = multiline(event.get("description"), name="description",
                            limit=MAX_DESCRIPTION, cut=cut)
    location = one_line(event.get("location"), name="location", cut=cut)
    fields = {str(key): _attribute(value) for key, value in event.items() if key not in _READ}
    fields.update({key: "; ".join(values) for key, values in other.items()})
    return ImportedIncident(
        dataset=DATASET, upstream_id=upstream_id, row=row,
        title=derived_title(location, description) or f"Bellingcat {upstream_id}",
        description=description, start=start, end=end, time_precision=precision,
        latitude=latitude, longitude=longitude, location_text=location,
        event_type=event_type, sub_type=sub_type,
        weapons=tuple(dict.fromkeys(weapons)), objects=tuple(dict.fromkeys(objects)),
        sources=tuple(sources), attributes=kept_attributes(fields, (), cut),
    )


def _source_ref(source_id: str | None, path: object, title: object, description: object,
                cut: Truncations) -> SourceRef:
    """One cited path. ``HIDDEN`` means withheld upstream; a path that is not a web
    address (Bellingcat has "facebook") is kept in the description."""
    text = one_line(path, name="source path", limit=MAX_URL_LENGTH, cut=cut)
    said = one_line(description, name="source description", cut=cut)
    name = one_line(title, name="source title", cut=cut)
    url = web_address(text)
    if url is not None:
        return SourceRef(source_id, url, name, said, False)
    hidden = is_hidden(text)
    detail = said if hidden or not text else " — ".join(filter(None, (said, text)))
    return SourceRef(source_id, None, name, detail, hidden)


def _known(table: dict[str, Any], value: str, what: str) -> Any:
    found = table.get(value.strip().casefold())
    if found is None:
        known = ", ".join(repr(member.label) for member in dict.fromkeys(table.values()))
        raise RowProblem(f"{what}: expected one of {known}; found {shown(value)}")
    return found


def _attribute(value: object) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return as_text(value)


def _list(event: dict[str, Any], key: str) -> list[Any]:
    value = event.get(key) or []
    if not isinstance(value, list):
        raise RowProblem(f"{key}: expected a list, found {shown(value)}")
    return value


def _load(path: Path) -> Any:
    try:
        data = read_bytes(path)
        if not data.strip():
            raise InvalidInput(f"{path.name} is empty: expected JSON")
        return json.loads(data)
    except InvalidInput:
        if not path.exists():
            raise InvalidInput(f"expected {path.name} at {path.parent}, found nothing there; "
                               f"a Bellingcat export holds {EVENTS}, {SOURCES} and "
                               f"{ASSOCIATIONS}") from None
        raise
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path.name}: expected UTF-8 JSON, found byte "
                           f"0x{exc.object[exc.start]:02x} at offset {exc.start}") from None
    except ValueError as exc:  # json.JSONDecodeError, and "Out of range float values"
        raise InvalidInput(f"{path.name}: expected JSON, found invalid JSON ({exc})") from None


def _events(document: Any, name: str) -> list[Any]:
    """The list of events, refused as a whole when it is not the data expected."""
    if not isinstance(document, list):
        raise InvalidInput(f"{name}: expected a JSON list of events, found "
                           f"{type(document).__name__}")
    keys: set[str] = set()
    for event in document:
        keys.update(event if isinstance(event, dict) else ())
    missing = [key for key in REQUIRED_KEYS if key not in keys]
    if document and missing:
        found = ", ".join(sorted(keys)) or "none"
        raise InvalidInput(f"{name}: expected events with the keys {', '.join(REQUIRED_KEYS)}; "
                           f"missing {', '.join(missing)}; found {found}")
    return document
