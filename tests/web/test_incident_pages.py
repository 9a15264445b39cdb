"""Incident pages as users reach them: the list with facets, one incident with its
assessment and evidence forms, the queue, duplicates review, map data and exports."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from svidok.apps.accounts.services import membership_grant
from svidok.apps.evidence.models import Item
from svidok.apps.evidence.services import AcquisitionFacts, evidence_ingest
from svidok.apps.incidents.deduplication import duplicates_find
from svidok.apps.incidents.models import DuplicateCandidate, Incident, Source
from tests.apps.incidents.test_importing import event, land
from tests.conftest import login_verified, make_jpeg

pytestmark = pytest.mark.django_db


def member(username, role, collection="Public"):
    get_user_model().objects.create_user(username)
    membership_grant(username=username, collection_name=collection, role=role, actor="t")
    client = Client()
    login_verified(client, get_user_model().objects.get(username=username))
    return client


@pytest.fixture
def world(svidok_home, tmp_path):
    """Collection Public: two reports of one strike in Kyiv, one in Kharkiv, a photo."""
    land(tmp_path, [event("CIV0001", url="https://t.me/s/kyiv_news/77"),
                    event("CIV0002", url="https://t.me/kyiv_news/77",
                          description="Apartment block hit. <script>alert(1)</script>"),
                    event("CIV0003", lat="49.98", lon="36.25", date="09/01/2024",
                          weapon="Small arms", url="https://x.com/a/status/1")])
    evidence_ingest(paths=[make_jpeg(tmp_path / "crater.jpg", 1)], collection_name="Public",
                    facts=AcquisitionFacts(actor="t"))
    return {"legal": member("lina", "legal"), "ana": member("ana", "verifier"),
            "bo": member("bo", "verifier"), "ivan": member("ivan", "investigator"),
            "kyiv": Incident.objects.get(upstream_id="CIV0001")}


def test_list_with_facets_and_filters(world):
    page = world["ivan"].get(reverse("incidents"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "3 incidents" in html and "Kharkiv Oblast" in html and "Cruise missile" in html
    kharkiv = world["ivan"].get(reverse("incidents"), {"oblast": "UA63"}).content.decode()
    assert "1 incident" in kharkiv
    assert "month=2024-09" in html  # the month facet links to the whole month
    # 1 September in Kyiv is still 31 August in UTC: the month is Kyiv's.
    september = world["ivan"].get(reverse("incidents"), {"month": "2024-09"}).content.decode()
    assert "1 incident" in september and "Shelling" not in september.split("<table")[0]
    august = world["ivan"].get(reverse("incidents"), {"month": "2024-08"}).content.decode()
    assert "0 incidents" in august
    assert world["ivan"].get(reverse("incidents"), {"oblast": "UA-63"}).status_code == 400
    bad = world["ivan"].get(reverse("incidents"), {"from": "yesterday"})
    assert bad.status_code == 400 and "expected a date" in bad.content.decode()


def test_detail_escapes_upstream_text(world):
    incident = Incident.objects.get(upstream_id="CIV0002")
    Source.objects.filter(citations__incident=incident).update(url="javascript:alert(1)")
    html = world["ivan"].get(reverse("incident", args=[incident.id])).content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert 'href="javascript:' not in html
    incident.translations = {"uk": {"title": "Удар по житловому будинку", "description": ""}}
    incident.save()
    html = world["ivan"].get(reverse("incident", args=[incident.id])).content.decode()
    assert 'lang="uk"' in html and "Удар по житловому будинку" in html
    assert 'id="incident-map"' in html and "leaflet.js" in html


def test_two_verifiers_through_the_forms(world):
    url = reverse("incident-assess", args=[world["kyiv"].id])
    for client in (world["ana"], world["bo"]):
        for kind in ("geolocation", "chronolocation"):
            response = client.post(url, {"kind": kind, "verdict": "confirmed",
                                         "confidence": "high", "notes": "checked"})
            assert response.status_code == 302
    world["kyiv"].refresh_from_db()
    assert world["kyiv"].status == "verified"
    empty = world["ana"].post(url, {})
    assert empty.status_code == 200 and "unknown assessment kind" in empty.content.decode()
    assert world["ivan"].post(url, {"kind": "content"}).status_code == 403
    queue = world["ana"].get(reverse("verification")).content.decode()
    assert "Shelling" not in queue and "CIV0001" not in queue


def test_link_evidence_through_the_form(world):
    item = Item.objects.get()
    url = reverse("incident-link", args=[world["kyiv"].id])
    assert world["ivan"].post(url, {"item": str(item.id), "fact": "damage"}).status_code == 302
    html = world["ivan"].get(reverse("incident", args=[world["kyiv"].id])).content.decode()
    assert "crater.jpg" in html
    assert world["ivan"].post(url, {"item": "nope"}).status_code == 200


def test_duplicate_review_merge_and_undo(world):
    duplicates_find(collection=world["kyiv"].collection)
    candidate = DuplicateCandidate.objects.get()
    page = world["ivan"].get(reverse("duplicates")).content.decode()
    assert "same source URL" in page
    world["ivan"].post(reverse("duplicate-decide"), {"candidate": candidate.id,
                                                     "decision": "same"})
    assert Incident.objects.filter(merged_into__isnull=False).count() == 1
    assert "2 incidents" in world["ivan"].get(reverse("incidents")).content.decode()
    merge_id = Incident.objects.get(merged_into__isnull=False).merges.get().id
    world["ivan"].post(reverse("merge-undo"), {"merge": str(merge_id)})
    assert not Incident.objects.filter(merged_into__isnull=False).exists()
    assert world["ana"].post(reverse("duplicate-decide"), {"candidate": candidate.id,
                                                           "decision": "same"}).status_code == 302
    assert not Incident.objects.filter(merged_into__isnull=False).exists()  # verifiers may not


def test_map_data_and_timeline(world):
    points = json.loads(world["ivan"].get(reverse("incident-points")).content)
    assert len(points["features"]) == 3
    oblasts = json.loads(world["ivan"].get(reverse("oblast-polygons")).content)
    assert len(oblasts["features"]) == 27
    assert world["ivan"].get(reverse("incident-map")).status_code == 200
    timeline = world["ivan"].get(reverse("incident-timeline")).content.decode()
    assert "2024-07" in timeline and "2024-09" in timeline


def test_exports_full_public_and_only_where_allowed(world):
    full = world["legal"].get(reverse("incident-export-csv")).content.decode()
    rows = list(csv.DictReader(io.StringIO(full)))
    assert len(rows) == 3 and rows[0]["latitude"] == "50.4501" and "description" in rows[0]
    public = world["legal"].get(reverse("incident-export-geojson"), {"public": "1"})
    features = json.loads(public.content)["features"]
    assert features[0]["geometry"]["coordinates"] == [30.52, 50.45]
    assert "description" not in features[0]["properties"]
    assert "perpetrator" not in features[0]["properties"]
    # Investigators may not export: the file is empty of incidents.
    assert json.loads(world["ivan"].get(reverse("incident-export-geojson")).content)[
        "features"] == []


def test_a_witness_identity_is_masked_and_revealed_with_a_log(world):
    from svidok.apps.custody.models import CustodyEvent
    from svidok.apps.incidents.services import source_cite

    identity = "Synthetic Witness, +380 00 000 0000"
    source = source_cite(incident=world["kyiv"], kind="person", connection="witness",
                         person=identity, actor="t")
    page = world["ana"].get(reverse("incident", args=[world["kyiv"].id])).content.decode()
    assert identity not in page and "••••••" in page and "Reveal (logged)" not in page
    assert world["ana"].post(reverse("source-reveal", args=[source.id])).status_code == 403
    shown = world["ivan"].post(reverse("source-reveal", args=[source.id]))
    assert shown.status_code == 200 and identity in shown.content.decode()
    assert CustodyEvent.objects.filter(action="source.person_revealed").count() == 1


def test_enter_an_incident_and_cite_a_source_through_the_forms(world):
    collection = world["kyiv"].collection
    form = world["ivan"].get(reverse("incident-new")).content.decode()
    assert "Record incident" in form
    created = world["ivan"].post(reverse("incident-new"), {
        "collection": collection.id, "title": "Strike on a bakery", "start": "2024-07-10T06:15",
        "time_precision": "exact", "latitude": "49.99", "longitude": "36.23",
        "weapons": ["cruise_missile"], "objects": ["commercial"]})
    assert created.status_code == 302
    incident = Incident.objects.get(title="Strike on a bakery")
    assert incident.oblast == "UA63" and incident.weapons == ["cruise_missile"]
    bad = world["ivan"].post(reverse("incident-new"), {"collection": collection.id,
                                                       "title": "x", "latitude": "north"})
    assert bad.status_code == 400 and "expected a number" in bad.content.decode()
    assert world["ana"].post(reverse("incident-new"), {
        "collection": collection.id, "title": "x"}).status_code == 400  # verifiers may not
    cite = reverse("incident-cite", args=[incident.id])
    assert world["ivan"].post(cite, {"kind": "url", "url": "https://t.me/s/news/5",
                                     "reliability": "unsure"}).status_code == 302
    assert Source.objects.filter(citations__incident=incident, url_key__contains="t.me").exists()
    assert world["ivan"].post(cite, {"kind": "url", "url": "nope"}).status_code == 200


def test_related_incidents_are_shown_both_ways(world):
    from svidok.apps.incidents.services import incident_relate

    other = Incident.objects.get(upstream_id="CIV0002")
    incident_relate(incident=world["kyiv"], other=other, kind="double_tap", note="40 min later",
                    actor="t")
    for shown, linked in ((world["kyiv"], other), (other, world["kyiv"])):
        html = world["ivan"].get(reverse("incident", args=[shown.id])).content.decode()
        assert "Follow-up (double-tap) strike" in html and str(linked.id) in html
