"""The one place where access is decided.

Every view, API operation and command asks :func:`authorize`. A user who is
not a member of a collection gets :class:`NotFound` — the collection and what
it holds do not exist for them — while a member whose role lacks a permission
gets :class:`Forbidden`. Instance administrators (superusers) hold the admin
role in every collection.
"""

from __future__ import annotations

from enum import StrEnum

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from svidok.apps.accounts.models import Membership, Role
from svidok.apps.evidence.models import Collection
from svidok.core.errors import Forbidden, NotFound


class Permission(StrEnum):
    VIEW_ITEMS = "view_items"
    DOWNLOAD = "download"
    INGEST = "ingest"
    ANNOTATE = "annotate"
    ASSESS = "assess"
    EXPORT = "export"
    REVEAL_PROTECTED = "reveal_protected"
    MANAGE_MEMBERS = "manage_members"
    VIEW_AUDIT = "view_audit"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.INVESTIGATOR: frozenset({Permission.VIEW_ITEMS, Permission.DOWNLOAD, Permission.INGEST,
                                  Permission.ANNOTATE, Permission.REVEAL_PROTECTED}),
    Role.VERIFIER: frozenset({Permission.VIEW_ITEMS, Permission.DOWNLOAD, Permission.ANNOTATE,
                              Permission.ASSESS}),
    Role.ANALYST: frozenset({Permission.VIEW_ITEMS, Permission.DOWNLOAD, Permission.ANNOTATE}),
    Role.LEGAL: frozenset({Permission.VIEW_ITEMS, Permission.DOWNLOAD, Permission.ANNOTATE,
                           Permission.EXPORT, Permission.REVEAL_PROTECTED}),
    Role.VIEWER: frozenset({Permission.VIEW_ITEMS}),
}

User = AbstractBaseUser | AnonymousUser


def _is_instance_admin(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active and getattr(user, "is_superuser", False))


def _roles(user: User) -> dict[int, Role]:
    """The user's role per collection id, read once per user object.

    A user object lives for one request (web session or API token), so a page
    asking several permission questions costs one query, and a change of role
    applies from the next request on.
    """
    cached: dict[int, Role] | None = getattr(user, "_svidok_roles", None)
    if cached is None:
        cached = {
            collection_id: Role(role)
            for collection_id, role in Membership.objects.filter(user=user).values_list(
                "collection_id", "role")
        }
        user._svidok_roles = cached  # type: ignore[union-attr]
    return cached


def role_in(*, user: User, collection: Collection) -> Role | None:
    """The user's role in the collection, or None if they are not a member."""
    if not user.is_authenticated or not user.is_active:
        return None
    if _is_instance_admin(user):
        return Role.ADMIN
    return _roles(user).get(collection.pk)


def visible_collection_ids(*, user: User) -> list[int] | None:
    """Ids of the collections that exist for this user; None means all of them (admins).

    A list of ids, not a subquery, lets the database plan item queries per collection.
    """
    if _is_instance_admin(user):
        return None
    if not user.is_authenticated or not user.is_active:
        return []
    return sorted(_roles(user))


def visible_collections(*, user: User) -> QuerySet[Collection]:
    """The collections that exist for this user."""
    ids = visible_collection_ids(user=user)
    return Collection.objects.all() if ids is None else Collection.objects.filter(id__in=ids)


def authorize(*, user: User, permission: Permission, collection: Collection) -> Role:
    """Return the user's role if it grants ``permission`` here; raise otherwise."""
    role = role_in(user=user, collection=collection)
    if role is None:
        # Same message as for a collection that does not exist: nothing leaks.
        raise NotFound("not found")
    if permission not in ROLE_PERMISSIONS[role]:
        raise Forbidden(f"the {role} role may not {permission.replace('_', ' ')} here")
    return role


def can(*, user: User, permission: Permission, collection: Collection) -> bool:
    """Whether :func:`authorize` would allow it (for showing or hiding controls)."""
    role = role_in(user=user, collection=collection)
    return role is not None and permission in ROLE_PERMISSIONS[role]
