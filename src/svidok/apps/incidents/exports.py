"""Exports of incidents: CSV and GeoJSON, full or for publication.

The public form is for figures the public can trust without putting anyone at
risk: coordinates are rounded to ``decimals`` places (2 ≈ 1 km; set with
``SVIDOK_PUBLIC_DECIMALS``) and the precision says so; sources, perpetrator
attribution (an allegation until a court says otherwise), upstream attributes and
free-text descriptions (which may name victims or witnesses) are left out.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

from svidok.apps.incidents.models import Incident
from svidok.apps.incidents.presenting import incident_json
from svidok.core.errors import InvalidInput

PUBLIC_FIELDS = ("id", "title", "start", "end", "time_precision", "latitude", "longitude",
                 "location_precision", "oblast", "oblast_name", "raion", "hromada",
                 "event_type", "sub_type", "weapons", "objects_hit", "killed", "injured",
                 "children_harmed", "status")
FULL_FIELDS = (*PUBLIC_FIELDS, "description", "location_text", "settlement", "harm",
               "perpetrator", "dataset", "upstream_id", "gone_upstream", "collection")
FORMATS = {"csv": "text/csv; charset=utf-8", "geojson": "application/geo+json"}


def _blurred(row: dict[str, Any], decimals: int) -> dict[str, Any]:
    for name in ("latitude", "longitude"):
        if row[name] is not None:
            row[name] = round(row[name], decimals)
    if row["latitude"] is not None:
        row["location_precision"] = f"rounded to {decimals} decimal places"
    return row


def rows(incidents: Iterable[Incident], *, public: bool, decimals: int) -> list[dict[str, Any]]:
    fields = PUBLIC_FIELDS if public else FULL_FIELDS
    out = []
    for incident in incidents:
        data = incident_json(incident)
        row = {name: data[name] for name in fields}
        out.append(_blurred(row, decimals) if public else row)
    return out


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = str(value)
    # A cell starting with = + - @ is a formula to a spreadsheet: quote it.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def render(incidents: Iterable[Incident], *, fmt: str, public: bool,
           decimals: int) -> tuple[str, str]:
    """The export's text and content type."""
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown export format: expected csv or geojson, found {fmt!r}")
    table = rows(incidents, public=public, decimals=decimals)
    if fmt == "csv":
        buffer = io.StringIO()
        fields = PUBLIC_FIELDS if public else FULL_FIELDS
        writer = csv.writer(buffer)
        writer.writerow(fields)
        for row in table:
            writer.writerow([_cell(row[name]) for name in fields])
        return buffer.getvalue(), FORMATS[fmt]
    features = [{"type": "Feature",
                 "geometry": ({"type": "Point", "coordinates": [row["longitude"],
                                                                row["latitude"]]}
                              if row["latitude"] is not None and row["longitude"] is not None
                              else None),
                 "properties": {k: v for k, v in row.items()
                                if k not in ("latitude", "longitude")}}
                for row in table]
    return json.dumps({"type": "FeatureCollection", "features": features},
                      ensure_ascii=False), FORMATS[fmt]
