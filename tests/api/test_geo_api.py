"""The gazetteer through the API: places by name and what lies at a point."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from svidok.apps.accounts.tokens import api_token_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(svidok_home):
    """A signed-in API client of a user without any collection."""
    get_user_model().objects.create_user("mapper")
    _, raw = api_token_create(username="mapper", name="tests", actor="t")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def test_places_by_name_in_any_spelling(client):
    for spelling in ("Kharkov", "Харків"):
        response = client.get("/api/v1/geo/places", {"q": spelling, "limit": 3})
        assert response.status_code == 200
        assert response.json()[0]["code"] == "UA6312027001"
    oblasts = client.get("/api/v1/geo/places", {"q": "Kherson", "kind": "oblast"}).json()
    assert [p["code"] for p in oblasts] == ["UA65"]


def test_locate(client):
    body = client.get("/api/v1/geo/locate", {"lat": 49.85005, "lon": 36.659031}).json()
    assert body["oblast"]["code"] == "UA63" and body["raion"]["code"] == "UA6314"
    assert body["settlement"]["name_en"] == "Chuhuyiv"


@pytest.mark.parametrize(("path", "params"), [
    ("/api/v1/geo/locate", {"lat": 95, "lon": 30}),
    ("/api/v1/geo/locate", {"lat": "north", "lon": 30}),
    ("/api/v1/geo/places", {"q": ""}),
    ("/api/v1/geo/places", {"q": "Буча", "kind": "village"}),
    ("/api/v1/geo/places", {"q": "Буча", "oblast": "63"}),
])
def test_bad_queries_get_the_error_shape(client, path, params):
    response = client.get(path, params)
    assert response.status_code == 422
    assert set(response.json()) == {"message", "extra"}


def test_anonymous_gets_401(svidok_home):
    assert Client().get("/api/v1/geo/places", {"q": "Kyiv"}).status_code == 401
