"""The canonical records of evidence rows, as announced in the custody log.

The same functions build the record when a row is created (it goes into the
event) and when ``svidok verify`` re-reads the row, so any later edit of a row
shows up as a difference between the two.
"""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from svidok.apps.evidence.models import Acquisition, DerivedFile, Item
from svidok.core.canonical import canonical_json


def time_text(moment: datetime | None) -> str | None:
    """A timestamp in one fixed UTC form, or None."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def path_text(path: Path) -> str:
    """A file path as text, even when its bytes are not valid UTF-8.

    Undecodable bytes become ``\\xNN`` escapes, so the record stays faithful
    and storable in any database.
    """
    return os.fsencode(path).decode("utf-8", errors="backslashreplace")


def item_record(item: Item) -> dict[str, Any]:
    return {
        "id": str(item.id),
        "collection": item.collection_id,
        "sha256": item.sha256,
        "size": item.size,
        "media_type": item.media_type,
        "original_name": item.original_name,
    }


def metadata_record(item: Item) -> dict[str, Any]:
    return {
        "media_type": item.media_type,
        "metadata_sha256": hashlib.sha256(canonical_json(item.metadata)).hexdigest(),
        "errors": list(item.extraction_errors),
    }


def acquisition_record(acquisition: Acquisition) -> dict[str, Any]:
    record = {
        "id": str(acquisition.id),
        "item": str(acquisition.item_id),
        "fingerprint": acquisition.fingerprint,
        "recorded_at": time_text(acquisition.recorded_at),
        "collected_at": time_text(acquisition.collected_at),
        "collected_by": acquisition.collected_by,
        "source_url": acquisition.source_url,
        "note": acquisition.note,
        "original_path": acquisition.original_path,
    }
    if acquisition.source_person_sealed:
        # A commitment, not the value: the log never holds a protected field.
        from svidok.apps.evidence.protected import source_person_commitment
        from svidok.core.errors import VerificationError

        try:
            record["source_person_commitment"] = source_person_commitment(acquisition)
        except VerificationError:
            # An altered ciphertext no longer matches what was logged: `verify` says so.
            record["source_person_commitment"] = "undecryptable"
    return record


def derived_record(derived: DerivedFile) -> dict[str, Any]:
    return {
        "id": str(derived.id),
        "item": str(derived.item_id),
        "kind": derived.kind,
        "sha256": derived.sha256,
        "size": derived.size,
        "media_type": derived.media_type,
        "details": derived.details,
    }


def acquisition_fingerprint(
    *,
    original_path: str,
    collected_at: datetime | None,
    collected_by: str,
    source_url: str,
    note: str,
    source_person_commitment: str = "",
) -> str:
    """What makes two acquisitions the same one, so a re-run records nothing twice."""
    facts = {
        "path": original_path,
        "collected_at": time_text(collected_at),
        "collected_by": collected_by,
        "source_url": source_url,
        "note": note,
    }
    if source_person_commitment:  # absent when empty, so older fingerprints stay valid
        facts["source_person"] = source_person_commitment
    return hashlib.sha256(canonical_json(facts)).hexdigest()


def json_safe(value: Any) -> Any:
    """Drop NUL characters, which PostgreSQL cannot store in text or JSON."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {json_safe(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value
