"""Writes on incidents: creating and editing them, citing sources, linking evidence,
and recording assessments (which move the incident's status by the four-eyes rules).

Every write is one transaction with one custody event, so ``svidok verify`` and a
court can see who changed what and when; an incident's own change list
(:class:`IncidentChange`) says the same in detail.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from svidok.apps.custody.services import Action, EventDraft, custody_append
from svidok.apps.evidence.models import Collection, Item
from svidok.apps.incidents.models import (
    Assessment,
    Incident,
    IncidentChange,
    IncidentLink,
    IncidentRelation,
    IncidentSource,
    IncidentTag,
    Source,
)
from svidok.apps.incidents.protected import MAX_PERSON, person_seal
from svidok.core.errors import InvalidInput
from svidok.core.geo.lookup import gazetteer
from svidok.core.incidents.urls import normalise_url, url_key
from svidok.core.incidents.verification import (
    AssessmentKind,
    ChronolocationMethod,
    Confidence,
    Verdict,
    Vote,
    incident_status,
)
from svidok.core.incidents.vocab import (
    Connection,
    Fact,
    LocationPrecision,
    ObjectType,
    Reliability,
    SourceKind,
    Status,
    TimePrecision,
    Weapon,
)

INCIDENT_CREATED = "incident.created"
INCIDENT_UPDATED = "incident.updated"
INCIDENT_ASSESSED = "incident.assessed"
INCIDENT_LINKED = "incident.linked"
SOURCE_CITED = "incident.source_cited"
INCIDENT_RELATED = "incident.related"

AGES = ("children", "adults", "unknown")
OUTCOMES = ("killed", "injured")
FIGURES = ("best", "low", "high")


def plain_text(name: str, value: str) -> str:
    """Text as stored: PostgreSQL cannot hold NUL characters, so they are refused."""
    if "\x00" in value:
        raise InvalidInput(f"{name} contains a NUL character; expected plain text")
    return value


def _texts(**values: Any) -> None:
    for name, value in values.items():
        if isinstance(value, str):
            plain_text(name, value)


def _code(vocabulary: type, value: str, what: str) -> str:
    try:
        return str(vocabulary(value).value)
    except ValueError:
        allowed = ", ".join(member.value for member in vocabulary)
        raise InvalidInput(f"unknown {what}: expected one of {allowed}, found {value!r}") from None


def _log(action: str, incident: Incident, actor: str, details: dict[str, Any]) -> None:
    custody_append(drafts=[EventDraft(action, {"incident": str(incident.id),
                                               "collection": incident.collection.name,
                                               **details})], actor=actor)


def harm_checked(harm: dict[str, Any]) -> dict[str, dict[str, dict[str, int]]]:
    """The harm summary in its one shape, checked: killed / injured × children / adults /
    unknown × best / low / high, whole numbers ≥ 0 with low ≤ best ≤ high."""
    checked: dict[str, dict[str, dict[str, int]]] = {}
    for outcome, by_age in (harm or {}).items():
        if outcome not in OUTCOMES or not isinstance(by_age, dict):
            raise InvalidInput(f"harm: expected killed or injured, found {outcome!r}")
        for age, figures in by_age.items():
            if age not in AGES or not isinstance(figures, dict):
                raise InvalidInput(f"harm: expected children, adults or unknown, found {age!r}")
            values: dict[str, int] = {}
            for name, value in figures.items():
                if name not in FIGURES or isinstance(value, bool) or not isinstance(value, int) \
                        or not 0 <= value <= 10_000_000:
                    raise InvalidInput(f"harm {outcome}/{age}: expected best, low and high as "
                                       f"whole numbers from 0, found {name}={value!r}")
                values[name] = value
            best = values.get("best")
            low, high = values.get("low", best), values.get("high", best)
            if best is not None and low is not None and high is not None \
                    and not low <= best <= high:
                raise InvalidInput(f"harm {outcome}/{age}: expected low <= best <= high, "
                                   f"found {low}, {best}, {high}")
            if values:
                checked.setdefault(outcome, {})[age] = values
    return checked


def _harm_totals(incident: Incident) -> None:
    harm = incident.harm or {}
    incident.killed = sum(f.get("best", 0) for f in harm.get("killed", {}).values())
    incident.injured = sum(f.get("best", 0) for f in harm.get("injured", {}).values())
    incident.children_harmed = any(harm.get(o, {}).get("children", {}).get("best", 0) > 0
                                   for o in OUTCOMES)


def _place(incident: Incident) -> None:
    incident.oblast = incident.raion = incident.hromada = incident.settlement = ""
    if incident.latitude is None or incident.longitude is None:
        return
    found = gazetteer().locate(incident.latitude, incident.longitude)
    incident.oblast = found.oblast.code if found.oblast else ""
    incident.raion = found.raion.code if found.raion else ""
    incident.hromada = found.hromada.code if found.hromada else ""
    incident.settlement = found.settlement.code if found.settlement else ""


def _retag(incident: Incident) -> None:
    IncidentTag.objects.filter(incident=incident).delete()
    IncidentTag.objects.bulk_create(
        [IncidentTag(incident=incident, vocabulary=IncidentTag.WEAPON, code=c)
         for c in sorted(set(incident.weapons))]
        + [IncidentTag(incident=incident, vocabulary=IncidentTag.OBJECT, code=c)
           for c in sorted(set(incident.objects_hit))])


EDITABLE = ("title", "description", "language", "translations", "start", "end",
            "time_precision", "latitude", "longitude", "location_precision", "location_text",
            "event_type", "sub_type", "weapons", "objects_hit", "harm", "perpetrator")


def _checked_fields(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise InvalidInput(f"unknown incident fields: {', '.join(sorted(unknown))}; "
                           f"expected some of {', '.join(EDITABLE)}")
    checked = dict(fields)
    _texts(**{k: v for k, v in checked.items() if isinstance(v, str)})
    for language, text in (checked.get("translations") or {}).items():
        _texts(**{f"translation {language}": str(text)})
    if "title" in checked and not str(checked["title"]).strip():
        raise InvalidInput("an incident needs a title; got an empty one")
    if "time_precision" in checked:
        checked["time_precision"] = _code(TimePrecision, checked["time_precision"],
                                          "time precision")
    if checked.get("location_precision"):
        checked["location_precision"] = _code(LocationPrecision, checked["location_precision"],
                                              "location precision")
    if "weapons" in checked:
        checked["weapons"] = sorted({_code(Weapon, w, "weapon") for w in checked["weapons"]})
    if "objects_hit" in checked:
        checked["objects_hit"] = sorted({_code(ObjectType, o, "object type")
                                         for o in checked["objects_hit"]})
    if "harm" in checked:
        checked["harm"] = harm_checked(checked["harm"])
    for name in ("latitude", "longitude"):
        value = checked.get(name)
        limit = 90 if name == "latitude" else 180
        if value is not None and not -limit <= float(value) <= limit:
            raise InvalidInput(f"{name}: expected -{limit}..{limit}, found {value}")
    return checked


def _window_ok(start: datetime | None, end: datetime | None) -> None:
    if start is not None and end is not None and end < start:
        raise InvalidInput(f"the end ({end.isoformat()}) is before the start "
                           f"({start.isoformat()})")


def incident_create(*, collection: Collection, fields: dict[str, Any], actor: str) -> Incident:
    """A new incident, entered by hand; status reported."""
    checked = _checked_fields(fields)
    if "title" not in checked:
        raise InvalidInput("an incident needs a title")
    incident = Incident(collection=collection, **checked)
    _window_ok(incident.start, incident.end)
    _place(incident)
    _harm_totals(incident)
    with transaction.atomic():
        incident.save()
        _retag(incident)
        IncidentChange.objects.create(incident=incident, kind=IncidentChange.CREATED,
                                      actor=actor)
        _log(INCIDENT_CREATED, incident, actor, {"title": incident.title})
    return incident


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def incident_update(*, incident: Incident, fields: dict[str, Any], actor: str) -> dict[str, Any]:
    """Change fields of an incident; the change (old and new values) is recorded.

    Returns ``{field: [old, new]}`` of what actually changed (empty: nothing saved).
    """
    checked = _checked_fields(fields)
    changed: dict[str, Any] = {}
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        for name, value in checked.items():
            old = getattr(incident, name)
            if old != value:
                changed[name] = [_plain(old), _plain(value)]
                setattr(incident, name, value)
        if not changed:
            return changed
        _window_ok(incident.start, incident.end)
        if {"latitude", "longitude"} & changed.keys():
            _place(incident)
        _harm_totals(incident)
        incident.updated_at = timezone.now()
        incident.save()
        if {"weapons", "objects_hit"} & changed.keys():
            _retag(incident)
        IncidentChange.objects.create(incident=incident, kind=IncidentChange.UPDATED,
                                      changes=changed, actor=actor)
        _log(INCIDENT_UPDATED, incident, actor, {"fields": sorted(changed)})
    return changed


def source_cite(*, incident: Incident, kind: str, actor: str, url: str = "", title: str = "",
                description: str = "", reliability: str = "", connection: str = "",
                note: str = "", person: str = "") -> Source:
    """Cite a source for an incident (a new source row in the incident's collection).

    A person's name and contact go in ``person`` only (sources of kind person): it is
    sealed (:mod:`svidok.apps.incidents.protected`), never stored or logged in clear.
    Titles and descriptions are for the public role ("witness, neighbour").
    """
    _texts(url=url, title=title, description=description, note=note, person=person)
    kind = _code(SourceKind, kind, "source kind")
    if person and kind != SourceKind.PERSON:
        raise InvalidInput(f"a protected identity belongs to a person source, not to a {kind}")
    if len(person) > MAX_PERSON:
        raise InvalidInput(f"the identity is longer than {MAX_PERSON} characters")
    if reliability:
        reliability = _code(Reliability, reliability, "reliability")
    if connection:
        connection = _code(Connection, connection, "connection")
    if kind == SourceKind.URL and not normalise_url(url):
        raise InvalidInput(f"a web source needs a web address; found {url!r}")
    with transaction.atomic():
        source = Source(
            collection=incident.collection, kind=kind, url=url.strip(),
            url_key=url_key(url) or "" if url else "", title=title.strip(),
            description=description, reliability=reliability, connection=connection)
        person_seal(source, person.strip())
        source.save()
        IncidentSource.objects.create(incident=incident, source=source, note=note)
        _log(SOURCE_CITED, incident, actor, {"source": str(source.id), "kind": kind,
                                             "reliability": reliability,
                                             "protected_identity": bool(person)})
    return source


def incident_link_item(*, incident: Incident, item: Item, fact: str, actor: str,
                       note: str = "") -> IncidentLink:
    """Link an evidence item to the incident, with the fact it supports."""
    _texts(note=note)
    fact = _code(Fact, fact, "fact")
    if item.collection_id != incident.collection_id:
        raise InvalidInput("an item can support incidents of its own collection only: "
                           f"the item is in another collection than {incident.collection.name!r}")
    with transaction.atomic():
        link, created = IncidentLink.objects.get_or_create(
            incident=incident, item=item, fact=fact, defaults={"note": note, "actor": actor})
        if created:
            custody_append(drafts=[EventDraft(INCIDENT_LINKED, {
                "incident": str(incident.id), "fact": fact, "note": note},
                item_id=item.id, item_sha256=item.sha256)], actor=actor)
    return link


@dataclass(frozen=True)
class AssessmentInput:
    """What a verifier records; geolocation and chronolocation fields as they apply."""

    kind: str
    verdict: str
    confidence: str
    notes: str = ""
    latitude: float | None = None
    longitude: float | None = None
    reference_items: tuple[uuid.UUID, ...] = ()
    time_from: datetime | None = None
    time_to: datetime | None = None
    method: str = ""


def _checked_assessment(data: AssessmentInput) -> dict[str, Any]:
    _texts(notes=data.notes)
    kind = _code(AssessmentKind, data.kind, "assessment kind")
    fields: dict[str, Any] = {
        "kind": kind, "verdict": _code(Verdict, data.verdict, "verdict"),
        "confidence": _code(Confidence, data.confidence, "confidence"), "notes": data.notes}
    if kind == AssessmentKind.GEOLOCATION:
        if (data.latitude is None) != (data.longitude is None):
            raise InvalidInput("a geolocation gives both latitude and longitude, or neither")
        if data.latitude is not None and data.longitude is not None:
            if not (-90 <= data.latitude <= 90 and -180 <= data.longitude <= 180):
                raise InvalidInput(f"coordinates out of range: {data.latitude}, "
                                   f"{data.longitude}")
            fields.update(latitude=data.latitude, longitude=data.longitude)
        fields["reference_items"] = [str(i) for i in data.reference_items]
    elif data.latitude is not None or data.reference_items:
        raise InvalidInput(f"coordinates and reference items belong to a geolocation, "
                           f"not to a {kind} assessment")
    if kind == AssessmentKind.CHRONOLOCATION:
        _window_ok(data.time_from, data.time_to)
        fields.update(time_from=data.time_from, time_to=data.time_to,
                      method=_code(ChronolocationMethod, data.method, "chronolocation method")
                      if data.method else "")
    elif data.time_from is not None or data.time_to is not None or data.method:
        raise InvalidInput(f"a time window and method belong to a chronolocation, "
                           f"not to a {kind} assessment")
    return fields


def votes_of(incident: Incident) -> list[Vote]:
    return [Vote(a.verifier, AssessmentKind(a.kind), Verdict(a.verdict), a.created_at)
            for a in Assessment.objects.filter(incident=incident)]


def incident_assess(*, incident: Incident, data: AssessmentInput, verifier: str,
                    actor: str) -> tuple[Assessment, str]:
    """Record a verifier's assessment of an incident; returns it and the incident's
    status afterwards (moved by :func:`svidok.core.incidents.verification.incident_status`)."""
    fields = _checked_assessment(data)
    if not verifier:
        raise InvalidInput("an assessment needs the verifier's name")
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        assessment = Assessment.objects.create(collection=incident.collection,
                                               incident=incident, verifier=verifier,
                                               actor=actor, **fields)
        before = incident.status
        after = incident_status(votes_of(incident), current=Status(before)).value
        details = {"assessment": str(assessment.id), "kind": fields["kind"],
                   "verdict": fields["verdict"], "confidence": fields["confidence"],
                   "verifier": verifier}
        if after != before:
            incident.status = after
            incident.updated_at = timezone.now()
            incident.save(update_fields=["status", "updated_at"])
            IncidentChange.objects.create(incident=incident, kind=IncidentChange.UPDATED,
                                          changes={"status": [before, after]}, actor=actor)
            details["status"] = [before, after]
        _log(INCIDENT_ASSESSED, incident, actor, details)
    return assessment, after


def item_assess(*, item: Item, data: AssessmentInput, verifier: str,
                actor: str) -> Assessment:
    """Record a verifier's assessment of an evidence item (provenance, technical…)."""
    fields = _checked_assessment(data)
    if not verifier:
        raise InvalidInput("an assessment needs the verifier's name")
    with transaction.atomic():
        assessment = Assessment.objects.create(collection_id=item.collection_id, item=item,
                                               verifier=verifier, actor=actor, **fields)
        custody_append(drafts=[EventDraft(Action.ASSESSED, {
            "assessment": str(assessment.id), "kind": fields["kind"],
            "verdict": fields["verdict"], "confidence": fields["confidence"],
            "verifier": verifier}, item_id=item.id, item_sha256=item.sha256)], actor=actor)
    return assessment


def incident_relate(*, incident: Incident, other: Incident, kind: str, actor: str,
                    note: str = "") -> IncidentRelation:
    """Record that two incidents of one collection belong together: the same strike,
    a follow-up ("double-tap") strike, or otherwise related."""
    _texts(note=note)
    kinds = {code for code, _ in IncidentRelation.KINDS}
    if kind not in kinds:
        raise InvalidInput(f"unknown relation: expected one of {', '.join(sorted(kinds))}, "
                           f"found {kind!r}")
    if incident.pk == other.pk:
        raise InvalidInput("an incident cannot be related to itself")
    if incident.collection_id != other.collection_id:
        raise InvalidInput("only incidents of one collection can be related")
    with transaction.atomic():
        relation, created = IncidentRelation.objects.get_or_create(
            source=incident, target=other, kind=kind, defaults={"note": note})
        if created:
            _log(INCIDENT_RELATED, incident, actor, {"other": str(other.id), "kind": kind})
    return relation
