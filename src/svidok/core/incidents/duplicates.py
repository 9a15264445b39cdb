"""Candidate pairs of incidents that may record the same event, within one dataset
or across several (Bellingcat's Civilian Harm in Ukraine, CIR's monitor, records
entered by hand), each with a score and the reasons a reviewer reads.

Nothing here decides: :func:`find_candidates` proposes pairs, people confirm.

1. **Prepare.** Each incident's text becomes a set of word keys: dates and
   clock times removed (CIR titles start with their date), folded
   (:func:`~svidok.core.geo.names.fold`), Cyrillic spelled in Latin letters by
   the Ukrainian system, y/i/j and doubled letters merged
   (:func:`~svidok.core.geo.names.loose`), stop-words and words under 3
   letters dropped (numbers of 2 digits stay: "School No. 42"), then cut to
   their first 5 letters — a crude stem under which "strikes" and "strike",
   "Kharkiv", "Kharkov" and "Харків", "Mykolaiv" and "Mikolaiv" meet. A word
   weighs its squared inverse document frequency in the input (taken as at
   least ``MIN_CORPUS_SIZE`` records), so "kharkiv" in a Kharkiv-heavy dataset
   counts for little and "cemetery" for much.
2. **Block.** Only two kinds of pair are scored, so the work grows with the
   number of neighbours, not with the square of the input:

   a. pairs citing the same source (equal :func:`~svidok.core.incidents.urls.url_key`),
      however far apart; a source cited by more than ``MAX_SOURCE_FANOUT``
      incidents (a compilation video, a map link) pairs nothing by itself;
   b. pairs at most ``max_km`` apart whose time windows are at most ``max_days``
      apart, found through a grid of cells at least ``max_km`` wide (only the
      3×3 cells around an incident can hold its neighbours) and, within each
      cell, a list sorted by start time and cut by bisection.

   An incident without coordinates or without time is found only through its
   sources.
3. **Measure** each pair as evidence from -1 (against) through 0 (none, or
   unknown) to +1 (for):

   - *sources*: a shared source cited by ``n`` incidents counts
     ``1 / (n - 1)`` — fully when only these two cite it — and several combine
     as independent chances, ``1 - Π(1 - wₖ)``; 0..1, never against;
   - *distance* ``d``: linear in its logarithm, +1 at ``SAME_PLACE_KM``
     (100 m: two geolocations of one site) or closer, 0 at ``NEUTRAL_KM``
     (1 km), -1 at 10 km or farther; each tenfold of distance costs one unit;
   - *time*: windows that overlap +1; otherwise ``2·exp(-g / TIME_SCALE_HOURS) - 1``
     for a gap of ``g`` hours (windows that merely touch count as
     ``ADJACENT_HOURS`` apart): 0 at about 17 h, -0.7 at 2 days;
   - *weapons* ("unknown" ignored): a weapon in common +1; different weapons
     of one family (rocket artillery and cluster munitions — a 9M55K rocket is
     both) 0; of different families only -1; unknown on either side, no term;
   - *text*: the cosine ``c`` of the two weighted word sets (0..1), shown in
     the reasons, counts as ``c·w / (w + TEXT_SPECIFICITY)``, ``w`` the weight
     of the words they share: identical one-line descriptions in common words
     ("Damage to residential building, Mariupol") count half, a copied
     paragraph nine tenths. It enters as ``text - TEXT_NEUTRAL``, since
     unrelated reports of strikes share a few words; no term when either text
     has no words.
4. **Score** ``1 / (1 + exp(-z))``, rounded to 4 places, where
   ``z = BIAS + W_SOURCES·sources + W_DISTANCE·distance + W_TIME·time
   + W_WEAPONS·weapons + W_TEXT·(text - TEXT_NEUTRAL)``.
   Unknown features add nothing: a pair with a unique shared source and nothing
   else known scores 0.93; two records 50 m apart in one day whose descriptions
   share no word 0.52 (a candidate, barely); the same 5 km apart 0.08.
5. **Order.** Pairs scoring at least ``min_score`` come back by score, highest
   first, then by keys, so equal input gives equal output.

The weights were set by hand on Bellingcat's 2023 export and CIR's monitor,
taking the 689 cross-dataset pairs that share a source cited by no one else as
known duplicates: 90 % of them lie within 100 m of each other, 97 % overlap in
time and their texts have a median cosine of 0.7, against 4.6 km, a 24 h gap
and 0.09 for the other pairs blocking finds. Without their shared source, 95 %
of those known duplicates would still score 0.5 or more, and 6 % of the other
cross-dataset pairs do.
"""

from __future__ import annotations

import bisect
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from svidok.core.errors import InvalidInput
from svidok.core.geo.names import fold, loose, transliterate_uk
from svidok.core.incidents.records import ImportedIncident
from svidok.core.incidents.urls import url_key
from svidok.core.incidents.vocab import Weapon

__all__ = ["Candidate", "IncidentFacts", "facts_of", "find_candidates"]

# --- Weights of the score (step 4). --------------------------------------------
# With no evidence a pair is unlikely to be one event: blocking pairs every
# neighbour in a city shelled daily, and most of those are different strikes.
BIAS = -2.0
# A source cited by these two incidents alone nearly settles it: 0.93 when
# nothing else is known, still 0.55 at 10 km and three days apart (datasets date
# one post differently, by the event or by its publication).
W_SOURCES = 4.6
# The same site geolocated twice lands within 100 m; a strike elsewhere in the
# same city lands kilometres away. With time, this is what makes two records of
# one place and day a candidate (just above 0.5) before the texts are read.
W_DISTANCE = 1.5
W_TIME = 1.0
# Most Bellingcat records say "unknown" and CIR names few weapons, so a named
# weapon nudges rather than decides.
W_WEAPONS = 0.8
# Alike descriptions are the best evidence short of a shared source: a copied
# paragraph (text evidence ≈ 0.9) adds 3.2, more than place and time together;
# a copied one-liner in common words (≈ 0.5) adds 1.6.
W_TEXT = 4.0
TEXT_NEUTRAL = 0.1
# Identical but generic descriptions ("Damage to residential building",
# Mariupol) pair dozens of different strikes. The cosine counts in proportion
# to the weight of the shared words, w / (w + TEXT_SPECIFICITY): half for words
# as common as "damage", "building", "residential" and the city together,
# nine tenths for a copied paragraph.
TEXT_SPECIFICITY = 40.0

# --- Scales of the measures (step 3). ------------------------------------------
SAME_PLACE_KM = 0.1
NEUTRAL_KM = 1.0
TIME_SCALE_HOURS = 24.0  # time evidence is 0 at 24·ln 2 ≈ 17 h
# Touching day windows (one dataset dates a night strike to the next day) are
# close, but not as close as the same day.
ADJACENT_HOURS = 3.0
# A source cited by more incidents than this does not pair them by itself
# (it still counts, weakly, for pairs found by place and time).
MAX_SOURCE_FANOUT = 12
# Word weights need a corpus: a smaller input is weighed as if it were part of
# one this large in which its words are found nowhere else, so that comparing
# a few records does not make every word common (and every description generic).
MIN_CORPUS_SIZE = 1000
ALIKE_TEXT = 0.3  # from here on the reason says "alike", below it "differ"
STEM_LENGTH = 5

_EARTH_RADIUS_KM = 6371.0088
_KM_PER_DEGREE = math.pi * _EARTH_RADIUS_KM / 180.0
_INSTANT_SECONDS = 1.0  # a window without an end lasts one second
_DIGIT = re.compile(r"\d")
# Dates and clock times (CIR titles start with the date) say when, not what.
_DATE_OR_TIME = re.compile(r"\b\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\b|\b\d{1,2}:\d{2}\b")
_CYRILLIC = re.compile("[\u0400-\u04ff]")

# Function words of English, Ukrainian and Russian, and words every report of a
# strike uses about its media; words under 3 letters go anyway.
_STOP_WORDS_TEXT = """
the and for with from into onto that this these those was were are been has have had
not but its their there then than after before during near over under about while also
which who whom what when where why how all any some one two three more most other such
can could may might would should will shall just very per via amid among against
reportedly reported appears appear apparently allegedly alleged footage video videos
image images photo photos picture shows showing shown seen according
про для від біля після через під над між або але його її їх цей ця це ці той та те
які який яка яке що щоб був була було були буде має мають також тому вже ще при
что как это этот эта эти тот после через под над между или его еще уже был была
было были будет также
"""


@dataclass(frozen=True, slots=True)
class IncidentFacts:
    """What the comparison needs to know of one incident."""

    key: str  # the caller's id (a UUID string)
    dataset: str  # "bellingcat", "cir", "" for hand-entered
    start: datetime | None  # timezone-aware UTC
    end: datetime | None  # exclusive end of the precision window
    latitude: float | None
    longitude: float | None
    weapons: frozenset[str]  # Weapon codes
    url_keys: frozenset[str]  # sources normalised with svidok.core.incidents.urls.url_key
    text: str  # title + description (+ location text)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A proposed pair ``a < b``: its score (0..1), the reasons a reviewer reads,
    and the measures behind them.

    ``features`` holds what could be measured, and only that: ``sources``
    (0..1) and ``shared_sources`` (a count), ``distance_km``, ``gap_hours``
    (0 when the windows overlap or touch) and ``overlap`` (1 or 0),
    ``weapons`` (-1, 0 or +1), ``text`` (cosine, 0..1) and ``text_shared``
    (the weight of the shared words), and ``logit``, the weighted sum the score
    is the logistic of.
    """

    a: str
    b: str
    score: float
    reasons: tuple[str, ...]
    features: dict[str, float]


def facts_of(incident: ImportedIncident, key: str) -> IncidentFacts:
    """The facts of an imported incident, under the caller's ``key``.

    Hidden and unreadable source addresses are left out, as is the "unknown"
    weapon; the text joins title, description and location text.
    """
    url_keys = frozenset(
        found for source in incident.sources
        if source.url and not source.hidden
        for found in (url_key(source.url),) if found is not None
    )
    text = [incident.title, incident.description, incident.location_text]
    return IncidentFacts(
        key=key,
        dataset=incident.dataset,
        start=incident.start,
        end=incident.end,
        latitude=incident.latitude,
        longitude=incident.longitude,
        weapons=frozenset(weapon.value for weapon in incident.weapons
                          if weapon != Weapon.UNKNOWN),
        url_keys=url_keys,
        text="\n".join(part for part in text if part),
    )


def find_candidates(
    incidents: Sequence[IncidentFacts],
    *,
    max_km: float = 10.0,
    max_days: float = 2.0,
    min_score: float = 0.5,
    within_datasets: bool = True,
) -> list[Candidate]:
    """Pairs of ``incidents`` that may be one event, scoring at least
    ``min_score``, best first (the rule is in the module docstring).

    ``within_datasets=False`` keeps only pairs from different datasets
    (hand-entered records, dataset ``""``, count as one dataset). An incident
    is never paired with itself nor with another entry under the same key; a
    pair of keys listed twice comes back once, with its higher score.

    Raises :class:`~svidok.core.errors.InvalidInput` for a ``max_km`` that is
    not positive, a negative ``max_days``, a ``min_score`` outside 0..1, a
    naive datetime, or coordinates off the globe.
    """
    _check_options(max_km=max_km, max_days=max_days, min_score=min_score)
    prepared = [_Prepared.of(facts) for facts in incidents]
    corpus = _Corpus.of(prepared)

    pairs = _pairs_by_source(corpus)
    pairs |= _pairs_by_place_and_time(prepared, max_km=max_km, max_days=max_days)

    best: dict[tuple[str, str], Candidate] = {}
    for i, j in pairs:
        first, second = prepared[i], prepared[j]
        if first.facts.key == second.facts.key:
            continue
        if not within_datasets and first.facts.dataset == second.facts.dataset:
            continue
        if second.facts.key < first.facts.key:
            i, j, first, second = j, i, second, first
        features = _features(first, second, corpus.sources, corpus.text(i, j))
        score = round(1.0 / (1.0 + math.exp(-features["logit"])), 4)
        pair = (first.facts.key, second.facts.key)
        if score < min_score or (pair in best and best[pair].score >= score):
            continue
        best[pair] = Candidate(*pair, score, _reasons(first, second, features, corpus),
                               features)
    return sorted(best.values(), key=lambda c: (-c.score, c.a, c.b))


def _check_options(*, max_km: float, max_days: float, min_score: float) -> None:
    if not (math.isfinite(max_km) and max_km > 0):
        raise InvalidInput(f"max_km must be a positive number of kilometres, found {max_km}")
    if not (math.isfinite(max_days) and max_days >= 0):
        raise InvalidInput(f"max_days must be zero or more days, found {max_days}")
    if not 0.0 <= min_score <= 1.0:
        raise InvalidInput(f"min_score must lie between 0 and 1, found {min_score}")


# --- Step 1: prepare. -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Prepared:
    """One incident's facts in the forms the comparison works on."""

    facts: IncidentFacts
    window: tuple[float, float] | None  # POSIX seconds, end exclusive
    place: tuple[float, float, float] | None  # latitude and longitude in radians, cos(latitude)
    words: frozenset[str]
    weapons: frozenset[str]

    @classmethod
    def of(cls, facts: IncidentFacts) -> _Prepared:
        return cls(facts, _window(facts), _place(facts), _words(facts.text),
                   frozenset(facts.weapons - {Weapon.UNKNOWN.value, ""}))


@dataclass(frozen=True, slots=True)
class _Corpus:
    """What is measured over the whole input: who cites each source, how rare
    each word is, and the length of each incident's weighted word set."""

    sources: dict[str, list[int]]  # url key → indexes of the incidents citing it
    word_weights: dict[str, float]
    norms: list[float]
    words: list[frozenset[str]]

    @classmethod
    def of(cls, prepared: Sequence[_Prepared]) -> _Corpus:
        sources: dict[str, list[int]] = defaultdict(list)
        documents: dict[str, int] = defaultdict(int)
        for index, item in enumerate(prepared):
            for key in sorted(item.facts.url_keys):
                sources[key].append(index)
            for word in item.words:
                documents[word] += 1
        total = max(len(prepared), MIN_CORPUS_SIZE)
        # Smoothed inverse document frequency, as scikit-learn's, squared
        # because both vectors of a cosine carry it.
        weights = {word: (math.log((1 + total) / (1 + n)) + 1.0) ** 2
                   for word, n in documents.items()}
        words = [item.words for item in prepared]
        norms = [math.sqrt(sum(weights[word] for word in item)) for item in words]
        return cls(dict(sources), weights, norms, words)

    def text(self, i: int, j: int) -> tuple[float, float] | None:
        """The cosine of two incidents' weighted word sets and the weight of the
        words they share; None when either has no words."""
        if not (self.words[i] and self.words[j]):
            return None
        shared = sum(self.word_weights[word] for word in self.words[i] & self.words[j])
        return min(1.0, shared / (self.norms[i] * self.norms[j])), shared


def _window(facts: IncidentFacts) -> tuple[float, float] | None:
    for moment in (facts.start, facts.end):
        if moment is not None and moment.utcoffset() is None:
            raise InvalidInput(f"incident {facts.key}: expected timezone-aware times, "
                               f"found naive {moment.isoformat()}", key=facts.key)
    start = facts.start if facts.start is not None else facts.end
    if start is None:
        return None
    begins = start.astimezone(UTC).timestamp()
    ends = facts.end.astimezone(UTC).timestamp() if facts.end is not None else begins
    return begins, max(ends, begins + _INSTANT_SECONDS)


def _place(facts: IncidentFacts) -> tuple[float, float, float] | None:
    latitude, longitude = facts.latitude, facts.longitude
    if latitude is None or longitude is None:
        return None
    if not (-90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0):
        raise InvalidInput(f"incident {facts.key}: expected latitude -90..90 and longitude "
                           f"-180..180, found {latitude}, {longitude}", key=facts.key)
    phi = math.radians(latitude)
    return phi, math.radians(longitude), math.cos(phi)


def _word_keys(text: str) -> list[str]:
    folded = fold(_DATE_OR_TIME.sub(" ", text))
    if _CYRILLIC.search(folded):
        folded = transliterate_uk(folded)
    # Short words are function words, except numbers: "School No. 42".
    return [word[:STEM_LENGTH] for word in loose(folded).split()
            if len(word) >= 3 or (len(word) == 2 and _DIGIT.search(word))]


_STOP_WORDS = frozenset(_word_keys(_STOP_WORDS_TEXT))


def _words(text: str) -> frozenset[str]:
    return frozenset(_word_keys(text)) - _STOP_WORDS


# --- Step 2: block. -------------------------------------------------------------


def _pairs_by_source(corpus: _Corpus) -> set[tuple[int, int]]:
    pairs: set[tuple[int, int]] = set()
    for citing in corpus.sources.values():
        if 1 < len(citing) <= MAX_SOURCE_FANOUT:
            pairs.update((i, j) for n, i in enumerate(citing) for j in citing[n + 1:])
    return pairs


def _pairs_by_place_and_time(prepared: Sequence[_Prepared], *, max_km: float,
                             max_days: float) -> set[tuple[int, int]]:
    located = {i: (item.place, item.window) for i, item in enumerate(prepared)
               if item.place is not None and item.window is not None}
    if not located:
        return set()
    # A degree of longitude shrinks towards the poles: cells are sized for the
    # highest latitude present, so that every cell is at least max_km wide.
    lat_step = math.radians(max_km / _KM_PER_DEGREE) * 1.01
    highest = min(max(abs(place[0]) for place, _ in located.values()) + lat_step, math.pi / 2)
    lon_step = lat_step / max(math.cos(highest), 1e-9)
    columns = max(1, math.floor(2 * math.pi / lon_step))  # cells wrap at the 180th meridian

    def cell(place: tuple[float, float, float]) -> tuple[int, int]:
        return math.floor(place[0] / lat_step), math.floor(place[1] / lon_step) % columns

    cells: dict[tuple[int, int], list[tuple[float, int]]] = defaultdict(list)
    for i, (place, window) in located.items():
        cells[cell(place)].append((window[0], i))
    for members in cells.values():
        members.sort()
    starts = {key: [start for start, _ in members] for key, members in cells.items()}
    longest = max(window[1] - window[0] for _, window in located.values())
    slack = max_days * 86400.0
    max_gap_hours = max_days * 24.0

    pairs: set[tuple[int, int]] = set()
    for i, (place, window) in located.items():
        row, column = cell(place)
        nearby = {(row + dr, (column + dc) % columns) for dr in (-1, 0, 1) for dc in (-1, 0, 1)}
        for key in nearby & cells.keys():
            low = bisect.bisect_left(starts[key], window[0] - slack - longest)
            high = bisect.bisect_right(starts[key], window[1] + slack)
            for _, j in cells[key][low:high]:
                if j <= i:
                    continue
                other_place, other_window = located[j]
                if (_gap_hours(window, other_window) <= max_gap_hours
                        and _km(place, other_place) <= max_km):
                    pairs.add((i, j))
    return pairs


def _km(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    """Great-circle distance (haversine)."""
    h = (math.sin((b[0] - a[0]) / 2) ** 2
         + a[2] * b[2] * math.sin((b[1] - a[1]) / 2) ** 2)
    return 2 * _EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def _gap_hours(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Hours between two windows: negative when they overlap, 0 when they touch."""
    return (max(a[0], b[0]) - min(a[1], b[1])) / 3600.0


# --- Steps 3 and 4: measure and score. ------------------------------------------


def _features(first: _Prepared, second: _Prepared, sources: dict[str, list[int]],
              text: tuple[float, float] | None) -> dict[str, float]:
    features: dict[str, float] = {}
    logit = BIAS
    shared = first.facts.url_keys & second.facts.url_keys
    if shared:
        apart = math.prod(1.0 - 1.0 / max(1, len(sources[key]) - 1) for key in shared)
        features["sources"] = 1.0 - apart
        features["shared_sources"] = float(len(shared))
        logit += W_SOURCES * features["sources"]
    if first.place is not None and second.place is not None:
        km = _km(first.place, second.place)
        features["distance_km"] = km
        logit += W_DISTANCE * _distance_evidence(km)
    if first.window is not None and second.window is not None:
        gap = _gap_hours(first.window, second.window)
        features["gap_hours"] = max(gap, 0.0)
        features["overlap"] = 1.0 if gap < 0 else 0.0
        logit += W_TIME * _time_evidence(gap)
    if first.weapons and second.weapons:
        features["weapons"] = _weapons_evidence(first.weapons, second.weapons)
        logit += W_WEAPONS * features["weapons"]
    if text is not None:
        features["text"], features["text_shared"] = text
        logit += W_TEXT * (_text_evidence(*text) - TEXT_NEUTRAL)
    features["logit"] = logit
    return features


def _distance_evidence(km: float) -> float:
    if km <= SAME_PLACE_KM:
        return 1.0
    tenfolds = math.log10(km / NEUTRAL_KM) / math.log10(NEUTRAL_KM / SAME_PLACE_KM)
    return max(-1.0, -tenfolds)


def _time_evidence(gap_hours: float) -> float:
    if gap_hours < 0:
        return 1.0
    effective = gap_hours if gap_hours > 0 else ADJACENT_HOURS
    return 2 * math.exp(-effective / TIME_SCALE_HOURS) - 1


def _text_evidence(cosine: float, shared: float) -> float:
    return cosine * _specificity(shared)


def _specificity(shared: float) -> float:
    return shared / (shared + TEXT_SPECIFICITY)


# Weapons one strike may be labelled with by different datasets.
_FAMILIES: tuple[frozenset[str], ...] = (
    frozenset({Weapon.HE_ARTILLERY, Weapon.HE_TUBE_ARTILLERY, Weapon.HE_ROCKET_ARTILLERY,
               Weapon.CLUSTER_MUNITIONS, Weapon.INCENDIARY, Weapon.THERMOBARIC}),
    frozenset({Weapon.CRUISE_MISSILE, Weapon.BALLISTIC_MISSILE, Weapon.ANTI_AIR_MISSILE,
               Weapon.AIR_STRIKE, Weapon.LOITERING_MUNITION, Weapon.CLUSTER_MUNITIONS,
               Weapon.THERMOBARIC, Weapon.INCENDIARY}),
    frozenset({Weapon.SMALL_ARMS, Weapon.VEHICLE_MOUNTED_WEAPON}),
)


_WEAPON_CODES = frozenset(weapon.value for weapon in Weapon)


def _weapons_evidence(a: frozenset[str], b: frozenset[str]) -> float:
    if a & b:
        return 1.0
    if any(x in family and y in family for family in _FAMILIES for x in a for y in b):
        return 0.0
    return -1.0


# --- Reasons. -------------------------------------------------------------------


def _reasons(first: _Prepared, second: _Prepared, features: dict[str, float],
             corpus: _Corpus) -> tuple[str, ...]:
    reasons: list[str] = []
    if "sources" in features:
        reasons.append(_sources_reason(first, second, corpus))
    if "distance_km" in features:
        reasons.append(_distance_reason(features["distance_km"]))
    if "gap_hours" in features:
        reasons.append(_time_reason(features["gap_hours"], features["overlap"]))
    if "weapons" in features:
        reasons.append(_weapons_reason(first.weapons, second.weapons, features["weapons"]))
    if "text" in features:
        text = features["text"]
        generic = text >= ALIKE_TEXT and _specificity(features["text_shared"]) < 0.5
        reasons.append(f"descriptions {'alike' if text >= ALIKE_TEXT else 'differ'} ({text:.2f})"
                       + (" in common words only" if generic else ""))
    return tuple(reasons)


def _sources_reason(first: _Prepared, second: _Prepared, corpus: _Corpus) -> str:
    # The rarest shared source is the one that speaks for the pair.
    shared = sorted(first.facts.url_keys & second.facts.url_keys,
                    key=lambda key: (len(corpus.sources[key]), key))
    shown, citing = shared[0], len(corpus.sources[shared[0]])
    more = f" (+{len(shared) - 1} more)" if len(shared) > 1 else ""
    also = f", cited by {citing} incidents" if citing > 2 else ""
    return f"same source URL: {shown}{more}{also}"


def _distance_reason(km: float) -> str:
    if km < 0.01:
        return "same coordinates"
    if km < 1:
        return f"{km * 1000:.0f} m apart"
    return f"{km:.1f} km apart"


def _time_reason(gap_hours: float, overlap: float) -> str:
    if overlap:
        return "time windows overlap"
    if gap_hours == 0:
        return "time windows touch"
    if gap_hours < 48:
        return f"{gap_hours:.0f} h apart"
    return f"{gap_hours / 24:.1f} days apart"


def _weapons_reason(a: frozenset[str], b: frozenset[str], evidence: float) -> str:
    if evidence > 0:
        return f"same weapon: {_labels(a & b)}"
    if evidence == 0:
        return f"related weapons: {_labels(a)} and {_labels(b)}"
    return f"different weapons: {_labels(a)} vs {_labels(b)}"


def _labels(codes: Iterable[str]) -> str:
    names = []
    for code in sorted(codes):
        label = Weapon(code).label if code in _WEAPON_CODES else code
        # "Cruise missile" reads "cruise missile"; "HE artillery" keeps its capitals.
        names.append(label[:1].lower() + label[1:] if label[1:2].islower() else label)
    return ", ".join(names)
