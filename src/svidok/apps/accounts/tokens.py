"""API tokens: made once, shown once, stored as a hash, revocable."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from svidok.apps.accounts.models import ApiToken
from svidok.apps.accounts.services import access_log_record, user_by_name
from svidok.core.errors import InvalidInput, NotFound

TOKEN_PREFIX = "svk_"  # noqa: S105 — a marker, not a secret
# Writing last_used_at on every request would make each API read a write.
LAST_USED_RESOLUTION = timedelta(minutes=5)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def api_token_create(*, username: str, name: str, actor: str) -> tuple[ApiToken, str]:
    """A new token for the user; the returned text is the only copy of the secret."""
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("a token needs a name of 1 to 100 characters")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        user = user_by_name(username)
        token = ApiToken.objects.create(user=user, name=name, prefix=raw[:12],
                                        digest=_digest(raw))
        access_log_record(actor=actor, action="token.created", target=username,
                          details={"token": token.prefix, "name": name})
    return token, raw


def api_token_revoke(*, username: str, prefix: str, actor: str) -> ApiToken:
    with transaction.atomic():
        token = ApiToken.objects.filter(user__username=username, prefix=prefix,
                                        revoked_at__isnull=True).first()
        if token is None:
            raise NotFound(f"{username!r} has no active token starting {prefix!r}")
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        access_log_record(actor=actor, action="token.revoked", target=username,
                          details={"token": prefix})
    return token


def api_token_list(*, username: str) -> list[ApiToken]:
    return list(ApiToken.objects.filter(user__username=username))


def api_token_authenticate(raw: str) -> AbstractBaseUser | None:
    """The active user a token belongs to, or None for an unknown or revoked token."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 100:
        return None
    token = (ApiToken.objects.select_related("user")
             .filter(digest=_digest(raw), revoked_at__isnull=True).first())
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user  # type: ignore[no-any-return]
