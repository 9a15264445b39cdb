"""Importing incident datasets: created, updated in place, unchanged, flagged when gone
upstream, refused records reported, all or nothing, recorded in the custody log."""

from __future__ import annotations

import json

import pytest

from svidok.apps.custody.models import CustodyEvent
from svidok.apps.incidents.importing import file_sha256, incidents_import
from svidok.apps.incidents.models import (
    ImportRun,
    Incident,
    IncidentChange,
    IncidentTag,
    Source,
)
from svidok.core.incidents.importers import bellingcat, cir
from tests.conftest import shared_data

pytestmark = pytest.mark.django_db
CIR = shared_data() / "incidents" / "cir-monitor" / "events.csv"
BELLINGCAT = shared_data() / "incidents" / "bellingcat-timemap-2023"


def event(upstream_id, *, description="Apartment block hit.", date="07/08/2024",
          lat="50.4501", lon="30.5234", weapon="Cruise missile", url=None):
    return {
        "id": upstream_id, "date": date, "latitude": lat, "longitude": lon,
        "location": "Kyiv", "description": description,
        "sources": [{"id": f"src-{upstream_id}",
                     "path": url or f"https://t.me/s/channel/{upstream_id[-3:]}",
                     "description": "post"}],
        "filters": [{"key": "Type of area affected", "value": "Healthcare"},
                    {"key": "Weapon System", "value": weapon}],
    }


def land(tmp_path, events, *, collection="Public", strict=False, name="v1.json"):
    path = tmp_path / name
    path.write_text(json.dumps(events))
    return incidents_import(parsed=bellingcat.parse(path), collection_name=collection,
                            actor="tester", file_name=path.name, file_digest=file_sha256(path),
                            strict=strict)


def test_first_import_creates_incidents_with_places_tags_and_sources(svidok_home, tmp_path):
    summary = land(tmp_path, [event("CIV0001"), event("CIV0002", lat="49.85005",
                                                        lon="36.659031")])
    assert (summary.created, summary.updated, summary.rejected) == (2, 0, 0)
    kyiv = Incident.objects.get(upstream_id="CIV0001")
    assert kyiv.oblast == "UA80" and kyiv.weapons == ["cruise_missile"]
    assert kyiv.objects_hit == ["healthcare"] and kyiv.time_precision == "day"
    assert Incident.objects.get(upstream_id="CIV0002").hromada == "UA6314017"
    assert set(IncidentTag.objects.filter(incident=kyiv).values_list("vocabulary", "code")) == {
        ("weapon", "cruise_missile"), ("object", "healthcare")}
    source = Source.objects.get(citations__incident=kyiv)
    assert source.url_key and source.dataset == "bellingcat"
    assert IncidentChange.objects.filter(kind="created").count() == 2


def test_reimport_updates_in_place_and_records_what_changed(svidok_home, tmp_path):
    land(tmp_path, [event("CIV0001"), event("CIV0002"), event("CIV0003")])
    first = Incident.objects.get(upstream_id="CIV0001")
    first.status = "verified"  # the team's own work must survive a re-import
    first.save()
    summary = land(tmp_path, [event("CIV0001", description="Hospital hit; 2 killed."),
                              event("CIV0002"), event("CIV0004")], name="v2.json")
    assert (summary.created, summary.updated, summary.unchanged, summary.flagged) == (1, 1, 1, 1)
    first.refresh_from_db()
    assert first.description == "Hospital hit; 2 killed." and first.status == "verified"
    change = IncidentChange.objects.get(incident=first, kind="updated")
    assert change.changes["description"] == ["Apartment block hit.", "Hospital hit; 2 killed."]
    gone = Incident.objects.get(upstream_id="CIV0003")
    assert gone.gone_upstream  # flagged, never deleted
    assert Incident.objects.count() == 4

    again = land(tmp_path, [event("CIV0001", description="Hospital hit; 2 killed."),
                            event("CIV0002"), event("CIV0003"), event("CIV0004")], name="v3.json")
    assert (again.updated, again.unchanged, again.flagged) == (1, 3, 0)
    gone.refresh_from_db()
    assert not gone.gone_upstream
    assert IncidentChange.objects.filter(incident=gone).latest("id").kind == "back_upstream"


def test_refused_records_are_reported_and_the_rest_lands(svidok_home, tmp_path):
    summary = land(tmp_path, [event("CIV0001"), event("CIV0002", date="13/45/2022"),
                              event("CIV0001", description="again")])
    assert (summary.created, summary.rejected) == (1, 2)
    reasons = {error.row: error.reason for error in summary.errors}
    assert "13/45/2022" in reasons[2] and "duplicate upstream id" in reasons[3]
    assert ImportRun.objects.get().rejected[0]["row"] == 2


def test_a_record_refused_on_reimport_is_not_gone_upstream(svidok_home, tmp_path):
    land(tmp_path, [event("CIV0001"), event("CIV0002")])
    again = land(tmp_path, [event("CIV0001"), event("CIV0002", date="99/99/2024")],
                 name="v2.json")
    assert (again.flagged, again.rejected) == (0, 1)
    assert not Incident.objects.filter(gone_upstream=True).exists()


def test_strict_lands_nothing_when_a_record_is_refused(svidok_home, tmp_path):
    summary = land(tmp_path, [event("CIV0001"), event("CIV0002", lat="95")], strict=True)
    assert not summary.landed and summary.rejected == 1
    assert not Incident.objects.exists() and not ImportRun.objects.exists()


def test_a_failure_midway_leaves_nothing(svidok_home, tmp_path, monkeypatch):
    from svidok.apps.incidents import importing

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(importing, "custody_append", broken)
    with pytest.raises(RuntimeError):
        land(tmp_path, [event("CIV0001")])
    assert not Incident.objects.exists() and not Source.objects.exists()
    assert not ImportRun.objects.exists()


def test_each_import_is_a_custody_event(svidok_home, tmp_path):
    summary = land(tmp_path, [event("CIV0001")])
    logged = CustodyEvent.objects.filter(action="incidents.imported").get()
    details = json.loads(logged.body)["details"]
    assert details["file_sha256"] == summary.file_sha256
    assert details["counts"]["created"] == 1 and len(details["changes_sha256"]) == 64


def test_datasets_and_collections_are_kept_apart(svidok_home, tmp_path):
    land(tmp_path, [event("CIV0001")], collection="A")
    summary = land(tmp_path, [event("CIV0002")], collection="B")
    assert summary.flagged == 0  # A's incident is not B's business
    assert Incident.objects.filter(gone_upstream=True).count() == 0


@pytest.mark.slow
@pytest.mark.skipif(not CIR.exists() or not BELLINGCAT.exists(),
                    reason="shared incident data absent (SVIDOK_SHARED_DATA)")
def test_real_datasets(svidok_home):
    summary = incidents_import(parsed=cir.parse(CIR), collection_name="CIR", actor="t",
                               file_name=CIR.name, file_digest=file_sha256(CIR))
    assert (summary.created, summary.rejected) == (6634, 16)
    again = incidents_import(parsed=cir.parse(CIR), collection_name="CIR", actor="t",
                             file_name=CIR.name, file_digest=file_sha256(CIR))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 6634)
    bell = incidents_import(parsed=bellingcat.parse(BELLINGCAT), collection_name="Bellingcat",
                            actor="t", file_name="export", file_digest=file_sha256(BELLINGCAT))
    assert (bell.created, bell.rejected) == (1158, 1)
    in_ukraine = Incident.objects.filter(collection__name="CIR").exclude(oblast="").count()
    assert in_ukraine > 5000
