"""Reading users and their roles."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model


def user_list() -> list[dict[str, Any]]:
    """Every user with their roles, for administrators."""
    users = get_user_model().objects.prefetch_related("memberships__collection").order_by(
        "username")
    return [
        {
            "username": user.username,
            "active": user.is_active,
            "admin": user.is_superuser,
            "roles": {m.collection.name: m.role for m in user.memberships.all()},
        }
        for user in users
    ]
