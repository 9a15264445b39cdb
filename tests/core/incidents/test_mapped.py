"""The generic importer: TOML mappings, CSV and GeoJSON, and the documented example."""

from __future__ import annotations

import csv
import json
import re
import tomllib
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from svidok.core.errors import InvalidInput
from svidok.core.incidents.importers import _mapping, cir, mapped
from svidok.core.incidents.vocab import (
    EventType,
    LocationPrecision,
    ObjectType,
    SubType,
    TimePrecision,
    Weapon,
)
from tests.conftest import REPO, shared_data

EXAMPLE = REPO / "docs" / "examples" / "cir-mapping.toml"
GUIDE = REPO / "docs" / "import-mapping.md"
CIR_EVENTS = shared_data() / "incidents" / "cir-monitor" / "events.csv"

BASIC = """
dataset = "police"
[fields]
id = "id"
description = "text"
date = "when"
date_format = "%d.%m.%Y"
latitude = "lat"
longitude = "lon"
location = ["village", "oblast"]
sources = "url"
[tables.weapons]
column = "weapon"
split = ";"
[tables.weapons.values]
"artillery" = "he_artillery"
"mlrs" = "he_rocket_artillery"
"kab" = ["air_strike"]
[tables.objects]
column = "object"
unknown = "ignore"
[tables.objects.values]
"school" = "school"
"""


def mapping(text: str = BASIC, **top) -> mapped.Mapping:
    document = tomllib.loads(text)
    document.update(top)
    return _mapping.mapping_from_dict(document)


def csv_file(tmp_path, text: str, name: str = "data.csv"):
    path = tmp_path / name
    path.write_text(text.lstrip("\n"), encoding="utf-8")
    return path


CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]")
HEADER = "id,when,text,lat,lon,village,oblast,url,weapon,object,note\n"


class TestDocumentedExample:
    def test_is_the_cir_importer(self):
        assert mapped.load_mapping(EXAMPLE) == cir.MAPPING

    @pytest.mark.skipif(not CIR_EVENTS.exists(), reason=f"no {CIR_EVENTS} (SVIDOK_SHARED_DATA)")
    def test_reads_the_real_cir_file_as_the_cir_importer_does(self):
        assert mapped.parse_csv(CIR_EVENTS, mapped.load_mapping(EXAMPLE)) == cir.parse(CIR_EVENTS)

    def test_every_toml_block_in_the_guide_loads(self):
        blocks = re.findall(r"```toml\n(.*?)```", GUIDE.read_text("utf-8"), re.DOTALL)
        assert len(blocks) == 2
        for block in blocks:
            assert mapping(block).dataset

    def test_the_guide_names_every_key(self):
        guide = GUIDE.read_text("utf-8")
        keys = (_mapping._TOP_KEYS | _mapping._FILE_KEYS | _mapping._FIELD_KEYS
                | _mapping._DEFAULT_KEYS | _mapping._TABLE_KEYS | set(_mapping.TABLE_VOCABULARIES))
        documented = {key for key in keys
                      if f"`{key}`" in guide or f"`[{key}]`" in guide or f"`[{key}." in guide}
        assert sorted(keys - documented) == []


class TestCsv:
    def test_a_good_row(self, tmp_path):
        path = csv_file(tmp_path, HEADER + "A1,24.02.2022,Shelled.,50.1,36.2,Tsyrkuny,Kharkiv,"
                                           "https://t.me/a/1,artillery; MLRS,School,keep me\n")
        [incident] = mapped.parse_csv(path, mapping()).incidents
        assert (incident.dataset, incident.upstream_id, incident.row) == ("police", "A1", 2)
        assert incident.title == "Tsyrkuny, Kharkiv: Shelled"  # derived: no title column
        assert incident.start == datetime(2022, 2, 23, 22, tzinfo=UTC)
        assert incident.weapons == (Weapon.HE_ARTILLERY, Weapon.HE_ROCKET_ARTILLERY)
        assert incident.objects == (ObjectType.SCHOOL,)
        assert incident.event_type is None  # infer_from_weapons defaults to "none"
        assert incident.sources[0].title == "url"
        assert incident.attributes == {"village": "Tsyrkuny", "oblast": "Kharkiv",
                                       "weapon": "artillery; MLRS", "object": "School",
                                       "note": "keep me"}

    @pytest.mark.parametrize(("cells", "reason"), [
        ("A2,31.02.2022,x,50,36,,,,,,", "date: expected DD.MM.YYYY, found '31.02.2022'"),
        ("A2,24.02.2022,x,50,360,,,,,,", "longitude: expected decimal degrees between -180"),
        ("A2,24.02.2022,x,50,36,,,,glide bomb,,", "weapon: expected one of 'artillery', "
                                                  "'mlrs', 'kab', found 'glide bomb'"),
        (",24.02.2022,x,50,36,,,,,,", "expected an id, found none"),
        ("A1,24.02.2022,x,50,36,,,,,,", "duplicate upstream id 'A1': expected each id once, "
                                        "first seen at row 2"),
    ], ids=lambda v: v[:24])
    def test_a_bad_row_is_a_row_error(self, tmp_path, cells, reason):
        path = csv_file(tmp_path, HEADER + "A1,24.02.2022,ok,50,36,,,,,,\n" + cells + "\n")
        parsed = mapped.parse_csv(path, mapping())
        assert [i.upstream_id for i in parsed.incidents] == ["A1"]
        [error] = parsed.errors
        assert error.row == 3 and reason in error.reason

    def test_unknown_values_can_be_ignored(self, tmp_path):
        path = csv_file(tmp_path, HEADER + "A1,24.02.2022,x,50,36,,,,,hospital ward,\n")
        [incident] = mapped.parse_csv(path, mapping()).incidents
        assert incident.objects == ()

    def test_a_column_the_mapping_names_must_exist(self, tmp_path):
        path = csv_file(tmp_path, "id,when\nA1,24.02.2022\n")
        with pytest.raises(InvalidInput, match="expected columns .*; missing .*lat.*; "
                                               "found id, when"):
            mapped.parse_csv(path, mapping())

    def test_another_encoding_and_delimiter(self, tmp_path):
        text = "id;when;text\nB1;01.03.2022;Обстріл школи\n"
        (tmp_path / "cp.csv").write_bytes(text.encode("cp1251"))
        custom = mapping('dataset = "d"\n[file]\nencoding = "cp1251"\ndelimiter = ";"\n'
                         '[fields]\nid = "id"\ndescription = "text"\ndate = "when"\n'
                         'date_format = "%d.%m.%Y"\n')
        [incident] = mapped.parse_csv(tmp_path / "cp.csv", custom).incidents
        assert incident.description == "Обстріл школи"
        assert (incident.latitude, incident.longitude) == (None, None)


class TestTimes:
    def parse_one(self, tmp_path, fields: str, cells: str, header: str, extra: str = ""):
        text = f'dataset = "t"\n{extra}\n[fields]\nid = "id"\n{fields}\n'
        path = csv_file(tmp_path, f"{header}\n{cells}\n")
        parsed = mapped.parse_csv(path, mapping(text))
        return parsed.incidents[0] if parsed.incidents else parsed.errors[0]

    def test_iso_with_an_offset_is_exact(self, tmp_path):
        found = self.parse_one(tmp_path, 'date = "at"', "1,2022-10-30T03:30+03:00", "id,at")
        assert found.time_precision is TimePrecision.EXACT
        assert (found.start, found.end - found.start) == (
            datetime(2022, 10, 30, 0, 30, tzinfo=UTC), timedelta(minutes=1))

    def test_a_separate_time_column(self, tmp_path):
        found = self.parse_one(tmp_path, 'date = "d"\ntime = "t"', "1,2022-07-01,05:45", "id,d,t")
        assert found.start == datetime(2022, 7, 1, 2, 45, tzinfo=UTC)

    def test_midnight_can_mean_unknown(self, tmp_path):
        found = self.parse_one(tmp_path, 'date = "d"\ntime = "t"\nmidnight_means_unknown = true',
                               "1,2022-07-01,00:00", "id,d,t")
        assert found.time_precision is TimePrecision.DAY
        assert found.end - found.start == timedelta(days=1)

    @pytest.mark.parametrize(("day", "hours"), [("2022-03-27", 23), ("2022-10-30", 25),
                                                ("2022-07-01", 24)])
    def test_a_local_day_across_daylight_saving(self, tmp_path, day, hours):
        found = self.parse_one(tmp_path, 'date = "d"', f"1,{day}", "id,d")
        assert found.end - found.start == timedelta(hours=hours)

    def test_month_precision_by_default(self, tmp_path):
        found = self.parse_one(tmp_path, 'date = "d"\ndate_format = "%Y-%m"', "1,2022-02",
                               "id,d", extra='[defaults]\ntime_precision = "month"')
        assert (found.start, found.end) == (datetime(2022, 1, 31, 22, tzinfo=UTC),
                                            datetime(2022, 2, 28, 22, tzinfo=UTC))

    def test_precision_from_a_table(self, tmp_path):
        extra = ('[tables.time_precision]\ncolumn = "p"\n'
                 '[tables.time_precision.values]\n"1" = "day"\n"2" = "week"\n"3" = "month"')
        found = self.parse_one(tmp_path, 'date = "d"', "1,2022-03-02,2", "id,d,p", extra=extra)
        assert found.time_precision is TimePrecision.WEEK
        assert found.end - found.start == timedelta(days=7)

    def test_exact_precision_needs_a_time(self, tmp_path):
        extra = ('[tables.time_precision]\ncolumn = "p"\n'
                 '[tables.time_precision.values]\n"x" = "exact"')
        found = self.parse_one(tmp_path, 'date = "d"', "1,2022-03-02,x", "id,d,p", extra=extra)
        assert found.reason == "time: expected a time of day for precision 'exact', found none"

    def test_another_time_zone(self, tmp_path):
        found = self.parse_one(tmp_path, 'date = "d"', "1,2022-03-02", "id,d",
                               extra='timezone = "UTC"')
        assert found.start == datetime(2022, 3, 2, tzinfo=UTC)


class TestEventTypes:
    TABLES = """
[tables.sub_type]
column = "kind"
unknown = "ignore"
[tables.sub_type.values]
"abduction" = "abduction_forced_disappearance"
"shelling" = "shelling_artillery_missile_attack"
[tables.event_type]
column = "type"
unknown = "ignore"
[tables.event_type.values]
"vac" = "violence_against_civilians"
[tables.weapons]
column = "weapon"
[tables.weapons.values]
"drone" = "loitering_munition"
"""

    def parse(self, tmp_path, cells: str, infer: str = "none"):
        text = f'dataset = "e"\ninfer_from_weapons = "{infer}"\n[fields]\nid = "id"\n{self.TABLES}'
        path = csv_file(tmp_path, f"id,kind,type,weapon\n{cells}\n")
        return mapped.parse_csv(path, mapping(text))

    def test_a_sub_type_gives_its_event_type(self, tmp_path):
        [incident] = self.parse(tmp_path, "1,Abduction,,").incidents
        assert (incident.event_type, incident.sub_type) == (
            EventType.VIOLENCE_AGAINST_CIVILIANS, SubType.ABDUCTION_FORCED_DISAPPEARANCE)

    def test_a_sub_type_of_another_event_type_is_refused(self, tmp_path):
        [error] = self.parse(tmp_path, "1,shelling,vac,").errors
        assert error.reason == (
            "sub_type: expected one of the sub-types of violence_against_civilians, "
            "found shelling_artillery_missile_attack")

    @pytest.mark.parametrize(("infer", "expected"), [
        ("none", (None, None)),
        ("sub_type", (None, None)),
        ("event_type", (EventType.EXPLOSIONS_REMOTE_VIOLENCE, SubType.AIR_DRONE_STRIKE)),
    ])
    def test_weapons_imply_as_far_as_allowed(self, tmp_path, infer, expected):
        [incident] = self.parse(tmp_path, "1,,,drone", infer).incidents
        assert (incident.event_type, incident.sub_type) == expected


class TestGeoJson:
    GEO_MAPPING = """
dataset = "geo"
[fields]
id = "@id"
title = "name"
date = "date"
latitude = "lat"
longitude = "lon"
[defaults]
location_precision = "settlement"
"""

    def write(self, tmp_path, *features, document=None):
        path = tmp_path / "data.geojson"
        payload = document or {"type": "FeatureCollection", "features": list(features)}
        path.write_text(json.dumps(payload), "utf-8")
        return path

    def feature(self, fid="f1", geometry=None, **properties):
        props = {"name": "Strike", "date": "2022-05-09", "count": 3, "tags": ["a"]} | properties
        return {"type": "Feature", "id": fid, "properties": props,
                "geometry": geometry or {"type": "Point", "coordinates": [36.23, 49.99]}}

    def test_point_geometry_and_properties(self, tmp_path):
        parsed = mapped.parse_geojson(self.write(tmp_path, self.feature()),
                                      mapping(self.GEO_MAPPING))
        [incident] = parsed.incidents
        assert (incident.upstream_id, incident.row) == ("f1", 1)
        assert (incident.latitude, incident.longitude) == (49.99, 36.23)  # [lon, lat] upstream
        assert incident.location_precision is LocationPrecision.SETTLEMENT
        assert incident.attributes == {"count": "3", "tags": '["a"]'}

    def test_no_geometry_falls_back_to_properties(self, tmp_path):
        feature = self.feature(lat="50.1", lon="30.5")
        feature["geometry"] = None
        parsed = mapped.parse_geojson(self.write(tmp_path, feature), mapping(self.GEO_MAPPING))
        assert (parsed.incidents[0].latitude, parsed.incidents[0].longitude) == (50.1, 30.5)

    @pytest.mark.parametrize(("geometry", "reason"), [
        ({"type": "Polygon", "coordinates": []}, "geometry: expected a Point, found 'Polygon'"),
        ({"type": "Point", "coordinates": [36.2]}, "geometry: expected [longitude, latitude]"),
        ({"type": "Point", "coordinates": [36.2, 95]}, "latitude: expected decimal degrees"),
    ])
    def test_bad_geometry_is_a_row_error(self, tmp_path, geometry, reason):
        path = self.write(tmp_path, self.feature(), self.feature("f2", geometry))
        [error] = mapped.parse_geojson(path, mapping(self.GEO_MAPPING)).errors
        assert (error.row, error.upstream_id) == (2, "f2") and reason in error.reason

    def test_a_feature_that_is_not_an_object(self, tmp_path):
        path = self.write(tmp_path, self.feature(), "junk")
        [error] = mapped.parse_geojson(path, mapping(self.GEO_MAPPING)).errors
        assert error.reason == "expected a GeoJSON Feature object, found str"

    @pytest.mark.parametrize(("document", "message"), [
        ({"type": "Feature"}, "expected a GeoJSON FeatureCollection, found 'Feature'"),
        ([1, 2], "expected a GeoJSON FeatureCollection, found 'list'"),
        ({"type": "FeatureCollection", "features": {}}, "expected a list of features"),
    ])
    def test_not_a_feature_collection(self, tmp_path, document, message):
        with pytest.raises(InvalidInput, match=message):
            mapped.parse_geojson(self.write(tmp_path, document=document),
                                 mapping(self.GEO_MAPPING))

    def test_no_feature_has_the_id_property(self, tmp_path):
        path = self.write(tmp_path, self.feature())
        wrong = mapping(self.GEO_MAPPING.replace('id = "@id"', 'id = "uid"'))
        with pytest.raises(InvalidInput, match="expected features with the property 'uid'; "
                                               "found count, date, name, tags"):
            mapped.parse_geojson(path, wrong)

    def test_invalid_json(self, tmp_path):
        (tmp_path / "x.geojson").write_text("{", "utf-8")
        with pytest.raises(InvalidInput, match="expected GeoJSON, found invalid JSON"):
            mapped.parse_geojson(tmp_path / "x.geojson", mapping(self.GEO_MAPPING))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_becomes_plain_text_or_a_row_error(tmp_path_factory, text):
    """Whatever a cell holds, the record is read or refused; nothing raises, and no
    control character reaches an incident."""
    path = tmp_path_factory.mktemp("any") / "data.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows([["id", "when", "text", "lat", "lon", "village", "oblast",
                                    "url", "weapon", "object", "note"],
                                   ["A1", text, text, text, text, text, text, text, "", text,
                                    text]])
    parsed = mapped.parse_csv(path, mapping())
    assert len(parsed.incidents) + len(parsed.errors) <= 1
    for incident in parsed.incidents:
        for value in (incident.title, incident.location_text, *incident.attributes.values(),
                      incident.description):
            assert not CONTROL.search(value)


class TestLoadMapping:
    @pytest.mark.parametrize(("change", "message"), [
        ({"datset": "x"}, "the mapping: expected only the keys .*; found datset"),
        ({"dataset": ""}, "dataset: expected a non-empty string"),
        ({"timezone": "Europe/Kiev-ish"}, "expected an IANA time zone"),
        ({"infer_from_weapons": "always"}, "infer_from_weapons: expected 'none'"),
        ({"fields": {"title": "t"}}, "fields.id: expected a non-empty string"),
        ({"fields": {"id": "i", "locaton": "x"}}, r"\[fields\]: expected only the keys"),
        ({"defaults": {"time_precision": "fortnight"}},
         "defaults.time_precision: expected one of exact, hour, day, week, month"),
        ({"tables": {"weapons": {"column": "w", "values": {"x": "laser"}}}},
         "tables.weapons.values.'x': expected one of he_rocket_artillery"),
        ({"tables": {"event_type": {"column": "e", "values": {"x": ["explosions_remote_violence",
                                                                    "violence_against_civilians"]}}}},
         "expected one code"),
        ({"tables": {"weapons": {"column": "w", "match": "fuzzy", "values": {"x": "unknown"}}}},
         "expected match = 'exact' or 'keyword'"),
        ({"tables": {"colour": {}}}, r"\[tables\]: expected only the keys"),
        ({"file": {"delimiter": ";;"}}, "file.delimiter: expected one character"),
    ], ids=lambda v: str(v)[:30])
    def test_a_bad_mapping_is_refused_naming_the_key(self, change, message):
        with pytest.raises(InvalidInput, match=message):
            mapping('dataset = "d"\n[fields]\nid = "i"\n', **change)

    def test_not_toml(self, tmp_path):
        (tmp_path / "m.toml").write_text("dataset = ", "utf-8")
        with pytest.raises(InvalidInput, match="m.toml: expected TOML"):
            mapped.load_mapping(tmp_path / "m.toml")

    def test_missing(self, tmp_path):
        with pytest.raises(InvalidInput, match="expected a mapping file at"):
            mapped.load_mapping(tmp_path / "none.toml")
