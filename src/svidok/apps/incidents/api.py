"""API operations on incidents: list with facets, one incident, entering and editing,
citing sources, linking evidence, assessments, and the verification queue."""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import BaseModel, Field, StrictFloat

from svidok.api.access import SIGNED_IN, OnCollection, actor_of, rule
from svidok.api.errors import ErrorOut
from svidok.api.types import IsoDate, IsoDateTime, WholeNumber
from svidok.apps.accounts.permissions import Permission, authorize
from svidok.apps.evidence.models import Collection
from svidok.apps.incidents import services
from svidok.apps.incidents.models import Source
from svidok.apps.incidents.presenting import (
    assessment_json,
    incident_detail_json,
    incident_json,
)
from svidok.apps.incidents.protected import person_reveal
from svidok.apps.incidents.selectors import (
    IncidentFilters,
    facets_and_total,
    incident_for,
    incidents_filtered,
    verification_queue,
)
from svidok.core.errors import NotFound
from svidok.core.geo.regions import REGIONS
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
from svidok.web.access import item_for

router = Router(tags=["incidents"])
ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut,
                          409: ErrorOut, 422: ErrorOut}
MAX_ID = 2**63 - 1
LANGUAGE_PATTERN = "^[a-z]{2,3}$"  # ISO 639 code: en, uk, ru, crh


def codes(vocabulary: type, *, optional: bool = True) -> str:
    """A pattern accepting exactly the vocabulary's codes (and "" when optional), so the
    published schema says which values are valid."""
    alternatives = "|".join(re.escape(member.value) for member in vocabulary)
    return f"^({alternatives}){'?' if optional else ''}$"


def code_list(vocabulary: type) -> Any:
    return list[Annotated[str, Field(pattern=codes(vocabulary, optional=False))]]


class IncidentQuery(Schema):
    collection: int | None = Field(None, ge=1, le=MAX_ID)
    oblast: str = Field("", pattern=f"^({'|'.join(r.pcode for r in REGIONS)})?$",
                        description="P-code, e.g. UA63")
    start_from: IsoDate | None = None
    start_to: IsoDate | None = Field(None, description="inclusive")
    weapon: str = Field("", pattern=codes(Weapon))
    object_type: str = Field("", pattern=codes(ObjectType))
    status: str = Field("", pattern=codes(Status))
    children: bool | None = Field(None, description="children harmed")
    dataset: str = Field("", max_length=60)
    q: str = Field("", max_length=300, description="words in title, description or place")
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=10_000_000)

    def filters(self) -> IncidentFilters:
        return IncidentFilters(collection=self.collection, oblast=self.oblast,
                               start_from=self.start_from, start_to=self.start_to,
                               weapon=self.weapon, object_type=self.object_type,
                               status=self.status, children=self.children,
                               dataset=self.dataset, text=self.q)


class IncidentPage(Schema):
    total: int
    incidents: list[dict[str, Any]]


class FacetOut(Schema):
    name: str
    values: list[tuple[str, str, int]]


class TranslationIn(BaseModel):
    """The title and description in another language (a list, not an object keyed by
    language, so that the schema can say what a language code is)."""

    language: str = Field(..., pattern=LANGUAGE_PATTERN)
    title: str = Field("", max_length=2000)
    description: str = Field("", max_length=100_000)


class FiguresIn(BaseModel):
    """Best estimate with its low and high bounds (low <= best <= high).

    Plain pydantic models, not ninja Schemas, below the top level: a Schema reads any
    object by its attributes, so it would take a list for a harm summary."""

    best: WholeNumber | None = Field(None, ge=0, le=10_000_000)
    low: WholeNumber | None = Field(None, ge=0, le=10_000_000)
    high: WholeNumber | None = Field(None, ge=0, le=10_000_000)


class AgesIn(BaseModel):
    children: FiguresIn | None = None
    adults: FiguresIn | None = None
    unknown: FiguresIn | None = None


class HarmIn(BaseModel):
    killed: AgesIn | None = None
    injured: AgesIn | None = None


def harm_of(harm: HarmIn | None) -> dict[str, Any]:
    """The harm summary without the parts left out."""
    if harm is None:
        return {}
    return {outcome: {age: {k: v for k, v in figures.items() if v is not None}
                      for age, figures in ages.items() if figures is not None}
            for outcome, ages in harm.model_dump(exclude_none=True).items()}


def translations_of(translations: list[TranslationIn] | None) -> dict[str, Any]:
    """``{"uk": {"title", "description"}}`` as stored; a language given twice keeps its last."""
    return {text.language: {"title": text.title, "description": text.description}
            for text in translations or []}


class IncidentIn(Schema):
    collection: int = Field(..., ge=1, le=MAX_ID)
    title: str = Field(..., min_length=1, max_length=2000)
    description: str = Field("", max_length=100_000)
    language: str = Field("en", pattern=LANGUAGE_PATTERN)
    translations: list[TranslationIn] = Field(
        default_factory=list, max_length=20,
        description='other languages: [{"language": "uk", "title": …, "description": …}]')
    start: IsoDateTime | None = None
    end: IsoDateTime | None = None
    time_precision: str = Field("day", pattern=codes(TimePrecision))
    latitude: StrictFloat | None = Field(None, ge=-90, le=90)
    longitude: StrictFloat | None = Field(None, ge=-180, le=180)
    location_precision: str = Field("", pattern=codes(LocationPrecision))
    location_text: str = Field("", max_length=2000)
    event_type: str = Field("", pattern=codes(EventType))
    sub_type: str = Field("", pattern=codes(SubType))
    weapons: code_list(Weapon) = Field(default_factory=list, max_length=20)
    objects_hit: code_list(ObjectType) = Field(default_factory=list, max_length=30)
    harm: HarmIn | None = None
    perpetrator: str = Field("", max_length=5000)


class IncidentPatch(Schema):
    title: str | None = Field(None, min_length=1, max_length=2000)
    description: str | None = Field(None, max_length=100_000)
    translations: list[TranslationIn] | None = Field(None, max_length=20)
    start: IsoDateTime | None = None
    end: IsoDateTime | None = None
    time_precision: str | None = Field(None, pattern=codes(TimePrecision, optional=False))
    latitude: StrictFloat | None = Field(None, ge=-90, le=90)
    longitude: StrictFloat | None = Field(None, ge=-180, le=180)
    location_precision: str | None = Field(None, pattern=codes(LocationPrecision))
    location_text: str | None = Field(None, max_length=2000)
    weapons: code_list(Weapon) | None = Field(None, max_length=20)
    objects_hit: code_list(ObjectType) | None = Field(None, max_length=30)
    harm: HarmIn | None = None
    perpetrator: str | None = Field(None, max_length=5000)


class AssessmentIn(Schema):
    kind: str = Field(..., pattern=codes(AssessmentKind, optional=False))
    verdict: str = Field(..., pattern=codes(Verdict, optional=False))
    confidence: str = Field(..., pattern=codes(Confidence, optional=False))
    notes: str = Field("", max_length=20_000)
    latitude: StrictFloat | None = Field(None, ge=-90, le=90)
    longitude: StrictFloat | None = Field(None, ge=-180, le=180)
    reference_items: list[uuid.UUID] = Field(default_factory=list, max_length=50)
    time_from: IsoDateTime | None = None
    time_to: IsoDateTime | None = None
    method: str = Field("", pattern=codes(ChronolocationMethod))


class AssessedOut(Schema):
    assessment: uuid.UUID
    status: str


class LinkIn(Schema):
    item: uuid.UUID
    fact: str = Field(..., pattern=codes(Fact, optional=False))
    note: str = Field("", max_length=5000)


class SourceIn(Schema):
    kind: str = Field(..., pattern=codes(SourceKind, optional=False))
    url: str = Field("", max_length=4000)
    title: str = Field("", max_length=2000)
    description: str = Field("", max_length=20_000)
    reliability: str = Field("", pattern=codes(Reliability))
    connection: str = Field("", pattern=codes(Connection))
    note: str = Field("", max_length=5000)
    person: str = Field("", max_length=1000,
                        description="a person source's name and contact: protected (sealed, "
                                    "masked, every reveal logged); never put it in the title")


class RelationIn(Schema):
    incident: uuid.UUID = Field(..., description="the other incident, same collection")
    kind: str = Field(..., pattern="^(same_strike|double_tap|related)$")
    note: str = Field("", max_length=5000)


class QueueOut(Schema):
    incident: dict[str, Any]
    waiting_for: str
    confirmations: int


@router.get("/incidents", response={200: IncidentPage, **ERRORS})
@rule(SIGNED_IN)
def incident_list(request: HttpRequest, query: Query[IncidentQuery]) -> dict[str, Any]:
    """Incidents of your collections, newest first, filtered as the query says."""
    filters = query.filters()
    incidents = incidents_filtered(user=request.auth, filters=filters)
    _facets, total = facets_and_total(user=request.auth, filters=filters)
    page = incidents.order_by("-start", "id")[query.offset:query.offset + query.limit]
    return {"total": total, "incidents": [incident_json(i) for i in page]}


@router.get("/incidents/facets", response={200: list[FacetOut], **ERRORS})
@rule(SIGNED_IN)
def incident_facet_counts(request: HttpRequest,
                          query: Query[IncidentQuery]) -> list[dict[str, Any]]:
    """Counts of the filtered incidents by oblast, month, weapon, object type, status and
    children harmed."""
    facets, _total = facets_and_total(user=request.auth, filters=query.filters())
    return [{"name": f.name, "values": f.values} for f in facets]


@router.post("/incidents", response={200: dict[str, Any], **ERRORS})
@rule(OnCollection(Permission.INGEST))
def incident_create(request: HttpRequest, body: IncidentIn) -> dict[str, Any]:
    """Enter an incident by hand (status: reported)."""
    collection = Collection.objects.filter(id=body.collection).first()
    if collection is None:
        raise NotFound("not found")
    authorize(user=request.auth, permission=Permission.INGEST, collection=collection)
    fields = {**body.dict(exclude={"collection", "harm", "translations"}),
              "harm": harm_of(body.harm), "translations": translations_of(body.translations)}
    incident = services.incident_create(collection=collection, fields=fields,
                                        actor=actor_of(request))
    return incident_json(incident)


@router.get("/incidents/{incident_id}", response={200: dict[str, Any], **ERRORS})
@rule(Permission.VIEW_ITEMS)
def incident_detail(request: HttpRequest, incident_id: uuid.UUID) -> dict[str, Any]:
    """One incident with its sources, evidence, assessments and change history."""
    incident = incident_for(user=request.auth, incident_id=incident_id,
                            permission=Permission.VIEW_ITEMS)
    return incident_detail_json(incident, user=request.auth)


@router.patch("/incidents/{incident_id}", response={200: dict[str, Any], **ERRORS})
@rule(Permission.INGEST)
def incident_edit(request: HttpRequest, incident_id: uuid.UUID,
                  body: IncidentPatch) -> dict[str, Any]:
    """Change fields of an incident; returns what changed (old and new values)."""
    incident = incident_for(user=request.auth, incident_id=incident_id,
                            permission=Permission.INGEST)
    fields = body.dict(exclude_unset=True, exclude={"harm", "translations"})
    if "harm" in body.model_fields_set:
        fields["harm"] = harm_of(body.harm)
    if "translations" in body.model_fields_set:
        fields["translations"] = translations_of(body.translations)
    return {"changed": services.incident_update(incident=incident, fields=fields,
                                                actor=actor_of(request))}


@router.post("/incidents/{incident_id}/assessments", response={200: AssessedOut, **ERRORS})
@rule(Permission.ASSESS)
def incident_assess(request: HttpRequest, incident_id: uuid.UUID,
                    body: AssessmentIn) -> dict[str, Any]:
    """Record your assessment (geolocation, chronolocation…); the incident's status
    follows the four-eyes rules."""
    incident = incident_for(user=request.auth, incident_id=incident_id,
                            permission=Permission.ASSESS)
    data = services.AssessmentInput(**{**body.dict(),
                                       "reference_items": tuple(body.reference_items)})
    assessment, status = services.incident_assess(
        incident=incident, data=data, verifier=request.auth.get_username(),  # type: ignore[union-attr]
        actor=actor_of(request))
    return {"assessment": assessment.id, "status": status}


@router.post("/incidents/{incident_id}/links", response={200: dict[str, Any], **ERRORS})
@rule(Permission.INGEST)
def incident_link(request: HttpRequest, incident_id: uuid.UUID, body: LinkIn) -> dict[str, Any]:
    """Link an evidence item of the same collection, with the fact it supports."""
    incident = incident_for(user=request.auth, incident_id=incident_id,
                            permission=Permission.INGEST)
    item = item_for(user=request.auth, item_id=body.item, permission=Permission.VIEW_ITEMS)
    link = services.incident_link_item(incident=incident, item=item, fact=body.fact,
                                       note=body.note, actor=actor_of(request))
    return {"item": str(link.item_id), "fact": link.fact, "note": link.note}


@router.post("/incidents/{incident_id}/sources", response={200: dict[str, Any], **ERRORS})
@rule(Permission.INGEST)
def incident_cite(request: HttpRequest, incident_id: uuid.UUID,
                  body: SourceIn) -> dict[str, Any]:
    """Cite a source (web address, person by role, organisation, document)."""
    incident = incident_for(user=request.auth, incident_id=incident_id,
                            permission=Permission.INGEST)
    source = services.source_cite(incident=incident, actor=actor_of(request), **body.dict())
    return {"source": str(source.id), "kind": source.kind, "url": source.url}


@router.post("/incidents/{incident_id}/relations", response={200: dict[str, Any], **ERRORS})
@rule(Permission.INGEST)
def incident_relation(request: HttpRequest, incident_id: uuid.UUID,
                      body: RelationIn) -> dict[str, Any]:
    """Relate another incident of the same collection: same strike, follow-up
    ("double-tap") strike, or related."""
    incident = incident_for(user=request.auth, incident_id=incident_id,
                            permission=Permission.INGEST)
    other = incident_for(user=request.auth, incident_id=body.incident,
                         permission=Permission.VIEW_ITEMS)
    relation = services.incident_relate(incident=incident, other=other, kind=body.kind,
                                        note=body.note, actor=actor_of(request))
    return {"incident": str(relation.target_id), "kind": relation.kind, "note": relation.note}


@router.post("/items/{item_id}/assessments", response={200: dict[str, Any], **ERRORS})
@rule(Permission.ASSESS)
def item_assessment(request: HttpRequest, item_id: uuid.UUID,
                    body: AssessmentIn) -> dict[str, Any]:
    """Record your assessment of an evidence item (provenance, technical — metadata and
    signs of manipulation —, content, geolocation, chronolocation)."""
    item = item_for(user=request.auth, item_id=item_id, permission=Permission.ASSESS)
    data = services.AssessmentInput(**{**body.dict(),
                                       "reference_items": tuple(body.reference_items)})
    assessment = services.item_assess(item=item, data=data,
                                      verifier=request.auth.get_username(),  # type: ignore[union-attr]
                                      actor=actor_of(request))
    return assessment_json(assessment)


@router.post("/sources/{source_id}/reveal", response={200: dict[str, Any], **ERRORS})
@rule(Permission.REVEAL_PROTECTED)
def source_reveal(request: HttpRequest, source_id: uuid.UUID) -> dict[str, Any]:
    """Reveal a person source's protected identity (recorded in the custody log first)."""
    source = Source.objects.select_related("collection").filter(id=source_id).first()
    if source is None:
        raise NotFound("not found")
    value = person_reveal(user=request.auth, source=source, actor=actor_of(request))
    return {"source": str(source.id), "person": value}


@router.get("/verification/queue", response={200: list[QueueOut], **ERRORS})
@rule(SIGNED_IN)
def queue(request: HttpRequest) -> list[dict[str, Any]]:
    """Incidents waiting for verification where you may assess, and what each needs."""
    return [{"incident": incident_json(entry.incident), "waiting_for": entry.waiting.describe(),
             "confirmations": entry.waiting.confirmations}
            for entry in verification_queue(user=request.auth)]
