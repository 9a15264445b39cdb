"""Air-raid alerts: parsing both files, the README's permanent alerts, the index."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from svidok.core.errors import InvalidInput
from svidok.core.geo.alerts import (
    OFFICIAL_COLUMNS,
    VOLUNTEER_COLUMNS,
    AlertIndex,
    AlertParse,
    AlertPeriod,
    parse_official,
    parse_volunteer,
    permanent_periods,
)
from svidok.core.geo.lookup import Gazetteer, gazetteer
from tests.conftest import shared_data

OFFICIAL_HEADER = ",".join(OFFICIAL_COLUMNS)
VOLUNTEER_HEADER = ",".join(VOLUNTEER_COLUMNS)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.fixture(scope="module")
def places() -> Gazetteer:
    """The shipped gazetteer, to resolve raion and hromada names."""
    return gazetteer()


def write(tmp_path: Path, text: str, name: str = "alerts.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def official(tmp_path: Path, places: Gazetteer, *rows: str) -> AlertParse:
    return parse_official(write(tmp_path, "\n".join([OFFICIAL_HEADER, *rows]) + "\n"),
                          places=places)


MARCH_15_NOON = utc(2022, 3, 15, 12)


def period(level: str = "oblast", oblast: str = "UA63", raion: str = "", hromada: str = "",
           start: datetime = MARCH_15_NOON, minutes: float | None = 30,
           source: str = "official") -> AlertPeriod:
    end = None if minutes is None else start + timedelta(minutes=minutes)
    return AlertPeriod(source, level, oblast, raion, hromada, start, end, False,
                       minutes is None, 2, "test")


class TestParseOfficial:
    def test_the_three_levels_resolve_to_p_codes(self, tmp_path, places):
        parsed = official(
            tmp_path, places,
            "Kharkivska oblast,,,oblast,2022-03-15 23:47:05+00:00,2022-03-16 04:23:09+00:00,"
            "official",
            "Kharkivska oblast,Iziumskyi raion,,raion,2022-03-16 00:07:30+00:00,"
            "2022-03-16 04:23:05+00:00,official",
            "Kharkivska oblast,Chuhuivskyi raion,m. Chuhuiv ta Chuhuivska terytorialna hromada,"
            "hromada,2022-03-16 01:00:00+00:00,2022-03-16 02:00:00+00:00,official",
            "Kyiv City,,,oblast,2022-03-16 01:00:00+00:00,,official",
        )
        assert parsed.errors == [] and parsed.unresolved == {} and parsed.repairs == []
        oblast, raion, hromada, city = parsed.periods
        assert (oblast.level, oblast.oblast, oblast.raion, oblast.row) == ("oblast", "UA63", "", 2)
        assert oblast.started_at == utc(2022, 3, 15, 23, 47, 5)
        assert oblast.finished_at == utc(2022, 3, 16, 4, 23, 9)
        assert oblast.name == "Kharkivska oblast" and oblast.source == "official"
        assert (raion.raion, raion.unit, raion.name) == ("UA6304", "UA6304", "Iziumskyi raion")
        assert (hromada.raion, hromada.hromada) == ("UA6314", "UA6314017")
        assert hromada.name == "m. Chuhuiv ta Chuhuivska terytorialna hromada"
        assert (city.oblast, city.finished_at) == ("UA80", None)  # still running

    def test_a_renamed_raion_and_a_shared_hromada_name(self, tmp_path, places):
        parsed = official(
            tmp_path, places,
            "Zhytomyrska oblast,Novohrad-Volynskyi raion,,raion,2022-03-16 01:00:00+00:00,"
            "2022-03-16 02:00:00+00:00,official",
            # Two Pokrovska hromadas in Nikopolskyi raion: the city's is meant.
            "Dnipropetrovska oblast,Nikopolskyi raion,m. Pokrov ta Pokrovska terytorialna "
            "hromada,hromada,2022-03-16 01:00:00+00:00,2022-03-16 02:00:00+00:00,official",
        )
        assert [p.unit for p in parsed.periods] == ["UA1808", "UA1208009"]

    def test_bad_rows_become_errors_with_their_line(self, tmp_path, places):
        parsed = official(
            tmp_path, places,
            "Kharkivska oblast,,,oblast,yesterday,2022-03-16 04:23:09+00:00,official",
            "Kharkivska oblast,,,oblast,2022-03-15,2022-03-16 04:23:09+00:00,official",
            "Kharkivska oblast,,,oblast,2022-03-16 05:00:00+00:00,2022-03-16 04:00:00+00:00,"
            "official",
            "Kharkivska oblast,,,oblast,2022-03-16 05:00:00+00:00,soon,official",
            "Kharkivska oblast,,,city,2022-03-16 05:00:00+00:00,,official",
            "Kharkivska oblast,,,raion,2022-03-16 05:00:00+00:00,,official",
            "Atlantis oblast,,,oblast,2022-03-16 05:00:00+00:00,,official",
            "Kharkivska oblast,,oblast,2022-03-16 05:00:00+00:00,,official",
            "Kharkivska oblast,,,oblast,2022-03-16 05:00:00+00:00,2022-03-16 06:00:00+00:00,"
            "official",
        )
        reasons = {error.row: error.reason for error in parsed.errors}
        assert sorted(reasons) == [2, 3, 4, 5, 6, 7, 8, 9]
        assert "started_at: expected a date and time" in reasons[2] and "'yesterday'" in reasons[2]
        assert "'2022-03-15'" in reasons[3]  # a date alone is not a moment
        assert reasons[4].startswith("alert ends before it starts")
        assert "finished_at" in reasons[5] and "'soon'" in reasons[5]
        assert "expected one of oblast, raion, hromada, found 'city'" in reasons[6]
        assert "level raion needs" in reasons[7]
        assert reasons[8] == "unknown oblast: expected an oblast's name, found 'Atlantis oblast'"
        assert reasons[9].startswith("expected 7 fields") and reasons[9].endswith("found 6")
        assert parsed.unresolved == {"Atlantis oblast": 1}
        assert [p.row for p in parsed.periods] == [10]

    def test_an_unknown_raion_is_kept_without_a_code_and_counted(self, tmp_path, places):
        row = ("Kharkivska oblast,Nowhereskyi raion,,raion,2022-03-16 01:00:00+00:00,"
               "2022-03-16 02:00:00+00:00,official")
        parsed = official(tmp_path, places, row, row)
        assert parsed.unresolved == {"Nowhereskyi raion": 2}
        assert [(p.oblast, p.raion, p.unit) for p in parsed.periods] == [("UA63", "", "")] * 2

    def test_swapped_oblast_and_raion_columns_are_repaired(self, tmp_path, places):
        # As in row 18 of the real file.
        parsed = official(
            tmp_path, places,
            "Lubenskyi raion,Poltavska oblast,Hrebinkivska terytorialna hromada,hromada,"
            "2022-03-15 16:46:43+00:00,2022-03-15 16:58:17+00:00,official")
        (hromada,) = parsed.periods
        assert (hromada.oblast, hromada.raion, hromada.hromada) == ("UA53", "UA5304", "UA5304001")
        assert [r.row for r in parsed.repairs] == [2]
        assert "swapped" in parsed.repairs[0].reason and parsed.errors == []


class TestParseVolunteer:
    def test_naive_ends_are_flagged(self, tmp_path):
        path = write(tmp_path, "\n".join([
            VOLUNTEER_HEADER,
            "Kyiv City,2022-02-25 16:36:22+00:00,2022-02-25 17:06:22+00:00,True",
            "Cherkaska oblast,2022-02-25 18:36:21+00:00,2022-02-25 19:32:11+00:00,False",
            "Cherkaska oblast,2022-02-25 18:36:21+00:00,2022-02-25 19:32:11+00:00,maybe",
            "Narnia,2022-02-25 18:36:21+00:00,2022-02-25 19:32:11+00:00,False",
        ]))
        parsed = parse_volunteer(path)
        assert [(p.oblast, p.naive_end, p.level, p.source) for p in parsed.periods] == [
            ("UA80", True, "oblast", "volunteer"), ("UA71", False, "oblast", "volunteer")]
        assert [(e.row, e.reason) for e in parsed.errors] == [
            (4, "naive must be True or False, found 'maybe'"),
            (5, "unknown oblast: expected an oblast's name, found 'Narnia'")]
        assert parsed.unresolved == {"Narnia": 1}


class TestFileProblems:
    def test_a_byte_order_mark_is_dropped(self, tmp_path):
        path = write(tmp_path, "\ufeff" + VOLUNTEER_HEADER
                     + "\r\nKyiv City,2022-02-25 16:36:22+00:00,2022-02-25 17:06:22+00:00,True\r\n")
        assert [p.oblast for p in parse_volunteer(path).periods] == ["UA80"]

    def test_bytes_that_are_not_utf8_fail_only_their_row(self, tmp_path):
        good = "Kyiv City,2022-02-25 16:36:22+00:00,2022-02-25 17:06:22+00:00,True\n"
        path = tmp_path / "mixed.csv"
        path.write_bytes((VOLUNTEER_HEADER + "\n" + good).encode()
                         + "Київ,2022-02-25 16:36:22+00:00,,True\n".encode("cp1251")
                         + good.encode())
        parsed = parse_volunteer(path)
        assert [p.row for p in parsed.periods] == [2, 4]
        (error,) = parsed.errors
        assert error.row == 3 and error.reason.startswith("expected UTF-8 text, found bytes")

    def test_a_wrong_header_names_expected_and_found_columns(self, tmp_path, places):
        path = write(tmp_path, "region,started_at,finished_at,naive\n")
        with pytest.raises(InvalidInput) as caught:
            parse_official(path, places=places)
        assert "expected columns oblast, raion, hromada" in caught.value.message
        assert "found 'region', 'started_at'" in caught.value.message
        assert caught.value.extra["expected"] == list(OFFICIAL_COLUMNS)
        assert caught.value.extra["found"] == list(VOLUNTEER_COLUMNS)

    def test_an_empty_file(self, tmp_path):
        with pytest.raises(InvalidInput, match="found no header"):
            parse_volunteer(write(tmp_path, ""))

    def test_a_missing_file(self, tmp_path):
        with pytest.raises(InvalidInput, match="cannot read the volunteer alerts file"):
            parse_volunteer(tmp_path / "absent.csv")


class TestPermanentPeriods:
    def test_luhansk_and_crimea_from_the_readme(self):
        luhansk, crimea = permanent_periods()
        assert (luhansk.oblast, luhansk.started_at) == ("UA44", utc(2022, 4, 4, 16, 45))
        assert (crimea.oblast, crimea.started_at) == ("UA01", utc(2022, 12, 10, 22, 22))
        for alert in (luhansk, crimea):
            assert alert.permanent and alert.finished_at is None and alert.source == "readme"

    def test_they_are_active_ever_after(self):
        index = AlertIndex(permanent_periods())
        assert index.active(utc(2022, 4, 4, 16, 44), oblast="UA44") == []
        assert [p.name for p in index.active(utc(2025, 1, 1), oblast="UA44")] == ["Luhansk region"]
        assert [p.name for p in index.around(utc(2022, 12, 10), utc(2022, 12, 11),
                                             oblast="UA01")] == ["Crimea"]


class TestAlertIndex:
    def test_start_is_inside_and_end_outside(self):
        alert = period(start=utc(2022, 5, 1, 10), minutes=30)
        index = AlertIndex([alert])
        assert index.active(utc(2022, 5, 1, 10), oblast="UA63") == [alert]
        assert index.active(utc(2022, 5, 1, 10, 29, 59), oblast="UA63") == [alert]
        assert index.active(utc(2022, 5, 1, 10, 30), oblast="UA63") == []
        assert index.active(utc(2022, 5, 1, 9, 59), oblast="UA63") == []

    def test_a_place_is_covered_by_its_own_units_only(self):
        alerts = [period("oblast", "UA63"), period("raion", "UA63", "UA6312"),
                  period("hromada", "UA63", "UA6312", "UA6312027"),
                  period("hromada", "UA63", "UA6312", "UA6312007"),
                  period("raion", "UA63", "UA6304"), period("oblast", "UA32")]
        index = AlertIndex(alerts)
        at = utc(2022, 3, 15, 12, 10)

        def units(**place: str) -> list[str]:
            return [p.unit for p in index.active(at, **place)]

        assert units(oblast="UA63") == ["UA63"]
        assert units(oblast="UA63", raion="UA6312") == ["UA63", "UA6312"]
        assert units(oblast="UA63", hromada="UA6312027") == ["UA63", "UA6312", "UA6312027"]
        assert units(oblast="UA32", raion="UA3202") == ["UA32"]

    def test_a_long_alert_is_found_behind_many_short_ones(self):
        long = period(start=utc(2022, 3, 1), minutes=60 * 24 * 3)
        short = [period(start=utc(2022, 3, 1, 1) + timedelta(hours=i), minutes=10)
                 for i in range(50)]
        index = AlertIndex([*short, long])
        assert index.active(utc(2022, 3, 3, 12), oblast="UA63") == [long]
        assert len(index.around(utc(2022, 3, 1), utc(2022, 3, 1, 23, 59), oblast="UA63")) == 24

    def test_around_a_day(self):
        before = period(start=utc(2022, 3, 14, 23, 50), minutes=20)
        during = period(start=utc(2022, 3, 15, 12), minutes=5, source="volunteer")
        after = period(start=utc(2022, 3, 16, 0, 0, 1), minutes=5)
        index = AlertIndex([after, during, before])
        day = (utc(2022, 3, 15), utc(2022, 3, 16))
        assert index.around(*day, oblast="UA63") == [before, during]

    def test_unresolved_periods_are_not_filed(self):
        index = AlertIndex([period("raion", "UA63", ""), period()])
        assert (len(index), index.unfiled) == (1, 1)

    @pytest.mark.parametrize(("place", "message"), [
        ({"oblast": "Kharkiv"}, "oblast: expected a P-code"),
        ({"oblast": "UA-63"}, "oblast: expected a P-code"),
        ({"oblast": "UA63", "raion": "UA3202"}, "raion: expected a P-code of six"),
        ({"oblast": "UA63", "raion": "UA6312", "hromada": "UA6304001"}, "hromada: expected"),
    ])
    def test_place_codes_must_nest(self, place, message):
        with pytest.raises(InvalidInput, match=message):
            AlertIndex([]).active(utc(2022, 3, 15), **place)

    def test_times_need_a_zone_and_windows_an_order(self):
        index = AlertIndex([])
        with pytest.raises(InvalidInput, match="expected a time with a time zone"):
            index.active(datetime(2022, 3, 15), oblast="UA63")
        with pytest.raises(InvalidInput, match="window ends before it starts"):
            index.around(utc(2022, 3, 16), utc(2022, 3, 15), oblast="UA63")


# ---------------------------------------------------------------------- the real files

ALERTS = shared_data() / "air-raid-alerts"
needs_data = pytest.mark.skipif(not (ALERTS / "official_data_en.csv").exists(),
                                reason="air-raid alert dataset not present")


@pytest.fixture(scope="module")
def official_data(places) -> AlertParse:
    """The official alerts file as published (snapshot ending 2024-04-22)."""
    return parse_official(ALERTS / "official_data_en.csv", places=places)


@pytest.fixture(scope="module")
def volunteer_data() -> AlertParse:
    """The volunteers' alerts file as published (snapshot ending 2024-10-10)."""
    return parse_volunteer(ALERTS / "volunteer_data_en.csv")


@pytest.fixture(scope="module")
def real_index(official_data, volunteer_data) -> AlertIndex:
    """Both files and the README's two permanent alerts in one index."""
    return AlertIndex([*official_data.periods, *volunteer_data.periods, *permanent_periods()])


@needs_data
class TestRealData:
    def test_official_counts(self, official_data):
        levels: dict[str, int] = {}
        for alert in official_data.periods:
            levels[alert.level] = levels.get(alert.level, 0) + 1
        assert len(official_data.periods) == 43_031
        assert levels == {"oblast": 36_537, "raion": 897, "hromada": 5_597}
        assert official_data.errors == []
        assert [r.row for r in official_data.repairs] == [18]
        assert min(p.started_at for p in official_data.periods) == utc(2022, 3, 15, 16, 10, 34)

    def test_every_raion_and_hromada_name_resolves(self, official_data):
        assert official_data.unresolved == {}
        local = [p for p in official_data.periods if p.level != "oblast"]
        assert all(p.unit for p in local)
        assert len({p.raion for p in local if p.level == "raion"}) == 61
        assert len({p.hromada for p in local if p.level == "hromada"}) == 130
        assert all(p.raion.startswith(p.oblast) for p in local)
        assert all(p.hromada.startswith(p.raion) for p in local if p.level == "hromada")

    def test_volunteer_counts(self, volunteer_data):
        assert len(volunteer_data.periods) == 54_514
        assert sum(p.naive_end for p in volunteer_data.periods) == 2_395
        assert volunteer_data.errors == [] and volunteer_data.unresolved == {}
        assert min(p.started_at for p in volunteer_data.periods) == utc(2022, 2, 25, 16, 36, 22)

    def test_the_first_official_alert_in_kharkiv_oblast(self, real_index):
        # Line 43: Kharkivska oblast, 2022-03-15 23:47:05 to 2022-03-16 04:23:09 UTC.
        (alert,) = real_index.active(utc(2022, 3, 15, 23, 50), oblast="UA63")
        assert (alert.source, alert.row, alert.finished_at) == (
            "official", 43, utc(2022, 3, 16, 4, 23, 9))
        # Line 48: Iziumskyi raion from 00:07:30; the volunteers' record (line 1178) from 00:05.
        found = real_index.active(utc(2022, 3, 16, 1), oblast="UA63", raion="UA6304")
        assert [(p.source, p.row) for p in found] == [
            ("official", 43), ("volunteer", 1178), ("official", 48)]
