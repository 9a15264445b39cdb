"""Duplicate candidates stored for review; confirming merges, rejecting remembers, and a
merge keeps every source and can be undone."""

from __future__ import annotations

import pytest

from svidok.apps.custody.models import CustodyEvent
from svidok.apps.evidence.models import Collection
from svidok.apps.incidents.deduplication import (
    candidate_decide,
    duplicates_find,
    incidents_merge,
    merge_undo,
)
from svidok.apps.incidents.models import DuplicateCandidate, Incident, IncidentSource
from svidok.core.errors import InvalidInput
from tests.apps.incidents.test_importing import event, land

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(svidok_home, tmp_path):
    """Collection Public: one strike reported twice (shared post), and an unrelated one."""
    land(tmp_path, [event("CIV0001", url="https://t.me/s/kyiv_news/77"),
                    event("CIV0002", url="https://t.me/kyiv_news/77?utm_source=tg",
                          description="Strike near the hospital, apartment block hit."),
                    event("CIV0003", lat="49.98", lon="36.25", date="09/01/2024",
                          url="https://x.com/a/status/1")])
    return Collection.objects.get(name="Public")


def test_candidates_are_found_and_stored_once(pair):
    summary = duplicates_find(collection=pair)
    assert (summary.incidents, summary.candidates, summary.new) == (3, 1, 1)
    candidate = DuplicateCandidate.objects.get()
    assert {candidate.first.upstream_id, candidate.second.upstream_id} == {"CIV0001", "CIV0002"}
    assert any("same source URL" in reason for reason in candidate.reasons)
    assert duplicates_find(collection=pair).new == 0


def test_confirm_merges_keeping_every_source_and_undo_restores(pair):
    duplicates_find(collection=pair)
    candidate = DuplicateCandidate.objects.get()
    candidate_decide(candidate=candidate, same=True, actor="reviewer")
    merged = Incident.objects.get(merged_into__isnull=False)
    kept = merged.merged_into
    assert IncidentSource.objects.filter(incident=kept).count() == 2
    assert DuplicateCandidate.objects.get().status == "confirmed"
    assert duplicates_find(collection=pair).candidates == 0  # merged ones are not compared
    merge = kept.merges_kept.get()
    merge_undo(merge=merge, actor="reviewer")
    assert not Incident.objects.filter(merged_into__isnull=False).exists()
    assert IncidentSource.objects.filter(incident=kept).count() == 1
    assert DuplicateCandidate.objects.get().status == "pending"
    with pytest.raises(InvalidInput, match="already undone"):
        merge_undo(merge=merge, actor="reviewer")
    actions = set(CustodyEvent.objects.values_list("action", flat=True))
    assert {"incident.merged", "incident.merge_undone"} <= actions


def test_reject_is_remembered(pair):
    duplicates_find(collection=pair)
    candidate = DuplicateCandidate.objects.get()
    candidate_decide(candidate=candidate, same=False, actor="reviewer")
    assert duplicates_find(collection=pair).decided == 1
    assert DuplicateCandidate.objects.get().status == "rejected"
    with pytest.raises(InvalidInput, match="already rejected"):
        candidate_decide(candidate=candidate, same=True, actor="reviewer")


def test_merge_guards(pair, tmp_path):
    first, second, third = Incident.objects.order_by("upstream_id")
    with pytest.raises(InvalidInput, match="itself"):
        incidents_merge(kept=first, merged=first, actor="r")
    incidents_merge(kept=first, merged=second, actor="r")
    with pytest.raises(InvalidInput, match="already merged"):
        incidents_merge(kept=third, merged=second, actor="r")
    land(tmp_path, [event("CIV0009")], collection="Other")
    other = Incident.objects.get(collection__name="Other")
    with pytest.raises(InvalidInput, match="one collection"):
        incidents_merge(kept=third, merged=other, actor="r")
