"""Text extraction as a background queue beside ingest.

Ingest only queues (:func:`queue_items`, one cheap insert per item inside its
transaction); the reading happens later, in :func:`extract_pending`, called by
``BackgroundTextWorker`` or a CLI command:

1. Give up on rows whose worker vanished (no heartbeat within the lease) too
   often: they are marked failed, saying so.
2. Claim one pending row, or one whose worker vanished, with a conditional
   UPDATE that only one worker can win, on SQLite and PostgreSQL alike.
3. Read the item's stored blob (never the original file) outside any database
   transaction: OCR of an image, the text layer of a PDF with OCR of its
   scanned pages. Long documents move the heartbeat as they go.
4. In one transaction, and only if the claim is still ours: replace the item's
   text rows and mark the row done (with a note of anything left out), or mark
   it failed with the error. Errors never touch the item or its blob: the
   evidence stays as ingested, and :func:`retry_failed` queues it again.
5. Repeat up to ``limit`` items.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

from django.db import DatabaseError, transaction
from django.db.models import F, Q
from django.utils import timezone

from svidok.apps.evidence.models import Item
from svidok.apps.evidence.store import instance_store
from svidok.apps.text.fulltext import fulltext_rebuild
from svidok.apps.text.models import ItemText, TextExtraction
from svidok.apps.text.search import search_form
from svidok.core.digest import Digest
from svidok.core.errors import SvidokError
from svidok.core.media.text import (
    PDF_MAX_PAGES,
    TIFF_MAX_FRAMES,
    OcrUnavailable,
    PageText,
    clean_text,
    image_text,
    pdf_text,
)

logger = logging.getLogger(__name__)

Status = TextExtraction.Status
LEASE = timedelta(minutes=10)  # a worker silent this long is taken to have died
HEARTBEAT_EVERY_S = 30.0
MAX_ATTEMPTS = 3
MAX_PAGE_CHARS = 200_000  # more on one page is not prose; PostgreSQL tsvectors max out at 1 MB
MAX_ERROR_CHARS = 2_000
# Raster formats Pillow decodes; vector and document formats that merely start with
# image/ are not pictures of text.
NOT_RASTER = frozenset({"image/svg+xml", "image/vnd.djvu", "image/x-djvu"})

Kind = Literal["image", "pdf"]


def text_kind(media_type: str) -> Kind | None:
    """Whether an item of this media type has text to read, and how."""
    media_type = media_type.split(";", 1)[0].strip().lower()
    if media_type == "application/pdf":
        return "pdf"
    if media_type.startswith("image/") and media_type not in NOT_RASTER:
        return "image"
    return None


def queue_items(items: Iterable[Item]) -> int:
    """Queue new items for text extraction; returns how many were queued.

    Images and PDFs become pending; other items get a "not-applicable" row, so
    the interface can say why they have no text. Items already queued are left
    alone (call it again safely). Cheap enough to call inside ingest's transaction.
    """
    items = list(items)
    known = set(TextExtraction.objects.filter(item_id__in=[item.id for item in items])
                .values_list("item_id", flat=True))
    rows = [TextExtraction(item=item, status=Status.PENDING if text_kind(item.media_type)
                           else Status.NOT_APPLICABLE)
            for item in items if item.id not in known]
    # ignore_conflicts: another process may queue the same item between the two queries.
    TextExtraction.objects.bulk_create(rows, ignore_conflicts=True)
    return sum(1 for row in rows if row.status == Status.PENDING)


def queue_missing() -> int:
    """Queue every item that has never been queued (items ingested before this app)."""
    queued = 0
    missing = Item.objects.filter(text_extraction__isnull=True).order_by("created_at", "id")
    while batch := list(missing[:2_000]):
        queued += queue_items(batch)
    return queued


def retry_failed(*, item_ids: Sequence[object] | None = None) -> int:
    """Queue failed items again (after installing tesseract, say); returns how many."""
    rows = TextExtraction.objects.filter(status=Status.FAILED)
    if item_ids is not None:
        rows = rows.filter(item_id__in=list(item_ids))
    return int(rows.update(status=Status.PENDING, attempts=0, claim="", queued_at=timezone.now(),
                           error=""))


def text_reindex() -> int:
    """Recompute every page's search form and rebuild the full-text index; returns pages.

    For after a change to ``search.search_form``, or a migration that dropped the
    SQLite triggers.
    """
    count = 0
    with transaction.atomic():
        for row in ItemText.objects.only("id", "text").iterator(chunk_size=2_000):
            ItemText.objects.filter(id=row.id).update(search_text=search_form(row.text))
            count += 1
        fulltext_rebuild()
    return count


@dataclass
class ExtractionSummary:
    """What one call of :func:`extract_pending` did."""

    claimed: int = 0
    done: int = 0
    failed: int = 0
    not_applicable: int = 0
    given_up: int = 0  # abandoned too often by vanished workers
    released: int = 0  # handed back unread because the worker was stopping
    lost: int = 0  # claim taken over by another worker after our lease ran out
    pages: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)  # distinct messages, for a log line

    def to_json(self) -> dict[str, object]:
        data = dict(self.__dict__)
        data["seconds"] = round(self.seconds, 3)
        return data


class _Stopped(Exception):
    """The worker was asked to stop while reading an item."""


class _ClaimLost(Exception):
    """Another worker took the row over: our result would be a duplicate."""


def extract_pending(
    limit: int = 10, *, should_stop: Callable[[], bool] | None = None
) -> ExtractionSummary:
    """Read up to ``limit`` queued items; see the module docstring for the steps.

    ``should_stop`` is asked between items and between pages; when it answers
    true the current item goes back to the queue unread. Must not be called
    inside a transaction: a PDF can take minutes, and the claim must be visible
    to other workers at once.
    """
    started = time.monotonic()
    summary = ExtractionSummary()
    summary.given_up = _give_up_on_abandoned()
    for _ in range(max(0, limit)):
        if should_stop is not None and should_stop():
            break
        row = _claim()
        if row is None:
            break
        summary.claimed += 1
        _extract_one(row, summary, should_stop)
    summary.seconds = time.monotonic() - started
    return summary


def _give_up_on_abandoned() -> int:
    cutoff = timezone.now() - LEASE
    return int(TextExtraction.objects.filter(
        status=Status.RUNNING, heartbeat_at__lt=cutoff, attempts__gte=MAX_ATTEMPTS,
    ).update(status=Status.FAILED, claim="", finished_at=timezone.now(),
             error=f"gave up after {MAX_ATTEMPTS} attempts: the worker reading it stopped "
                   "responding each time (killed, or out of memory?)"))


def _claimable(cutoff: object) -> Q:
    return Q(status=Status.PENDING) | Q(status=Status.RUNNING, heartbeat_at__lt=cutoff)


def _claim() -> TextExtraction | None:
    """One row, claimed by a conditional update that only one worker can win.

    On PostgreSQL a competing UPDATE waits for the winner's row lock and then
    finds the condition false; on SQLite writes are serialised anyway.
    """
    now = timezone.now()
    cutoff = now - LEASE
    candidates = list(TextExtraction.objects.filter(_claimable(cutoff))
                      .order_by("queued_at", "item_id").values_list("item_id", flat=True)[:8])
    for item_id in candidates:
        token = _new_token()
        won = TextExtraction.objects.filter(_claimable(cutoff), item_id=item_id).update(
            status=Status.RUNNING, claim=token, attempts=F("attempts") + 1,
            started_at=now, heartbeat_at=now, finished_at=None)
        if won:
            claimed: TextExtraction = TextExtraction.objects.get(item_id=item_id)
            return claimed
    return None


def _new_token() -> str:
    return uuid.uuid4().hex


def _extract_one(row: TextExtraction, summary: ExtractionSummary,
                 should_stop: Callable[[], bool] | None) -> None:
    item = Item.objects.filter(id=row.item_id).first()
    if item is None:  # deleted meanwhile; its queue row went with it
        return
    kind = text_kind(item.media_type)
    if kind is None:
        _finish(row, status=Status.NOT_APPLICABLE)
        summary.not_applicable += 1
        return
    last_beat = [time.monotonic()]

    def on_page(number: int) -> None:
        if should_stop is not None and should_stop():
            raise _Stopped
        if time.monotonic() - last_beat[0] >= HEARTBEAT_EVERY_S:
            last_beat[0] = time.monotonic()
            try:
                beat = TextExtraction.objects.filter(item_id=row.item_id, claim=row.claim,
                                                     status=Status.RUNNING).update(
                    heartbeat_at=timezone.now())
            except DatabaseError:
                return  # the database is busy (a long write elsewhere): beat next page
            if not beat:
                raise _ClaimLost

    try:
        with instance_store().local_path(Digest(item.sha256)) as path:
            if kind == "pdf":
                pages = pdf_text(path, max_pages=PDF_MAX_PAGES, on_page=on_page)
            else:
                pages = image_text(path, max_pages=TIFF_MAX_FRAMES, on_page=on_page)
    except (_Stopped, DatabaseError):
        # Stopping, or the database failing under us, is not the item's fault: it goes
        # back to the queue unread (if even that fails, its lease hands it on later).
        try:
            TextExtraction.objects.filter(item_id=row.item_id, claim=row.claim).update(
                status=Status.PENDING, claim="", attempts=F("attempts") - 1)
        except DatabaseError:
            logger.warning("text extraction: could not hand item %s back", item.id)
        summary.released += 1
        return
    except _ClaimLost:
        summary.lost += 1
        return
    except SvidokError as exc:
        if isinstance(exc, OcrUnavailable):
            logger.warning("text extraction: OCR unavailable: %s", exc.message)
        _fail(row, exc.message, summary)
        return
    except Exception as exc:  # a bug or the machine: recorded, never fatal to the queue
        logger.exception("text extraction of item %s failed unexpectedly", item.id)
        _fail(row, f"unexpected error ({type(exc).__name__}): {exc}", summary)
        return
    if _store(row, item, pages):
        summary.done += 1
        summary.pages += len(pages)
    else:
        summary.lost += 1


def _store(row: TextExtraction, item: Item, pages: list[PageText]) -> bool:
    notes: list[str] = []
    declared = ((item.metadata or {}).get("pdf") or {}).get("pages")
    if isinstance(declared, int) and declared > len(pages) >= PDF_MAX_PAGES:
        notes.append(f"only the first {len(pages)} of {declared} pages were read")
    rows = []
    for page in pages:
        if page.error:
            notes.append(f"page {page.page}: {page.error}")
        text = clean_text(page.text)
        if len(text) > MAX_PAGE_CHARS:
            notes.append(f"page {page.page}: text cut at {MAX_PAGE_CHARS} of "
                         f"{len(text)} characters")
            text = text[:MAX_PAGE_CHARS]
        if text:
            rows.append(ItemText(item=item, page=page.page, method=page.method, text=text,
                                 search_text=search_form(text)))
    with transaction.atomic():
        ours = TextExtraction.objects.filter(
            item_id=row.item_id, claim=row.claim, status=Status.RUNNING).update(
            status=Status.DONE, claim="", error="", note="\n".join(notes)[:MAX_ERROR_CHARS],
            pages=len(pages), characters=sum(len(r.text) for r in rows),
            finished_at=timezone.now())
        if not ours:
            return False
        ItemText.objects.filter(item=item).delete()
        ItemText.objects.bulk_create(rows)
    return True


def _fail(row: TextExtraction, message: str, summary: ExtractionSummary) -> None:
    if _finish(row, status=Status.FAILED, error=message[:MAX_ERROR_CHARS]):
        summary.failed += 1
        if message not in summary.errors:
            summary.errors.append(message[:300])
    else:
        summary.lost += 1


def _finish(row: TextExtraction, *, status: str, error: str = "") -> bool:
    return bool(TextExtraction.objects.filter(
        item_id=row.item_id, claim=row.claim, status=Status.RUNNING).update(
        status=status, claim="", error=error, finished_at=timezone.now()))
