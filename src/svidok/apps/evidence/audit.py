"""``svidok verify``: a full audit from the bytes up.

1. Re-hash every blob in the store.
2. Replay the custody log: each event's leaf hash is recomputed from its body,
   its position checked against the ``seq`` inside the body, its columns
   against the body, and the Merkle root recomputed incrementally.
3. Check every signed tree head: its signature against the instance key, its
   root against the recomputed root at its size, and that sizes never shrink
   over time. All heads are checked against one replay of the same leaves, so
   every pair of successive heads is consistent exactly when both match.
4. Check every item, acquisition and derived-file row against the record its
   custody event announced, and every blob they reference against step 1.

Nothing is smoothed over: each difference becomes a named problem.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from svidok.apps.custody.models import CustodyEvent, LogState, TreeHead
from svidok.apps.custody.services import Action, signed_head_of
from svidok.apps.custody.signing_key import instance_public_key
from svidok.apps.evidence.models import Acquisition, DerivedFile, Item
from svidok.apps.evidence.records import (
    acquisition_record,
    derived_record,
    item_record,
    metadata_record,
)
from svidok.apps.evidence.store import instance_store
from svidok.core.canonical import canonical_json
from svidok.core.custody import merkle
from svidok.core.custody.signing import verify_tree_head
from svidok.core.digest import CHUNK_SIZE
from svidok.core.errors import SvidokError
from svidok.core.store.fs import FileBlobStore

Progress = Callable[[str, int], None]


@dataclass
class Problem:
    kind: str
    detail: str
    item: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "detail": self.detail}
        if self.item is not None:
            data["item"] = self.item
        return data


@dataclass
class AuditReport:
    items: int = 0
    events: int = 0
    blobs: int = 0
    heads: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, kind: str, detail: str, item: str | None = None) -> None:
        self.problems.append(Problem(kind=kind, detail=detail, item=item))

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "items": self.items,
            "events": self.events,
            "blobs": self.blobs,
            "heads": self.heads,
            "problems": [p.to_json() for p in self.problems],
        }


def _digest_of(record: Any) -> str:
    return hashlib.sha256(canonical_json(record)).hexdigest()


@dataclass
class _Announced:
    """What the log announced, by record id: the digest of each record."""

    items: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    acquisitions: dict[str, tuple[str, str]] = field(default_factory=dict)  # id → (item, digest)
    derived: dict[str, tuple[str, str]] = field(default_factory=dict)


def audit_run(*, progress: Progress | None = None) -> AuditReport:
    """Run the whole audit; see the module docstring for the steps."""
    report = AuditReport()
    store = instance_store()
    actual = _rehash_blobs(store, report, progress)
    announced = _replay_log(report, progress)
    _check_items(report, announced, actual)
    return report


def _hash_file(store: FileBlobStore, digest_hex: str) -> tuple[str, str | None]:
    hasher = hashlib.sha256()
    try:
        with open(store.path_of_hex(digest_hex), "rb") as stream:
            while chunk := stream.read(CHUNK_SIZE):
                hasher.update(chunk)
    except OSError as exc:
        return digest_hex, f"unreadable: {exc.strerror}"
    return digest_hex, hasher.hexdigest()


def _rehash_blobs(
    store: FileBlobStore, report: AuditReport, progress: Progress | None
) -> dict[str, str | None]:
    """Step 1: address → the SHA-256 its bytes have now (or an error text)."""
    for stray in store.strays():
        report.add("blob_stray", f"file in the blob store that is not a content address: {stray}")
    addresses = [d.hex for d in store.iterate()]
    actual: dict[str, str | None] = {}
    # hashlib releases the GIL on large buffers, so threads use both cores.
    with ThreadPoolExecutor(max_workers=2) as pool:
        for index, (address, found) in enumerate(
            pool.map(lambda a: _hash_file(store, a), addresses), start=1
        ):
            actual[address] = found
            if progress is not None:
                progress("blobs", index)
    report.blobs = len(addresses)
    return actual


def _events() -> Iterator[tuple[int, str, str, str, str, str, Any, str]]:
    return (
        CustodyEvent.objects.order_by("seq")
        .values_list("seq", "body", "leaf_hash", "action", "actor", "time", "item_id",
                     "item_sha256")
        .iterator(chunk_size=10_000)
    )


def _replay_log(report: AuditReport, progress: Progress | None) -> _Announced:
    """Steps 2 and 3."""
    announced = _Announced()
    public_key = instance_public_key()
    heads = list(TreeHead.objects.order_by("size", "id"))
    _check_head_order(report)
    head_index = 0
    tree = merkle.CompactRange()

    def check_heads_at(size: int) -> None:
        nonlocal head_index
        root = tree.root() if size else merkle.EMPTY_ROOT
        while head_index < len(heads) and heads[head_index].size == size:
            head = heads[head_index]
            if head.root != root.hex():
                report.add("head_root_mismatch",
                           f"signed head #{head.id} at size {size} says root {head.root}, "
                           f"the log's events give {root.hex()}")
            head_index += 1

    position = 0
    for seq, body, leaf_hash, action, actor, time, item_id, item_sha256 in _events():
        check_heads_at(position)
        if seq != position:
            report.add("event_missing" if seq > position else "event_out_of_order",
                       f"expected event #{position}, found #{seq}")
            position = seq
        leaf = merkle.hash_leaf(body.encode("utf-8"))
        if leaf.hex() != leaf_hash:
            report.add("event_altered",
                       f"event #{seq}: body hashes to {leaf.hex()}, stored leaf hash {leaf_hash}",
                       item=str(item_id) if item_id else None)
        _check_event_body(report, seq, body, action, actor, time, item_id, item_sha256,
                          announced)
        tree.append(leaf)
        position += 1
        if progress is not None and position % 10_000 == 0:
            progress("events", position)
    check_heads_at(position)
    report.events = position
    report.heads = len(heads)
    for head in heads[head_index:]:
        report.add("head_beyond_log",
                   f"signed head #{head.id} claims size {head.size}, the log holds {position}")
    for head in heads:
        try:
            verify_tree_head(signed_head_of(head), public_key)
        except (SvidokError, ValueError) as exc:
            report.add("head_signature_invalid", f"signed head #{head.id}: {exc}")
    last_signed = max((h.size for h in heads), default=0)
    if position > last_signed:
        report.add("unsigned_events",
                   f"events #{last_signed}..#{position - 1} are covered by no signed head")
    state = LogState.objects.filter(id=1).first()
    if state is None or state.size != position or (
        position and state.frontier != tree.to_state()
    ):
        report.add("log_state_mismatch",
                   f"the log's recorded size/right edge does not match its {position} events")
    return announced


def _check_head_order(report: AuditReport) -> None:
    """Heads in the order they were written must never shrink."""
    largest = 0
    for head_id, size in TreeHead.objects.order_by("id").values_list("id", "size"):
        if size < largest:
            report.add("heads_inconsistent",
                       f"signed head #{head_id} has size {size} after a head of size {largest}")
        largest = max(largest, size)


def _check_event_body(
    report: AuditReport, seq: int, body: str, action: str, actor: str, time: str,
    item_id: Any, item_sha256: str, announced: _Announced,
) -> None:
    try:
        data = json.loads(body)
        item = data.get("item") or {}
        columns_agree = (
            data["action"] == action
            and data["actor"] == actor
            and data["time"] == time
            and (item.get("id") or None) == (str(item_id) if item_id else None)
            and (item.get("sha256") or "") == item_sha256
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        report.add("event_altered", f"event #{seq}: body is not a valid event")
        return
    if data.get("seq") != seq:
        report.add("event_out_of_order", f"position #{seq} holds event #{data.get('seq')}",
                   item=str(item_id) if item_id else None)
    if not columns_agree:
        report.add("event_altered", f"event #{seq}: columns disagree with the hashed body",
                   item=str(item_id) if item_id else None)
    details = data.get("details") or {}
    subject = item.get("id")
    if action == Action.STORED:
        announced.items[subject] = _digest_of(details.get("item"))
    elif action == Action.METADATA_EXTRACTED:
        announced.metadata[subject] = _digest_of(details)
    elif action == Action.ACQUIRED:
        record = details.get("acquisition") or {}
        announced.acquisitions[record.get("id")] = (subject, _digest_of(record))
    elif action == Action.DERIVED_CREATED:
        record = details.get("derived") or {}
        announced.derived[record.get("id")] = (subject, _digest_of(record))


def _check_blob(report: AuditReport, actual: dict[str, str | None], address: str,
                item: str, what: str) -> None:
    if address not in actual:
        report.add("blob_missing", f"{what} blob sha256:{address} is not in the store", item=item)
    elif actual[address] != address:
        report.add("blob_altered",
                   f"{what} blob sha256:{address} now hashes to {actual[address]}", item=item)


def _check_items(report: AuditReport, announced: _Announced,
                 actual: dict[str, str | None]) -> None:
    """Step 4."""
    seen_items: set[str] = set()
    for item in Item.objects.order_by("created_at").iterator(chunk_size=2_000):
        item_id = str(item.id)
        seen_items.add(item_id)
        report.items += 1
        expected = announced.items.get(item_id)
        if expected is None:
            report.add("item_unlogged", "item row has no 'stored' event in the log", item=item_id)
        elif expected != _digest_of(item_record(item)):
            report.add("item_row_altered",
                       "item row differs from the record its 'stored' event holds", item=item_id)
        if announced.metadata.get(item_id) not in (None, _digest_of(metadata_record(item))):
            report.add("metadata_altered",
                       "metadata or extraction errors differ from what was logged", item=item_id)
        _check_blob(report, actual, item.sha256, item_id, "original")
    for item_id in announced.items.keys() - seen_items:
        report.add("item_missing", "the log records this item but its row is gone", item=item_id)

    _check_rows(report, "acquisition", Acquisition.objects.all(), acquisition_record,
                announced.acquisitions)
    _check_rows(report, "derived", DerivedFile.objects.all(), derived_record, announced.derived,
                also=lambda d: _check_blob(report, actual, d.sha256, str(d.item_id), d.kind))


def _check_rows(
    report: AuditReport,
    kind: str,
    rows: QuerySet[Any],
    record: Callable[[Any], dict[str, Any]],
    logged: dict[str, tuple[str, str]],
    also: Callable[[Any], None] | None = None,
) -> None:
    """Rows of one kind against the records their events announced (``also`` runs per row)."""
    seen: set[str] = set()
    for row in rows.iterator(chunk_size=2_000):
        key, item = str(row.id), str(row.item_id)
        seen.add(key)
        if also is not None:
            also(row)
        entry = logged.get(key)
        if entry is None:
            report.add(f"{kind}_unlogged", f"{kind} {key} has no event", item=item)
        elif entry[1] != _digest_of(record(row)):
            report.add(f"{kind}_altered", f"{kind} {key} differs from its logged record",
                       item=item)
    for key in logged.keys() - seen:
        report.add(f"{kind}_missing", f"{kind} {key} was logged but its row is gone",
                   item=logged[key][0])
