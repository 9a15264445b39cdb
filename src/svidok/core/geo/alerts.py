"""Air-raid alerts as corroboration of an incident's time and place.

Source: the public air-raid alert dataset (``official_data_en.csv`` and
``volunteer_data_en.csv``, times in UTC; see its ``datasets_README.md``).

What "corroboration" means here: an alert that was active in the incident's
oblast, raion or hromada at the time claimed (:meth:`AlertIndex.active`), or
during the window the time is known to (:meth:`AlertIndex.around`), makes a
claimed air or missile strike *consistent* with the record. That is all it does:

* an alert is not proof of a strike — most alerts end with nothing falling, and
  an alert covers a whole oblast (or raion, or hromada), not a point;
* the absence of an alert is weak evidence against an air strike and none against
  shelling: artillery, drones over the front line and short-range missiles often
  arrive with no alert, and the files have gaps;
* official data start on 2022-03-15 (the first recorded siren); volunteer data
  (from the eTryvoga channel) start on 2022-02-25, are oblast-level only, and
  end ``naive`` alerts at a guessed start + 30 minutes (``naive_end``);
* official alerts are mostly oblast-wide until December 2025, after which they are
  mostly raion-level. Earlier local alerts exist too (the snapshot ending 2024-04-22
  has 897 raion-level rows, nearly all from 2022, and 5,597 hromada-level rows
  from 2022-2024), so a place may have had local alerts its oblast did not;
* the two sources overlap: the same siren may appear once in each, so count the
  sources that agree, not the periods;
* the two permanent alerts the README mentions (Luhansk oblast from 2022-04-04,
  Crimea from 2022-12-10) are added by :func:`permanent_periods`; they say nothing
  about a given day. The README names Crimea only: Sevastopol is not included;
* coverage ends with the snapshot of the files that was loaded.

Parsing a file:

1. read the bytes and decode UTF-8, dropping a byte-order mark; bytes that are not
   UTF-8 fail only the rows they are in;
2. check the header: a missing column (or a missing or unreadable file) raises
   :class:`~svidok.core.errors.InvalidInput` naming the expected and found columns;
3. check each row — number of fields, level, times (end not before start) — and
   turn each bad one into an :class:`AlertRowError`, never an exception;
4. map the unit names to P-codes: oblasts with :func:`region_by_name`, raions and
   hromadas with the gazetteer restricted to the kind and the oblast (and, for a
   hromada, the raion), exact matches first, each distinct name looked up once.
   Names that match nothing are counted in ``unresolved``; a row whose oblast is
   unknown is also an error, a row whose raion or hromada is unknown is kept with
   an empty code (which :class:`AlertIndex` cannot file under any place).
"""

from __future__ import annotations

import bisect
import csv
import io
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from svidok.core.errors import InvalidInput
from svidok.core.geo.lookup import Gazetteer, SearchHit, gazetteer
from svidok.core.geo.names import fold
from svidok.core.geo.regions import region_by_code, region_by_name

__all__ = [
    "LEVELS",
    "OFFICIAL_COLUMNS",
    "SOURCES",
    "VOLUNTEER_COLUMNS",
    "AlertIndex",
    "AlertParse",
    "AlertPeriod",
    "AlertRowError",
    "parse_official",
    "parse_volunteer",
    "permanent_periods",
]

OFFICIAL_COLUMNS = ("oblast", "raion", "hromada", "level", "started_at", "finished_at",
                    "source")
VOLUNTEER_COLUMNS = ("region", "started_at", "finished_at", "naive")
LEVELS = ("oblast", "raion", "hromada")
SOURCES = ("official", "volunteer", "readme")
SEARCH_LIMIT = 20  # several hromadas of an oblast can share a name ("Pokrovska")

# Units renamed since the alert data were named (the gazetteer knows the new names).
# Novohrad-Volynskyi raion became Zviahelskyi when its centre became Zviahel.
_RENAMED = {"novohrad volynskyi": "Zviahelskyi"}
# Words of the upstream English names that say what kind of unit it is.
_UNIT_WORDS = {"raion", "rayon", "district", "hromada", "terytorialna", "territorial",
               "community", "otg", "miska", "selyshchna", "silska"}
# "m. Kharkiv ta Kharkivska terytorialna hromada": the hromada of the city of Kharkiv.
_CITY_HROMADA = re.compile(r"^m (?P<city>.+?) ta (?P<rest>.+)$")
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


@dataclass(frozen=True, slots=True)
class AlertPeriod:
    """One alert: a unit under alert from ``started_at`` until ``finished_at``.

    ``level`` says which unit: the whole oblast, one raion, or one hromada; the
    codes of the broader units are filled in too. ``finished_at`` is None for an
    alert still running or permanent. ``naive_end``: the end is the volunteers'
    guess (start + 30 minutes). ``row``: line of the file (the header is line 1;
    0 for the README's periods). ``name``: the upstream name of the unit, verbatim.
    """

    source: str
    level: str
    oblast: str
    raion: str
    hromada: str
    started_at: datetime
    finished_at: datetime | None
    naive_end: bool
    permanent: bool
    row: int
    name: str

    @property
    def unit(self) -> str:
        """The P-code of the unit under alert; empty when its name was not resolved."""
        return {"oblast": self.oblast, "raion": self.raion, "hromada": self.hromada}[self.level]


@dataclass(frozen=True, slots=True)
class AlertRowError:
    """A row that could not be read, and why (what was expected, what was found)."""

    row: int
    reason: str


@dataclass(frozen=True, slots=True)
class AlertParse:
    """What a file yielded: its periods, its bad rows, the unit names matching no
    code (with the number of rows naming each), and rows repaired on the way (with
    the repair)."""

    periods: list[AlertPeriod]
    errors: list[AlertRowError]
    unresolved: dict[str, int]
    repairs: list[AlertRowError] = field(default_factory=list)


def permanent_periods() -> list[AlertPeriod]:
    """The two permanent alerts the dataset's README describes but its files omit."""
    return [
        AlertPeriod("readme", "oblast", "UA44", "", "", datetime(2022, 4, 4, 16, 45, tzinfo=UTC),
                    None, False, True, 0, "Luhansk region"),
        AlertPeriod("readme", "oblast", "UA01", "", "", datetime(2022, 12, 10, 22, 22, tzinfo=UTC),
                    None, False, True, 0, "Crimea"),
    ]


# ---------------------------------------------------------------------- parsing


def parse_official(path: Path | str, *, places: Gazetteer | None = None) -> AlertParse:
    """Read ``official_data_en.csv``: oblast-, raion- and hromada-level alerts.

    ``places``: the gazetteer to resolve raion and hromada names with (the shipped
    one, loaded only if the file has such rows, when not given).
    """
    resolver = _Resolver(places)
    periods: list[AlertPeriod] = []
    errors: list[AlertRowError] = []
    repairs: list[AlertRowError] = []
    at = {name: index for index, name in enumerate(OFFICIAL_COLUMNS)}
    for row, fields in _rows(Path(path), OFFICIAL_COLUMNS, "official", errors):
        oblast_name, raion_name, hromada_name = (fields[at["oblast"]], fields[at["raion"]],
                                                 fields[at["hromada"]])
        if _says(raion_name, "oblast") and _says(oblast_name, "raion"):
            repairs.append(AlertRowError(row, f"oblast and raion columns swapped: "
                                              f"found oblast {oblast_name!r}, raion "
                                              f"{raion_name!r}; read the other way round"))
            oblast_name, raion_name = raion_name, oblast_name
        level = fields[at["level"]].strip()
        if level not in LEVELS:
            errors.append(AlertRowError(row, f"unknown level: expected one of "
                                             f"{', '.join(LEVELS)}, found {level!r}"))
            continue
        needs_raion = level in ("raion", "hromada")
        if needs_raion and not raion_name.strip() \
                or level == "hromada" and not hromada_name.strip():
            errors.append(AlertRowError(row, f"level {level} needs the {level} column (and "
                                             f"the raion's), found raion {raion_name!r}, "
                                             f"hromada {hromada_name!r}"))
            continue
        times = _times(fields[at["started_at"]], fields[at["finished_at"]])
        if isinstance(times, str):
            errors.append(AlertRowError(row, times))
            continue
        oblast = resolver.oblast(oblast_name)
        if not oblast:
            errors.append(AlertRowError(row, f"unknown oblast: expected an oblast's name, "
                                             f"found {oblast_name!r}"))
            continue
        raion = hromada = ""
        if level != "oblast":
            raion = resolver.raion(raion_name, oblast)
        if level == "hromada":
            hromada = resolver.hromada(hromada_name, oblast, raion)
            raion = raion or hromada[:6]
        name = {"oblast": oblast_name, "raion": raion_name, "hromada": hromada_name}[level]
        periods.append(AlertPeriod("official", level, oblast, raion, hromada, times[0],
                                   times[1], False, False, row, name))
    return AlertParse(periods, errors, resolver.unresolved, repairs)


def parse_volunteer(path: Path | str) -> AlertParse:
    """Read ``volunteer_data_en.csv``: oblast-level alerts, some with a guessed end."""
    resolver = _Resolver(None)
    periods: list[AlertPeriod] = []
    errors: list[AlertRowError] = []
    at = {name: index for index, name in enumerate(VOLUNTEER_COLUMNS)}
    for row, fields in _rows(Path(path), VOLUNTEER_COLUMNS, "volunteer", errors):
        naive_text = fields[at["naive"]].strip().lower()
        if naive_text not in _TRUE | _FALSE:
            errors.append(AlertRowError(row, f"naive must be True or False, "
                                             f"found {fields[at['naive']]!r}"))
            continue
        times = _times(fields[at["started_at"]], fields[at["finished_at"]])
        if isinstance(times, str):
            errors.append(AlertRowError(row, times))
            continue
        region_name = fields[at["region"]]
        oblast = resolver.oblast(region_name)
        if not oblast:
            errors.append(AlertRowError(row, f"unknown oblast: expected an oblast's name, "
                                             f"found {region_name!r}"))
            continue
        periods.append(AlertPeriod("volunteer", "oblast", oblast, "", "", times[0], times[1],
                                   naive_text in _TRUE, False, row, region_name))
    return AlertParse(periods, errors, resolver.unresolved)


def _rows(path: Path, columns: tuple[str, ...], kind: str,
          errors: list[AlertRowError]) -> Iterator[tuple[int, list[str]]]:
    """Rows of the file as fields in the order of ``columns``, with their line; rows
    of the wrong shape or with undecodable bytes go to ``errors``."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read the {kind} alerts file {path}: "
                           f"{exc.strerror or exc}", path=str(path)) from exc
    try:
        text = data.decode("utf-8")
        undecodable = False
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="surrogateescape")
        undecodable = True
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    header = next(reader, None)
    found = [name.strip() for name in header or []]
    missing = [name for name in columns if name not in found]
    if missing:
        raise InvalidInput(
            f"{path.name} is not a {kind} alerts file: expected columns "
            f"{', '.join(columns)}, found {', '.join(map(repr, found)) or 'no header'}",
            path=str(path), expected=list(columns), found=found)
    order = [found.index(name) for name in columns]
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            errors.append(AlertRowError(reader.line_num, f"not readable as CSV: {exc}"))
            continue
        row = reader.line_num
        if not fields:
            continue  # blank line
        if len(fields) != len(found):
            errors.append(AlertRowError(row, f"expected {len(found)} fields "
                                             f"({', '.join(found)}), found {len(fields)}"))
            continue
        if undecodable and any(_has_undecodable(value) for value in fields):
            bad = next(value for value in fields if _has_undecodable(value))
            shown = bad.encode("utf-8", errors="surrogateescape")
            errors.append(AlertRowError(row, f"expected UTF-8 text, found bytes {shown!r}"))
            continue
        yield row, [fields[index] for index in order]


def _has_undecodable(value: str) -> bool:
    return any("\udc80" <= char <= "\udcff" for char in value)


def _says(name: str, word: str) -> bool:
    return word in fold(name).split()


def _utc(text: str) -> datetime | None:
    text = text.strip()
    if ":" not in text:
        return None  # a bare date is no moment
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    # The README: all times are UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _times(start_text: str, end_text: str) -> tuple[datetime, datetime | None] | str:
    """Start and end in UTC, or why they are not acceptable."""
    started = _utc(start_text)
    if started is None:
        return (f"started_at: expected a date and time like 2022-03-15 16:10:34+00:00, "
                f"found {start_text!r}")
    if not end_text.strip():
        return started, None  # still running
    finished = _utc(end_text)
    if finished is None:
        return (f"finished_at: expected a date and time like 2022-03-15 16:50:07+00:00 "
                f"or nothing, found {end_text!r}")
    if finished < started:
        return (f"alert ends before it starts: expected finished_at >= started_at "
                f"({started.isoformat()}), found {finished.isoformat()}")
    return started, finished


class _Resolver:
    """Upstream unit names to P-codes, each distinct name looked up once."""

    def __init__(self, places: Gazetteer | None) -> None:
        self._places = places
        self._cache: dict[tuple[str, str, str, str], str] = {}
        self.unresolved: dict[str, int] = {}

    def _gazetteer(self) -> Gazetteer:
        if self._places is None:
            self._places = gazetteer()
        return self._places

    def _cached(self, kind: str, name: str, oblast: str = "", raion: str = "") -> str:
        key = (kind, name, oblast, raion)
        code = self._cache.get(key)
        if code is None:
            code = self._cache[key] = self._find(*key)
        if not code:
            self.unresolved[name] = self.unresolved.get(name, 0) + 1
        return code

    def oblast(self, name: str) -> str:
        return self._cached("oblast", name)

    def raion(self, name: str, oblast: str) -> str:
        return self._cached("raion", name, oblast)

    def hromada(self, name: str, oblast: str, raion: str) -> str:
        return self._cached("hromada", name, oblast, raion)

    def _find(self, kind: str, name: str, oblast: str = "", raion: str = "") -> str:
        if kind == "oblast":
            region = region_by_name(name)
            return region.pcode if region else ""
        folded = fold(name)
        city = ""
        if kind == "hromada" and (match := _CITY_HROMADA.match(folded)):
            city, folded = match["city"], match["rest"]
        bare = " ".join(word for word in folded.split() if word not in _UNIT_WORDS)
        if not bare:
            return ""
        bare = _RENAMED.get(bare, bare)
        places = self._gazetteer()
        hits = places.search(bare, kind=kind, oblast=oblast, limit=SEARCH_LIMIT)
        if raion:
            hits = [hit for hit in hits if hit.place.raion == raion]
        codes = _best(hits)
        if len(codes) > 1 and city:
            # Two hromadas of the name in the raion: the one whose centre is the city.
            towns = places.search(city, kind="settlement", oblast=oblast, limit=SEARCH_LIMIT)
            codes = {hit.place.hromada or "" for hit in towns
                     if hit.match == "exact" and hit.place.hromada in codes}
        return codes.pop() if len(codes) == 1 else ""


def _best(hits: list[SearchHit]) -> set[str]:
    """Codes of the exact matches, or of every match when none is exact."""
    exact = {hit.place.code for hit in hits if hit.match == "exact"}
    return exact or {hit.place.code for hit in hits}


# ---------------------------------------------------------------------- the index


class _Unit:
    """The alerts of one unit, sorted by start, with the latest end reached so far."""

    __slots__ = ("ends", "open", "periods", "reach", "starts")

    def __init__(self, periods: list[AlertPeriod]) -> None:
        closed = sorted((p for p in periods if p.finished_at is not None),
                        key=lambda p: p.started_at)
        self.periods = closed
        self.starts = [p.started_at.timestamp() for p in closed]
        self.ends = [p.finished_at.timestamp() if p.finished_at else math.inf for p in closed]
        self.reach: list[float] = []
        latest = -math.inf
        for end in self.ends:
            latest = max(latest, end)
            self.reach.append(latest)
        self.open = sorted((p for p in periods if p.finished_at is None),
                           key=lambda p: p.started_at)

    def overlapping(self, first: float, last: float) -> Iterator[AlertPeriod]:
        """Periods [start, end) meeting the closed window [first, last]."""
        index = bisect.bisect_right(self.starts, last) - 1
        while index >= 0 and self.reach[index] > first:
            if self.ends[index] > first:
                yield self.periods[index]
            index -= 1
        for period in self.open:
            if period.started_at.timestamp() > last:
                break
            yield period


class AlertIndex:
    """Which alerts covered a place at a moment or during a window.

    A place is an oblast, optionally narrowed to a raion and a hromada (P-codes).
    It is covered by the alerts of its oblast, of its raion and of its hromada —
    not by those of other hromadas of its raion. Periods whose unit was not
    resolved are not filed (``unfiled`` counts them). Each query bisects the
    sorted starts of at most three units, then walks back only as far as the
    latest end reached so far can still meet the window.
    """

    def __init__(self, periods: Iterable[AlertPeriod]) -> None:
        grouped: dict[tuple[str, str], list[AlertPeriod]] = {}
        self.unfiled = 0
        self.size = 0
        for period in periods:
            if not period.unit:
                self.unfiled += 1
                continue
            grouped.setdefault((period.level, period.unit), []).append(period)
            self.size += 1
        self._units = {key: _Unit(group) for key, group in grouped.items()}

    def __len__(self) -> int:
        return self.size

    def active(self, at: datetime, *, oblast: str, raion: str = "",
               hromada: str = "") -> list[AlertPeriod]:
        """Alerts covering the place at ``at`` (start <= at < end), earliest first."""
        moment = _timestamp(at, "at")
        return self._find(moment, moment, oblast, raion, hromada)

    def around(self, start: datetime, end: datetime, *, oblast: str, raion: str = "",
               hromada: str = "") -> list[AlertPeriod]:
        """Alerts covering the place at some moment from ``start`` to ``end``
        (an incident known only to the day or hour), earliest first."""
        first, last = _timestamp(start, "start"), _timestamp(end, "end")
        if last < first:
            raise InvalidInput(f"window ends before it starts: expected end >= start "
                               f"({start.isoformat()}), found {end.isoformat()}")
        return self._find(first, last, oblast, raion, hromada)

    def _find(self, first: float, last: float, oblast: str, raion: str,
              hromada: str) -> list[AlertPeriod]:
        found: list[AlertPeriod] = []
        for key in _units_of(oblast, raion, hromada):
            unit = self._units.get(key)
            if unit is not None:
                found.extend(unit.overlapping(first, last))
        found.sort(key=lambda p: (p.started_at, p.source, LEVELS.index(p.level)))
        return found


def _timestamp(moment: datetime, what: str) -> float:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput(f"{what}: expected a time with a time zone (alerts are in UTC), "
                           f"found naive {moment.isoformat()}")
    return moment.timestamp()


def _units_of(oblast: str, raion: str, hromada: str) -> list[tuple[str, str]]:
    """The (level, code) of the units covering a place; checks the codes nest."""
    region = region_by_code(oblast)
    if region is None or region.pcode != oblast:
        raise InvalidInput(f"oblast: expected a P-code such as UA63, found {oblast!r}")
    raion = raion or hromada[:6]
    if raion and (len(raion) != 6 or not raion.startswith(oblast)):
        raise InvalidInput(f"raion: expected a P-code of six characters starting with "
                           f"{oblast}, found {raion!r}")
    if hromada and (len(hromada) != 9 or not hromada.startswith(raion)):
        raise InvalidInput(f"hromada: expected a P-code of nine characters starting with "
                           f"{raion}, found {hromada!r}")
    units = [("oblast", oblast)]
    if raion:
        units.append(("raion", raion))
    if hromada:
        units.append(("hromada", hromada))
    return units
