"""Reads on incidents: the filtered list with its facets, one incident, the queue of
verification work. Only the user's collections are ever read."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth

from svidok.apps.accounts.permissions import (
    ROLE_PERMISSIONS,
    Permission,
    authorize,
    role_in,
    visible_collection_ids,
)
from svidok.apps.evidence.models import Collection
from svidok.apps.incidents.models import Assessment, Incident, IncidentTag
from svidok.core.errors import InvalidInput, NotFound
from svidok.core.geo.regions import REGIONS, region_by_code
from svidok.core.incidents.verification import (
    AssessmentKind,
    Verdict,
    Vote,
    Waiting,
    waiting_for,
)
from svidok.core.incidents.vocab import ObjectType, Status, Weapon

MAX_QUERY = 300


@dataclass(frozen=True)
class IncidentFilters:
    """What the list is narrowed to; every field optional."""

    collection: int | None = None
    oblast: str = ""
    start_from: date | None = None
    start_to: date | None = None  # inclusive
    weapon: str = ""
    object_type: str = ""
    status: str = ""
    children: bool | None = None
    dataset: str = ""
    text: str = ""
    gone_upstream: bool | None = None

    def checked(self) -> IncidentFilters:
        region = region_by_code(self.oblast) if self.oblast else None
        if self.oblast and (region is None or region.pcode != self.oblast):
            raise InvalidInput(f"unknown oblast: expected a P-code such as UA63, found "
                               f"{self.oblast!r}")
        for value, vocabulary, what in ((self.weapon, Weapon, "weapon"),
                                        (self.object_type, ObjectType, "object type"),
                                        (self.status, Status, "status")):
            if value and value not in {m.value for m in vocabulary}:
                raise InvalidInput(f"unknown {what}: {value!r}")
        if self.start_from and self.start_to and self.start_to < self.start_from:
            raise InvalidInput("the period ends before it starts")
        if "\x00" in self.text + self.dataset:
            raise InvalidInput("the search contains a NUL character; expected plain text")
        if len(self.text) > MAX_QUERY:
            raise InvalidInput(f"search text longer than {MAX_QUERY} characters")
        return self


# Incidents in Ukraine are dated by the local calendar: a strike at 01:00 on 8 July in
# Kyiv is on 8 July, though it is still 7 July in UTC. Filters and months follow it.
LOCAL = ZoneInfo("Europe/Kyiv")


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=LOCAL)


def incidents_visible(*, user: Any) -> QuerySet[Incident]:
    """Incidents of the user's collections, merged ones left out."""
    ids = visible_collection_ids(user=user)
    incidents = Incident.objects.filter(merged_into__isnull=True)
    return incidents if ids is None else incidents.filter(collection_id__in=ids)


def incidents_filtered(*, user: Any, filters: IncidentFilters) -> QuerySet[Incident]:
    filters = filters.checked()
    incidents = incidents_visible(user=user)
    if filters.collection is not None:
        incidents = incidents.filter(collection_id=filters.collection)
    if filters.oblast:
        incidents = incidents.filter(oblast=filters.oblast)
    if filters.start_from:
        incidents = incidents.filter(start__gte=_day_start(filters.start_from))
    if filters.start_to:
        incidents = incidents.filter(start__lt=_day_start(filters.start_to + timedelta(days=1)))
    for vocabulary, code in ((IncidentTag.WEAPON, filters.weapon),
                             (IncidentTag.OBJECT, filters.object_type)):
        if code:
            incidents = incidents.filter(id__in=IncidentTag.objects.filter(
                vocabulary=vocabulary, code=code).values("incident_id"))
    if filters.status:
        incidents = incidents.filter(status=filters.status)
    if filters.children is not None:
        incidents = incidents.filter(children_harmed=filters.children)
    if filters.dataset:
        incidents = incidents.filter(dataset=filters.dataset)
    if filters.gone_upstream is not None:
        incidents = incidents.filter(gone_upstream=filters.gone_upstream)
    for word in filters.text.split()[:8]:
        incidents = incidents.filter(Q(title__icontains=word) | Q(description__icontains=word)
                                     | Q(location_text__icontains=word)
                                     | Q(upstream_id__iexact=word))
    return incidents


@dataclass
class Facet:
    name: str
    values: list[tuple[str, str, int]] = field(default_factory=list)  # code, label, count


def incident_facets(*, incidents: QuerySet[Incident], language: str = "en") -> list[Facet]:
    """Counts of the filtered incidents by oblast, period (month), weapon, object type,
    status and whether children were harmed."""
    plain = incidents.order_by()
    oblasts = Facet("oblast")
    for code, count in plain.exclude(oblast="").values_list("oblast").annotate(n=Count("id")):
        oblasts.values.append((code, region_name(code, language), count))
    oblasts.values.sort(key=lambda v: -v[2])
    months = Facet("month")
    for month, count in (plain.exclude(start=None).annotate(month=TruncMonth("start", tzinfo=LOCAL))
                         .values_list("month").annotate(n=Count("id")).order_by("month")):
        months.values.append((month.strftime("%Y-%m"), month.strftime("%Y-%m"), count))
    facets = [oblasts, months]
    for name, vocabulary, kind in (("weapon", Weapon, IncidentTag.WEAPON),
                                   ("object_type", ObjectType, IncidentTag.OBJECT)):
        facet = Facet(name)
        rows = (IncidentTag.objects.filter(vocabulary=kind, incident__in=plain.values("id"))
                .values_list("code").annotate(n=Count("id")).order_by("-n"))
        labels = {m.value: m.label for m in vocabulary}
        facet.values = [(code, labels.get(code, code), count) for code, count in rows]
        facets.append(facet)
    statuses = Facet("status")
    labels = {m.value: m.label for m in Status}
    counted = dict(plain.values_list("status").annotate(n=Count("id")))
    statuses.values = [(s.value, labels[s.value], counted[s.value]) for s in Status
                       if s.value in counted]
    children = Facet("children")
    child_counts = dict(plain.values_list("children_harmed").annotate(n=Count("id")))
    children.values = [(key, label, child_counts[flag]) for key, label, flag in
                       (("yes", "Children harmed", True), ("no", "No children reported", False))
                       if flag in child_counts]
    return [*facets, statuses, children]


def facets_and_total(*, user: Any, filters: IncidentFilters,
                     language: str = "en") -> tuple[list[Facet], int]:
    """The facets and the number of incidents the filters select: from the in-memory
    columns (:mod:`svidok.apps.incidents.facet_index`), or in SQL when the filters
    include search words."""
    from svidok.apps.incidents import facet_index

    filters = filters.checked()
    if filters.text.strip():
        incidents = incidents_filtered(user=user, filters=filters)
        return incident_facets(incidents=incidents, language=language), incidents.count()
    data = facet_index.columns()
    keep = facet_index.mask(data, filters, visible_collection_ids(user=user))
    counted = facet_index.counts(data, keep)
    oblasts = Facet("oblast", sorted(((code, region_name(code, language), n)
                                      for code, n in counted["oblast"].items()),
                                     key=lambda v: -v[2]))
    months = Facet("month", [(f"{m // 100}-{m % 100:02d}", f"{m // 100}-{m % 100:02d}", n)
                             for m, n in sorted(counted["month"].items())])
    facets = [oblasts, months]
    for name, vocabulary in (("weapon", Weapon), ("object_type", ObjectType)):
        labels = {m.value: m.label for m in vocabulary}
        facets.append(Facet(name, sorted(((code, labels[code], n)
                                          for code, n in counted[name].items()),
                                         key=lambda v: -v[2])))
    status_labels = {m.value: m.label for m in Status}
    facets.append(Facet("status", [(s.value, status_labels[s.value], counted["status"][s.value])
                                   for s in Status if s.value in counted["status"]]))
    facets.append(Facet("children", [(key, label, counted["children"][flag]) for key, label, flag
                                     in (("yes", "Children harmed", True),
                                         ("no", "No children reported", False))
                                     if counted["children"][flag]]))
    return facets, int(keep.sum())


def incident_for(*, user: Any, incident_id: uuid.UUID, permission: Permission) -> Incident:
    """The incident, once ``permission`` is granted on its collection (NotFound for a
    missing incident and for one outside the user's collections alike)."""
    incident = Incident.objects.select_related("collection").filter(id=incident_id).first()
    if incident is None:
        raise NotFound("not found")
    authorize(user=user, permission=permission, collection=incident.collection)
    return incident


def region_name(code: str, language: str = "en") -> str:
    region = region_by_code(code)
    if region is None:
        return code
    return region.name_uk if language == "uk" else region.name_en


def region_choices(language: str = "en") -> list[tuple[str, str]]:
    return sorted(((r.pcode, region_name(r.pcode, language)) for r in REGIONS),
                  key=lambda r: r[1])


@dataclass(frozen=True)
class QueueEntry:
    incident: Incident
    waiting: Waiting


QUEUE_STATUSES = (Status.REPORTED.value, Status.UNDER_VERIFICATION.value,
                  Status.DISPUTED.value)


def verification_queue(*, user: Any, limit: int = 200) -> list[QueueEntry]:
    """Incidents waiting for verification work in the collections where the user may
    assess: what each still needs, and whether it needs this user or someone else.

    Disputed incidents first, then those closest to verification (one verifier done),
    then the newest.
    """
    collections = [c for c in Collection.objects.filter(
        id__in=incidents_visible(user=user).values("collection_id").distinct())
        if (role := role_in(user=user, collection=c)) is not None
        and Permission.ASSESS in ROLE_PERMISSIONS[role]]
    incidents = list(Incident.objects.filter(
        collection__in=collections, status__in=QUEUE_STATUSES, merged_into__isnull=True)
        .order_by("-start", "id")[:limit])
    votes: dict[uuid.UUID, list[Vote]] = {}
    for assessment in Assessment.objects.filter(incident__in=incidents).order_by("created_at"):
        votes.setdefault(assessment.incident_id, []).append(Vote(
            assessment.verifier, AssessmentKind(assessment.kind), Verdict(assessment.verdict),
            assessment.created_at))
    name = user.get_username()
    entries = [QueueEntry(i, waiting_for(votes.get(i.id, []), verifier=name)) for i in incidents]
    entries.sort(key=lambda e: (e.incident.status != Status.DISPUTED.value,
                                -e.waiting.confirmations))
    return entries
