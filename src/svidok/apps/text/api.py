"""API operations on the text read from items: full-text search and an item's pages."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from svidok.api.access import SIGNED_IN, actor_of, rule
from svidok.api.errors import ErrorOut
from svidok.apps.accounts.permissions import Permission, visible_collection_ids
from svidok.apps.custody.services import Action, record_item_event
from svidok.apps.evidence.models import Item
from svidok.apps.text.search import search_text
from svidok.apps.text.selectors import item_extraction, item_text_pages
from svidok.web.access import item_for

router = Router(tags=["text"])
ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut,
                          422: ErrorOut}
MAX_ID = 2**63 - 1


class TextHitOut(Schema):
    item: uuid.UUID
    name: str
    collection: int
    collection_name: str
    page: int
    method: str = Field(description="text-layer (a PDF's own text) or ocr")
    snippet: str = Field(description="plain text around the first word found")
    rank: float


class TextSearchQuery(Schema):
    q: str = Field("", max_length=300,
                   description="words that must all appear (any case; whole words); "
                               "no words find nothing")
    collection: int | None = Field(None, ge=1, le=MAX_ID)
    limit: int = Field(50, ge=1, le=500)


class TextPageOut(Schema):
    page: int
    method: str
    text: str


class ItemTextOut(Schema):
    status: str = Field(description="pending, running, done, failed, not-applicable, "
                                    "or none (ingested before text was read)")
    error: str
    note: str
    pages: list[TextPageOut]


@router.get("/text/search", response={200: list[TextHitOut], **ERRORS})
@rule(SIGNED_IN)
def text_search(request: HttpRequest, query: Query[TextSearchQuery]) -> list[dict[str, Any]]:
    """Pages of images (OCR) and PDFs in your collections holding every word, best first."""
    visible = visible_collection_ids(user=request.auth)
    collection_ids = visible
    if query.collection is not None:
        # A collection you cannot see is searched as an empty one: nothing is revealed.
        allowed = visible is None or query.collection in visible
        collection_ids = [query.collection] if allowed else []
    hits = search_text(query.q, collection_ids=collection_ids, limit=query.limit)
    items = Item.objects.select_related("collection").in_bulk([hit.item_id for hit in hits])
    return [{**hit.to_json(), "item": hit.item_id, "name": items[hit.item_id].original_name,
             "collection": items[hit.item_id].collection_id,
             "collection_name": items[hit.item_id].collection.name}
            for hit in hits if hit.item_id in items]


@router.get("/items/{item_id}/text", response={200: ItemTextOut, **ERRORS})
@rule(Permission.VIEW_ITEMS)
def item_text(request: HttpRequest, item_id: uuid.UUID) -> dict[str, Any]:
    """The text read from an item, page by page (recorded as a view of the item)."""
    item = item_for(user=request.auth, item_id=item_id, permission=Permission.VIEW_ITEMS)
    record_item_event(item_id=item.id, item_sha256=item.sha256, action=Action.VIEWED,
                      actor=actor_of(request), details={"part": "text"})
    extraction = item_extraction(item=item)
    return {
        "status": extraction.status if extraction else "none",
        "error": extraction.error if extraction else "",
        "note": extraction.note if extraction else "",
        "pages": [{"page": p.page, "method": p.method, "text": p.text}
                  for p in item_text_pages(item=item)],
    }
