"""Schema fuzzing of the REST API against a running Svidok (schemathesis).

Every operation in ``/api/v1/openapi.json`` is fuzzed over HTTP against a real
``svidok serve`` (gunicorn), with valid and invalid inputs, as:

- the investigator of collection "Field" (token): no server errors, responses
  conform to the documented schema (status code, content type, body), invalid
  input is rejected, valid input accepted;
- the same, with real item, acquisition and collection ids drawn into the path
  and form parameters, so that the 200 paths (item view, download, events,
  proof, reveal, upload) are fuzzed too, not only the 404s of random UUIDs;
- nobody (no token) and a garbage token: 401 everywhere, except the public
  documentation and schema.

Every error response must have exactly the API's one error shape,
``{"message": str, "extra": object}``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import Case, CheckContext, Response

from tests.live_server import (
    LiveSvidok,
    live_svidok,  # noqa: F401 — module-scoped fixture
)

pytestmark = pytest.mark.slow

FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                           HealthCheck.data_too_large],
)
GARBAGE_TOKENS = ["svk_" + "A" * 43, "garbage", "svk_", "Bearer svk_x"]


@schemathesis.check
def svidok_error_shape(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Every 4xx/5xx answer of the API is exactly ``{"message": str, "extra": object}``."""
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type.startswith("application/json"), (
        f"{response.status_code} error answered with Content-Type {content_type!r}, "
        f"not the JSON error shape: {response.text[:200]!r}")
    body = json.loads(response.text)
    assert isinstance(body, dict) and set(body) == {"message", "extra"}, (
        f"{response.status_code} error body is not {{message, extra}}: {body!r}")
    assert isinstance(body["message"], str) and body["message"], body
    assert isinstance(body["extra"], dict), body
    return True


def _load_schema() -> schemathesis.BaseSchema:
    # The schema the API object publishes, built in-process so that pytest can parametrize
    # one test per operation at collection time (schemathesis.pytest.from_fixture, which
    # would load it from the live server, breaks on pytest 9.2: it uses the removed
    # ``Node._nodeid``). test_live_schema_is_the_fuzzed_schema checks that the running
    # server publishes exactly this document.
    from svidok.api.urls import api

    document = json.loads(json.dumps(api.get_openapi_schema()))
    return schemathesis.openapi.from_dict(document, config=schemathesis.Config(seed=20240525))


schema = _load_schema()


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@schema.parametrize()
@FUZZ
def test_fuzz_as_investigator(case: Case, live_svidok: LiveSvidok) -> None:  # noqa: F811
    case.call_and_validate(base_url=live_svidok.url, headers=_auth(live_svidok.token))


# ---------------------------------------------------------------- real ids


@pytest.fixture(scope="module")
def known(live_svidok: LiveSvidok) -> dict[str, list[Any]]:  # noqa: F811
    """Ids that exist: the collection, its items and their acquisitions."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {live_svidok.token}"
    collections = session.get(live_svidok.url + "/api/v1/collections", timeout=30).json()
    items = session.get(live_svidok.url + "/api/v1/items", timeout=30).json()["items"]
    assert len(items) >= 3, items
    pairs = []
    for item in items:
        detail = session.get(f"{live_svidok.url}/api/v1/items/{item['id']}", timeout=30).json()
        pairs += [(item["id"], a["id"]) for a in detail["acquisitions"]]
    assert pairs
    return {"collections": [c["id"] for c in collections],
            "items": [i["id"] for i in items], "acquisitions": pairs}


ITEM_SCOPED = schema.include(path_regex=r"\{item_id\}|^/api/v1/items$")


@ITEM_SCOPED.parametrize()
@ITEM_SCOPED.given(data=st.data())
@FUZZ
def test_fuzz_with_real_ids(case: Case, data: st.DataObject, known: dict[str, list[Any]],
                            live_svidok: LiveSvidok) -> None:  # noqa: F811
    """Half the cases address an item (and acquisition, collection) that exists."""
    path = case.path_parameters
    if path and "item_id" in path and data.draw(st.booleans(), label="real item"):
        item, acquisition = data.draw(st.sampled_from(known["acquisitions"]), label="real ids")
        path["item_id"] = item
        if "acquisition_id" in path:
            path["acquisition_id"] = acquisition
            if data.draw(st.booleans(), label="protected field"):
                path["field"] = "source_person"
    if (case.method == "POST" and isinstance(case.body, dict)
            and data.draw(st.booleans(), label="real collection")):
        case.body["collection"] = data.draw(st.sampled_from(known["collections"]),
                                            label="collection")
    case.call_and_validate(base_url=live_svidok.url, headers=_auth(live_svidok.token))


# ---------------------------------------------------------------- no or bad credentials


@pytest.fixture(scope="module")
def dead_tokens(live_svidok: LiveSvidok) -> list[str]:  # noqa: F811
    """Tokens that once worked: one revoked, one of a disabled user."""
    live = live_svidok
    revoked = live.cli("user", "token", "create", live.investigator, "--name", "revoked").strip()
    live.cli("user", "token", "revoke", live.investigator, revoked[:12])
    live.cli("user", "add", "mallory", "--password-stdin", stdin=live.password + "\n")
    live.cli("user", "grant", "mallory", live.collection, "investigator")
    disabled = live.cli("user", "token", "create", "mallory", "--name", "gone").strip()
    live.cli("user", "disable", "mallory")
    return [revoked, disabled]


def _expect_401(case: Case, response: Response) -> None:
    assert response.status_code == 401, (
        f"{case.method} {case.formatted_path} without valid credentials answered "
        f"{response.status_code}: {response.text[:300]}")
    assert "authentication required" in response.json()["message"]


@schema.parametrize()
@FUZZ
def test_fuzz_without_token(case: Case, live_svidok: LiveSvidok) -> None:  # noqa: F811
    # schemathesis fills the bearer scheme with a random token: send none at all.
    if case.headers:
        case.headers.pop("Authorization", None)
    response = case.call(base_url=live_svidok.url)
    assert "Authorization" not in response.request.headers
    _expect_401(case, response)
    case.validate_response(response, transport_kwargs={"base_url": live_svidok.url})


@schema.parametrize()
@schema.given(data=st.data())
@FUZZ
def test_fuzz_with_garbage_token(case: Case, data: st.DataObject, dead_tokens: list[str],
                                 live_svidok: LiveSvidok) -> None:  # noqa: F811
    token = data.draw(
        st.sampled_from([*dead_tokens, *GARBAGE_TOKENS, live_svidok.token[:-1],
                         live_svidok.token + "x", live_svidok.token.upper()])
        | st.text(st.characters(codec="ascii", exclude_categories=["Cc"]), max_size=120),
        label="token")
    scheme = data.draw(st.sampled_from(["Bearer", "bearer", "Token", ""]), label="scheme")
    headers = {"Authorization": f"{scheme} {token}".strip()}
    response = case.call(base_url=live_svidok.url, headers=headers)
    _expect_401(case, response)
    case.validate_response(response, headers=headers,
                           transport_kwargs={"base_url": live_svidok.url, "headers": headers})


# ---------------------------------------------------------------- the published schema


def test_schema_and_docs_are_public(live_svidok: LiveSvidok) -> None:  # noqa: F811
    for path in ("/api/v1/openapi.json", "/api/v1/docs"):
        response = requests.get(live_svidok.url + path, timeout=30)
        assert response.status_code == 200, (path, response.status_code, response.text[:300])


def test_live_schema_is_the_fuzzed_schema(live_svidok: LiveSvidok) -> None:  # noqa: F811
    """The running server publishes exactly the document the tests above were built from."""
    live = schemathesis.openapi.from_url(live_svidok.url + "/api/v1/openapi.json", timeout=30)
    assert live.raw_schema == schema.raw_schema
    labels = {op.ok().label for op in live.get_all_operations()}
    assert "POST /api/v1/items" in labels
    assert "POST /api/v1/items/{item_id}/acquisitions/{acquisition_id}/reveal/{field}" in labels
