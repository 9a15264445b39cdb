"""Incidents through the API: entering, editing, citing, linking, facets, and the
four-eyes verification flow."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from svidok.apps.accounts.services import membership_grant
from svidok.apps.accounts.tokens import api_token_create
from svidok.apps.custody.models import CustodyEvent
from svidok.apps.evidence.models import Collection, Item
from svidok.apps.evidence.services import AcquisitionFacts, evidence_ingest
from svidok.apps.incidents.models import Source
from tests.conftest import make_jpeg

pytestmark = pytest.mark.django_db


def client_of(username, role, collection="Strikes"):
    get_user_model().objects.create_user(username)
    membership_grant(username=username, collection_name=collection, role=role, actor="t")
    _, raw = api_token_create(username=username, name="tests", actor="t")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


@pytest.fixture
def team(svidok_home, tmp_path):
    """Collection Strikes with a photo; an investigator, two verifiers and a viewer."""
    evidence_ingest(paths=[make_jpeg(tmp_path / "crater.jpg", 1)], collection_name="Strikes",
                    facts=AcquisitionFacts(actor="t"))
    return {"investigator": client_of("ivan", "investigator"),
            "ana": client_of("ana", "verifier"), "bo": client_of("bo", "verifier"),
            "viewer": client_of("vera", "viewer"),
            "collection": Collection.objects.get(name="Strikes").id,
            "item": Item.objects.get().id}


def post(client, url, body):
    return client.post(url, json.dumps(body, default=str), content_type="application/json")


HOSPITAL = {"title": "Cruise missile strike on a children's hospital", "start":
            "2024-07-08T07:45:00Z", "time_precision": "exact", "latitude": 50.4312,
            "longitude": 30.4695, "location_precision": "exact", "weapons": ["cruise_missile"],
            "objects_hit": ["hospital"], "event_type": "explosions_remote_violence",
            "harm": {"killed": {"adults": {"best": 2, "low": 2, "high": 2}},
                     "injured": {"children": {"best": 8, "low": 7, "high": 10}}}}


def create(team, **override):
    response = post(team["investigator"], "/api/v1/incidents",
                    {**HOSPITAL, "collection": team["collection"], **override})
    assert response.status_code == 200, response.content
    return response.json()


def assess(client, incident_id, kind, verdict="confirmed", **extra):
    response = post(client, f"/api/v1/incidents/{incident_id}/assessments",
                    {"kind": kind, "verdict": verdict, "confidence": "high", **extra})
    assert response.status_code == 200, response.content
    return response.json()["status"]


def test_enter_an_incident_placed_by_the_gazetteer(team):
    incident = create(team)
    assert incident["oblast"] == "UA80" and incident["status"] == "reported"
    assert incident["killed"] == 2 and incident["injured"] == 8 and incident["children_harmed"]
    assert CustodyEvent.objects.filter(action="incident.created").count() == 1


def test_bad_input_gets_clear_errors(team):
    for bad, words in ((dict(harm={"killed": {"adults": {"best": 5, "low": 6}}}), "low <= best"),
                       (dict(end="2024-07-07T00:00:00Z"), "before the start")):
        response = post(team["investigator"], "/api/v1/incidents",
                        {**HOSPITAL, "collection": team["collection"], **bad})
        assert response.status_code == 400 and words in response.json()["message"]
    for bad in (dict(weapons=["slingshot"]), dict(start=0), dict(start="2024-07-08T07:45")):
        response = post(team["investigator"], "/api/v1/incidents",
                        {**HOSPITAL, "collection": team["collection"], **bad})
        assert response.status_code == 422  # refused by the published schema


def test_four_eyes_flow(team):
    incident = create(team)["id"]
    url = f"/api/v1/incidents/{incident}"
    assert assess(team["ana"], incident, "geolocation", latitude=50.4312,
                  longitude=30.4695, notes="Matched the roofline with satellite imagery"
                  ) == "under_verification"
    assert assess(team["ana"], incident, "chronolocation", method="shadows",
                  time_from="2024-07-08T07:30:00Z", time_to="2024-07-08T08:00:00Z"
                  ) == "under_verification"
    queue = team["bo"].get("/api/v1/verification/queue").json()
    assert queue[0]["waiting_for"] == "your geolocation and chronolocation"
    assert team["ana"].get("/api/v1/verification/queue").json()[0]["waiting_for"].startswith(
        "a second verifier")
    assert assess(team["bo"], incident, "geolocation") == "under_verification"
    assert assess(team["bo"], incident, "chronolocation") == "verified"
    detail = team["viewer"].get(url).json()
    assert detail["status"] == "verified" and len(detail["assessments"]) == 4
    assert {"status": ["under_verification", "verified"]} in [c["changes"] for c in
                                                              detail["changes"]]
    assert team["bo"].get("/api/v1/verification/queue").json() == []


def test_disagreement_disputes(team):
    incident = create(team)["id"]
    assess(team["ana"], incident, "geolocation")
    assert assess(team["bo"], incident, "geolocation", verdict="refuted") == "disputed"


def test_assessment_fields_belong_to_their_kind(team):
    incident = create(team)["id"]
    response = post(team["ana"], f"/api/v1/incidents/{incident}/assessments",
                    {"kind": "content", "verdict": "confirmed", "confidence": "low",
                     "latitude": 50.0, "longitude": 30.0})
    assert response.status_code == 400 and "geolocation" in response.json()["message"]


def test_roles(team):
    incident = create(team)["id"]
    refused = post(team["investigator"], f"/api/v1/incidents/{incident}/assessments",
                   {"kind": "geolocation", "verdict": "confirmed", "confidence": "high"})
    assert refused.status_code == 403  # investigators enter, verifiers verify
    assert post(team["viewer"], "/api/v1/incidents",
                {**HOSPITAL, "collection": team["collection"]}).status_code == 403
    Collection.objects.create(name="Elsewhere")
    outsider = client_of("olga", "admin", collection="Elsewhere")
    assert outsider.get(f"/api/v1/incidents/{incident}").status_code == 404
    assert outsider.get("/api/v1/incidents").json()["total"] == 0


def test_edit_cite_link(team):
    incident = create(team)["id"]
    url = f"/api/v1/incidents/{incident}"
    changed = team["investigator"].patch(url, json.dumps({"title": "Okhmatdyt hospital strike",
                                                           "latitude": 49.85, "longitude": 36.66}),
                                         content_type="application/json").json()["changed"]
    assert changed["title"][1] == "Okhmatdyt hospital strike"
    assert team["viewer"].get(url).json()["oblast"] == "UA63"  # re-placed
    cited = post(team["investigator"], f"{url}/sources",
                 {"kind": "url", "url": "https://t.me/s/channel/12?utm_source=x",
                  "reliability": "likely_reliable", "connection": "witness"})
    assert cited.status_code == 200
    bad = post(team["investigator"], f"{url}/sources", {"kind": "url", "url": "not a url"})
    assert bad.status_code == 400
    linked = post(team["investigator"], f"{url}/links",
                  {"item": str(team["item"]), "fact": "damage", "note": "crater"})
    assert linked.status_code == 200
    detail = team["viewer"].get(url).json()
    assert detail["sources"][0]["url"].startswith("https://t.me/")
    assert detail["evidence"] == [{"item": str(team["item"]), "name": "crater.jpg",
                                   "fact": "damage", "note": "crater"}]
    assert CustodyEvent.objects.filter(action="incident.linked",
                                       item_id=team["item"]).count() == 1


def test_list_filters_and_facets(team):
    create(team)
    create(team, title="Shelling of a school", weapons=["he_artillery"], objects_hit=["school"],
           latitude=49.98, longitude=36.25, harm={}, start="2024-08-01T10:00:00Z")
    viewer = team["viewer"]
    assert viewer.get("/api/v1/incidents").json()["total"] == 2
    kharkiv = viewer.get("/api/v1/incidents", {"oblast": "UA63"}).json()
    assert [i["title"] for i in kharkiv["incidents"]] == ["Shelling of a school"]
    assert viewer.get("/api/v1/incidents", {"children": True}).json()["total"] == 1
    assert viewer.get("/api/v1/incidents", {"weapon": "cruise_missile"}).json()["total"] == 1
    assert viewer.get("/api/v1/incidents", {"start_from": "2024-07-09"}).json()["total"] == 1
    facets = {f["name"]: f["values"] for f in viewer.get("/api/v1/incidents/facets").json()}
    assert ["UA80", "Kyiv", 1] in facets["oblast"]
    assert [v[0] for v in facets["month"]] == ["2024-07", "2024-08"]
    assert ["hospital", "Hospital", 1] in facets["object_type"]
    for bad in ({"weapon": "slingshot"}, {"start_to": "0"}, {"start_to": "2024-02-31"}):
        assert viewer.get("/api/v1/incidents", bad).status_code == 422


def test_translations_relations_and_item_assessments(team):
    first = create(team, translations=[{"language": "uk",
                                        "title": "Удар по дитячій лікарні"}])["id"]
    second = create(team, title="Second strike on the rescuers")["id"]
    detail = team["viewer"].get(f"/api/v1/incidents/{first}").json()
    assert detail["translations"]["uk"]["title"] == "Удар по дитячій лікарні"
    related = post(team["investigator"], f"/api/v1/incidents/{second}/relations",
                   {"incident": first, "kind": "double_tap", "note": "40 minutes later"})
    assert related.status_code == 200
    assert team["viewer"].get(f"/api/v1/incidents/{first}").json()["related"] == [
        {"incident": second, "kind": "double_tap", "note": "40 minutes later"}]
    itself = post(team["investigator"], f"/api/v1/incidents/{first}/relations",
                  {"incident": first, "kind": "related"})
    assert itself.status_code == 400
    assessed = post(team["ana"], f"/api/v1/items/{team['item']}/assessments",
                    {"kind": "technical", "verdict": "confirmed", "confidence": "high",
                     "notes": "EXIF consistent; no signs of editing"})
    assert assessed.status_code == 200 and assessed.json()["verifier"] == "ana"
    assert CustodyEvent.objects.filter(action="item.assessed", item_id=team["item"]).exists()


def test_a_witness_identity_is_sealed_masked_and_revealed_with_a_log(team):
    incident = create(team)["id"]
    identity = "Synthetic Witness, +380 00 000 0000"
    cited = post(team["investigator"], f"/api/v1/incidents/{incident}/sources",
                 {"kind": "person", "connection": "witness", "reliability": "likely_reliable",
                  "title": "witness, neighbour", "person": identity})
    assert cited.status_code == 200
    source = Source.objects.get(id=cited.json()["source"])
    assert identity not in source.person_sealed and source.person_sealed.startswith("v1:")
    assert identity not in json.dumps([e.body for e in CustodyEvent.objects.all()])
    shown = team["viewer"].get(f"/api/v1/incidents/{incident}").json()["sources"][0]
    assert shown["person"] == {"present": True, "value": None, "can_reveal": False}
    assert identity not in json.dumps(shown)
    refused = team["viewer"].post(f"/api/v1/sources/{source.id}/reveal")
    assert refused.status_code == 403
    revealed = team["investigator"].post(f"/api/v1/sources/{source.id}/reveal")
    assert revealed.status_code == 200 and revealed.json()["person"] == identity
    assert CustodyEvent.objects.filter(action="source.person_revealed").count() == 1
    wrong = post(team["investigator"], f"/api/v1/incidents/{incident}/sources",
                 {"kind": "url", "url": "https://example.org/", "person": "Someone"})
    assert wrong.status_code == 400
