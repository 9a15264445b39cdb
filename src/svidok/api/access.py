"""Access rules of API operations, in the same terms as the web views'.

``rule(...)`` records an operation's rule for the authorization-matrix test;
the check itself is :func:`svidok.web.access.item_for` or a service calling
:func:`svidok.apps.accounts.permissions.authorize`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.http import HttpRequest

from svidok.apps.accounts.permissions import Permission
from svidok.web.access import PUBLIC, SIGNED_IN, OnCollection

F = TypeVar("F", bound=Callable[..., Any])
Rule = str | Permission | OnCollection
__all__ = ["PUBLIC", "SIGNED_IN", "OnCollection", "actor_of", "rule"]


def rule(value: Rule) -> Callable[[F], F]:
    def mark(function: F) -> F:
        function.svidok_rule = value  # type: ignore[attr-defined]
        return function

    return mark


def actor_of(request: HttpRequest) -> str:
    return f"api:{request.auth.get_username()}"  # type: ignore[attr-defined]
