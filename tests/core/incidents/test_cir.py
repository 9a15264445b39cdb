"""CIR's monitor CSV: the real 6,650-row file and synthetic bad input."""

from __future__ import annotations

import csv
import io
import time
from collections import Counter
from datetime import UTC, datetime

import pytest

from svidok.core.errors import InvalidInput
from svidok.core.incidents.importers import cir
from svidok.core.incidents.vocab import EventType, SubType, TimePrecision, Weapon
from tests.conftest import shared_data

EVENTS = shared_data() / "incidents" / "cir-monitor" / "events.csv"
needs_data = pytest.mark.skipif(not EVENTS.exists(), reason=f"no {EVENTS} (SVIDOK_SHARED_DATA)")
COLUMNS = ["entry", "date", "event_group", "title", "brief description", "lat", "lon",
           "country", "province", "district", "town/city", "arms/munition", "violence level",
           "link", "geolocation"]


def row(**changed) -> dict[str, str]:
    """One well-formed CIR row, with the given columns changed."""
    fields = dict(zip(COLUMNS, [
        "UW0001", "2022-03-01", "Bombing or Explosion Feb - June", "01/03/2022 Strike",
        "Strike on the square", "49.99", "36.23", "Ukraine", "Kharkiv Oblast", "",
        "Kharkiv", "9M55K Smerch", "2", "https://twitter.com/a/status/1?s=20", ""], strict=True))
    fields.update(changed)
    return fields


def write_csv(path, *rows, columns=COLUMNS):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def parsed():
    """The real CIR file, parsed once."""
    return cir.parse(EVENTS)


@needs_data
class TestRealFile:
    def test_accounts_for_all_6650_rows(self, parsed):
        assert len(parsed.incidents) == 6634 and len(parsed.errors) == 16

    def test_the_errors_are_missing_ids_duplicates_and_missing_dates(self, parsed):
        kinds = Counter(error.reason.split(":")[0].split(" '")[0] for error in parsed.errors)
        assert kinds == {"expected an id, found none": 4, "duplicate upstream id": 8, "date": 4}
        assert [e.row for e in parsed.errors if e.reason.startswith("expected an id")] == [
            73, 102, 127, 1389]
        uw0523 = [e for e in parsed.errors if e.upstream_id == "UW0523"]
        assert [e.row for e in uw0523] == [493, 494]
        assert all("first seen at row 492" in e.reason for e in uw0523)
        assert parsed.errors[-1].reason == "date: expected YYYY-MM-DD, found ''"
        assert parsed.errors[-1].row == 6651

    def test_first_row(self, parsed):
        first = parsed.incidents[0]
        assert (first.upstream_id, first.row, first.dataset) == ("UW0067", 2, "cir")
        assert first.start == datetime(2021, 12, 31, 22, tzinfo=UTC)
        assert first.time_precision is TimePrecision.DAY
        assert first.location_text == "Petrishki, Belarus"
        assert first.attributes == {"event_group": "Russian Military Presence January 2022",
                                    "country": "Belarus", "town/city": "Petrishki",
                                    "violence level": "1"}
        assert [s.title for s in first.sources] == ["link", "geolocation"]

    def test_rows_outside_ukraine_are_incidents(self, parsed):
        countries = Counter(i.attributes.get("country") for i in parsed.incidents)
        assert countries["Russia"] > 500 and countries["Belarus"] > 150

    def test_arms_text_gives_weapons_and_stays_verbatim(self, parsed):
        armed = [i for i in parsed.incidents if i.attributes.get("arms/munition")]
        assert len(armed) == 143 and sum(1 for i in armed if i.weapons) == 132
        smerch = next(i for i in armed if i.attributes["arms/munition"] == "9M55K Smerch")
        assert smerch.weapons == (Weapon.HE_ROCKET_ARTILLERY, Weapon.CLUSTER_MUNITIONS)

    def test_only_bombing_groups_are_typed(self, parsed):
        typed = [i for i in parsed.incidents if i.event_type is not None]
        assert len(typed) == 831
        assert {i.attributes["event_group"].split(" Feb")[0].split(" July")[0]
                for i in typed} == {"Bombing or Explosion"}

    def test_withheld_sources(self, parsed):
        sources = [s for i in parsed.incidents for s in i.sources]
        assert len(sources) == 10480
        assert sum(s.hidden for s in sources) == 52
        assert sum(s.url is None and not s.hidden for s in sources) == 2  # "Link", "1st photo"

    def test_parses_quickly(self):
        began = time.perf_counter()
        cir.parse(EVENTS)
        assert time.perf_counter() - began < 2.0


@pytest.mark.parametrize(("arms", "weapons"), [
    ("9M27K Uragan", {"he_rocket_artillery", "cluster_munitions"}),
    ("2S19 Msta-S Self-Propelled Howitzer", {"he_tube_artillery"}),
    ("TOS-1A thermobaric MLRS system", {"thermobaric", "he_rocket_artillery"}),
    ("Tactical ballistic missile OTR-21 Tochka", {"ballistic_missile"}),
    ("3M54-1", {"cruise_missile"}),
    ("BMP-2/MT-LB/9K33M3 Osa-AKM", {"vehicle_mounted_weapon", "anti_air_missile"}),
    ("Various Small arms and eplosive (AK's, RPG-7, etc..)", {"small_arms"}),
    ("Krasukha-4", set()),
    ("missing link", set()),
    ("Mi-8AMTSh", set()),
])
def test_arms_keywords(arms, weapons):
    table = cir.MAPPING.table("weapons")
    assert set(table.codes(arms)) == weapons


class TestSyntheticFile:
    def test_a_good_row(self, tmp_path):
        [incident] = cir.parse(write_csv(tmp_path / "e.csv", row())).incidents
        assert (incident.event_type, incident.sub_type) == (
            EventType.EXPLOSIONS_REMOTE_VIOLENCE, SubType.SHELLING_ARTILLERY_MISSILE_ATTACK)
        assert incident.title == "01/03/2022 Strike"
        assert incident.attributes["arms/munition"] == "9M55K Smerch"
        assert incident.sources[0].url == "https://twitter.com/a/status/1?s=20"

    def test_a_sighting_is_untyped_even_with_a_weapon(self, tmp_path):
        sighting = row(event_group="Russian Military Presence March 2022")
        [incident] = cir.parse(write_csv(tmp_path / "e.csv", sighting)).incidents
        assert incident.weapons and incident.event_type is None and incident.sub_type is None

    @pytest.mark.parametrize(("changed", "reason"), [
        ({"date": "01/03/2022"}, "date: expected YYYY-MM-DD, found '01/03/2022'"),
        ({"date": "2022-02-30"}, "date: expected YYYY-MM-DD, found '2022-02-30'"),
        ({"lat": "149.99"}, "latitude: expected decimal degrees between -90 and 90, "
                            "found '149.99'"),
        ({"lon": "36,23"}, "longitude: expected decimal degrees between -180 and 180, "
                           "found '36,23'"),
        ({"lat": "", "lon": "36.2"}, "latitude: expected decimal degrees"),
        ({"lat": "nan"}, "latitude: expected decimal degrees"),
        ({"entry": "   "}, "expected an id, found none"),
        ({"entry": "U" * 500}, "expected an id of at most 200 characters, found 500"),
    ], ids=lambda v: str(v)[:30])
    def test_a_bad_row_is_a_row_error(self, tmp_path, changed, reason):
        parsed = cir.parse(write_csv(tmp_path / "e.csv", row(entry="UW0"), row(**changed)))
        assert [i.upstream_id for i in parsed.incidents] == ["UW0"]
        [error] = parsed.errors
        assert error.row == 3 and reason in error.reason

    def test_duplicates(self, tmp_path):
        parsed = cir.parse(write_csv(tmp_path / "e.csv", row(), row(entry="UW2"), row()))
        assert [(e.row, e.upstream_id) for e in parsed.errors] == [(4, "UW0001")]
        assert "first seen at row 2" in parsed.errors[0].reason

    def test_several_and_withheld_sources(self, tmp_path):
        cells = row(link="Access can be requested, hidden for privacy reasons",
                    geolocation="https://t.me/a/1  https://x.com/b/status/2")
        [incident] = cir.parse(write_csv(tmp_path / "e.csv", cells)).incidents
        withheld, first, second = incident.sources
        assert (withheld.url, withheld.hidden) == (None, True)
        assert withheld.description.startswith("Access can be requested")
        assert (first.url, second.url) == ("https://t.me/a/1", "https://x.com/b/status/2")

    def test_nul_bytes_and_non_utf8_bytes(self, tmp_path):
        path = write_csv(tmp_path / "e.csv", row(), row(entry="UW2"), row(entry="UW3"))
        data = path.read_bytes().replace(b"Strike on the square", b"Str\x00ike", 1)
        data = data.replace(b"UW2,2022-03-01,Bombing", b"UW2,2022-03-01,Bomb\xffing", 1)
        path.write_bytes(data)
        parsed = cir.parse(path)
        assert [i.description for i in parsed.incidents] == ["Strike", "Strike on the square"]
        [error] = parsed.errors
        assert (error.row, error.upstream_id) == (3, "UW2")
        assert error.reason == "event_group: expected utf-8 text, found byte 0xff"

    def test_wrong_number_of_fields(self, tmp_path):
        path = write_csv(tmp_path / "e.csv", row())
        path.write_text(path.read_text("utf-8") + "UW9,2022-03-01,short\n", "utf-8")
        [error] = cir.parse(path).errors
        assert (error.row, error.upstream_id) == (3, "UW9")
        assert error.reason == "expected 15 fields, found 3"

    def test_a_field_beyond_the_csv_limit_refuses_only_its_row(self, tmp_path):
        giant = row(entry="UW2", **{"brief description": "x" * 200_000})
        parsed = cir.parse(write_csv(tmp_path / "e.csv", row(), giant, row(entry="UW3")))
        assert [i.upstream_id for i in parsed.incidents] == ["UW0001", "UW3"]
        [error] = parsed.errors
        assert error.row == 3 and "field larger than field limit" in error.reason

    def test_long_fields_are_cut_and_noted(self, tmp_path):
        long = row(**{"brief description": "y" * 25_000, "violence level": "z" * 25_000})
        [incident] = cir.parse(write_csv(tmp_path / "e.csv", long)).incidents
        assert len(incident.description) == 20_000
        assert len(incident.attributes["violence level"]) == 20_000
        assert incident.attributes["svidok.truncated"] == "description,violence level"

    def test_a_file_too_large_is_refused(self, tmp_path, monkeypatch):
        from svidok.core.errors import TooLarge
        from svidok.core.incidents.importers import _files

        monkeypatch.setattr(_files, "MAX_FILE_BYTES", 10)
        with pytest.raises(TooLarge, match="expected at most 10 bytes"):
            cir.parse(write_csv(tmp_path / "e.csv", row()))

    def test_blank_lines_and_a_byte_order_mark(self, tmp_path):
        path = write_csv(tmp_path / "e.csv", row())
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes() + b"\n\n")
        assert len(cir.parse(path).incidents) == 1

    def test_missing_columns(self, tmp_path):
        path = write_csv(tmp_path / "e.csv", {"entry": "UW1", "date": "2022-03-01"},
                         columns=["entry", "date"])
        with pytest.raises(InvalidInput, match=r"missing .*lat.*; found entry, date") as raised:
            cir.parse(path)
        assert "brief description" in raised.value.extra["missing"]

    @pytest.mark.parametrize(("content", "message"), [
        (b"", "empty: expected a header row"),
        (b"entry,da\xfete\n", "expected utf-8 text, found byte 0xfe in the header row"),
    ])
    def test_unreadable_files(self, tmp_path, content, message):
        (tmp_path / "e.csv").write_bytes(content)
        with pytest.raises(InvalidInput, match=message):
            cir.parse(tmp_path / "e.csv")

    def test_a_missing_file(self, tmp_path):
        with pytest.raises(InvalidInput, match="expected a file at .*, found nothing"):
            cir.parse(tmp_path / "nothing.csv")
