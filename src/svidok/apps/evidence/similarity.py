"""Near-duplicate search over the items' perceptual hashes.

Each image item has one PDQ hash (``PerceptualHash``, filled at ingest from
the item's metadata). A query image is hashed in its eight rotations and
mirror images and compared with every stored hash of the collections asked
about; a stored hash matches when its distance to any variant is at most the
threshold and both hashes are of matchable quality. The comparison is a
vectorised scan (measured: 6 ms per 100,000 hashes and variant, while CI ran
beside it): fine for a collection, not yet for a million hashes.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from django.db import transaction

from svidok.apps.evidence.models import Acquisition, Item, PerceptualHash
from svidok.apps.evidence.store import instance_store
from svidok.core.digest import Digest
from svidok.core.media.images import MAX_IMAGE_PIXELS
from svidok.core.media.pdq import (
    MAX_DISTANCE,
    MIN_QUALITY,
    PdqHash,
    as_bytes,
    distances,
    open_for_hashing,
    pdq_dihedral,
)

# The order of pdqhash.compute_dihedral: original, three rotations, flips about the x
# and y axes, then the two diagonals (checked with ThreatExchange's bridge images and a
# left-right mirrored copy, which matches the fifth variant).
VARIANTS = ("as is", "rotated 90°", "rotated 180°", "rotated 270°", "mirrored top–bottom",
            "mirrored left–right", "mirrored along the main diagonal",
            "mirrored along the other diagonal")


@dataclass(frozen=True)
class Match:
    item: Item
    distance: int
    variant: str  # how the query must be turned to look like the item

    def to_json(self) -> dict[str, object]:
        return {"item": str(self.item.id), "collection": self.item.collection.name,
                "name": self.item.original_name, "sha256": self.item.sha256,
                "distance": self.distance, "variant": self.variant}


def perceptual_rows(item: Item) -> list[PerceptualHash]:
    """The search rows an item's metadata calls for (none if it has no usable hash)."""
    perceptual = (item.metadata or {}).get("perceptual") or {}
    pdq, quality = perceptual.get("pdq"), perceptual.get("quality")
    if not isinstance(pdq, str) or len(pdq) != 64 or not isinstance(quality, int):
        return []
    return [PerceptualHash(item=item, collection_id=item.collection_id, algorithm="pdq",
                           position=0, hash=as_bytes(pdq), quality=quality)]


def perceptual_index_items(items: Iterable[Item]) -> int:
    """Add the search rows of newly stored items (inside the caller's transaction)."""
    rows = [row for item in items for row in perceptual_rows(item)]
    PerceptualHash.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def perceptual_reindex() -> int:
    """Rebuild the whole search table from the items' metadata; returns the row count."""
    with transaction.atomic():
        PerceptualHash.objects.all().delete()
        count = 0
        for start in range(0, Item.objects.count(), 5_000):
            batch = list(Item.objects.order_by("created_at", "id")[start:start + 5_000])
            count += perceptual_index_items(batch)
    return count


def similar_items(
    *,
    variants: Sequence[PdqHash],
    collection_ids: Sequence[int] | None,
    max_distance: int = MAX_DISTANCE,
    exclude: Item | None = None,
    limit: int = 100,
) -> list[Match]:
    """Items whose hash is within ``max_distance`` of any variant, nearest first.

    ``collection_ids`` None means every collection (operators, instance admins).
    A query of low quality matches nothing: its hash says too little.
    """
    usable = [v for v in variants if v.quality >= MIN_QUALITY]
    if not usable:
        return []
    rows = PerceptualHash.objects.filter(algorithm="pdq", quality__gte=MIN_QUALITY)
    if collection_ids is not None:
        rows = rows.filter(collection_id__in=list(collection_ids))
    if exclude is not None:
        rows = rows.exclude(item=exclude)
    item_ids, blobs = [], []
    for item_id, blob in rows.values_list("item_id", "hash").iterator(chunk_size=20_000):
        item_ids.append(item_id)
        blobs.append(bytes(blob))
    if not blobs:
        return []
    table = np.frombuffer(b"".join(blobs), dtype=np.uint8).reshape(len(blobs), 32)
    best = np.full(len(blobs), 257, dtype=np.int32)
    which = np.zeros(len(blobs), dtype=np.int8)
    for index, variant in enumerate(variants):
        if variant.quality < MIN_QUALITY:
            continue
        found = distances(as_bytes(variant.hex), table)
        closer = found < best
        best[closer] = found[closer]
        which[closer] = index
    hits = np.flatnonzero(best <= max_distance)
    hits = hits[np.argsort(best[hits], kind="stable")][:limit]
    items = Item.objects.select_related("collection").in_bulk([item_ids[i] for i in hits])
    return [Match(item=items[item_ids[i]], distance=int(best[i]), variant=VARIANTS[which[i]])
            for i in hits if item_ids[i] in items]


def item_variants(item: Item) -> list[PdqHash]:
    """The eight query variants of an item already held.

    Read from its metadata (hashed at ingest); items ingested before the variants
    were kept are hashed again from their stored original. Empty for an item with
    no perceptual hash (not an image, or not decodable).
    """
    if not perceptual_rows(item):
        return []
    perceptual = item.metadata["perceptual"]
    dihedral = perceptual.get("dihedral")
    if isinstance(dihedral, list) and len(dihedral) == len(VARIANTS):
        return [PdqHash(str(value), int(perceptual["quality"])) for value in dihedral]
    store = instance_store()
    with store.local_path(Digest(item.sha256)) as path:
        return pdq_dihedral(open_for_hashing(path, max_pixels=MAX_IMAGE_PIXELS))


def file_variants(path: Path) -> list[PdqHash]:
    """The eight query variants of an image file; ExtractionError if it is not one."""
    return pdq_dihedral(open_for_hashing(path, max_pixels=MAX_IMAGE_PIXELS))


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


def matchable_hash_count(*, collection_ids: Sequence[int] | None) -> int:
    """How many hashes grouping would compare (all collections when None)."""
    rows = PerceptualHash.objects.filter(algorithm="pdq", quality__gte=MIN_QUALITY)
    if collection_ids is not None:
        rows = rows.filter(collection_id__in=list(collection_ids))
    return rows.count()


WORKING_BYTES = 64 * 2**20  # memory for one block of pairwise XORs


def near_duplicate_clusters(*, collection_ids: Sequence[int] | None,
                            max_distance: int = MAX_DISTANCE) -> list[Cluster]:
    """Groups of near-duplicates: connected components of "within ``max_distance``",
    rotations and mirror images included.

    Compares every pair of matchable hashes, eight ways (blocked, vectorised):
    quadratic, so fine for thousands to tens of thousands of images; a million
    needs the index of issue 4. Largest groups first.
    """
    rows = PerceptualHash.objects.filter(algorithm="pdq", quality__gte=MIN_QUALITY)
    if collection_ids is not None:
        rows = rows.filter(collection_id__in=list(collection_ids))
    pairs = list(rows.values_list("item_id", "hash"))
    if len(pairs) < 2:
        return []
    base = np.frombuffer(b"".join(bytes(h) for _, h in pairs), dtype=np.uint8).reshape(-1, 32)
    turned = _turned_variants([item_id for item_id, _ in pairs], base)
    parent = list(range(len(pairs)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    # Every item as stored against every item in each of its eight variants, so a
    # mirrored or rotated copy joins the group of the photo it was made from.
    block_rows = max(1, WORKING_BYTES // (len(pairs) * 32))
    for variant in range(len(VARIANTS)):
        queries = turned[:, variant, :]
        for start in range(0, len(pairs), block_rows):
            block = queries[start:start + block_rows]
            xor = np.bitwise_xor(block[:, None, :], base[None, :, :])
            close = np.bitwise_count(xor).sum(axis=2, dtype=np.int32) <= max_distance
            for a, b in zip(*np.nonzero(close), strict=True):
                i, j = start + int(a), int(b)
                if i != j:
                    parent[root(i)] = root(j)
    groups: dict[int, list[uuid.UUID]] = {}
    for index, (item_id, _) in enumerate(pairs):
        groups.setdefault(root(index), []).append(item_id)
    grouped = [ids for ids in groups.values() if len(ids) > 1]
    wanted = [item_id for ids in grouped for item_id in ids]
    items = Item.objects.select_related("collection").in_bulk(wanted)
    acquired = _earliest_acquisitions(wanted)
    clusters = []
    for ids in grouped:
        members = sorted((items[i] for i in ids if i in items),
                         key=lambda item: (acquired[item.id], item.created_at, str(item.id)))
        clusters.append(Cluster(items=members, acquired=acquired))
    clusters.sort(key=lambda c: (-len(c.items), c.acquired[c.earliest.id]))
    return clusters


def _turned_variants(item_ids: Sequence[uuid.UUID], base: np.ndarray) -> np.ndarray:
    """(n, 8, 32) hashes of each item's eight variants, from the metadata kept at ingest.

    An item hashed before the variants were kept contributes its stored hash only.
    """
    turned = np.repeat(base[:, None, :], len(VARIANTS), axis=1)
    position = {item_id: index for index, item_id in enumerate(item_ids)}
    for item_id, metadata in Item.objects.filter(id__in=list(item_ids)).values_list(
            "id", "metadata").iterator(chunk_size=5_000):
        dihedral = ((metadata or {}).get("perceptual") or {}).get("dihedral")
        if isinstance(dihedral, list) and len(dihedral) == len(VARIANTS):
            turned[position[item_id]] = np.frombuffer(
                b"".join(as_bytes(value) for value in dihedral), dtype=np.uint8).reshape(-1, 32)
    return turned


def _earliest_acquisitions(item_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, datetime]:
    """When each item was first obtained: the earliest collected_at given, else recorded."""
    earliest: dict[uuid.UUID, datetime] = {}
    rows = Acquisition.objects.filter(item_id__in=list(item_ids)).values_list(
        "item_id", "collected_at", "recorded_at")
    for item_id, collected, recorded in rows:
        moment = collected or recorded
        if item_id not in earliest or moment < earliest[item_id]:
            earliest[item_id] = moment
    return earliest
