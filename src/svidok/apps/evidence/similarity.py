"""Near-duplicate search over the items' perceptual hashes.

Each image item has one PDQ hash (``PerceptualHash``, filled at ingest from
the item's metadata). A query image is hashed in its eight rotations and
mirror images and compared with every stored hash of the collections asked
about; a stored hash matches when its distance to any variant is at most the
threshold and both hashes are of matchable quality. The comparison is a
vectorised scan: about 1 ms per 100,000 hashes and variant.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.db import transaction

from svidok.apps.evidence.models import Item, PerceptualHash
from svidok.apps.evidence.store import instance_store
from svidok.core.digest import Digest
from svidok.core.media.pdq import (
    MAX_DISTANCE,
    MIN_QUALITY,
    PdqHash,
    as_bytes,
    distances,
    open_for_hashing,
    pdq_dihedral,
)

# The locker's own decompression-bomb limit (MediaAnalyser's default).
MAX_IMAGE_PIXELS = 150_000_000

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
    """The eight query variants of an item already held, hashed from its stored original.

    Empty for an item with no perceptual hash (not an image, or not decodable).
    """
    if not perceptual_rows(item):
        return []
    store = instance_store()
    with store.local_path(Digest(item.sha256)) as path:
        return pdq_dihedral(open_for_hashing(path, max_pixels=MAX_IMAGE_PIXELS))


def file_variants(path: Path) -> list[PdqHash]:
    """The eight query variants of an image file; ExtractionError if it is not one."""
    return pdq_dihedral(open_for_hashing(path, max_pixels=MAX_IMAGE_PIXELS))
