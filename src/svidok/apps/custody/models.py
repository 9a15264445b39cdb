"""The custody log as stored: events (Merkle leaves), signed tree heads, and the log's state.

The truth is the event ``body`` (canonical JSON, hashed into the tree); the
other columns are copies for querying, checked against the body by ``verify``.
"""

from __future__ import annotations

from django.db import models


class CustodyEvent(models.Model):
    """One append-only event; ``seq`` is its leaf index in the Merkle tree."""

    seq = models.BigIntegerField(primary_key=True)
    action = models.CharField(max_length=60)
    item_id = models.UUIDField(null=True, db_index=True)
    item_sha256 = models.CharField(max_length=64, blank=True)
    actor = models.CharField(max_length=300)
    time = models.CharField(max_length=40)
    body = models.TextField()
    leaf_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]


class TreeHead(models.Model):
    """A signed statement of the log's size and root at a moment."""

    size = models.BigIntegerField(db_index=True)
    root = models.CharField(max_length=64)
    time = models.CharField(max_length=40)
    key_id = models.CharField(max_length=100)
    signature = models.CharField(max_length=128)

    class Meta:
        ordering = ["id"]


class LogState(models.Model):
    """The single row that serialises appends and keeps the tree's right edge.

    Appenders lock this row first; its ``frontier`` lets the new root be
    computed in O(log n) without reading the whole log.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    size = models.BigIntegerField(default=0)
    frontier = models.JSONField(default=list)
