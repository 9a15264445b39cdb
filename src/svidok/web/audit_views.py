"""Audit trails for administrators: who did what to an item, and what one user did."""

from __future__ import annotations

import json

from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from svidok.apps.accounts.models import AccessLogEntry
from svidok.apps.accounts.permissions import Permission
from svidok.apps.custody.models import CustodyEvent
from svidok.apps.evidence.models import Item
from svidok.web.access import instance_admin, item_view


@item_view(Permission.VIEW_AUDIT)
def item_trail(request: HttpRequest, item: Item) -> HttpResponse:
    """Every custody event of the item, with its full details (collection admins)."""
    events = [{"event": e, "details": json.loads(e.body).get("details", {})}
              for e in CustodyEvent.objects.filter(item_id=item.id).order_by("seq")]
    return render(request, "svidok/item_trail.html", {"item": item, "events": events})


@instance_admin
def user_list(request: HttpRequest) -> HttpResponse:
    users = get_user_model().objects.order_by("username")
    return render(request, "svidok/audit_users.html", {"users": users})


@instance_admin
def user_trail(request: HttpRequest, username: str) -> HttpResponse:
    """What one user did (custody events under their name) and what was done to their
    account (access log)."""
    if not get_user_model().objects.filter(username=username).exists():
        raise Http404("not found")
    actors = [f"web:{username}", f"api:{username}"]
    events = Paginator(CustodyEvent.objects.filter(actor__in=actors).order_by("-seq"), 100)
    page = events.get_page(request.GET.get("page"))
    names = dict(Item.objects.filter(id__in={e.item_id for e in page}).values_list(
        "id", "original_name"))
    access = AccessLogEntry.objects.filter(
        Q(actor__in=[*actors, username]) | Q(target=username)).order_by("-time")[:200]
    rows = [{"event": e, "name": names.get(e.item_id, "")} for e in page]
    context = {"subject": username, "page": page, "rows": rows, "access": access}
    return render(request, "svidok/user_trail.html", context)
