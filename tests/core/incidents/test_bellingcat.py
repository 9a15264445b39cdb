"""Bellingcat's TimeMap data, both shapes: the real 2023 export and synthetic bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from svidok.core.errors import InvalidInput
from svidok.core.incidents.importers import bellingcat
from svidok.core.incidents.records import TRUNCATED
from svidok.core.incidents.vocab import EventType, ObjectType, SubType, TimePrecision, Weapon
from tests.conftest import shared_data

INCIDENTS = shared_data() / "incidents"
EXPORT = INCIDENTS / "bellingcat-timemap-2023"
DENORMALISED = INCIDENTS / "bellingcat-denormalised-excerpt.json"
needs_export = pytest.mark.skipif(not (EXPORT / "export_events.json").exists(),
                                  reason=f"no Bellingcat export under {EXPORT} "
                                         "(SVIDOK_SHARED_DATA)")
needs_excerpt = pytest.mark.skipif(not DENORMALISED.exists(),
                                   reason=f"no {DENORMALISED} (SVIDOK_SHARED_DATA)")

ASSOCIATIONS = [
    {"id": "asc1", "filter_paths": ["Type of area affected", "Residential"], "mode": "FILTER"},
    {"id": "asc4", "filter_paths": ["Type of area affected", "Healthcare"], "mode": "FILTER"},
    {"id": "asc24", "filter_paths": ["Weapon System", "Air strike"], "mode": "FILTER"},
    {"id": "asc23", "filter_paths": ["Weapon System", "Small arms"], "mode": "FILTER"},
    {"id": "asc99", "filter_paths": ["Weapon System", "Glide bomb"], "mode": "FILTER"},
]
SOURCES = {
    "srcHidden": {"id": "srcHidden", "paths": ["HIDDEN"], "title": "-",
                  "description": "Source hidden"},
    "s1": {"id": "s1", "paths": ["https://t.me/s/chan/1"], "title": "CIV1", "description": "Video"},
}


def event(**changed):
    """One well-formed export event, with the given fields changed."""
    fields = {"id": "CIV1", "date": "03/27/2022", "time": "00:00", "location": "Kharkiv",
              "latitude": "49.99", "longitude": "36.23", "description": "Strike on a clinic.",
              "graphic": "FALSE", "associations": ["asc4", "asc24"], "sources": ["s1"]}
    fields.update(changed)
    return fields


@pytest.fixture
def export(tmp_path):
    """Writes a three-file export of the given events to a fresh folder."""
    def write(*events, sources=SOURCES, associations=ASSOCIATIONS):
        (tmp_path / "export_events.json").write_text(json.dumps(list(events)), "utf-8")
        (tmp_path / "export_sources.json").write_text(json.dumps(sources), "utf-8")
        (tmp_path / "export_associations.json").write_text(json.dumps(associations), "utf-8")
        return tmp_path
    return write


@pytest.fixture(scope="module")
def parsed():
    """The real 2023 export, parsed once."""
    return bellingcat.parse(EXPORT)


@needs_export
class TestRealExport:
    def test_accounts_for_all_1159_events(self, parsed):
        assert len(parsed.incidents) == 1158
        assert len(parsed.incidents) + len(parsed.errors) == 1159

    def test_refuses_the_second_CIV1553(self, parsed):
        # Two different Kyiv drone strikes on 10/17/2022 share this id upstream.
        [error] = parsed.errors
        assert (error.row, error.upstream_id) == (880, "CIV1553")
        assert "first seen at row 878" in error.reason

    def test_first_event(self, parsed):
        first = parsed.incidents[0]
        assert first.upstream_id == "CIV0001" and first.row == 1
        assert first.title == "Chuhuiv, south of Kharkiv: Apartment block hit"
        assert (first.start, first.end) == (datetime(2022, 2, 23, 22, tzinfo=UTC),
                                           datetime(2022, 2, 24, 22, tzinfo=UTC))
        assert first.time_precision is TimePrecision.DAY
        assert (first.latitude, first.longitude) == (49.85005, 36.659031)
        assert first.weapons == (Weapon.UNKNOWN,) and first.event_type is None
        assert first.objects == (ObjectType.RESIDENTIAL,)
        assert len(first.sources) == 12 and first.sources[0].upstream_id == "src_exists_CIV0001_1"
        assert first.attributes == {"graphic": "TRUE"}

    def test_summer_days_start_at_21_utc(self, parsed):
        summer = [i for i in parsed.incidents if i.start and i.start.month in (6, 7, 8)]
        assert summer and all(i.start.hour == 21 for i in summer)

    def test_weapons_imply_event_types(self, parsed):
        by_id = {incident.upstream_id: incident for incident in parsed.incidents}
        shooting = by_id["CIV0371"]
        assert (shooting.event_type, shooting.sub_type) == (
            EventType.VIOLENCE_AGAINST_CIVILIANS, SubType.ATTACK)
        kinds = {(i.event_type, i.sub_type) for i in parsed.incidents
                 if Weapon.LOITERING_MUNITION in i.weapons}
        assert kinds == {(EventType.EXPLOSIONS_REMOTE_VIOLENCE, SubType.AIR_DRONE_STRIKE)}

    def test_hidden_sources_have_no_url(self, parsed):
        hidden = [s for i in parsed.incidents for s in i.sources if s.hidden]
        assert len(hidden) == 72 and all(s.url is None for s in hidden)

    def test_control_characters_leave_locations(self, parsed):
        by_id = {incident.upstream_id: incident for incident in parsed.incidents}
        assert by_id["CIV0197"].location_text == "Zhytomyr"  # upstream: "\r\nZhytomyr"
        assert "\r" not in by_id["CIV0371"].description

    def test_titles_are_short(self, parsed):
        assert all(0 < len(incident.title) <= 120 for incident in parsed.incidents)

    @pytest.mark.parametrize("name", ["export_events.json", "export_sources.json",
                                      "export_associations.json"])
    def test_any_file_of_the_export_names_it(self, parsed, name):
        assert bellingcat.parse(EXPORT / name) == parsed


@needs_excerpt
def test_real_denormalised_excerpt():
    parsed = bellingcat.parse(DENORMALISED)
    assert (len(parsed.incidents), parsed.errors) == (20, [])
    first = parsed.incidents[0]
    assert first.upstream_id == "CIV0098" and first.location_text == ""
    assert first.title == "Individual injured by shelling, ambulance responds"
    assert first.sources[0].url.startswith("https://www.facebook.com/story.php?story_fbid=")
    assert {i.upstream_id for i in parsed.incidents} >= {"2TZHHF", "M7AEQD"}


class TestSyntheticExport:
    def test_a_good_event(self, export):
        [incident] = bellingcat.parse(export(event())).incidents
        assert incident.weapons == (Weapon.AIR_STRIKE,)
        assert incident.objects == (ObjectType.HEALTHCARE,)
        assert (incident.event_type, incident.sub_type) == (
            EventType.EXPLOSIONS_REMOTE_VIOLENCE, SubType.AIR_DRONE_STRIKE)
        # 27 March 2022: Kyiv moved to summer time, so that day lasted 23 hours.
        assert incident.end - incident.start == (
            datetime(2022, 3, 27, 21, tzinfo=UTC) - datetime(2022, 3, 26, 22, tzinfo=UTC))
        assert incident.sources[0].url == "https://t.me/s/chan/1"  # kept as cited

    def test_a_time_other_than_midnight_is_exact(self, export):
        [incident] = bellingcat.parse(export(event(time="14:30"))).incidents
        assert incident.time_precision is TimePrecision.EXACT
        assert incident.start == datetime(2022, 3, 27, 11, 30, tzinfo=UTC)

    @pytest.mark.parametrize(("changed", "reason"), [
        ({"date": "13/45/2022"}, "date: expected MM/DD/YYYY, found '13/45/2022'"),
        ({"date": ""}, "date: expected MM/DD/YYYY, found ''"),
        ({"date": "01/01/2099"}, "date: expected a date no later than tomorrow"),
        ({"time": "25:61"}, "time: expected HH:MM, found '25:61'"),
        ({"latitude": "91.5"}, "latitude: expected decimal degrees between -90 and 90, "
                               "found '91.5'"),
        ({"longitude": "thirty"}, "longitude: expected decimal degrees"),
        ({"latitude": "0", "longitude": "0"}, "found latitude 0 and longitude 0"),
        ({"id": ""}, "expected an id, found none"),
        ({"associations": ["asc99"]}, "weapon system: expected one of 'HE rocket artillery'"),
        ({"associations": ["nope"]}, "associations: expected 'nope' in export_associations"),
        ({"sources": ["gone"]}, "sources: expected 'gone' in export_sources.json"),
        ({"sources": "s1"}, "sources: expected a list, found 's1'"),
    ], ids=lambda v: str(v)[:30])
    def test_a_bad_event_is_a_row_error(self, export, changed, reason):
        parsed = bellingcat.parse(export(event(id="CIV0", description="Fine."), event(**changed)))
        assert [i.upstream_id for i in parsed.incidents] == ["CIV0"]
        [error] = parsed.errors
        assert error.row == 2 and reason in error.reason

    def test_every_duplicate_after_the_first_is_refused(self, export):
        parsed = bellingcat.parse(export(event(), event(description="b"), event(description="c")))
        assert [i.description for i in parsed.incidents] == ["Strike on a clinic."]
        assert [(e.row, e.upstream_id) for e in parsed.errors] == [(2, "CIV1"), (3, "CIV1")]
        assert all("first seen at row 1" in e.reason for e in parsed.errors)

    def test_an_event_that_is_not_an_object(self, export):
        parsed = bellingcat.parse(export(event(), ["not", "an", "event"]))
        assert parsed.errors[0].reason == "expected an event object, found list"

    def test_hostile_text_is_plain_text(self, export):
        hostile = "<script>alert(1)</script>\x00 bell\x07 rtl\u202e " + "x" * 30_000
        [incident] = bellingcat.parse(export(event(description=hostile, location="A\x00B"))
                                      ).incidents
        assert incident.description.startswith("<script>alert(1)</script> bell rtl ")
        assert len(incident.description) == 20_000
        assert incident.attributes[TRUNCATED] == "description"
        assert incident.location_text == "A B"
        assert len(incident.title) <= 120

    def test_hidden_source(self, export):
        [incident] = bellingcat.parse(export(event(sources=["srcHidden", "s1"]))).incidents
        hidden, shown = incident.sources
        assert (hidden.url, hidden.hidden, hidden.description) == (None, True, "Source hidden")
        assert shown.hidden is False

    def test_unknown_filters_and_keys_are_kept(self, export):
        extra = ASSOCIATIONS + [{"id": "x", "filter_paths": ["Verified", "Yes"]}]
        [incident] = bellingcat.parse(export(event(associations=["x"], note={"a": 1}),
                                             associations=extra)).incidents
        assert incident.attributes == {"graphic": "FALSE", "filter: Verified": "Yes",
                                       "note": '{"a": 1}'}


class TestUnreadableInput:
    def test_a_folder_without_the_export(self, tmp_path):
        with pytest.raises(InvalidInput, match="expected export_events.json"):
            bellingcat.parse(tmp_path)

    @pytest.mark.parametrize(("content", "message"), [
        (b"", "events.json is empty: expected JSON"),
        (b"{not json", "expected JSON"),
        (b'["caf\xe9"]', "expected UTF-8 JSON, found byte 0xe9"),
        (b'{"events": []}', "expected a JSON list of events, found dict"),
        (b'[{"uid": 1, "when": "x"}]', "missing id, date, latitude, longitude; found uid, when"),
    ])
    def test_a_file_that_is_not_the_data(self, tmp_path, content, message):
        path = tmp_path / "events.json"
        path.write_bytes(content)
        with pytest.raises(InvalidInput, match=message):
            bellingcat.parse(path)

    def test_an_empty_list_is_an_empty_dataset(self, tmp_path):
        (tmp_path / "list.json").write_text("[]", "utf-8")
        parsed = bellingcat.parse(tmp_path / "list.json")
        assert (parsed.dataset, parsed.incidents, parsed.errors) == ("bellingcat", [], [])

    def test_bad_associations_file(self, export):
        with pytest.raises(InvalidInput, match="expected entries with an id and filter_paths"):
            bellingcat.parse(export(event(), associations=[{"id": "a"}]))
