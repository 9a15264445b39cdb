"""Groups of near-duplicates: connected components of the near-duplicate links among
images (PDQ with rotations, mirror images and the stored extra hashes) and among
videos (vPDQ frame shares, or TMK scores), each group led by its earliest-acquired
copy."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from svidok.apps.evidence.models import Acquisition, Item
from svidok.apps.evidence.similarity import image_links
from svidok.apps.evidence.video_similarity import video_links
from svidok.core.media.pdq import MAX_DISTANCE


@dataclass(frozen=True)
class Cluster:
    """Near-duplicate items, the earliest acquired first."""

    items: list[Item]
    acquired: dict[uuid.UUID, datetime]

    @property
    def earliest(self) -> Item:
        return self.items[0]

    def to_json(self) -> dict[str, object]:
        return {
            "size": len(self.items),
            "earliest": str(self.earliest.id),
            "items": [{"item": str(i.id), "collection": i.collection.name,
                       "name": i.original_name, "sha256": i.sha256,
                       "acquired": self.acquired[i.id].isoformat()} for i in self.items],
        }


def near_duplicate_clusters(*, collection_ids: Sequence[int] | None,
                            max_distance: int = MAX_DISTANCE) -> list[Cluster]:
    """Groups of near-duplicate images and of near-duplicate videos in the collections
    given (all when None); largest groups first."""
    parent: dict[uuid.UUID, uuid.UUID] = {}

    def root(item_id: uuid.UUID) -> uuid.UUID:
        parent.setdefault(item_id, item_id)
        while parent[item_id] != item_id:
            parent[item_id] = parent[parent[item_id]]
            item_id = parent[item_id]
        return item_id

    links: Iterable[tuple[uuid.UUID, uuid.UUID]]
    for links in (image_links(collection_ids=collection_ids, max_distance=max_distance),
                  video_links(collection_ids=collection_ids, max_distance=max_distance)):
        for a, b in links:
            parent[root(a)] = root(b)
    groups: dict[uuid.UUID, list[uuid.UUID]] = {}
    for item_id in list(parent):
        groups.setdefault(root(item_id), []).append(item_id)
    grouped = [ids for ids in groups.values() if len(ids) > 1]
    wanted = [item_id for ids in grouped for item_id in ids]
    items = Item.objects.select_related("collection").in_bulk(wanted)  # batched by Django
    acquired = earliest_acquisitions(wanted)
    clusters = []
    for ids in grouped:
        members = sorted((items[i] for i in ids if i in items),
                         key=lambda item: (acquired[item.id], item.created_at, str(item.id)))
        clusters.append(Cluster(items=members, acquired=acquired))
    clusters.sort(key=lambda c: (-len(c.items), c.acquired[c.earliest.id], str(c.earliest.id)))
    return clusters


def earliest_acquisitions(item_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, datetime]:
    """When each item was first obtained: the earliest collected_at given, else recorded."""
    earliest: dict[uuid.UUID, datetime] = {}
    ids = list(item_ids)
    rows = (row for start in range(0, len(ids), 5_000)  # SQLite caps IN (...) parameters
            for row in Acquisition.objects.filter(item_id__in=ids[start:start + 5_000])
            .values_list("item_id", "collected_at", "recorded_at"))
    for item_id, collected, recorded in rows:
        moment = collected or recorded
        if item_id not in earliest or moment < earliest[item_id]:
            earliest[item_id] = moment
    return earliest
