"""Air-raid alerts imported and shown against an incident's place and time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from svidok.apps.custody.models import CustodyEvent
from svidok.apps.evidence.models import Collection
from svidok.apps.incidents.alerts import alerts_import, incident_alerts
from svidok.apps.incidents.models import AirRaidAlert
from svidok.apps.incidents.services import incident_create
from svidok.core.errors import InvalidInput
from tests.conftest import shared_data

pytestmark = pytest.mark.django_db
OFFICIAL = shared_data() / "air-raid-alerts" / "official_data_en.csv"

SAMPLE = ("oblast,raion,hromada,level,started_at,finished_at,source\n"
          "Kharkivska oblast,,,oblast,2024-07-08 07:00:00+00:00,2024-07-08 08:10:00+00:00,"
          "official\n"
          "Kyiv City,,,oblast,2024-07-08 05:00:00+00:00,2024-07-08 05:30:00+00:00,official\n"
          "Kyiv City,,,oblast,2024-07-08 07:40:00+00:00,nonsense,official\n")


def incident(**fields):
    collection, _ = Collection.objects.get_or_create(name="Strikes")
    return incident_create(collection=collection, actor="t", fields={"title": "Strike",
                                                                       **fields})


def test_import_and_corroborate(svidok_home, tmp_path):
    path = tmp_path / "official_data_en.csv"
    path.write_text(SAMPLE)
    summary = alerts_import(path=path, actor="t")
    assert (summary.source, summary.periods, len(summary.errors)) == ("official", 2, 1)
    assert "nonsense" in summary.errors[0]["reason"]
    assert AirRaidAlert.objects.filter(source="readme").count() == 2  # the permanent ones
    assert CustodyEvent.objects.filter(action="alerts.imported").count() == 1

    kharkiv = incident(start=datetime(2024, 7, 8, 7, 30, tzinfo=UTC), time_precision="exact",
                       latitude=49.98, longitude=36.25)
    found = incident_alerts(kharkiv)
    assert found.checked and [a.name for a in found.alerts] == ["Kharkivska oblast"]
    kyiv_day = incident(start=datetime(2024, 7, 7, 21, tzinfo=UTC),
                        end=datetime(2024, 7, 8, 21, tzinfo=UTC), time_precision="day",
                        latitude=50.45, longitude=30.52)
    assert [a.unit for a in incident_alerts(kyiv_day).alerts] == ["UA80"]
    kyiv_exact = incident(start=datetime(2024, 7, 8, 7, 45, tzinfo=UTC),
                          time_precision="exact", latitude=50.45, longitude=30.52)
    assert incident_alerts(kyiv_exact).alerts == []  # the bad row was not imported
    assert not incident_alerts(incident()).checked  # no place, no time

    path.write_text(SAMPLE.splitlines()[0] + "\n")
    again = alerts_import(path=path, actor="t")
    assert (again.periods, again.replaced) == (0, 2)  # a snapshot replaces its source
    assert incident_alerts(kharkiv).alerts == []


def test_a_file_of_another_shape_is_refused(svidok_home, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(InvalidInput, match="official"):
        alerts_import(path=path, actor="t")
    assert not AirRaidAlert.objects.exists()


@pytest.mark.slow
@pytest.mark.skipif(not OFFICIAL.exists(), reason="shared alert data absent")
def test_the_official_dataset(svidok_home):
    summary = alerts_import(path=OFFICIAL, actor="t")
    assert summary.periods == 43_031 and summary.errors == []
    hit = incident(start=datetime(2022, 3, 15, 23, 50, tzinfo=UTC), time_precision="exact",
                   latitude=49.98, longitude=36.25)
    assert [a.row for a in incident_alerts(hit).alerts] == [43]
