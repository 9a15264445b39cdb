"""API operations on collections and items."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from django.http import FileResponse, HttpRequest
from ninja import File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from pydantic import Field

from svidok.api.access import SIGNED_IN, OnCollection, actor_of, rule
from svidok.api.errors import ErrorOut
from svidok.apps.accounts.permissions import Permission, visible_collection_ids
from svidok.apps.custody.services import Action, record_item_event
from svidok.apps.evidence.models import Acquisition, Item
from svidok.apps.evidence.protected import acquisition_masked, protected_reveal
from svidok.apps.evidence.selectors import ItemFilters, collections_visible, items_page
from svidok.apps.evidence.services import (
    AcquisitionFacts,
    Upload,
    evidence_upload,
    item_export_archive,
    moment_parse,
)
from svidok.apps.evidence.similarity import similar_to_item
from svidok.apps.evidence.store import instance_store
from svidok.apps.evidence.video_similarity import item_video_query, similar_videos
from svidok.core.digest import Digest
from svidok.core.errors import NotFound, TooLarge
from svidok.core.media.pdq import CONFIRM_DISTANCE, MAX_DISTANCE
from svidok.web.access import item_for
from svidok.web.uploads import upload_limit, upload_refused

router = Router(tags=["evidence"])
MAX_ID = 2**63 - 1  # database ids are 64-bit; larger numbers name nothing
ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut,
                          422: ErrorOut}


class CollectionOut(Schema):
    id: int
    name: str
    description: str
    items: int
    role: str


class ItemOut(Schema):
    id: uuid.UUID
    collection: int
    collection_name: str
    sha256: str
    size: int
    media_type: str
    original_name: str
    created_at: datetime
    flagged: bool


class ItemPage(Schema):
    items: list[ItemOut]
    page: int
    pages: int
    total: int


class ProtectedFieldOut(Schema):
    field: str
    present: bool
    can_reveal: bool
    value: None = Field(None, description="Always null here; reveal with the reveal operation")


class AcquisitionOut(Schema):
    id: uuid.UUID
    recorded_at: datetime
    collected_at: datetime | None
    collected_by: str
    source_url: str
    note: str
    original_path: str
    actor: str
    protected: list[ProtectedFieldOut]


class DerivedOut(Schema):
    id: uuid.UUID
    kind: str
    sha256: str
    size: int
    media_type: str
    details: dict[str, Any]


class ItemDetailOut(ItemOut):
    metadata: dict[str, Any]
    extraction_errors: list[Any]
    acquisitions: list[AcquisitionOut]
    derived: list[DerivedOut]


class IngestResultOut(Schema):
    path: str
    status: str
    item: str | None = None
    sha256: str | None = None
    size: int | None = None
    media_type: str | None = None
    error: str | None = None
    extraction_errors: list[str] = []
    acquisition_recorded: bool = False


class IngestOut(Schema):
    files: int
    new: int
    duplicate: int
    error: int
    flagged: int
    results: list[IngestResultOut]


class RevealOut(Schema):
    field: str
    value: str


class ItemQuery(Schema):
    collection: int | None = Field(None, ge=1, le=MAX_ID)
    media: str = Field("", max_length=255, description="image, video, audio, document, text, "
                                                       "or an exact media type")
    ingested_from: date | None = None
    ingested_to: date | None = None
    source: str = Field("", max_length=300, description="part of an acquisition's URL or "
                                                        "collector")
    sha256_prefix: str = Field("", max_length=71, pattern=r"^((sha256:)?[0-9a-fA-F]{1,64})?$")
    q: str = Field("", max_length=300, description="part of a file name, or a hash prefix")
    flagged: bool | None = None
    sort: str = Field("-ingested", pattern=r"^-?(ingested|name|size|type)$",
                      description="ingested, name, size or type; - for descending")
    page: int = Field(1, ge=1)
    page_size: int = Field(50, ge=1, le=200)


def item_out(item: Item) -> dict[str, Any]:
    return {
        "id": item.id, "collection": item.collection_id, "collection_name": item.collection.name,
        "sha256": item.sha256, "size": item.size, "media_type": item.media_type,
        "original_name": item.original_name, "created_at": item.created_at,
        "flagged": item.flagged,
    }


@router.get("/collections", response={200: list[CollectionOut], **ERRORS})
@rule(SIGNED_IN)
def list_collections(request: HttpRequest) -> list[dict[str, Any]]:
    """The collections you belong to, with your role and their item counts."""
    return [
        {"id": c["collection"].id, "name": c["collection"].name,
         "description": c["collection"].description, "items": c["items"],
         "role": str(c["role"])}
        for c in collections_visible(user=request.auth)
    ]


@router.get("/items", response={200: ItemPage, **ERRORS})
@rule(SIGNED_IN)
def list_items(request: HttpRequest, query: Query[ItemQuery]) -> dict[str, Any]:
    """Items in your collections: filtered, sorted, one page at a time."""
    filters = ItemFilters(
        collection=query.collection, media=query.media, ingested_from=query.ingested_from,
        ingested_to=query.ingested_to, source=query.source, sha256_prefix=query.sha256_prefix,
        query=query.q, flagged=query.flagged, sort=query.sort)
    page = items_page(user=request.auth, filters=filters, number=query.page,
                      size=query.page_size)
    return {"items": [item_out(i) for i in page], "page": page.number,
            "pages": page.paginator.num_pages, "total": page.paginator.count}


# At least one file: ninja's File parameters take no constraints, so the schema says it.
AT_LEAST_ONE_FILE = {"requestBody": {"content": {"multipart/form-data": {
    "schema": {"properties": {"files": {"minItems": 1}}}}}}}


@router.post("/items", response={200: IngestOut, 413: ErrorOut, **ERRORS},
             openapi_extra=AT_LEAST_ONE_FILE)
@rule(OnCollection(Permission.INGEST))
def ingest(
    request: HttpRequest,
    collection: Form[Annotated[int, Field(ge=1, le=MAX_ID)]],
    files: File[list[UploadedFile]],
    source_url: Form[str] = "",
    collected_by: Form[str] = "",
    collected_at: Form[str] = "",
    note: Form[str] = "",
    source_person: Form[str] = "",
) -> dict[str, Any]:
    """Upload files (multipart) into a collection where your role may ingest.

    ``collected_at`` is ISO 8601 with a time zone (e.g. 2024-05-25T16:40:00+03:00),
    or empty. ``source_person`` (who gave the material) is a protected field:
    stored encrypted, shown only through an audited reveal.
    """
    if upload_refused(request):
        raise TooLarge(f"the upload exceeds the limit of {upload_limit():,} bytes")
    facts = AcquisitionFacts(actor=actor_of(request), source_url=source_url,
                             collected_by=collected_by, collected_at=moment_parse(collected_at),
                             note=note, source_person=source_person)
    uploads = [Upload(path=Path(f.temporary_file_path()), name=f.name or "unnamed")
               for f in files]
    summary, results = evidence_upload(user=request.auth, collection_id=collection,
                                       uploads=uploads, facts=facts)
    return {"files": summary.files, "new": summary.new, "duplicate": summary.duplicate,
            "error": summary.error, "flagged": summary.flagged,
            "results": [r.to_json() for r in results]}


@router.get("/items/{item_id}", response={200: ItemDetailOut, **ERRORS})
@rule(Permission.VIEW_ITEMS)
def get_item(request: HttpRequest, item_id: uuid.UUID) -> dict[str, Any]:
    """One item: metadata, acquisitions (protected fields masked) and derived files."""
    item = item_for(user=request.auth, item_id=item_id, permission=Permission.VIEW_ITEMS)
    record_item_event(item_id=item.id, item_sha256=item.sha256, action=Action.VIEWED,
                      actor=actor_of(request))
    acquisitions = []
    for acquisition in item.acquisitions.all():
        acquisition.item = item
        acquisitions.append({
            "id": acquisition.id, "recorded_at": acquisition.recorded_at,
            "collected_at": acquisition.collected_at, "collected_by": acquisition.collected_by,
            "source_url": acquisition.source_url, "note": acquisition.note,
            "original_path": acquisition.original_path, "actor": acquisition.actor,
            "protected": [m.to_json() for m in acquisition_masked(user=request.auth,
                                                                  acquisition=acquisition)],
        })
    return {
        **item_out(item),
        "metadata": item.metadata, "extraction_errors": item.extraction_errors,
        "acquisitions": acquisitions,
        "derived": [{"id": d.id, "kind": d.kind, "sha256": d.sha256, "size": d.size,
                     "media_type": d.media_type, "details": d.details}
                    for d in item.derived.all()],
    }


@router.get("/items/{item_id}/download", response={200: bytes, **ERRORS},
            openapi_extra={"responses": {200: {"content": {"application/octet-stream": {}}}}})
@rule(Permission.DOWNLOAD)
def download_item(request: HttpRequest, item_id: uuid.UUID) -> FileResponse:
    """The original bytes, as an attachment."""
    item = item_for(user=request.auth, item_id=item_id, permission=Permission.DOWNLOAD)
    record_item_event(item_id=item.id, item_sha256=item.sha256, action=Action.DOWNLOADED,
                      actor=actor_of(request))
    return FileResponse(instance_store().open(Digest(item.sha256)), as_attachment=True,
                        filename=item.original_name, content_type="application/octet-stream")


class SimilarOut(Schema):
    item: uuid.UUID
    collection: str
    name: str
    sha256: str
    kind: Literal["image", "video"] = "image"
    distance: int | None = Field(None, description="images: PDQ Hamming distance")
    variant: str | None = Field(None, description="images: how the query was turned or cut")
    confirmed_by: str | None = Field(None, description="images: hash, or local features "
                                     "(beyond the threshold, confirmed by ORB + RANSAC)")
    query_share: float | None = Field(None, description="videos: share of this item's "
                                      "frames found in the match")
    target_share: float | None = Field(None, description="videos: share of the match's "
                                       "frames found in this item")
    tmk_level1: float | None = Field(None, description="videos: TMK level-1 score, when "
                                     "TMK matched")
    tmk_level2: float | None = Field(None, description="videos: TMK level-2 score, when "
                                     "TMK matched")


@router.get("/items/{item_id}/similar", response={200: list[SimilarOut], **ERRORS})
@rule(Permission.VIEW_ITEMS)
def similar(request: HttpRequest, item_id: uuid.UUID,
            max_distance: int = Query(MAX_DISTANCE, ge=0, le=CONFIRM_DISTANCE),
            ) -> list[dict[str, Any]]:
    """Near-duplicates of an image or video item in your collections, best first.

    Images: PDQ within ``max_distance``, rotations, mirror images, border-trimmed and
    cropped copies included; candidates up to 90 bits confirmed by local features.
    Videos: at least 80 % of the frames of either video found in the other."""
    item = item_for(user=request.auth, item_id=item_id, permission=Permission.VIEW_ITEMS)
    video = item_video_query(item)
    if video is not None:
        found = similar_videos(query=video, exclude=item, max_distance=max_distance,
                               collection_ids=visible_collection_ids(user=request.auth))
        return [f.to_json() for f in found]
    matches = similar_to_item(item=item, max_distance=max_distance,
                              collection_ids=visible_collection_ids(user=request.auth))
    return [{**match.to_json(), "kind": "image"} for match in matches or []]


@router.get("/items/{item_id}/export", response={200: bytes, **ERRORS},
            openapi_extra={"responses": {200: {"content": {"application/zip": {}}}}})
@rule(Permission.EXPORT)
def export_item(request: HttpRequest, item_id: uuid.UUID) -> FileResponse:
    """A ZIP of the original, its metadata and a custody proof bundle covering the export."""
    item = item_for(user=request.auth, item_id=item_id, permission=Permission.EXPORT)
    archive = item_export_archive(item=item, actor=actor_of(request))
    return FileResponse(archive, as_attachment=True, filename=f"svidok-{item.sha256[:16]}.zip",
                        content_type="application/zip")


@router.post("/items/{item_id}/acquisitions/{acquisition_id}/reveal/{field}",
             response={200: RevealOut, **ERRORS})
@rule(Permission.REVEAL_PROTECTED)
def reveal(request: HttpRequest, item_id: uuid.UUID, acquisition_id: uuid.UUID,
           field: Literal["source_person"]) -> dict[str, str]:
    """Reveal a protected field of an acquisition; the reveal is recorded in the custody log."""
    item = item_for(user=request.auth, item_id=item_id, permission=Permission.VIEW_ITEMS)
    acquisition = Acquisition.objects.filter(id=acquisition_id, item=item).first()
    if acquisition is None:
        raise NotFound("not found")
    acquisition.item = item
    value = protected_reveal(user=request.auth, acquisition=acquisition, field=field,
                             actor=actor_of(request))
    return {"field": field, "value": value}
