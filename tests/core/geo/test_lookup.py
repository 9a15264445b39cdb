"""The offline gazetteer: search in any spelling, reverse lookup, the disk cache."""

from __future__ import annotations

import json
import math

import pytest

from svidok.core.errors import InvalidInput
from svidok.core.geo import places as places_module
from svidok.core.geo.lookup import Gazetteer, gazetteer
from svidok.core.geo.places import Place, cached_places, shipped_polygons


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    """The gazetteer as shipped (built once, from the installed packages)."""
    return gazetteer()


def first(gaz, query, **kwargs):
    hits = gaz.search(query, **kwargs)
    assert hits, f"nothing found for {query!r}"
    return hits[0].place


class TestContents:
    def test_every_level_is_there(self, gaz):
        kinds = {}
        for place in gaz.places:
            kinds[place.kind] = kinds.get(place.kind, 0) + 1
        assert kinds["oblast"] == 27
        assert kinds["raion"] == 139
        assert kinds["hromada"] == 1769
        assert kinds["settlement"] > 29_000  # the whole KATOTTG codifier, plus GeoNames

    def test_settlements_carry_codes_and_coordinates(self, gaz):
        kharkiv = first(gaz, "Kharkiv", kind="settlement")
        assert kharkiv.katottg and kharkiv.katottg.startswith("UA6312027001")
        assert kharkiv.hromada == "UA6312027" and kharkiv.raion == "UA6312"
        assert not kharkiv.approximate
        assert math.isclose(kharkiv.latitude, 49.98, abs_tol=0.1)
        assert kharkiv.population and kharkiv.population > 1_000_000

    def test_a_village_without_geonames_coordinates_is_placed_at_its_hromada(self, gaz):
        approximate = [p for p in gaz.places if p.approximate]
        assert len(approximate) > 10_000
        place = approximate[0]
        hromada = gaz.by_code[place.hromada]
        assert (place.latitude, place.longitude) == (hromada.latitude, hromada.longitude)


class TestSearch:
    @pytest.mark.parametrize("spelling", ["Kharkiv", "Харків", "Харьков", "Kharkov", "kharkiv"])
    def test_kharkiv_in_four_spellings(self, gaz, spelling):
        place = first(gaz, spelling)
        assert place.kind == "settlement" and place.code == "UA6312027001"

    @pytest.mark.parametrize("spelling", ["Kyiv", "Київ", "Киев", "Kiev"])
    def test_kyiv_is_the_city(self, gaz, spelling):
        assert first(gaz, spelling).code == "UA80"

    @pytest.mark.parametrize(("query", "code"), [
        ("Kyiv oblast", "UA32"), ("Київська область", "UA32"), ("Kherson oblast", "UA65"),
        ("Харківська обл", "UA63"), ("Бучанська громада", "UA3208007"),
        ("Buchanskyi raion", "UA3208"),
    ])
    def test_unit_words_choose_the_kind(self, gaz, query, code):
        assert first(gaz, query).code == code

    def test_izium_in_russian_and_older_latin(self, gaz):
        assert first(gaz, "Изюм").code == first(gaz, "Izyum").code == first(gaz, "Ізюм").code

    def test_misspelt_names_find_similar_places(self, gaz):
        hits = gaz.search("Zaporizhzhja")
        assert hits and hits[0].place.name_uk == "Запоріжжя"

    def test_filters(self, gaz):
        hits = gaz.search("Андріївка", oblast="UA63", limit=50)
        assert hits and all(h.place.oblast == "UA63" for h in hits)
        assert all(h.place.kind == "hromada" for h in gaz.search("Буча", kind="hromada"))
        with pytest.raises(InvalidInput, match="unknown kind"):
            gaz.search("Буча", kind="village")

    def test_empty_and_hostile_queries(self, gaz):
        assert gaz.search("") == []
        assert gaz.search("'; DROP TABLE places; --") == []
        assert gaz.search("x" * 10_000) == []


class TestLocate:
    def test_chuhuiv(self, gaz):
        found = gaz.locate(49.85005, 36.659031)
        assert found.oblast.code == "UA63"
        assert found.raion.code == "UA6314"
        assert found.hromada.code == "UA6314017"
        assert found.settlement.name_uk == "Чугуїв" and found.settlement_km < 5

    def test_kyiv_city_has_no_raion_or_hromada(self, gaz):
        found = gaz.locate(50.4501, 30.5234)
        assert found.oblast.code == "UA80" and found.raion is None and found.hromada is None

    def test_outside_ukraine(self, gaz):
        found = gaz.locate(52.23, 21.01)  # Warsaw
        assert found.oblast is None and found.settlement is None
        assert found.to_json()["hromada_method"] == "outside Ukraine"

    def test_just_off_the_coast_is_still_the_oblast(self, gaz):
        found = gaz.locate(46.48, 30.79)  # Odesa's shore; simplified polygons
        assert found.oblast.code == "UA51"

    @pytest.mark.parametrize(("lat", "lon"), [(91, 30), (45, 181), (float("nan"), 30)])
    def test_bad_coordinates(self, gaz, lat, lon):
        with pytest.raises(InvalidInput, match="coordinates out of range"):
            gaz.locate(lat, lon)


class TestCache:
    def test_built_once_then_read(self, tmp_path, monkeypatch):
        built = []
        fake = [Place("oblast", "UA63", "Харківська область", "Kharkiv Oblast", oblast="UA63")]
        monkeypatch.setattr(places_module, "build_places", lambda: built.append(1) or fake)
        assert cached_places(tmp_path) == fake
        assert cached_places(tmp_path) == fake
        assert built == [1]

    def test_a_damaged_cache_is_rebuilt(self, tmp_path, monkeypatch):
        fake = [Place("raion", "UA6314", "Чугуївський", "Chuhuivskyi", oblast="UA63")]
        monkeypatch.setattr(places_module, "build_places", lambda: fake)
        cached_places(tmp_path)
        (cache,) = tmp_path.glob("gazetteer-*.json")
        cache.write_text("{not json")
        assert cached_places(tmp_path) == fake
        assert json.loads(cache.read_text())[0]["code"] == "UA6314"

    def test_an_unwritable_cache_folder_only_costs_a_rebuild(self, tmp_path, monkeypatch):
        fake = [Place("raion", "UA6314", "Чугуївський", "Chuhuivskyi")]
        monkeypatch.setattr(places_module, "build_places", lambda: fake)
        blocker = tmp_path / "file"
        blocker.write_text("")
        assert cached_places(blocker / "cache") == fake

    def test_polygons_ship_with_the_package(self):
        assert len(shipped_polygons()["features"]) == 27
