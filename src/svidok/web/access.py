"""Access rules for views, declared once per view and enforced by :mod:`permissions`.

Each view carries a rule (``view.svidok_rule``): ``"public"``, ``"signed_in"``
(the view itself shows only what :func:`visible_collections` allows), or a
:class:`Permission` checked against the collection of the item in the URL. The
authorization-matrix test reads these rules, so a view without one fails it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden

from svidok.apps.accounts.permissions import Permission, authorize
from svidok.apps.evidence.models import Item
from svidok.core.errors import Forbidden, NotFound

View = Callable[..., HttpResponse]
PUBLIC = "public"
SIGNED_IN = "signed_in"


def public(view: View) -> View:
    """Anyone may open this view (the login page)."""
    view.svidok_rule = PUBLIC  # type: ignore[attr-defined]
    return view


def signed_in(view: View) -> View:
    """Any signed-in user; the view filters by the user's collections itself."""
    wrapped = login_required(view)
    wrapped.svidok_rule = SIGNED_IN  # type: ignore[attr-defined]
    return wrapped


def item_view(permission: Permission) -> Callable[[View], View]:
    """The view gets the item named by ``item_id`` once ``permission`` is granted on it."""

    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(request: HttpRequest, item_id: uuid.UUID, **kwargs: Any) -> HttpResponse:
            item = Item.objects.select_related("collection").filter(id=item_id).first()
            if item is None:
                raise Http404("not found")
            try:
                authorize(user=request.user, permission=permission, collection=item.collection)
            except NotFound as exc:
                raise Http404("not found") from exc
            except Forbidden as exc:
                return HttpResponseForbidden(exc.message)
            return view(request, item, **kwargs)

        wrapped = login_required(guarded)
        wrapped.svidok_rule = permission  # type: ignore[attr-defined]
        return wrapped

    return decorate
