"""The in-memory facet counts agree with counting in SQL, for every kind of filter, and
follow changes to the incidents at once."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth import get_user_model

from svidok.apps.accounts.services import membership_grant
from svidok.apps.evidence.models import Collection
from svidok.apps.incidents.deduplication import incidents_merge
from svidok.apps.incidents.models import Incident
from svidok.apps.incidents.selectors import (
    IncidentFilters,
    facets_and_total,
    incident_facets,
    incidents_filtered,
)
from svidok.apps.incidents.services import incident_update
from tests.apps.incidents.test_importing import event, land

pytestmark = pytest.mark.django_db


@pytest.fixture
def user(svidok_home, tmp_path):
    """A viewer of collection Public (eight incidents); collection Hidden is not theirs."""
    land(tmp_path, [
        event("A1"), event("A2", weapon="Small arms", date="08/31/2024"),
        event("A3", lat="49.98", lon="36.25", date="09/01/2024"),
        event("A4", lat="46.64", lon="32.61", weapon="HE rocket artillery"),
        event("A5", lat="", lon=""), event("A6", date="01/15/2023"),
        event("A7", lat="48.0", lon="37.8", weapon="Loitering munition"),
        event("A8", weapon="Unknown"),
    ])
    land(tmp_path, [event("H1")], collection="Hidden", name="hidden.json")
    get_user_model().objects.create_user("vera")
    membership_grant(username="vera", collection_name="Public", role="viewer", actor="t")
    return get_user_model().objects.get(username="vera")


FILTERS = [
    IncidentFilters(), IncidentFilters(oblast="UA80"), IncidentFilters(weapon="small_arms"),
    IncidentFilters(object_type="healthcare"), IncidentFilters(status="reported"),
    IncidentFilters(children=False), IncidentFilters(start_from=date(2024, 9, 1)),
    IncidentFilters(start_to=date(2024, 8, 31)), IncidentFilters(dataset="bellingcat"),
    IncidentFilters(start_from=date(2024, 1, 1), oblast="UA80", weapon="cruise_missile"),
]


@pytest.mark.parametrize("filters", FILTERS)
def test_same_counts_as_sql(user, filters):
    facets, total = facets_and_total(user=user, filters=filters)
    incidents = incidents_filtered(user=user, filters=filters)
    assert total == incidents.count()
    expected = {f.name: sorted(f.values) for f in incident_facets(incidents=incidents)}
    assert {f.name: sorted(f.values) for f in facets} == expected


def test_months_follow_the_kyiv_calendar(user):
    facets, _ = facets_and_total(user=user, filters=IncidentFilters())
    months = dict((code, n) for code, _, n in next(f for f in facets if f.name == "month").values)
    assert months["2024-09"] == 1 and months["2024-08"] == 1  # 1 Sept in Kyiv is 31 Aug UTC


def test_changes_show_at_once(user):
    _, before = facets_and_total(user=user, filters=IncidentFilters(oblast="UA63"))
    incident = Incident.objects.get(upstream_id="A1")
    incident_update(incident=incident, fields={"latitude": 49.99, "longitude": 36.23},
                    actor="t")
    _, after = facets_and_total(user=user, filters=IncidentFilters(oblast="UA63"))
    assert after == before + 1
    kept = Incident.objects.get(upstream_id="A2")
    incidents_merge(kept=kept, merged=Incident.objects.get(upstream_id="A6"), actor="t")
    _, total = facets_and_total(user=user, filters=IncidentFilters())
    assert total == 7
    assert Collection.objects.filter(name="Hidden").exists()
