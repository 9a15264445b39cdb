"""Candidate duplicate incidents: synthetic pairs for each rule, the examples of the
module docstring, blocking against brute force, and the real Bellingcat and CIR files."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from svidok.core.errors import InvalidInput
from svidok.core.incidents import duplicates
from svidok.core.incidents.duplicates import Candidate, IncidentFacts, facts_of, find_candidates
from svidok.core.incidents.importers import bellingcat, cir
from svidok.core.incidents.records import ImportedIncident, SourceRef
from svidok.core.incidents.urls import url_key
from svidok.core.incidents.vocab import TimePrecision, Weapon
from tests.conftest import shared_data

KYIV = (50.4501, 30.5234)
DAY = datetime(2022, 3, 1, 22, 0, tzinfo=UTC)  # local midnight of 2 March 2022
KM_PER_DEGREE = math.pi * 6371.0088 / 180


def north(km: float, of: tuple[float, float] = KYIV) -> tuple[float, float]:
    """A point ``km`` north of ``of``."""
    return of[0] + km / KM_PER_DEGREE, of[1]


def incident(key: str, *, dataset: str = "bellingcat", at: tuple[float, float] | None = KYIV,
             day: datetime | None = DAY, hours: float = 24, weapons: tuple[str, ...] = (),
             urls: tuple[str, ...] = (), text: str = "") -> IncidentFacts:
    """Facts of one incident; by default in central Kyiv on 2 March 2022, no text."""
    keys = frozenset(k for k in (url_key(url) for url in urls) if k)
    return IncidentFacts(
        key=key, dataset=dataset,
        start=day, end=day + timedelta(hours=hours) if day is not None else None,
        latitude=at[0] if at else None, longitude=at[1] if at else None,
        weapons=frozenset(weapons), url_keys=keys, text=text)


def only(candidates: list[Candidate]) -> Candidate:
    assert len(candidates) == 1, candidates
    return candidates[0]


class TestSharedSources:
    def test_telegram_preview_and_post_addresses_are_one_source(self):
        a = incident("a", at=None, day=None, urls=("https://t.me/s/x/1",))
        b = incident("b", dataset="cir", at=None, day=None, urls=("https://t.me/x/1",))
        found = only(find_candidates([a, b]))
        assert (found.a, found.b) == ("a", "b")
        assert found.reasons == ("same source URL: t.me/x/1",)
        assert found.score == 0.9309  # docstring: a unique shared source alone
        assert found.features["sources"] == 1.0 and found.features["shared_sources"] == 1.0

    def test_a_shared_source_pairs_beyond_the_blocking_bounds(self):
        a = incident("a", urls=("https://x.com/someone/status/123",))
        b = incident("b", at=north(11), day=DAY + timedelta(days=4),
                     urls=("https://twitter.com/other/status/123?s=20",))
        found = only(find_candidates([a, b]))
        assert found.reasons == ("same source URL: x.com/i/status/123", "11.0 km apart",
                                 "3.0 days apart")
        assert found.score == 0.5497  # docstring: still a candidate 10 km and 3 days apart

    def test_a_source_cited_by_three_counts_half(self):
        shared = ("t.me/x/7",)
        trio = [incident(k, at=None, day=None, urls=shared) for k in "abc"]
        pairs = find_candidates(trio, min_score=0)
        assert [(c.a, c.b) for c in pairs] == [("a", "b"), ("a", "c"), ("b", "c")]
        assert {c.features["sources"] for c in pairs} == {0.5}
        assert pairs[0].reasons == ("same source URL: t.me/x/7, cited by 3 incidents",)

    def test_several_shared_sources_show_the_rarest(self):
        a = incident("a", at=None, day=None, urls=("t.me/x/1", "t.me/x/2"))
        b = incident("b", at=None, day=None, urls=("t.me/x/1", "t.me/x/2"))
        c = incident("c", at=None, day=None, urls=("t.me/x/1",))
        found = find_candidates([a, b, c])[0]
        assert (found.a, found.b) == ("a", "b")
        assert found.reasons == ("same source URL: t.me/x/2 (+1 more)",)
        assert found.features["sources"] == 1.0 and found.features["shared_sources"] == 2.0

    def test_a_source_cited_too_often_pairs_nothing_by_itself(self):
        many = [incident(f"k{n:02}", at=None, day=None, urls=("youtube.com/watch?v=abcdefgh",))
                for n in range(duplicates.MAX_SOURCE_FANOUT + 1)]
        assert find_candidates(many, min_score=0) == []
        assert len(find_candidates(many[:-1], min_score=0)) == 66  # 12 choose 2


class TestPlaceAndTime:
    def test_near_in_space_and_time(self):
        a = incident("a", text="Strike on the railway station")
        b = incident("b", dataset="cir", at=north(0.05), text="Fire at a market hall")
        found = only(find_candidates([a, b]))
        assert found.reasons == ("50 m apart", "time windows overlap", "descriptions differ (0.00)")
        assert found.score == 0.525  # docstring: same place and day, no word in common
        assert found.features["overlap"] == 1.0 and found.features["gap_hours"] == 0.0

    def test_kilometres_apart_is_unlikely(self):
        a = incident("a", text="Strike on the railway station")
        b = incident("b", at=north(5), text="Fire at a market hall")
        assert find_candidates([a, b]) == []
        assert only(find_candidates([a, b], min_score=0)).score == 0.0796  # docstring: 0.08

    def test_beyond_max_km_or_max_days_is_never_compared(self):
        a = incident("a", text="Same words")
        assert find_candidates([a, incident("b", at=north(10.5), text="Same words")],
                               min_score=0) == []
        assert find_candidates([a, incident("b", day=DAY + timedelta(days=3, hours=1),
                                            text="Same words")], min_score=0) == []
        assert len(find_candidates([a, incident("b", at=north(10.5), text="Same words")],
                                   max_km=11, min_score=0)) == 1

    def test_time_reasons(self):
        a = incident("a")
        touching = only(find_candidates([a, incident("b", day=DAY + timedelta(days=1))],
                                        min_score=0))
        assert touching.reasons == ("same coordinates", "time windows touch")
        apart = only(find_candidates([a, incident("b", day=DAY + timedelta(hours=36))],
                                     min_score=0))
        assert apart.reasons == ("same coordinates", "12 h apart")
        assert apart.features["gap_hours"] == 12.0
        assert touching.score > apart.score

    def test_without_coordinates_or_time_only_sources_pair(self):
        same = "Explosion near the Mariupol drama theatre"
        for missing in ({"at": None}, {"day": None}):
            pair = [incident("a", text=same), incident("b", text=same, **missing)]
            assert find_candidates(pair, min_score=0) == []
            linked = [incident("a", text=same, urls=("t.me/x/1",)),
                      incident("b", text=same, urls=("t.me/x/1",), **missing)]
            assert len(find_candidates(linked)) == 1

    def test_a_window_without_end_is_an_instant(self):
        a = IncidentFacts("a", "", DAY + timedelta(hours=5), None, *KYIV, frozenset(),
                          frozenset(), "")
        found = only(find_candidates([a, incident("b")], min_score=0))
        assert found.reasons == ("same coordinates", "time windows overlap")


class TestWeapons:
    def score(self, first: tuple[str, ...], second: tuple[str, ...]) -> Candidate:
        return only(find_candidates([incident("a", weapons=first),
                                     incident("b", weapons=second)], min_score=0))

    def test_same_weapon_raises_and_different_weapons_lower_the_score(self):
        unknown = self.score((), ("cruise_missile",))
        same = self.score(("cruise_missile",), ("cruise_missile", "ballistic_missile"))
        different = self.score(("small_arms",), ("cruise_missile",))
        assert "weapons" not in unknown.features
        assert same.reasons[-1] == "same weapon: cruise missile"
        assert different.reasons[-1] == "different weapons: small arms vs cruise missile"
        assert different.score < unknown.score < same.score

    def test_one_family_is_neither_for_nor_against(self):
        related = self.score(("cluster_munitions",), ("he_rocket_artillery",))
        assert related.features["weapons"] == 0.0
        assert related.reasons[-1] == (
            "related weapons: cluster munitions and HE rocket artillery")

    def test_unknown_weapon_is_no_weapon(self):
        assert "weapons" not in self.score(("unknown",), ("small_arms",)).features


class TestText:
    def test_alike_descriptions_raise_the_score(self):
        a = incident("a", text="Cargo warheads impacted in the cemetery, Kharkiv")
        b = incident("b", dataset="cir", at=north(2),
                     text="23/03/2022 Cargo warheads impacted at memorial/cemetery.")
        c = incident("c", dataset="cir", at=north(-9), text="Residential building damaged")
        alike, unlike = find_candidates([a, b, c], min_score=0)
        assert (alike.a, alike.b) == ("a", "b")
        assert alike.reasons[-1] == "descriptions alike (0.78)"
        assert (unlike.a, unlike.b) == ("a", "c")
        assert unlike.reasons[-1] == "descriptions differ (0.00)"
        assert alike.score > 0.5 > unlike.score

    def test_cyrillic_and_latin_spellings_meet(self):
        assert duplicates._words("Обстріл Харкова, Миколаїв") == duplicates._words(
            "обстріл Kharkova, Mykolaiv")
        assert duplicates._words("Kharkiv") == duplicates._words("Харків")

    def test_dates_and_stop_words_are_not_words(self):
        assert duplicates._words("06/03/2022 2:05 The school No. 42 was hit") == {
            "schol", "42", "hit"}

    def test_identical_but_generic_descriptions_say_so(self):
        generic = "Damage to residential building"
        elsewhere = [incident(f"o{n:03}", at=(48.0, 30.0 + n / 5), text=f"{generic} {n}")
                     for n in range(300)]
        pair = [incident("a", text=generic), incident("b", at=north(0.5), text=generic)]
        found = only(find_candidates(pair + elsewhere, min_score=0))
        assert found.features["text"] == 1.0
        assert found.reasons[-1] == "descriptions alike (1.00) in common words only"
        alone = only(find_candidates(pair, min_score=0))
        assert alone.reasons[-1] == "descriptions alike (1.00)" and alone.score > found.score


class TestPairs:
    def test_same_dataset_duplicates_unless_excluded(self):
        pair = [incident("a", dataset="cir", text="Strike on bridge"),
                incident("b", dataset="cir", text="Strike on bridge")]
        assert len(find_candidates(pair)) == 1
        assert find_candidates(pair, within_datasets=False) == []

    def test_hand_entered_records_form_one_dataset(self):
        pair = [incident("a", dataset="", text="Strike on bridge"),
                incident("b", dataset="", text="Strike on bridge")]
        assert find_candidates(pair, within_datasets=False) == []

    def test_never_an_incident_with_itself(self):
        same = incident("a", text="Strike on bridge", urls=("t.me/x/1",))
        assert find_candidates([same, same], min_score=0) == []
        twice = [same, incident("a", dataset="cir", text="Strike on bridge"),
                 incident("b", text="Strike on bridge", urls=("t.me/x/1",))]
        assert [(c.a, c.b) for c in find_candidates(twice, min_score=0)] == [("a", "b")]

    def test_keys_ordered_and_output_deterministic(self):
        rng = random.Random(7)
        words = "strike shelling school bridge market hospital tram depot".split()
        world = [incident(f"{n:03}", dataset=rng.choice(["bellingcat", "cir"]),
                          at=north(rng.uniform(0, 3)), day=DAY + timedelta(hours=rng.choice(
                              [0, 0, 24, 30])), text=" ".join(rng.sample(words, 3)))
                 for n in range(40)]
        expected = find_candidates(world, min_score=0.3)
        assert expected and all(c.a < c.b for c in expected)
        assert [c.score for c in expected] == sorted((c.score for c in expected), reverse=True)
        for _ in range(3):
            rng.shuffle(world)
            assert find_candidates(world, min_score=0.3) == expected

    def test_blocking_finds_exactly_the_pairs_within_bounds(self):
        """Grid and time bisection against all pairs, also near a pole and the
        180th meridian."""
        rng = random.Random(11)
        for centre in (KYIV, (78.2, 15.6), (-16.5, 179.95)):
            world = [incident(f"{n:03}", at=(centre[0] + rng.uniform(-0.3, 0.3),
                                             (centre[1] + rng.uniform(-2, 2) + 180) % 360 - 180),
                              day=DAY + timedelta(hours=rng.uniform(0, 240)),
                              hours=rng.choice([1, 24, 24 * 7]))
                     for n in range(150)]
            found = {(c.a, c.b) for c in find_candidates(world, min_score=0)}
            expected = {(x.key, y.key) for n, x in enumerate(world) for y in world[n + 1:]
                        if within(x, y, km=10, days=2)}
            assert found == expected and expected


def within(x: IncidentFacts, y: IncidentFacts, *, km: float, days: float) -> bool:
    assert x.start and x.end and y.start and y.end and x.latitude and y.latitude
    gap = max(x.start, y.start) - min(x.end, y.end)
    phi_x, phi_y = math.radians(x.latitude), math.radians(y.latitude)
    d_lon = math.radians((y.longitude or 0) - (x.longitude or 0))
    central = math.acos(min(1.0, math.sin(phi_x) * math.sin(phi_y)
                            + math.cos(phi_x) * math.cos(phi_y) * math.cos(d_lon)))
    return gap <= timedelta(days=days) and central * 6371.0088 <= km


class TestOptions:
    @pytest.mark.parametrize("options", [{"max_km": 0}, {"max_km": math.inf},
                                         {"max_days": -1}, {"min_score": 1.5}])
    def test_bad_options_are_refused(self, options):
        with pytest.raises(InvalidInput):
            find_candidates([], **options)

    def test_naive_times_and_impossible_coordinates_are_refused(self):
        naive = IncidentFacts("a", "", datetime(2022, 3, 1), None, None, None,
                              frozenset(), frozenset(), "")
        with pytest.raises(InvalidInput, match="timezone-aware"):
            find_candidates([naive])
        with pytest.raises(InvalidInput, match="latitude"):
            find_candidates([incident("a", at=(91.0, 0.0))])

    def test_empty_input(self):
        assert find_candidates([]) == []


class TestFactsOf:
    def test_sources_weapons_and_text(self):
        imported = ImportedIncident(
            dataset="bellingcat", upstream_id="CIV0001", row=1, title="Chuhuiv: Apartment hit",
            description="Crater is very large.", start=DAY, end=DAY + timedelta(days=1),
            time_precision=TimePrecision.DAY, latitude=49.85, longitude=36.66,
            location_text="Chuhuiv", event_type=None, sub_type=None,
            weapons=(Weapon.UNKNOWN, Weapon.CRUISE_MISSILE), objects=(),
            sources=(SourceRef("1", "https://twitter.com/a/status/9?s=20", "", "", False),
                     SourceRef("2", None, "", "", True),
                     SourceRef("3", "https://t.me/s/chan/5", "", "", False),
                     SourceRef("4", "not an address", "", "", False)),
            attributes={})
        facts = facts_of(imported, "0b8e6f9e-2f7a-4d8c-9b1e-3c2d4e5f6a7b")
        assert facts.key == "0b8e6f9e-2f7a-4d8c-9b1e-3c2d4e5f6a7b"
        assert facts.url_keys == {"x.com/i/status/9", "t.me/chan/5"}
        assert facts.weapons == {"cruise_missile"}
        assert facts.text == "Chuhuiv: Apartment hit\nCrater is very large.\nChuhuiv"
        assert (facts.start, facts.end, facts.latitude) == (imported.start, imported.end, 49.85)


# --- The real files. ---------------------------------------------------------------

BELLINGCAT = shared_data() / "incidents" / "bellingcat-timemap-2023"
CIR = shared_data() / "incidents" / "cir-monitor" / "events.csv"
needs_data = pytest.mark.skipif(not (BELLINGCAT.exists() and CIR.exists()),
                                reason="no shared incident datasets (SVIDOK_SHARED_DATA)")


@pytest.fixture(scope="module")
def real() -> tuple[list[IncidentFacts], list[Candidate]]:
    """Bellingcat's 2023 export and CIR's monitor as facts, keyed dataset:id,
    and every pair blocking finds (min_score 0)."""
    parsed = [bellingcat.parse(Path(BELLINGCAT)), cir.parse(Path(CIR))]
    facts = [facts_of(i, f"{i.dataset}:{i.upstream_id}") for p in parsed for i in p.incidents]
    return facts, find_candidates(facts, min_score=0)


def crosses(candidate: Candidate) -> bool:
    return candidate.a.split(":")[0] != candidate.b.split(":")[0]


@needs_data
class TestRealData:
    def test_counts(self, real):
        facts, scored = real
        assert len(facts) == 1158 + 6634
        assert 90_000 <= len(scored) <= 100_000  # measured 95,844
        proposed = [c for c in scored if c.score >= 0.5]
        assert 8_500 <= len(proposed) <= 10_000  # measured 9,233
        assert 1_650 <= sum(map(crosses, proposed)) <= 2_000  # measured 1,826
        assert 1_600 <= sum("sources" in c.features for c in proposed) <= 1_800  # 1,702
        assert all(c.a < c.b for c in scored)

    def test_known_duplicates_score_high_even_without_their_source(self, real):
        """Cross-dataset pairs sharing a source no one else cites: the module
        docstring's figures."""
        _, scored = real
        known = [c for c in scored if crosses(c) and c.features.get("sources") == 1.0]
        assert 650 <= len(known) <= 720  # measured 689
        assert sum(c.score >= 0.9 for c in known) / len(known) >= 0.95
        without_source = [c.features["logit"] - duplicates.W_SOURCES for c in known]
        assert sum(z >= 0 for z in without_source) / len(known) >= 0.93  # measured 0.952
        others = [c for c in scored if crosses(c) and "sources" not in c.features]
        assert sum(c.score >= 0.5 for c in others) / len(others) <= 0.08  # measured 0.056

    def test_top_cross_dataset_pairs_are_close_and_alike(self, real):
        _, scored = real
        top = [c for c in scored if crosses(c)][:50]
        assert all(c.features["distance_km"] < 1 and c.features["text"] > 0.8 for c in top)

    def test_pairs_a_reviewer_checked(self, real):
        _, scored = real
        score = {(c.a, c.b): c.score for c in scored}
        # One post, same words, 80 m: the Kharkiv residential building of 24 February.
        assert score["bellingcat:CIV0027", "cir:UW0720"] > 0.99
        # One post, 24 m, dated 144 days apart by the two datasets.
        assert score["bellingcat:CIV1341", "cir:UW11986"] > 0.99
        # The Kremenchuk shopping centre (27 June 2022): 124 m, next day, other words.
        assert 0.5 <= score["bellingcat:CIV1120", "cir:UW9708"] < 0.7
        # "Damage to residential building" in Mariupol, 9 km apart: not one strike.
        assert score["cir:UW4540", "cir:UW4736"] < 0.5
