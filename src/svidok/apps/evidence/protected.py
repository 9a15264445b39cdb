"""Protected fields of evidence: sealed at rest, masked by role, every reveal logged.

A protected value is shown only to roles holding ``REVEAL_PROTECTED`` and only
on an explicit reveal, which is recorded in the item's custody trail (the
event names the field, never the value). Everywhere else — lists, API
responses, exports of metadata, logs — it appears as present or absent.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from svidok.apps.accounts.permissions import Permission, authorize, can
from svidok.apps.custody.services import Action, record_item_event
from svidok.apps.evidence.models import Acquisition
from svidok.core.errors import InvalidInput, NotFound
from svidok.core.protection import FieldCipher

SOURCE_PERSON = "source_person"
# Field name → what users see as its label. Later domains (persons, witnesses)
# add theirs here, and get masking and audited reveal through the same code.
PROTECTED_FIELDS = {SOURCE_PERSON: _("Source person (name, contact)")}
MASK = "••••••"


@cache
def _cipher(key_path: Path) -> FieldCipher:
    return FieldCipher.from_key_file(key_path)


def field_cipher() -> FieldCipher:
    return _cipher(settings.SVIDOK_PATHS.field_key)


def _context(acquisition: Acquisition) -> str:
    return f"acquisition.{SOURCE_PERSON}:{acquisition.id}"


def source_person_seal(acquisition: Acquisition, value: str) -> None:
    """Set the acquisition's sealed source person (before it is first saved)."""
    acquisition.source_person_sealed = (
        field_cipher().seal(value, context=_context(acquisition)) if value else "")


def source_person_fingerprint_part(value: str) -> str:
    """The value's commitment as used in acquisition fingerprints ("" when empty)."""
    return field_cipher().commitment(value, context=f"fingerprint.{SOURCE_PERSON}") if value else ""


def source_person_commitment(acquisition: Acquisition) -> str:
    """Commitment recorded in the custody log; it changes if the sealed value is altered."""
    value = field_cipher().open(acquisition.source_person_sealed, context=_context(acquisition))
    return field_cipher().commitment(value, context=_context(acquisition))


@dataclass(frozen=True)
class MaskedField:
    """How a protected field appears to one user before any reveal."""

    name: str
    label: str
    present: bool
    can_reveal: bool

    def to_json(self) -> dict[str, Any]:
        return {"field": self.name, "present": self.present, "can_reveal": self.can_reveal,
                "value": None}


def acquisition_masked(*, user: Any, acquisition: Acquisition) -> list[MaskedField]:
    allowed = can(user=user, permission=Permission.REVEAL_PROTECTED,
                  collection=acquisition.item.collection)
    return [MaskedField(name=SOURCE_PERSON, label=str(PROTECTED_FIELDS[SOURCE_PERSON]),
                        present=bool(acquisition.source_person_sealed), can_reveal=allowed)]


def protected_reveal(*, user: Any, acquisition: Acquisition, field: str, actor: str) -> str:
    """The plain value, for a user whose role may see it; the reveal is logged first."""
    if field not in PROTECTED_FIELDS:
        raise InvalidInput(f"{field!r} is not a protected field; expected one of "
                           + ", ".join(PROTECTED_FIELDS))
    item = acquisition.item
    authorize(user=user, permission=Permission.REVEAL_PROTECTED, collection=item.collection)
    if not acquisition.source_person_sealed:
        raise NotFound(f"acquisition {acquisition.id} has no {field}")
    value = field_cipher().open(acquisition.source_person_sealed, context=_context(acquisition))
    # Logged before the value leaves: a reveal that is not in the log never happened.
    record_item_event(item_id=item.id, item_sha256=item.sha256, action=Action.PROTECTED_REVEALED,
                      actor=actor, details={"acquisition": str(acquisition.id), "field": field})
    return value
