"""Access rules for views, declared once per view and enforced by :mod:`permissions`.

Each view carries a rule (``view.svidok_rule``): ``"public"``, ``"signed_in"``
(the view itself shows only what :func:`visible_collections` allows), or a
:class:`Permission` checked against the collection of the item in the URL. The
authorization-matrix test reads these rules, so a view without one fails it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseForbidden,
    HttpResponseNotAllowed,
)

from svidok.apps.accounts.permissions import Permission, authorize
from svidok.apps.evidence.models import Item
from svidok.core.errors import Forbidden, NotFound

View = Callable[..., HttpResponse]
PUBLIC = "public"
SIGNED_IN = "signed_in"
INSTANCE_ADMIN = "instance_admin"


def public(view: View) -> View:
    """Anyone may open this view (the login page)."""
    view.svidok_rule = PUBLIC  # type: ignore[attr-defined]
    return view


def signed_in(view: View) -> View:
    """Any signed-in user; the view filters by the user's collections itself."""
    wrapped = login_required(view)
    wrapped.svidok_rule = SIGNED_IN  # type: ignore[attr-defined]
    return wrapped


def instance_admin(view: View) -> View:
    """Instance administrators only; for anyone else the page does not exist."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not (request.user.is_active and getattr(request.user, "is_superuser", False)):
            raise Http404("not found")
        return view(request, *args, **kwargs)

    wrapped = login_required(guarded)
    wrapped.svidok_rule = INSTANCE_ADMIN  # type: ignore[attr-defined]
    return wrapped


def post_only(view: View) -> View:
    """The view changes something: it answers POST (CSRF-checked) and nothing else."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        return view(request, *args, **kwargs)

    guarded.svidok_methods = ("POST",)  # type: ignore[attr-defined]
    return guarded


def item_view(permission: Permission) -> Callable[[View], View]:
    """The view gets the item named by ``item_id`` once ``permission`` is granted on it."""

    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(request: HttpRequest, item_id: uuid.UUID, **kwargs: Any) -> HttpResponse:
            try:
                item = item_for(user=request.user, item_id=item_id, permission=permission)
            except NotFound as exc:
                raise Http404("not found") from exc
            except Forbidden as exc:
                return HttpResponseForbidden(exc.message)
            return view(request, item, **kwargs)

        wrapped = login_required(guarded)
        wrapped.svidok_rule = permission  # type: ignore[attr-defined]
        return wrapped

    return decorate


@dataclass(frozen=True)
class OnCollection:
    """A rule for operations on a collection named in the request (e.g. uploads)."""

    permission: Permission


def item_for(*, user: Any, item_id: uuid.UUID, permission: Permission) -> Item:
    """The item, once ``permission`` is granted on its collection.

    Raises :class:`NotFound` for a missing item and for one outside the user's
    collections alike, and :class:`Forbidden` when the role lacks the permission.
    """
    item = Item.objects.select_related("collection").filter(id=item_id).first()
    if item is None:
        raise NotFound("not found")
    authorize(user=user, permission=permission, collection=item.collection)
    return item
