"""API operations on the custody log: an item's events and proofs, the signed head."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from svidok.api.access import SIGNED_IN, actor_of, rule
from svidok.api.errors import ErrorOut
from svidok.apps.accounts.permissions import Permission
from svidok.apps.custody.models import CustodyEvent
from svidok.apps.custody.services import (
    Action,
    latest_head,
    log_item_proof,
    record_item_event,
    signed_head_of,
)
from svidok.web.access import item_for

router = Router(tags=["custody"])
ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class EventOut(Schema):
    seq: int
    action: str
    time: str
    actor: str
    leaf_hash: str
    body: dict[str, Any]


class ProofEntryOut(Schema):
    index: int
    event: str
    leaf_hash: str
    proof: list[str]


class ProofBundleOut(Schema):
    version: int
    public_key: str
    head: dict[str, Any]
    events: list[ProofEntryOut]


@router.get("/items/{item_id}/events", response={200: list[EventOut], **ERRORS})
@rule(Permission.VIEW_ITEMS)
def item_events(request: HttpRequest, item_id: uuid.UUID) -> list[dict[str, Any]]:
    """The item's custody trail, oldest first."""
    item = item_for(user=request.auth, item_id=item_id, permission=Permission.VIEW_ITEMS)
    return [
        {"seq": e.seq, "action": e.action, "time": e.time, "actor": e.actor,
         "leaf_hash": e.leaf_hash, "body": json.loads(e.body)}
        for e in CustodyEvent.objects.filter(item_id=item.id).order_by("seq")
    ]


@router.get("/items/{item_id}/proof", response={200: ProofBundleOut, **ERRORS})
@rule(Permission.VIEW_ITEMS)
def item_proof(request: HttpRequest, item_id: uuid.UUID) -> dict[str, Any]:
    """A proof bundle for the item's events against the latest signed head.

    Check it offline with ``svidok log check``; fetching it is itself recorded first,
    so the bundle covers its own retrieval.
    """
    item = item_for(user=request.auth, item_id=item_id, permission=Permission.VIEW_ITEMS)
    record_item_event(item_id=item.id, item_sha256=item.sha256, action=Action.VIEWED,
                      actor=actor_of(request), details={"page": "proof"})
    return log_item_proof(item_id=item.id)


@router.get("/log/head", response={200: dict[str, Any], **ERRORS})
@rule(SIGNED_IN)
def log_head(request: HttpRequest) -> dict[str, Any]:
    """The latest signed tree head of the custody log."""
    return signed_head_of(latest_head()).to_json()
