"""Who may do what where: roles per collection, and a log of access decisions."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from svidok.apps.evidence.models import Collection


class Role(models.TextChoices):
    ADMIN = "admin", "admin"
    INVESTIGATOR = "investigator", "investigator"
    VERIFIER = "verifier", "verifier"
    ANALYST = "analyst", "analyst"
    LEGAL = "legal", "legal"
    VIEWER = "viewer", "viewer"


class Membership(models.Model):
    """A user's role in one collection (a compartment)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="memberships")
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE,
                                   related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    granted_at = models.DateTimeField(default=timezone.now)
    granted_by = models.CharField(max_length=300)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "collection"], name="one_role_per_collection"),
        ]


class AccessLogEntry(models.Model):
    """An access or permission change that concerns no single item.

    Actions on items go to the tamper-evident custody log instead.
    """

    time = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.CharField(max_length=300, db_index=True)
    action = models.CharField(max_length=60)
    target = models.CharField(max_length=300, blank=True)
    details = models.JSONField(default=dict)

    class Meta:
        ordering = ["-time"]


class ApiToken(models.Model):
    """A bearer token for the REST API. Only its SHA-256 is stored.

    Tokens are 256 random bits, so a fast hash is as safe as a slow one: there
    is nothing to guess. ``prefix`` (the first characters, not secret) lets a
    user tell their tokens apart and revoke one.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
