"""Server-rendered pages: validate, call a service or selector, respond.

Access is declared on each view with :mod:`svidok.web.access`.
"""

from __future__ import annotations

import json
import uuid

from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.i18n import set_language

from svidok.apps.accounts.permissions import Permission, visible_collections
from svidok.apps.custody.models import CustodyEvent
from svidok.apps.custody.services import Action, log_item_proof, record_item_event
from svidok.apps.custody.signing_key import instance_public_key
from svidok.apps.evidence.models import Item
from svidok.apps.evidence.store import instance_store
from svidok.core.custody.proofs import verify_proof_bundle
from svidok.core.digest import Digest
from svidok.core.errors import VerificationError
from svidok.web.access import item_view, public, signed_in


def _actor(request: HttpRequest) -> str:
    return f"web:{request.user.get_username()}"


@public
def switch_language(request: HttpRequest) -> HttpResponse:
    """Remember the user's language choice (POST, CSRF-protected) and go back."""
    return set_language(request)


@signed_in
def item_list(request: HttpRequest) -> HttpResponse:
    items = (
        Item.objects.filter(collection__in=visible_collections(user=request.user))
        .select_related("collection")
        .order_by("-created_at")
    )
    page = Paginator(items, 50).get_page(request.GET.get("page"))
    return render(request, "svidok/items.html", {"page": page})


@item_view(Permission.VIEW_ITEMS)
def item_detail(request: HttpRequest, item: Item) -> HttpResponse:
    record_item_event(item_id=item.id, item_sha256=item.sha256, action=Action.VIEWED,
                      actor=_actor(request))
    context = {
        "item": item,
        "acquisitions": item.acquisitions.all(),
        "derived": item.derived.all(),
        "thumbnail": item.derived.filter(kind="thumbnail").first(),
        "contact_sheet": item.derived.filter(kind="contact_sheet").first(),
        "events": CustodyEvent.objects.filter(item_id=item.id).order_by("seq"),
        "metadata": sorted((item.metadata.get("summary") or {}).items()),
    }
    return render(request, "svidok/item.html", context)


@item_view(Permission.VIEW_ITEMS)
def item_proof(request: HttpRequest, item: Item) -> HttpResponse:
    """Check the item's custody events against the latest signed head, and show how."""
    record_item_event(item_id=item.id, item_sha256=item.sha256, action=Action.VIEWED,
                      actor=_actor(request), details={"page": "proof"})
    bundle = log_item_proof(item_id=item.id)
    try:
        verify_proof_bundle(bundle, trusted_public_key=instance_public_key())
        failure = None
    except VerificationError as exc:
        failure = exc.message
    events = [
        {"index": entry["index"], "event": json.loads(entry["event"]),
         "proof_length": len(entry["proof"])}
        for entry in bundle["events"]
    ]
    context = {"item": item, "head": bundle["head"], "events": events, "failure": failure,
               "public_key": bundle["public_key"]}
    return render(request, "svidok/proof.html", context, status=200 if failure is None else 409)


@item_view(Permission.DOWNLOAD)
def item_download(request: HttpRequest, item: Item) -> FileResponse:
    record_item_event(item_id=item.id, item_sha256=item.sha256, action=Action.DOWNLOADED,
                      actor=_actor(request))
    stream = instance_store().open(Digest(item.sha256))
    # Served as an attachment of a neutral type: evidence is never rendered inline
    # by the browser, whatever its bytes claim to be.
    return FileResponse(stream, as_attachment=True, filename=item.original_name,
                        content_type="application/octet-stream")


@item_view(Permission.VIEW_ITEMS)
def derived_file(request: HttpRequest, item: Item, derived_id: uuid.UUID) -> FileResponse:
    derived = item.derived.filter(id=derived_id, media_type="image/jpeg").first()
    if derived is None:
        raise Http404("not found")
    return FileResponse(instance_store().open(Digest(derived.sha256)), content_type="image/jpeg")
