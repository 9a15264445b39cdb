"""Server-rendered pages: validate, call a service or selector, respond."""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from svidok.apps.custody.models import CustodyEvent
from svidok.apps.custody.services import Action, record_item_event
from svidok.apps.evidence.models import DerivedFile, Item
from svidok.apps.evidence.store import instance_store
from svidok.core.digest import Digest


def _actor(request: HttpRequest) -> str:
    return f"web:{request.user.get_username()}"


@login_required
def item_list(request: HttpRequest) -> HttpResponse:
    items = Item.objects.select_related("collection").order_by("-created_at")
    page = Paginator(items, 50).get_page(request.GET.get("page"))
    return render(request, "svidok/items.html", {"page": page})


@login_required
def item_detail(request: HttpRequest, item_id: uuid.UUID) -> HttpResponse:
    item = get_object_or_404(Item.objects.select_related("collection"), id=item_id)
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


@login_required
def item_download(request: HttpRequest, item_id: uuid.UUID) -> FileResponse:
    item = get_object_or_404(Item, id=item_id)
    record_item_event(item_id=item.id, item_sha256=item.sha256, action=Action.DOWNLOADED,
                      actor=_actor(request))
    stream = instance_store().open(Digest(item.sha256))
    # Served as an attachment of a neutral type: evidence is never rendered inline
    # by the browser, whatever its bytes claim to be.
    return FileResponse(stream, as_attachment=True, filename=item.original_name,
                        content_type="application/octet-stream")


@login_required
def derived_file(request: HttpRequest, item_id: uuid.UUID, derived_id: uuid.UUID) -> FileResponse:
    derived = get_object_or_404(DerivedFile, id=derived_id, item_id=item_id,
                                media_type="image/jpeg")
    return FileResponse(instance_store().open(Digest(derived.sha256)), content_type="image/jpeg")
