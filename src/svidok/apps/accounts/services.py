"""Users and their roles. Every change is written to the access log."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from svidok.apps.accounts.models import AccessLogEntry, Membership, Role
from svidok.apps.evidence.models import Collection
from svidok.core.errors import InvalidInput, NotFound


def access_log_record(*, actor: str, action: str, target: str = "",
                      details: dict[str, Any] | None = None) -> None:
    AccessLogEntry.objects.create(actor=actor, action=action, target=target,
                                  details=details or {})


def user_by_name(username: str) -> AbstractUser:
    try:
        return get_user_model().objects.get(username=username)  # type: ignore[no-any-return]
    except get_user_model().DoesNotExist as exc:
        raise NotFound(f"no user named {username!r}") from exc


def user_create(*, username: str, password: str, email: str = "", is_admin: bool = False,
                actor: str) -> AbstractUser:
    """Create a user; the password must pass the configured validators."""
    username = username.strip()
    if not username:
        raise InvalidInput("a user needs a name; got an empty one")
    users = get_user_model()
    if users.objects.filter(username=username).exists():
        raise InvalidInput(f"a user named {username!r} exists already")
    try:
        validate_password(password)
    except ValidationError as exc:
        raise InvalidInput("password refused: " + " ".join(exc.messages)) from exc
    with transaction.atomic():
        user = users.objects.create_user(username=username, email=email, password=password,
                                         is_superuser=is_admin, is_staff=is_admin)
        access_log_record(actor=actor, action="user.created", target=username,
                          details={"admin": is_admin})
    return user  # type: ignore[no-any-return]


def user_disable(*, username: str, actor: str) -> None:
    """Disable a user: they can no longer log in; their history stays."""
    with transaction.atomic():
        user = user_by_name(username)
        user.is_active = False
        user.save(update_fields=["is_active"])
        access_log_record(actor=actor, action="user.disabled", target=username)


def membership_grant(*, username: str, collection_name: str, role: str, actor: str) -> Membership:
    """Give a user a role in a collection (replacing any role they had there)."""
    if role not in Role.values:
        raise InvalidInput(f"unknown role {role!r}; expected one of {', '.join(Role.values)}")
    with transaction.atomic():
        user = user_by_name(username)
        try:
            collection = Collection.objects.get(name=collection_name)
        except Collection.DoesNotExist as exc:
            raise NotFound(f"no collection named {collection_name!r}") from exc
        membership = Membership.objects.filter(user=user, collection=collection).first()
        if membership is not None and membership.role == role:
            return membership  # nothing changes, so nothing is logged
        membership, _ = Membership.objects.update_or_create(
            user=user, collection=collection, defaults={"role": role, "granted_by": actor})
        access_log_record(actor=actor, action="permission.granted", target=username,
                          details={"collection": collection_name, "role": role})
    return membership


def membership_revoke(*, username: str, collection_name: str, actor: str) -> None:
    """Remove a user's role in a collection; the collection then ceases to exist for them."""
    with transaction.atomic():
        user = user_by_name(username)
        deleted, _ = Membership.objects.filter(user=user,
                                               collection__name=collection_name).delete()
        if not deleted:
            raise NotFound(f"{username!r} has no role in {collection_name!r}")
        access_log_record(actor=actor, action="permission.revoked", target=username,
                          details={"collection": collection_name})
