"""Appending to the custody log and producing proofs from it.

Every append runs inside the caller's transaction, after locking the single
LogState row: appends from concurrent processes are thereby serialised into
one tree, and the events, the new right edge of the tree and the signed head
commit together or not at all. A signed head is written by every append, so no
event ever sits outside a signature.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import transaction

from svidok.apps.custody.models import CustodyEvent, LogState, TreeHead
from svidok.apps.custody.signing_key import instance_signing_key
from svidok.core.canonical import canonical_json
from svidok.core.custody import merkle
from svidok.core.custody.signing import SignedTreeHead
from svidok.core.custody.signing import TreeHead as CoreTreeHead
from svidok.core.errors import InvalidInput, NotFound

EVENT_VERSION = 1


class Action:
    """The actions recorded in the log."""

    ACQUIRED = "item.acquired"
    STORED = "item.stored"
    METADATA_EXTRACTED = "item.metadata_extracted"
    DERIVED_CREATED = "item.derived_created"
    VIEWED = "item.viewed"
    DOWNLOADED = "item.downloaded"
    EXPORTED = "item.exported"
    ASSESSED = "item.assessed"
    ANNOTATED = "item.annotated"
    PROTECTED_REVEALED = "item.protected_revealed"


@dataclass(frozen=True)
class EventDraft:
    """An event before it has a place in the log."""

    action: str
    details: dict[str, Any] = field(default_factory=dict)
    item_id: uuid.UUID | None = None
    item_sha256: str = ""


def utc_now_text() -> str:
    """UTC time as ISO 8601 with microseconds and a ``Z``: one fixed textual form."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_body(*, seq: int, time: str, actor: str, draft: EventDraft) -> dict[str, Any]:
    """The event as hashed into the tree."""
    item = (
        {"id": str(draft.item_id), "sha256": draft.item_sha256}
        if draft.item_id is not None
        else None
    )
    return {
        "v": EVENT_VERSION,
        "seq": seq,
        "time": time,
        "actor": actor,
        "action": draft.action,
        "item": item,
        "details": draft.details,
    }


@dataclass(frozen=True, slots=True)
class AppendedEvent:
    """An event as appended: its leaf index, its exact text and its leaf hash."""

    seq: int
    body: str
    leaf_hash: bytes


def custody_append(*, drafts: Sequence[EventDraft], actor: str) -> list[AppendedEvent]:
    """Append events and sign the new head; call inside ``transaction.atomic()``."""
    if not drafts:
        return []
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("custody_append must run inside transaction.atomic()")
    if not actor:
        raise InvalidInput("every custody event needs an actor; got an empty one")
    key = instance_signing_key()
    state = LogState.objects.select_for_update().get(id=1)
    tree = merkle.CompactRange.from_state(state.size, state.frontier)
    time = utc_now_text()
    connection = transaction.get_connection()
    uuid_field = CustodyEvent._meta.get_field("item_id")
    rows = []
    appended = []
    for draft in drafts:
        seq = tree.size
        body = canonical_json(event_body(seq=seq, time=time, actor=actor, draft=draft))
        leaf = merkle.hash_leaf(body)
        tree.append(leaf)
        text = body.decode("utf-8")
        rows.append((seq, draft.action, uuid_field.get_db_prep_value(draft.item_id, connection),
                     draft.item_sha256, actor, time, text, leaf.hex()))
        appended.append(AppendedEvent(seq=seq, body=text, leaf_hash=leaf))
    _insert_events(rows)
    state.size = tree.size
    state.frontier = tree.to_state()
    state.save(update_fields=["size", "frontier"])
    signed = key.sign(CoreTreeHead(size=tree.size, root=tree.root(), time=time))
    TreeHead.objects.create(
        size=signed.head.size,
        root=signed.head.root.hex(),
        time=signed.head.time,
        key_id=signed.key_id,
        signature=signed.signature.hex(),
    )
    return appended


_EVENT_COLUMNS = ("seq", "action", "item_id", "item_sha256", "actor", "time", "body", "leaf_hash")


def _insert_events(rows: list[tuple[Any, ...]]) -> None:
    """Insert event rows (in ``_EVENT_COLUMNS`` order) with one prepared statement.

    ``bulk_create`` and model instances cost more than the SQL itself; this is
    the log's hot path (≥ 20,000 events/s), so rows go to the driver directly.
    """
    connection = transaction.get_connection()
    table = connection.ops.quote_name(CustodyEvent._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in _EVENT_COLUMNS)
    placeholders = ", ".join(["%s"] * len(_EVENT_COLUMNS))
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})",  # noqa: S608
                           rows)


def record_item_event(*, item_id: uuid.UUID, item_sha256: str, action: str, actor: str,
                      details: dict[str, Any] | None = None) -> AppendedEvent:
    """Record one action on an item (a view, a download…) in its own transaction."""
    with transaction.atomic():
        draft = EventDraft(action=action, details=details or {}, item_id=item_id,
                           item_sha256=item_sha256)
        return custody_append(drafts=[draft], actor=actor)[0]


def signed_head_of(row: TreeHead) -> SignedTreeHead:
    """The core value of a stored head."""
    return SignedTreeHead(
        head=CoreTreeHead(size=row.size, root=bytes.fromhex(row.root), time=row.time),
        key_id=row.key_id,
        signature=bytes.fromhex(row.signature),
    )


def latest_head() -> TreeHead:
    head = TreeHead.objects.order_by("-size", "-id").first()
    if head is None:
        raise NotFound("the custody log is empty: nothing has been recorded yet")
    return head


def leaf_hashes(size: int) -> list[bytes]:
    """The first ``size`` leaf hashes, in order."""
    rows = (
        CustodyEvent.objects.filter(seq__lt=size)
        .order_by("seq")
        .values_list("leaf_hash", flat=True)
        .iterator(chunk_size=20_000)
    )
    hashes = [bytes.fromhex(value) for value in rows]
    if len(hashes) != size:
        raise NotFound(f"the log should hold {size} events, found {len(hashes)}")
    return hashes


def log_item_proof(*, item_id: uuid.UUID) -> dict[str, Any]:
    """A self-contained proof bundle for every event of an item.

    The bundle's format is checked offline by
    :func:`svidok.core.custody.proofs.verify_proof_bundle`.
    """
    head = latest_head()
    events = list(CustodyEvent.objects.filter(item_id=item_id, seq__lt=head.size).order_by("seq"))
    if not events:
        raise NotFound(f"no custody events for item {item_id}")
    proofs = merkle.inclusion_proofs(leaf_hashes(head.size), [e.seq for e in events], head.size)
    return {
        "version": 1,
        "public_key": instance_signing_key().public_key_bytes().hex(),
        "head": signed_head_of(head).to_json(),
        "events": [
            {
                "index": event.seq,
                "event": event.body,
                "leaf_hash": event.leaf_hash,
                "proof": [node.hex() for node in proofs[event.seq]],
            }
            for event in events
        ],
    }


def log_consistency(*, old_size: int, new_size: int | None = None) -> dict[str, Any]:
    """A consistency proof between two sizes of the log, with the roots it links."""
    head = latest_head()
    target = head.size if new_size is None else new_size
    # RFC 6962 defines no consistency proof from the empty tree (any tree extends it).
    if not 1 <= old_size <= target <= head.size:
        raise InvalidInput(
            f"sizes must satisfy 1 <= old <= new <= {head.size} (the latest signed head); "
            f"got old={old_size}, new={target}"
        )
    leaves = leaf_hashes(target)
    proof = merkle.consistency_proof(leaves, old_size, target)
    result: dict[str, Any] = {
        "old_size": old_size,
        "new_size": target,
        "old_root": merkle.root_from_leaf_hashes(leaves[:old_size]).hex(),
        "new_root": merkle.root_from_leaf_hashes(leaves).hex(),
        "proof": [node.hex() for node in proof],
    }
    for name, size in (("old_head", old_size), ("new_head", target)):
        row = TreeHead.objects.filter(size=size).order_by("-id").first()
        if row is not None:
            result[name] = signed_head_of(row).to_json()
    return result
