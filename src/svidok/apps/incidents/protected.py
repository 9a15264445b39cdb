"""A person cited as a source (a victim, a witness, a relative): their name and contact
are a protected field — sealed with the instance's field key, masked for everyone,
revealed only to roles that may, and every reveal recorded in the custody log first."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from svidok.apps.accounts.permissions import Permission, authorize, can
from svidok.apps.custody.services import EventDraft, custody_append
from svidok.apps.evidence.protected import field_cipher
from svidok.apps.incidents.models import Source
from svidok.core.errors import NotFound

PERSON_REVEALED = "source.person_revealed"
MAX_PERSON = 1000


def _context(source: Source) -> str:
    return f"source.person:{source.id}"


def person_seal(source: Source, value: str) -> None:
    """Set the source's sealed identity (before it is first saved)."""
    source.person_sealed = field_cipher().seal(value, context=_context(source)) if value else ""


def person_masked(*, user: Any, source: Source) -> dict[str, Any]:
    """How the identity appears before any reveal: whether there is one, and whether this
    user may reveal it. Never the value."""
    allowed = user is not None and can(user=user, permission=Permission.REVEAL_PROTECTED,
                                       collection=source.collection)
    return {"present": bool(source.person_sealed), "value": None, "can_reveal": allowed}


def person_reveal(*, user: Any, source: Source, actor: str) -> str:
    """The identity, for a user whose role may see it; the reveal is logged first."""
    authorize(user=user, permission=Permission.REVEAL_PROTECTED, collection=source.collection)
    if not source.person_sealed:
        raise NotFound(f"source {source.id} has no protected identity")
    value = field_cipher().open(source.person_sealed, context=_context(source))
    with transaction.atomic():
        # Logged before the value leaves: a reveal that is not in the log never happened.
        custody_append(drafts=[EventDraft(PERSON_REVEALED, {
            "source": str(source.id), "collection": source.collection.name})], actor=actor)
    return value
