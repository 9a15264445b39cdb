"""Bearer-token authentication for the API."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer

from svidok.apps.accounts.tokens import api_token_authenticate


class TokenAuth(HttpBearer):
    """``Authorization: Bearer svk_…``; the token's user becomes ``request.auth``."""

    openapi_description = ("A personal API token, made with `svidok user token create` or on "
                           "the account page.")

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        return api_token_authenticate(token)
