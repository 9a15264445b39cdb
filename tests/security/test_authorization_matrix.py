"""Every URL and every API operation, every role: members get what their role allows,
non-members get nothing.

The matrix is built from the URL configuration and the API's routers
themselves, so a new endpoint without a declared rule fails here.
"""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from svidok.api.urls import PUBLIC_URL_NAMES, api
from svidok.apps.accounts.models import Role
from svidok.apps.accounts.permissions import ROLE_PERMISSIONS, Permission
from svidok.apps.accounts.services import membership_grant
from svidok.apps.accounts.tokens import api_token_create
from svidok.apps.evidence.models import Acquisition, Collection, DerivedFile, Item
from svidok.apps.evidence.services import AcquisitionFacts, evidence_ingest
from svidok.apps.incidents.services import incident_create, source_cite
from svidok.web.access import INSTANCE_ADMIN, PUBLIC, SIGNED_IN, OnCollection
from tests.conftest import login_verified, make_jpeg

pytestmark = pytest.mark.django_db
WHO = [None, "outsider", "root", *Role.values]


def named_patterns(patterns=None):
    """(name, pattern) of every web URL pattern, descending into includes but not the API."""
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace != "api":
                yield from named_patterns(entry.url_patterns)
        elif isinstance(entry, URLPattern):
            yield entry.name, entry


def api_operations():
    """(method, path template, view function) of every API operation."""
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                for method in operation.methods:
                    yield method, "/api/v1/" + (prefix + path).strip("/"), operation.view_func


@pytest.fixture
def world(svidok_home, tmp_path):
    """Collection A with a photo and a member per role; collection B with its own member."""
    evidence_ingest(paths=[make_jpeg(tmp_path / "a.jpg", 1)], collection_name="A",
                    facts=AcquisitionFacts(actor="tester", source_person="A. Witness, +380 00"))
    evidence_ingest(paths=[make_jpeg(tmp_path / "b.jpg", 2)], collection_name="B",
                    facts=AcquisitionFacts(actor="tester"))
    users = get_user_model()
    tokens = {}
    for role in Role:
        users.objects.create_user(role.value)  # force_login needs no password
        membership_grant(username=role.value, collection_name="A", role=role, actor="test")
    users.objects.create_user("outsider")
    membership_grant(username="outsider", collection_name="B", role=Role.ADMIN, actor="test")
    users.objects.create_superuser("root", password=None)
    for who in WHO[1:]:
        tokens[who] = api_token_create(username=who, name="matrix", actor="test")[1]
    item = Item.objects.get(collection__name="A")
    incident = incident_create(collection=Collection.objects.get(name="A"),
                               fields={"title": "Shelling"}, actor="tester")
    other = incident_create(collection=Collection.objects.get(name="A"),
                            fields={"title": "Second strike"}, actor="tester")
    witness = source_cite(incident=incident, kind="person", connection="witness",
                          person="Synthetic Witness, +380 00 000 0000", actor="tester")
    return {
        "source_id": witness.id,
        "incident_id": incident.id,
        "other_incident_id": other.id,
        "item_id": item.id,
        "derived_id": DerivedFile.objects.get(item=item, kind="thumbnail").id,
        "acquisition_id": Acquisition.objects.get(item=item).id,
        "field": "source_person",
        "collection": Collection.objects.get(name="A").id,
        "username": "viewer",
        "tokens": tokens,
    }


def url_for(name, pattern, world):
    missing = set(pattern.pattern.converters) - world.keys()
    assert not missing, f"add a sample value for {missing} in the matrix world"
    return reverse(name, kwargs={k: world[k] for k in pattern.pattern.converters})


def client_for(username):
    client = Client()
    if username is not None:
        login_verified(client, get_user_model().objects.get(username=username))
    return client


def expected_for_rule(rule, who):
    """The status a member, non-member or administrator must get under ``rule``."""
    permission = rule.permission if isinstance(rule, OnCollection) else rule
    assert isinstance(permission, Permission), f"unknown rule {rule!r}"
    if who == "outsider":
        return 404  # a non-member must not learn that the item or collection exists
    if who == "root" or permission in ROLE_PERMISSIONS[Role(who)]:
        return 200
    return 403


def test_every_view_declares_a_rule():
    unruled = [name for name, pattern in named_patterns()
               if getattr(pattern.callback, "svidok_rule", None) is None]
    assert not unruled, f"views without an access rule: {unruled}"


def test_every_api_operation_declares_a_rule():
    unruled = [f"{method} {path}" for method, path, view in api_operations()
               if getattr(view, "svidok_rule", None) is None]
    assert not unruled, f"API operations without an access rule: {unruled}"
    assert len(list(api_operations())) >= 9


def web_cases():
    for name, pattern in named_patterns():
        rule = getattr(pattern.callback, "svidok_rule", None)
        for who in WHO:
            yield pytest.param(name, rule, who, id=f"{name}-{who or 'anonymous'}")


@pytest.mark.parametrize(("name", "rule", "who"), list(web_cases()))
def test_web_matrix(world, name, rule, who):
    pattern = dict(named_patterns())[name]
    # POST-only views are asked with POST (the test client skips CSRF checks).
    post = "POST" in getattr(pattern.callback, "svidok_methods", ())
    client = client_for(who)
    url = url_for(name, pattern, world)
    response = client.post(url) if post else client.get(url)
    status = response.status_code
    if rule == PUBLIC:
        assert status < 500
        return
    if who is None:
        assert status == 302 and response["Location"].startswith(reverse("login"))
        return
    if rule == SIGNED_IN:
        assert status == (302 if post else 200)  # a POST answers with a redirect
        return
    if rule == INSTANCE_ADMIN:
        assert status == (200 if who == "root" else 404)
        return
    assert status == expected_for_rule(rule, who)


def api_cases():
    for method, path, view in api_operations():
        for who in WHO:
            yield pytest.param(method, path, view.svidok_rule, who,
                               id=f"{method} {path}-{who or 'anonymous'}")


# Operations whose query parameters are required: a valid sample, so the rule is what is tested.
SAMPLE_QUERIES = {
    "/api/v1/geo/places": {"q": "Kyiv"},
    "/api/v1/geo/locate": {"lat": 50.45, "lon": 30.52},
}


def sample_body(method, path, world):
    """A valid JSON body for operations that take one (in collection A)."""
    bodies = {
        ("POST", "/api/v1/incidents"): {"collection": world["collection"], "title": "Strike"},
        ("PATCH", "/api/v1/incidents/{incident_id}"): {"title": "Strike on a school"},
        ("POST", "/api/v1/incidents/{incident_id}/assessments"): {
            "kind": "content", "verdict": "confirmed", "confidence": "low"},
        ("POST", "/api/v1/incidents/{incident_id}/links"): {
            "item": str(world["item_id"]), "fact": "damage"},
        ("POST", "/api/v1/incidents/{incident_id}/sources"): {
            "kind": "url", "url": "https://example.org/report"},
        ("POST", "/api/v1/incidents/{incident_id}/relations"): {
            "incident": str(world["other_incident_id"]), "kind": "double_tap"},
        ("POST", "/api/v1/items/{item_id}/assessments"): {
            "kind": "provenance", "verdict": "confirmed", "confidence": "medium"},
    }
    return bodies.get((method, path))


def api_call(client, method, path, world, token, tmp_path):
    url = path.replace("{", "").replace("}", "")
    for key in ("item_id", "acquisition_id", "incident_id", "source_id", "field"):
        url = url.replace(key, str(world[key]))
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    if method == "GET":
        return client.get(url, SAMPLE_QUERIES.get(path, {}), **headers)
    if path.endswith("/items"):  # ingest: a new photo into collection A
        photo = make_jpeg(tmp_path / "up.jpg", 9)
        upload = SimpleUploadedFile("up.jpg", photo.read_bytes(), content_type="image/jpeg")
        return client.post(url, {"collection": world["collection"], "files": [upload]},
                           **headers)
    body = sample_body(method, path, world)
    if body is not None:
        return client.generic(method, url, json.dumps(body), content_type="application/json",
                              **headers)
    return client.post(url, **headers)


@pytest.mark.parametrize(("method", "path", "rule", "who"), list(api_cases()))
def test_api_matrix(world, tmp_path, method, path, rule, who):
    token = world["tokens"].get(who)
    response = api_call(Client(), method, path, world, token, tmp_path)
    status = response.status_code
    if rule == PUBLIC:
        assert status < 500
        return
    if who is None:
        assert status == 401
        assert set(response.json()) == {"message", "extra"}
        return
    if rule == SIGNED_IN:
        assert status == 200
        return
    assert status == expected_for_rule(rule, who), response.content[:300]
    if status != 200:
        assert set(response.json()) == {"message", "extra"}


@pytest.mark.parametrize("name", sorted(PUBLIC_URL_NAMES))
def test_api_schema_and_docs_are_public(world, name):
    assert Client().get(reverse(f"api:{name}")).status_code < 500


def test_item_list_shows_only_member_collections(world):
    body = client_for("outsider").get(reverse("items")).content.decode()
    assert "b.jpg" in body and "a.jpg" not in body


def test_api_item_list_shows_only_member_collections(world):
    token = world["tokens"]["outsider"]
    body = Client().get("/api/v1/items", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert [i["original_name"] for i in body["items"]] == ["b.jpg"]
