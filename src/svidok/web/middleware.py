"""Security headers that Django does not set by itself."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import Resolver404, ResolverMatch, resolve, reverse

# No inline scripts or styles, nothing from other origins: deployments may be offline,
# and a strict policy blunts any injection that slips past template escaping.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def content_security_policy(tiles: str) -> str:
    """The policy; map tiles, when configured (``SVIDOK_MAP_TILES``), may come from their
    own origin as images, and from nowhere else."""
    if not tiles:
        return CONTENT_SECURITY_POLICY
    parts = urlsplit(tiles.replace("{", "").replace("}", ""))
    if parts.scheme not in ("https", "http") or not parts.netloc:
        return CONTENT_SECURITY_POLICY
    origin = f"{parts.scheme}://{parts.netloc}"
    return CONTENT_SECURITY_POLICY.replace("img-src 'self' data:", f"img-src 'self' data: {origin}")


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.policy = content_security_policy(settings.SVIDOK_MAP_TILES)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", self.policy)
        return response


NOTHING_DUE_KEY = "svidok_second_factor_checked"
NOTHING_DUE_SECONDS = 60
# Pages a signed-in user may reach before passing the second factor.
SECOND_FACTOR_EXEMPT = {"login", "login-code", "second-factor", "logout", "set-language"}


class SecondFactorMiddleware:
    """Hold back a signed-in user who still owes a second factor.

    A user with a confirmed TOTP device must enter a code after the password;
    an administrator without one must set one up first. Other users may add
    one on their account page. The API is outside this: it takes tokens.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and not user.is_verified():  # type: ignore[union-attr]
            match = resolve_or_none(request.path_info)
            if match is not None and match.url_name not in SECOND_FACTOR_EXEMPT \
                    and not match.route.startswith("api/"):
                due = self._due(request, user)
                if due is not None:
                    target = reverse("login-code" if due == "code" else "second-factor")
                    return redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)

    @staticmethod
    def _due(request: HttpRequest, user: Any) -> str | None:
        """What the user owes; "nothing" is remembered in the session for a minute, so
        a user without a second factor does not cost two queries on every page, and a
        newly granted admin role still demands one within a minute."""
        from svidok.apps.accounts.second_factor import second_factor_due

        now = time.time()
        if now - request.session.get(NOTHING_DUE_KEY, 0) < NOTHING_DUE_SECONDS:
            return None
        due = second_factor_due(user)
        if due is None:
            request.session[NOTHING_DUE_KEY] = now
        return due


def resolve_or_none(path: str) -> ResolverMatch | None:
    try:
        return resolve(path)
    except Resolver404:
        return None
