"""Cross-source deduplication: proposing "same incident" pairs, reviewing them, merging
and undoing merges.

1. :func:`duplicates_find` scores the incidents of one collection with
   :func:`svidok.core.incidents.duplicates.find_candidates` (time window, distance,
   shared normalised source URLs, weapon, text) and stores the pairs as pending
   candidates; a pair already decided keeps its decision.
2. A reviewer confirms (:func:`candidate_decide` merges the two) or rejects.
3. A merge hides one incident behind the other; the kept one cites every source of
   both. :func:`merge_undo` restores both exactly. Each step is a custody event.

Pairs are proposed within one collection: a merge must not carry sources from one
compartment into another. Import the public datasets to compare into one collection.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from svidok.apps.custody.services import EventDraft, custody_append
from svidok.apps.evidence.models import Collection
from svidok.apps.incidents.models import (
    DuplicateCandidate,
    Incident,
    IncidentChange,
    IncidentMerge,
    IncidentSource,
)
from svidok.core.errors import InvalidInput
from svidok.core.incidents.duplicates import IncidentFacts, find_candidates

MERGED = "incident.merged"
MERGE_UNDONE = "incident.merge_undone"
CANDIDATE_REJECTED = "incident.duplicate_rejected"
STATUS_RANK = {"verified": 0, "disputed": 1, "under_verification": 2, "reported": 3,
               "rejected": 4}


def _facts(collection: Collection) -> list[IncidentFacts]:
    incidents = list(Incident.objects.filter(collection=collection, merged_into__isnull=True)
                     .only("id", "dataset", "start", "end", "latitude", "longitude", "weapons",
                           "title", "description", "location_text"))
    urls: dict[Any, set[str]] = {}
    # By collection, not by a list of thousands of ids (SQLite plans that badly).
    for incident_id, key in IncidentSource.objects.filter(
            incident__collection=collection, incident__merged_into__isnull=True).exclude(
            source__url_key="").values_list("incident_id", "source__url_key").iterator(
            chunk_size=5000):
        urls.setdefault(incident_id, set()).add(key)
    return [IncidentFacts(
        key=str(i.id), dataset=i.dataset, start=i.start, end=i.end, latitude=i.latitude,
        longitude=i.longitude, weapons=frozenset(w for w in i.weapons if w != "unknown"),
        url_keys=frozenset(urls.get(i.id, ())),
        text=" ".join(filter(None, (i.title, i.description, i.location_text))))
        for i in incidents]


@dataclass(frozen=True)
class FindSummary:
    incidents: int
    candidates: int
    new: int
    decided: int  # pairs found again that a reviewer had already decided

    def to_json(self) -> dict[str, int]:
        return {"incidents": self.incidents, "candidates": self.candidates, "new": self.new,
                "already_decided": self.decided}


def duplicates_find(*, collection: Collection, min_score: float = 0.5,
                    max_km: float = 10.0, max_days: float = 2.0) -> FindSummary:
    """Score the collection's incidents and store the candidate pairs (see the module)."""
    facts = _facts(collection)
    found = find_candidates(facts, max_km=max_km, max_days=max_days, min_score=min_score)
    existing = {(str(a), str(b)): status for a, b, status in DuplicateCandidate.objects.filter(
        collection=collection).values_list("first_id", "second_id", "status")}
    new_rows, updates = [], []
    for candidate in found:
        status = existing.get((candidate.a, candidate.b))
        row = DuplicateCandidate(first_id=candidate.a, second_id=candidate.b,
                                 collection=collection, score=candidate.score,
                                 reasons=list(candidate.reasons), features=candidate.features)
        if status is None:
            new_rows.append(row)
        elif status == DuplicateCandidate.PENDING:
            updates.append(row)
    with transaction.atomic():
        DuplicateCandidate.objects.bulk_create(new_rows, batch_size=1000)
        for row in updates:
            DuplicateCandidate.objects.filter(first_id=row.first_id, second_id=row.second_id
                                              ).update(score=row.score, reasons=row.reasons,
                                                       features=row.features)
    decided = sum(1 for c in found
                  if existing.get((c.a, c.b)) not in (None, DuplicateCandidate.PENDING))
    return FindSummary(len(facts), len(found), len(new_rows), decided)


def _kept_and_merged(first: Incident, second: Incident) -> tuple[Incident, Incident]:
    """The incident further along in verification is kept, else the older one."""
    ranked = sorted((first, second), key=lambda i: (STATUS_RANK.get(i.status, 9),
                                                     i.created_at, str(i.id)))
    return ranked[0], ranked[1]


def incidents_merge(*, kept: Incident, merged: Incident, actor: str,
                    candidate: DuplicateCandidate | None = None) -> IncidentMerge:
    """Merge ``merged`` into ``kept``: one custody event; undone by :func:`merge_undo`."""
    if kept.pk == merged.pk:
        raise InvalidInput("an incident cannot be merged into itself")
    if kept.collection_id != merged.collection_id:
        raise InvalidInput("only incidents of one collection can be merged")
    with transaction.atomic():
        kept = Incident.objects.select_for_update().get(pk=kept.pk)
        merged = Incident.objects.select_for_update().get(pk=merged.pk)
        if kept.merged_into_id or merged.merged_into_id:
            raise InvalidInput("one of the incidents is already merged into another; undo "
                               "that merge first")
        cited = set(IncidentSource.objects.filter(incident=kept).values_list("source_id",
                                                                              flat=True))
        added = [IncidentSource.objects.create(incident=kept, source_id=c.source_id,
                                               note=f"from merged incident {merged.id}")
                 for c in IncidentSource.objects.filter(incident=merged)
                 if c.source_id not in cited]
        merged.merged_into = kept
        merged.updated_at = timezone.now()
        merged.save(update_fields=["merged_into", "updated_at"])
        merge = IncidentMerge.objects.create(kept=kept, merged=merged, candidate=candidate,
                                             added_citations=[c.id for c in added], actor=actor)
        IncidentChange.objects.create(incident=merged, kind="merged", actor=actor,
                                      changes={"merged_into": [None, str(kept.id)]})
        IncidentChange.objects.create(incident=kept, kind="absorbed", actor=actor,
                                      changes={"absorbed": [None, str(merged.id)],
                                               "sources_added": [0, len(added)]})
        if candidate is not None:
            candidate.status = DuplicateCandidate.CONFIRMED
            candidate.decided_by, candidate.decided_at = actor, timezone.now()
            candidate.save(update_fields=["status", "decided_by", "decided_at"])
        custody_append(drafts=[EventDraft(MERGED, {
            "merge": str(merge.id), "kept": str(kept.id), "merged": str(merged.id),
            "collection": kept.collection.name, "sources_added": len(added)})], actor=actor)
    return merge


def merge_undo(*, merge: IncidentMerge, actor: str) -> None:
    """Restore both incidents as they were before the merge."""
    with transaction.atomic():
        merge = IncidentMerge.objects.select_for_update().get(pk=merge.pk)
        if merge.undone_at is not None:
            raise InvalidInput("this merge was already undone")
        IncidentSource.objects.filter(id__in=merge.added_citations).delete()
        Incident.objects.filter(pk=merge.merged_id).update(merged_into=None,
                                                           updated_at=timezone.now())
        merge.undone_by, merge.undone_at = actor, timezone.now()
        merge.save(update_fields=["undone_by", "undone_at"])
        IncidentChange.objects.create(incident_id=merge.merged_id, kind="unmerged", actor=actor,
                                      changes={"merged_into": [str(merge.kept_id), None]})
        if merge.candidate_id:
            DuplicateCandidate.objects.filter(pk=merge.candidate_id).update(
                status=DuplicateCandidate.PENDING, decided_by="", decided_at=None)
        custody_append(drafts=[EventDraft(MERGE_UNDONE, {
            "merge": str(merge.id), "kept": str(merge.kept_id),
            "merged": str(merge.merged_id)})], actor=actor)


def candidate_decide(*, candidate: DuplicateCandidate, same: bool, actor: str) -> None:
    """A reviewer's decision: the same incident (merged) or not (rejected)."""
    if candidate.status != DuplicateCandidate.PENDING:
        raise InvalidInput(f"this pair was already {candidate.status}")
    if same:
        kept, merged = _kept_and_merged(candidate.first, candidate.second)
        incidents_merge(kept=kept, merged=merged, actor=actor, candidate=candidate)
        return
    with transaction.atomic():
        candidate.status = DuplicateCandidate.REJECTED
        candidate.decided_by, candidate.decided_at = actor, timezone.now()
        candidate.save(update_fields=["status", "decided_by", "decided_at"])
        custody_append(drafts=[EventDraft(CANDIDATE_REJECTED, {
            "first": str(candidate.first_id), "second": str(candidate.second_id),
            "score": f"{candidate.score:.4f}"})], actor=actor)  # canonical JSON: no floats
