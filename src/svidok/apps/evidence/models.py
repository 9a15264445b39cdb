"""Evidence: collections, items, their acquisitions and derived files.

Rows here describe bytes held in the blob store; every row that matters for
integrity was announced by a custody event when it was created, so
``svidok verify`` can tell an edited row from an original one.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone


class Collection(models.Model):
    """A compartment: items belong to one collection, and access is granted per collection."""

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class Item(models.Model):
    """One evidence item: one original blob in one collection."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    collection = models.ForeignKey(Collection, on_delete=models.PROTECT, related_name="items")
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.BigIntegerField()
    media_type = models.CharField(max_length=255)
    original_name = models.TextField()
    metadata = models.JSONField(default=dict)
    extraction_errors = models.JSONField(default=list)
    flagged = models.BooleanField(default=False, db_index=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["collection", "sha256"], name="item_unique_bytes"),
        ]
        # Lists are sorted (newest first by default) with the id breaking ties, mostly
        # within one collection: each order can then be read from an index, not sorted.
        indexes = [
            models.Index(fields=["collection", "created_at", "id"], name="item_collection_time"),
            models.Index(fields=["created_at", "id"], name="item_time"),
            models.Index(fields=["collection", "original_name", "id"], name="item_collection_name"),
            models.Index(fields=["collection", "size", "id"], name="item_collection_size"),
            models.Index(fields=["collection", "media_type", "id"], name="item_collection_type"),
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.sha256[:12]})"


class Acquisition(models.Model):
    """How, when, from where and by whom an item was obtained; an item may have many."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="acquisitions")
    fingerprint = models.CharField(max_length=64)
    recorded_at = models.DateTimeField(default=timezone.now)
    collected_at = models.DateTimeField(null=True, blank=True)
    collected_by = models.CharField(max_length=300, blank=True)
    source_url = models.TextField(blank=True)
    note = models.TextField(blank=True)
    original_path = models.TextField()
    actor = models.CharField(max_length=300)
    # Protected: who gave us the material (a witness's name or contact). Sealed
    # with the instance's field key; see svidok.apps.evidence.protected.
    source_person_sealed = models.TextField(blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "fingerprint"], name="acquisition_once"),
        ]
        ordering = ["recorded_at"]


class DerivedFile(models.Model):
    """A file made from an item (thumbnail, keyframe, contact sheet); its own blob."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="derived")
    kind = models.CharField(max_length=40)
    sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField()
    media_type = models.CharField(max_length=255)
    details = models.JSONField(default=dict)

    class Meta:
        ordering = ["kind", "id"]


class PerceptualHash(models.Model):
    """A perceptual hash of an item, for near-duplicate search.

    A search index, not evidence: the hash is also in the item's metadata,
    which the custody log covers, and ``svidok media reindex`` rebuilds this
    table from there.
    """

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="perceptual_hashes")
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="+")
    algorithm = models.CharField(max_length=20, default="pdq")
    position = models.IntegerField(default=0)  # 0 for an image; a frame's index for video
    hash = models.BinaryField(max_length=32)
    quality = models.SmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "algorithm", "position"],
                                    name="one_hash_per_position"),
        ]
        indexes = [models.Index(fields=["collection", "algorithm"], name="hash_collection")]
