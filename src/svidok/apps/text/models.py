"""The text read from items, and the queue of items waiting to be read.

Both tables are derived data, like the perceptual-hash index: the text can be
read again from the item's blob at any time (``retry``/``reindex`` services),
so rows here are not custody events and are deleted with their item.

The full-text index is not a model: on SQLite it is an FTS5 table
``text_itemtext_fts`` over :attr:`ItemText.search_text`, kept in step by
triggers; on PostgreSQL a GIN index on ``to_tsvector('simple', search_text)``.
Both are made by migration 0001. A later migration that makes Django rebuild
``text_itemtext`` on SQLite (most ALTERs do) drops the triggers with the old
table: such a migration must create them again (see ``fulltext.py``).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from svidok.apps.evidence.models import Item


class TextExtraction(models.Model):
    """Where an item stands in text extraction; the rows with status pending are the queue.

    A worker claims a row by setting ``claim`` to a token of its own in a
    conditional update (so two workers never read the same item), and proves it
    is alive by moving ``heartbeat_at``; a row whose heartbeat is older than the
    lease is taken over by the next worker, and given up after a few attempts.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"
        NOT_APPLICABLE = "not-applicable"

    item = models.OneToOneField(Item, on_delete=models.CASCADE, primary_key=True,
                                related_name="text_extraction")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)  # why it failed, for the user to act on
    note = models.TextField(blank=True)  # what was left out of a success (pages, errors)
    pages = models.IntegerField(default=0)
    characters = models.BigIntegerField(default=0)
    claim = models.CharField(max_length=32, blank=True)
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "queued_at"], name="text_queue")]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.status}"


class ItemText(models.Model):
    """The text of one page of an item (page 1 for a single image), and how it was read.

    ``search_text`` is the text as the index sees it (casefolded, words only,
    computed in Python): PostgreSQL's own case folding depends on the
    database's locale, and a cluster made with ``--locale=C`` would not fold
    Cyrillic at all.
    """

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="texts")
    page = models.IntegerField()
    method = models.CharField(max_length=20)  # "text-layer" or "ocr"
    text = models.TextField()
    search_text = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "page"], name="text_one_row_per_page"),
        ]
        ordering = ["item", "page"]

    def __str__(self) -> str:
        return f"{self.item_id} p. {self.page} ({self.method})"
