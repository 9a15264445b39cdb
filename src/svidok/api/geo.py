"""API operations on the offline gazetteer: places by name, and what lies at a point."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from svidok.api.access import SIGNED_IN, rule
from svidok.api.errors import ErrorOut
from svidok.core.geo.lookup import gazetteer
from svidok.core.geo.regions import REGIONS

router = Router(tags=["geography"])
ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut}
KIND_PATTERN = "^(oblast|raion|hromada|settlement)$"


class PlaceOut(Schema):
    kind: str
    code: str = Field(description="P-code (UA63, UA6314, UA6314017), settlement P-code "
                                  "(first 12 characters of KATOTTG) or geonames:<id>")
    name_uk: str
    name_en: str
    name_ru: str
    latitude: float | None
    longitude: float | None
    approximate: bool = Field(description="the point is the hromada's centroid")
    population: int | None
    category: str
    oblast: str | None
    raion: str | None
    hromada: str | None
    katottg: str | None
    geonames_id: int | None
    match: str = Field(description="exact, prefix or similar")


class PlaceSearchQuery(Schema):
    q: str = Field(..., min_length=1, max_length=200,
                   description="a name in Ukrainian, Russian or Latin letters; words such as "
                               "oblast, район or громада choose the kind")
    kind: str | None = Field(None, pattern=KIND_PATTERN)
    oblast: str | None = Field(None, pattern=f"^({'|'.join(r.pcode for r in REGIONS)})$",
                               description="P-code, e.g. UA63")
    limit: int = Field(10, ge=1, le=500)


class UnitOut(Schema):
    code: str
    name_uk: str
    name_en: str


class LocationOut(Schema):
    latitude: float
    longitude: float
    oblast: UnitOut | None
    raion: UnitOut | None
    hromada: UnitOut | None
    hromada_method: str
    settlement: UnitOut | None
    settlement_km: float | None


class LocateQuery(Schema):
    lat: float = Field(..., ge=-90, le=90)
    lon: float = Field(..., ge=-180, le=180)


@router.get("/geo/places", response={200: list[PlaceOut], **ERRORS})
@rule(SIGNED_IN)
def place_search(request: HttpRequest, query: Query[PlaceSearchQuery]) -> list[dict[str, Any]]:
    """Places of Ukraine by name in any spelling ("Kharkiv", "Харків", "Харьков")."""
    hits = gazetteer().search(query.q, kind=query.kind, oblast=query.oblast, limit=query.limit)
    return [hit.to_json() for hit in hits]


@router.get("/geo/locate", response={200: LocationOut, **ERRORS})
@rule(SIGNED_IN)
def place_locate(request: HttpRequest, query: Query[LocateQuery]) -> dict[str, Any]:
    """The oblast, raion, hromada and nearest settlement of a point (WGS 84)."""
    return gazetteer().locate(query.lat, query.lon).to_json()
