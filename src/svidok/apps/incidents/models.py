"""Incidents: what happened, where and when, what was hit, who was harmed, and the
sources and evidence that say so.

Vocabularies (weapons, object types, precisions, statuses, reliability grades…)
live in :mod:`svidok.core.incidents.vocab`; columns hold their codes. An incident
imported from a public dataset keeps its upstream id and a fingerprint of the
upstream record, so a newer version of the dataset updates it in place.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

from svidok.apps.evidence.models import Collection, Item
from svidok.core.incidents.verification import (
    AssessmentKind,
    ChronolocationMethod,
    Confidence,
    Verdict,
)
from svidok.core.incidents.vocab import (
    Connection,
    EventType,
    Fact,
    LocationPrecision,
    ObjectType,
    Reliability,
    SourceKind,
    Status,
    SubType,
    TimePrecision,
    Weapon,
)


def choices(vocabulary: type) -> list[tuple[str, Any]]:
    """(code, label) pairs; labels translated when shown (see labels.py)."""
    return [(member.value, gettext_lazy(member.label)) for member in vocabulary]


class Source(models.Model):
    """Where information comes from: a web address, a person, an organisation or a
    document, graded for reliability and for its connection to the information
    (HURIDOCS). A person's name is protected: sealed with the instance's field key."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    collection = models.ForeignKey(Collection, on_delete=models.PROTECT, related_name="sources")
    kind = models.CharField(max_length=20, choices=choices(SourceKind))
    url = models.TextField(blank=True)
    url_key = models.TextField(blank=True, db_index=True)  # normalised, for deduplication
    title = models.TextField(blank=True)  # never a protected person's name
    description = models.TextField(blank=True)
    reliability = models.CharField(max_length=20, blank=True, choices=choices(Reliability))
    connection = models.CharField(max_length=20, blank=True, choices=choices(Connection))
    hidden = models.BooleanField(default=False)  # withheld upstream (e.g. for privacy)
    person_sealed = models.TextField(blank=True, default="")
    dataset = models.CharField(max_length=60, blank=True)
    upstream_id = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.url or self.title or f"{self.kind} source"

    @property
    def link(self) -> str:
        """The address if it is a web one (http or https), else empty: imported data must
        not put a ``javascript:`` link on a page."""
        return self.url if self.url.lower().startswith(("https://", "http://")) else ""


class Incident(models.Model):
    """One incident, as the team records it (and, for imports, as upstream published it)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    collection = models.ForeignKey(Collection, on_delete=models.PROTECT, related_name="incidents")
    title = models.TextField()
    description = models.TextField(blank=True)
    language = models.CharField(max_length=8, default="en")  # of title and description
    # Other languages: {"uk": {"title": "...", "description": "..."}}
    translations = models.JSONField(default=dict, blank=True)

    start = models.DateTimeField(null=True, blank=True)
    end = models.DateTimeField(null=True, blank=True)  # exclusive end of the window
    time_precision = models.CharField(max_length=10, choices=choices(TimePrecision),
                                      default=TimePrecision.DAY.value)

    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    location_precision = models.CharField(max_length=12, blank=True,
                                          choices=choices(LocationPrecision))
    location_text = models.TextField(blank=True)
    oblast = models.CharField(max_length=4, blank=True)  # P-codes from the gazetteer
    raion = models.CharField(max_length=6, blank=True)
    hromada = models.CharField(max_length=9, blank=True)
    settlement = models.CharField(max_length=40, blank=True)

    event_type = models.CharField(max_length=40, blank=True, choices=choices(EventType))
    sub_type = models.CharField(max_length=40, blank=True, choices=choices(SubType))
    weapons = models.JSONField(default=list, blank=True)  # Weapon codes
    objects_hit = models.JSONField(default=list, blank=True)  # ObjectType codes
    # {"killed": {"children": {"best": 2, "low": 2, "high": 3}, "adults": …}, "injured": …}
    harm = models.JSONField(default=dict, blank=True)
    children_harmed = models.BooleanField(default=False)  # kept from harm, for the facet
    killed = models.IntegerField(default=0)  # best figures, all ages, for sorting
    injured = models.IntegerField(default=0)

    status = models.CharField(max_length=20, choices=choices(Status),
                              default=Status.REPORTED.value)
    perpetrator = models.TextField(blank=True)

    dataset = models.CharField(max_length=60, blank=True)  # "" when entered by hand
    upstream_id = models.CharField(max_length=200, blank=True)
    upstream = models.JSONField(default=dict, blank=True)  # the record as last imported
    fingerprint = models.CharField(max_length=64, blank=True)
    gone_upstream = models.BooleanField(default=False)  # missing from the latest import
    attributes = models.JSONField(default=dict, blank=True)  # upstream fields kept verbatim
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="merged")

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["collection", "dataset", "upstream_id"],
                                    condition=~Q(dataset=""), name="incident_upstream_once"),
        ]
        indexes = [
            models.Index(fields=["collection", "start", "id"], name="incident_collection_start"),
            models.Index(fields=["start", "id"], name="incident_start"),
            models.Index(fields=["oblast", "start"], name="incident_oblast"),
            models.Index(fields=["status", "start"], name="incident_status"),
            # The latest change is the version of the in-memory facet columns.
            models.Index(fields=["updated_at"], name="incident_updated"),
        ]
        ordering = ["-start", "id"]

    def __str__(self) -> str:
        return self.title

    def weapon_labels(self) -> str:
        """The weapons, by name, in the active language."""
        return _labels(Weapon, self.weapons)

    def object_labels(self) -> str:
        """The objects hit, by name, in the active language."""
        return _labels(ObjectType, self.objects_hit)


def _labels(vocabulary: type, codes: list[str]) -> str:
    from svidok.apps.incidents.labels import translated

    names = {m.value: m.label for m in vocabulary}
    return ", ".join(translated(names[code]) if code in names else code for code in codes)


class IncidentTag(models.Model):
    """One weapon or object type of an incident, as a row: facets count these."""

    WEAPON = "weapon"
    OBJECT = "object"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="tags")
    vocabulary = models.CharField(max_length=10)
    code = models.CharField(max_length=40)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["incident", "vocabulary", "code"], name="tag_once"),
        ]
        indexes = [models.Index(fields=["vocabulary", "code", "incident"], name="tag_facet")]


class IncidentSource(models.Model):
    """A source cited by an incident."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="citations")
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="citations")
    note = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["incident", "source"], name="citation_once"),
        ]


class IncidentLink(models.Model):
    """An evidence item linked to an incident, with the fact it supports."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="links")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="incident_links")
    fact = models.CharField(max_length=20, choices=choices(Fact))
    note = models.TextField(blank=True)
    actor = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["incident", "item", "fact"], name="link_once"),
        ]


class IncidentRelation(models.Model):
    """Two incidents that belong together: one strike reported twice, a follow-up
    ("double-tap") strike, or otherwise related."""

    SAME_STRIKE = "same_strike"
    DOUBLE_TAP = "double_tap"
    RELATED = "related"
    KINDS = [(SAME_STRIKE, gettext_lazy("Same strike")),
             (DOUBLE_TAP, gettext_lazy("Follow-up (double-tap) strike")),
             (RELATED, gettext_lazy("Related"))]

    source = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="relations")
    target = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=KINDS)
    note = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "target", "kind"], name="relation_once"),
        ]


class ImportRun(models.Model):
    """One import of a dataset file into a collection, with what it did."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    collection = models.ForeignKey(Collection, on_delete=models.PROTECT, related_name="+")
    dataset = models.CharField(max_length=60)
    file_name = models.TextField()
    file_sha256 = models.CharField(max_length=64)
    actor = models.CharField(max_length=300)
    counts = models.JSONField(default=dict)
    rejected = models.JSONField(default=list)  # [{"row", "upstream_id", "reason"}]
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]


class IncidentChange(models.Model):
    """What changed in an incident, when, by whom: by an import or by hand."""

    CREATED = "created"
    UPDATED = "updated"
    GONE_UPSTREAM = "gone_upstream"
    BACK_UPSTREAM = "back_upstream"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="changes")
    run = models.ForeignKey(ImportRun, null=True, blank=True, on_delete=models.PROTECT,
                            related_name="changes")
    kind = models.CharField(max_length=20)
    changes = models.JSONField(default=dict)  # {"field": [old, new]}
    actor = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]


class Assessment(models.Model):
    """One verification step by one verifier, on an incident or on an evidence item.

    Append-only: a verifier who changes their mind adds a new assessment; the
    rules (:mod:`svidok.core.incidents.verification`) count each verifier's latest
    of each kind.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    collection = models.ForeignKey(Collection, on_delete=models.PROTECT, related_name="+")
    incident = models.ForeignKey(Incident, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="assessments")
    item = models.ForeignKey(Item, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="assessments")
    kind = models.CharField(max_length=20, choices=choices(AssessmentKind))
    verdict = models.CharField(max_length=20, choices=choices(Verdict))
    confidence = models.CharField(max_length=10, choices=choices(Confidence))
    notes = models.TextField(blank=True)  # method notes: how it was done, what was seen
    # Geolocation: the point found, and the items or imagery it was matched against.
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    reference_items = models.JSONField(default=list, blank=True)  # item ids (text)
    # Chronolocation: the window the evidence allows, and how it was found.
    time_from = models.DateTimeField(null=True, blank=True)
    time_to = models.DateTimeField(null=True, blank=True)
    method = models.CharField(max_length=20, blank=True, choices=choices(ChronolocationMethod))
    verifier = models.CharField(max_length=150)  # the user's name: four eyes are counted by it
    actor = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(incident__isnull=False, item__isnull=True)
                | Q(incident__isnull=True, item__isnull=False),
                name="assessment_of_one_thing"),
        ]
        indexes = [models.Index(fields=["incident", "created_at"], name="assessment_incident")]
        ordering = ["created_at", "id"]


class AirRaidAlert(models.Model):
    """One air-raid alert period from the public dataset (official or volunteer), or one
    of the two permanent alerts its README describes. Reference data, shared by all
    collections; replaced per source by each import of a newer snapshot."""

    source = models.CharField(max_length=12)  # official, volunteer, readme
    level = models.CharField(max_length=10)  # oblast, raion, hromada
    oblast = models.CharField(max_length=4)
    raion = models.CharField(max_length=6, blank=True)
    hromada = models.CharField(max_length=9, blank=True)
    name = models.TextField()  # the unit as the dataset names it
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)  # None: running or permanent
    naive_end = models.BooleanField(default=False)
    permanent = models.BooleanField(default=False)
    row = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["oblast", "started_at"], name="alert_oblast")]


class DuplicateCandidate(models.Model):
    """Two incidents of one collection that may be the same, with why; a reviewer
    confirms (they are merged) or rejects."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"

    first = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="+")
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField()
    reasons = models.JSONField(default=list)
    features = models.JSONField(default=dict)
    status = models.CharField(max_length=10, default=PENDING)
    decided_by = models.CharField(max_length=300, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="candidate_once"),
        ]
        indexes = [models.Index(fields=["collection", "status", "score"],
                                name="candidate_queue")]


class IncidentMerge(models.Model):
    """One incident merged into another: the merged one is hidden from lists and points to
    the kept one, which cites every source of both. Undoing restores both as they were."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kept = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="merges_kept")
    merged = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="merges")
    candidate = models.ForeignKey(DuplicateCandidate, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    added_citations = models.JSONField(default=list)  # IncidentSource ids added to ``kept``
    actor = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)
    undone_by = models.CharField(max_length=300, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
