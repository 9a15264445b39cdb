"""Reverse lookup (a point → oblast, raion, hromada, nearest settlement) and search by name.

Oblasts are found by their polygons. Raion and hromada boundaries are not
shipped, so a point's hromada is the hromada of the nearest of the hromada
centroids and the GeoNames settlements with a KATOTTG code, inside the oblast
found; its raion is that hromada's raion. Near a hromada boundary this can name
the neighbour: the result says so (``hromada_method``).
"""

from __future__ import annotations

import bisect
import difflib
import functools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.ops import nearest_points

from svidok.core.errors import InvalidInput
from svidok.core.geo.names import fold, loose, name_keys
from svidok.core.geo.places import (
    KINDS,
    Place,
    cached_places,
    distance_km,
    shipped_polygons,
)
from svidok.core.geo.regions import Region, region_by_code

__all__ = ["Gazetteer", "Location", "OblastLocator", "SearchHit", "gazetteer"]

MAX_QUERY = 200
MIN_PREFIX = 3  # shorter queries find exact names only
BORDER_TOLERANCE_KM = 5.0  # simplified polygons: a point this close outside still counts
EARTH_KM = 6371.0
_UNIT_WORDS = {"oblast", "область", "obl", "raion", "район", "rayon", "r n", "hromada",
               "громада", "gromada", "otg", "тг", "м", "с", "смт", "city", "місто", "village",
               "село", "селище"}
_KIND_RANK = {kind: rank for rank, kind in enumerate(KINDS)}


class OblastLocator:
    """Which first-level unit a point lies in, by the shipped polygons."""

    def __init__(self, collection: dict[str, Any]) -> None:
        self._regions: list[Region] = []
        geometries = []
        for feature in collection["features"]:
            region = region_by_code(feature["properties"]["shapeISO"])
            if region is None:
                continue
            self._regions.append(region)
            geometries.append(shape(feature["geometry"]))
        self._geometries = np.array(geometries, dtype=object)
        for geometry in geometries:
            shapely.prepare(geometry)
        self._tree = shapely.STRtree(geometries)

    def region_at(self, latitude: float, longitude: float) -> Region | None:
        point = shapely.Point(longitude, latitude)
        for index in self._tree.query(point):
            if self._geometries[index].contains(point):
                return self._regions[int(index)]
        # Within a few km of a polygon (simplified coastlines and borders).
        index = self._tree.nearest(point)
        if index is None:
            return None
        nearest = nearest_points(self._geometries[index], point)[0]
        if distance_km(latitude, longitude, nearest.y, nearest.x) <= BORDER_TOLERANCE_KM:
            return self._regions[int(index)]
        return None


@dataclass(frozen=True, slots=True)
class Location:
    """Where a point lies. Empty (all None) outside Ukraine."""

    latitude: float
    longitude: float
    oblast: Place | None
    raion: Place | None
    hromada: Place | None
    settlement: Place | None
    settlement_km: float | None
    hromada_method: str

    def to_json(self) -> dict[str, Any]:
        def brief(place: Place | None) -> dict[str, Any] | None:
            if place is None:
                return None
            return {"code": place.code, "name_uk": place.name_uk, "name_en": place.name_en}

        return {
            "latitude": self.latitude, "longitude": self.longitude,
            "oblast": brief(self.oblast), "raion": brief(self.raion),
            "hromada": brief(self.hromada), "hromada_method": self.hromada_method,
            "settlement": brief(self.settlement),
            "settlement_km": None if self.settlement_km is None else round(self.settlement_km, 2),
        }


@dataclass(frozen=True, slots=True)
class SearchHit:
    place: Place
    match: str  # "exact", "prefix" or "similar"

    def to_json(self) -> dict[str, Any]:
        return {**self.place.to_json(), "match": self.match}


class Gazetteer:
    """Places of Ukraine: search by name in any spelling, and reverse lookup."""

    def __init__(self, places: list[Place], polygons: dict[str, Any]) -> None:
        self.places = places
        self.by_code = {p.code: p for p in places}
        self._locator = OblastLocator(polygons)
        self._keys: dict[str, list[int]] = {}
        for index, place in enumerate(places):
            names = (place.name_uk, place.name_en, place.name_ru, *place.other_names)
            for name in {*names, *(_without_unit_words(n) for n in names)}:
                for key in name_keys(name):
                    bucket = self._keys.setdefault(key, [])
                    if not bucket or bucket[-1] != index:
                        bucket.append(index)
        self._sorted_keys = sorted(self._keys)
        # Points that say which hromada an area belongs to: centroids and coded settlements.
        anchors = [(p.latitude, p.longitude, p.hromada) for p in places
                   if p.hromada and p.latitude is not None and p.longitude is not None
                   and not p.approximate and p.kind in ("hromada", "settlement")]
        anchors_at = np.array([(a[0], a[1]) for a in anchors], dtype=np.float64).reshape(-1, 2)
        self._anchor_lat = np.radians(anchors_at[:, 0])
        self._anchor_lon = np.radians(anchors_at[:, 1])
        self._anchor_hromada = [a[2] for a in anchors]
        towns = [i for i, p in enumerate(places) if p.kind == "settlement"
                 and not p.approximate and p.latitude is not None and p.longitude is not None]
        self._town_index = towns
        towns_at = np.array([(places[i].latitude, places[i].longitude) for i in towns],
                            dtype=np.float64).reshape(-1, 2)
        self._town_lat = np.radians(towns_at[:, 0])
        self._town_lon = np.radians(towns_at[:, 1])

    # ------------------------------------------------------------------ reverse lookup

    def locate(self, latitude: float, longitude: float) -> Location:
        """Oblast, raion and hromada a point falls in, and the nearest settlement of
        500 inhabitants or more (GeoNames) with its distance."""
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180) or math.isnan(
                latitude + longitude):
            raise InvalidInput(f"coordinates out of range: expected latitude -90..90 and "
                               f"longitude -180..180, found {latitude}, {longitude}")
        region = self._locator.region_at(latitude, longitude)
        if region is None:
            return Location(latitude, longitude, None, None, None, None, None, "outside Ukraine")
        oblast = self.by_code.get(region.pcode)
        hromada = raion = None
        method = "none (a city with special status)"
        if not region.is_city:
            code = self._nearest_hromada(latitude, longitude, region.pcode)
            hromada = self.by_code.get(code) if code else None
            raion = self.by_code.get(code[:6]) if code else None
            method = "nearest hromada centroid or settlement in the oblast"
        town, km = self._nearest_town(latitude, longitude)
        return Location(latitude, longitude, oblast, raion, hromada, town, km, method)

    def _distances(self, lat: float, lon: float, lats: np.ndarray,
                   lons: np.ndarray) -> np.ndarray:
        p = math.radians(lat)
        a = (np.sin((lats - p) / 2) ** 2
             + math.cos(p) * np.cos(lats) * np.sin((lons - math.radians(lon)) / 2) ** 2)
        result: np.ndarray = 2 * EARTH_KM * np.arcsin(np.sqrt(np.minimum(1.0, a)))
        return result

    def _nearest_hromada(self, lat: float, lon: float, oblast: str) -> str | None:
        if not self._anchor_hromada:
            return None
        distances = self._distances(lat, lon, self._anchor_lat, self._anchor_lon)
        for index in np.argsort(distances)[:200]:
            code = self._anchor_hromada[int(index)]
            if code and code.startswith(oblast):
                return code
        return None

    def _nearest_town(self, lat: float, lon: float) -> tuple[Place | None, float | None]:
        if not self._town_index:
            return None, None
        distances = self._distances(lat, lon, self._town_lat, self._town_lon)
        best = int(np.argmin(distances))
        return self.places[self._town_index[best]], float(distances[best])

    # ------------------------------------------------------------------ search

    def search(self, query: str, *, kind: str | None = None, oblast: str | None = None,
               limit: int = 10) -> list[SearchHit]:
        """Places whose name, in any spelling, is ``query``; then names starting with it;
        then similar names (misspellings). Broader units and bigger places first.

        Words such as "oblast", "район" or "громада" narrow the kind and are not
        part of the name.
        """
        if kind is not None and kind not in KINDS:
            raise InvalidInput(f"unknown kind of place: expected one of {', '.join(KINDS)}, "
                               f"found {kind!r}")
        if len(query) > MAX_QUERY:
            return []  # no place name is that long
        words = fold(query).split()
        wanted_kind = kind or _kind_named(words)
        bare = _without_unit_words(query)
        if not bare:
            return []
        keys = name_keys(bare)
        # Loose keys (y = i, doubled letters once) are too loose to extend as prefixes.
        prefixes = {bare} | {k for k in keys if k != loose(k) or k == bare}
        if wanted_kind in ("oblast", "raion", "hromada"):
            keys |= {k for adjective in _adjectives(bare) for k in name_keys(adjective)}

        def allowed(place: Place) -> bool:
            return ((wanted_kind is None or place.kind == wanted_kind)
                    and (oblast is None or place.oblast == oblast))

        found: dict[int, str] = {}
        for key in keys:
            for index in self._keys.get(key, ()):
                found.setdefault(index, "exact")
        if len(found) < limit:
            for key in prefixes:
                if len(key) < MIN_PREFIX:
                    continue
                start = bisect.bisect_left(self._sorted_keys, key)
                for candidate in self._sorted_keys[start:start + 200]:
                    if not candidate.startswith(key):
                        break
                    for index in self._keys[candidate]:
                        found.setdefault(index, "prefix")
        if not any(allowed(self.places[i]) for i in found):
            for key in keys:
                for close in difflib.get_close_matches(key, self._sorted_keys, n=5, cutoff=0.8):
                    for index in self._keys[close]:
                        found.setdefault(index, "similar")
        hits = [SearchHit(self.places[i], match) for i, match in found.items()
                if allowed(self.places[i])]
        order = {"exact": 0, "prefix": 1, "similar": 2}
        # "Kyiv" alone means the city; "Kyiv oblast" the oblast (found by its bare name too).
        oblast_penalty = wanted_kind is None

        def rank(hit: SearchHit) -> tuple[object, ...]:
            place = hit.place
            return (order[hit.match], oblast_penalty and place.category == "oblast",
                    _KIND_RANK[place.kind], place.approximate, -(place.population or 0),
                    place.code)

        hits.sort(key=rank)
        return hits[:limit]


def _without_unit_words(name: str) -> str:
    return " ".join(w for w in fold(name).split() if w not in _UNIT_WORDS)


def _kind_named(words: list[str]) -> str | None:
    if any(w in ("oblast", "область", "obl") for w in words):
        return "oblast"
    if any(w in ("raion", "район", "rayon") for w in words):
        return "raion"
    if any(w in ("hromada", "громада", "gromada", "otg", "тг") for w in words):
        return "hromada"
    return None


def _adjectives(name: str) -> list[str]:
    """Administrative units are named by adjectives (Харківська область, Ізюмська
    громада): the forms of a place name to try for them."""
    return [name + ending for ending in ("ська", "ський", "ska", "skyi", "ская", "ский")]


@functools.lru_cache(maxsize=4)
def gazetteer(cache_dir: Path | None = None) -> Gazetteer:
    """The gazetteer, built once per process (and cached on disk between processes)."""
    return Gazetteer(cached_places(cache_dir), shipped_polygons())
