"""Near-duplicate search among images.

Each image item has its PDQ hash and up to two extra ones (border-trimmed,
centre) as ``PerceptualHash`` rows, filled at ingest from the item's metadata;
the rows carry the quality of the picture itself, so a featureless picture in
a frame is kept but never matched. Searches go through the instance's hash
index (:mod:`.perceptual_index`) and every hit is checked against the table's
own row before it is reported. :func:`similar_images` is the full query (robust
query hashes, then local features); :func:`similar_items` the plain hash part;
:func:`image_links` the links that grouping joins.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.db import transaction
from PIL import Image

from svidok.apps.evidence.models import Item, PerceptualHash
from svidok.apps.evidence.perceptual_index import live_index
from svidok.apps.evidence.store import instance_store
from svidok.core.digest import Digest
from svidok.core.errors import ExtractionError, NotFound
from svidok.core.media.images import MAX_IMAGE_PIXELS
from svidok.core.media.pdq import (
    MAX_DISTANCE,
    MIN_QUALITY,
    PdqHash,
    as_bytes,
    open_for_hashing,
    pdq_dihedral,
)
from svidok.core.media.robust import (
    CONFIRM_DISTANCE,
    Features,
    features_of,
    is_mirrored,
    picture_quality,
    query_hashes,
    same_picture,
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
    variant: str  # how the query must be turned (and cut) to look like the item
    confirmed_by: str = "hash"  # or "local features": beyond the threshold, confirmed

    def to_json(self) -> dict[str, object]:
        return {"item": str(self.item.id), "collection": self.item.collection.name,
                "name": self.item.original_name, "sha256": self.item.sha256,
                "distance": self.distance, "variant": self.variant,
                "confirmed_by": self.confirmed_by}


def perceptual_rows(item: Item) -> list[PerceptualHash]:
    """The search rows an item's metadata calls for: one PDQ hash for an image, one per
    kept frame for a video ("vpdq"); none if it has no usable hash."""
    perceptual = (item.metadata or {}).get("perceptual") or {}
    if perceptual.get("kind") == "video":
        frames = perceptual.get("frames")
        return [PerceptualHash(item=item, collection_id=item.collection_id, algorithm="vpdq",
                               position=position, hash=as_bytes(frame["pdq"]),
                               quality=frame["quality"])
                for position, frame in enumerate(frames if isinstance(frames, list) else [])
                if isinstance(frame, dict) and _valid(frame.get("pdq"), frame.get("quality"))]
    pdq, quality = perceptual.get("pdq"), perceptual.get("quality")
    if not _valid(pdq, quality):
        return []
    # Position 0: the image as it is; then its extra hashes (trimmed of borders, centre).
    stored = [(pdq, quality)] + [(e.get("pdq"), e.get("quality"))
                                 for e in perceptual.get("extra") or [] if isinstance(e, dict)]
    # A featureless picture inside a frame (caption, screenshot) gets matchable hashes
    # from the frame alone: its rows carry the picture's own quality, so they are kept
    # but never matched.
    picture = perceptual.get("picture_quality")
    cap = picture if isinstance(picture, int) else 100
    return [PerceptualHash(item=item, collection_id=item.collection_id, algorithm="pdq",
                           position=position, hash=as_bytes(value), quality=min(score, cap))
            for position, (value, score) in enumerate(stored) if _valid(value, score)]


def _valid(pdq: object, quality: object) -> bool:
    return (isinstance(pdq, str) and len(pdq) == 64
            and all(c in "0123456789abcdefABCDEF" for c in pdq)
            and isinstance(quality, int) and 0 <= quality <= 100)


def perceptual_index_items(items: Iterable[Item]) -> int:
    """Add the search rows of newly stored items (inside the caller's transaction)."""
    rows = [row for item in items for row in perceptual_rows(item)]
    PerceptualHash.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def perceptual_reindex() -> int:
    """Rebuild the whole search table from the items' metadata, then the hash index
    from the table; returns the row count."""
    with transaction.atomic():
        PerceptualHash.objects.all().delete()
        count = 0
        for start in range(0, Item.objects.count(), 5_000):
            batch = list(Item.objects.order_by("created_at", "id")[start:start + 5_000])
            count += perceptual_index_items(batch)
    live_index("pdq").rebuild()
    live_index("vpdq").rebuild()
    return count


def similar_items(
    *,
    variants: Sequence[PdqHash] = (),
    queries: Sequence[tuple[str, PdqHash]] = (),
    collection_ids: Sequence[int] | None,
    max_distance: int = MAX_DISTANCE,
    exclude: Item | None = None,
    limit: int = 100,
) -> list[Match]:
    """Items with a stored hash within ``max_distance`` of any query hash, nearest first.

    ``variants`` are the eight turns of an image (labelled as :data:`VARIANTS`);
    ``queries`` are hashes with labels of their own (:func:`query_hashes`).
    ``collection_ids`` None means every collection (operators, instance admins).
    A query hash of low quality matches nothing: it says too little.
    """
    labelled = [*zip(VARIANTS, variants, strict=False), *queries]
    best = _nearest_items(labelled, collection_ids, max_distance, exclude, limit)
    ranked = sorted(best.items(), key=lambda entry: (entry[1][0], str(entry[0])))[:limit]
    items = Item.objects.select_related("collection").in_bulk([item_id for item_id, _ in ranked])
    return [Match(item=items[item_id], distance=distance, variant=describe(label))
            for item_id, (distance, label) in ranked if item_id in items]


def _nearest_items(labelled: Sequence[tuple[str, PdqHash]], collection_ids: Sequence[int] | None,
                   max_distance: int, exclude: Item | None,
                   limit: int) -> dict[uuid.UUID, tuple[int, str]]:
    """item id -> (distance, query label) of its nearest stored hash, for the items
    within ``max_distance`` of a matchable query hash (at least ``limit`` of them
    when there are that many)."""
    usable = [(label, value) for label, value in labelled if value.quality >= MIN_QUALITY]
    if not usable:
        return {}
    table = _hash_table([value.hex for _, value in usable])
    hits = live_index("pdq").current().search(table, max_distance)
    best: dict[uuid.UUID, tuple[int, str]] = {}
    for start in range(0, len(hits), CHECK_BATCH):
        rows = PerceptualHash.objects.filter(id__in=hits.ids[start:start + CHECK_BATCH].tolist(),
                                             algorithm="pdq", quality__gte=MIN_QUALITY)
        if collection_ids is not None:
            rows = rows.filter(collection_id__in=list(collection_ids))
        if exclude is not None:
            rows = rows.exclude(item=exclude)
        found = list(rows.values_list("item_id", "hash"))
        if not found:
            continue
        # The row itself decides, not the index's copy of it.
        xor = _hash_table([bytes(h).hex() for _, h in found])[:, None, :] ^ table[None, :, :]
        distance = np.bitwise_count(xor).sum(axis=2)
        for (item_id, _), row in zip(found, distance, strict=True):
            nearest = int(np.argmin(row))
            if row[nearest] <= max_distance and (item_id not in best
                                                 or row[nearest] < best[item_id][0]):
                best[item_id] = (int(row[nearest]), usable[nearest][0])
        if len(best) >= limit:
            break  # hits come nearest first: later batches are no closer
    return best


def describe(label: str) -> str:
    """A query label for people: "mirrored left–right, trimmed" for ``trimmed/5``."""
    source, _, turn = label.partition("/")
    if not turn.isdigit() or int(turn) >= len(VARIANTS):
        return label
    turned = VARIANTS[int(turn)]
    return turned if source == "image" else f"{turned}, {source.replace('-', ' ')}"


CONFIRM_CANDIDATES = 10  # candidates beyond the threshold checked by local features per query


VERIFY_CAP = 50  # matches within the threshold checked against a shared frame, nearest first


def similar_images(*, image: Image.Image, collection_ids: Sequence[int] | None,
                   exclude: Item | None = None, max_distance: int = MAX_DISTANCE,
                   limit: int = 100) -> list[Match]:
    """Items that show the same picture as ``image``, re-posted as it may be: turned,
    mirrored, cropped, bordered, captioned or inside a screenshot.

    The query's robust hashes (:func:`query_hashes`: its turns, its
    border-trimmed and bar-stripped copies, central crops) are searched among
    every stored hash (each image's own, its trimmed copy, its centre); the
    candidates are decided by :func:`same_picture`:

    * within ``max_distance``: a match, unless local features align the two and
      find the overlap different (two pictures in one app's frame) — checked for
      the :data:`VERIFY_CAP` nearest;
    * beyond it, up to :data:`CONFIRM_DISTANCE` (unless ``max_distance`` is
      stricter than PDQ's 31): a match only when local features (ORB + RANSAC and
      a pixel check of the aligned overlap) confirm it, for the
      :data:`CONFIRM_CANDIDATES` nearest.

    A query whose picture, without its frame, has too little detail
    (:func:`picture_quality` < 50) matches nothing, as such stored images do.
    """
    if picture_quality(image) < MIN_QUALITY:
        return []
    queries = query_hashes(image)
    confirm = MAX_DISTANCE <= max_distance < CONFIRM_DISTANCE
    widest = CONFIRM_DISTANCE if confirm else max_distance
    found = _nearest_items(queries, collection_ids, widest, exclude,
                           limit=limit + CONFIRM_CANDIDATES)
    ranked = sorted((distance, str(item_id), item_id, label)
                    for item_id, (distance, label) in found.items())
    close = [entry for entry in ranked if entry[0] <= max_distance]
    beyond = [entry for entry in ranked if entry[0] > max_distance][:CONFIRM_CANDIDATES]
    items = Item.objects.select_related("collection").in_bulk([e[2] for e in close + beyond])
    query_features: Features | None = None  # found once, and only if a candidate needs it
    matches = []
    for number, (distance, _, item_id, label) in enumerate(close + beyond):
        item = items.get(item_id)
        if item is None:
            continue
        checked = distance > max_distance or number < VERIFY_CAP
        if checked:
            shown = _stored_image(item)
            if shown is not None and query_features is None:
                query_features = features_of(image)
            decision = (same_picture(query_features, shown, distance, mirror=is_mirrored(label))
                        if shown is not None and query_features is not None else None)
            if decision is not None and not decision.same:
                continue
            if decision is None and distance > max_distance:
                continue  # beyond the threshold, only a confirmation admits it
        matches.append(Match(item=item, distance=distance, variant=describe(label),
                             confirmed_by="hash" if distance <= max_distance
                             else "local features"))
    return matches[:limit]


def _stored_image(item: Item) -> Image.Image | None:
    """An item's original decoded for comparison (reduced scale); None if it cannot be."""
    try:
        with instance_store().local_path(Digest(item.sha256)) as path:
            return open_for_hashing(path, max_pixels=MAX_IMAGE_PIXELS)
    except (ExtractionError, NotFound, OSError):
        return None


def similar_to_item(*, item: Item, collection_ids: Sequence[int] | None,
                    max_distance: int = MAX_DISTANCE) -> list[Match] | None:
    """Near-duplicates of an image item (:func:`similar_images` on its decoded original,
    or its stored hashes alone when the original cannot be read); None when the item
    has no perceptual hash (not an image, or not decodable)."""
    image = item_image(item)
    if image is not None:
        return similar_images(image=image, collection_ids=collection_ids, exclude=item,
                              max_distance=max_distance)
    try:
        variants = item_variants(item)
    except (ExtractionError, NotFound):
        variants = []  # an unreadable original is for `svidok verify` to report
    if not variants:
        return None
    return similar_items(variants=variants, collection_ids=collection_ids, exclude=item,
                         max_distance=max_distance)


def item_image(item: Item) -> Image.Image | None:
    """An image item's original, decoded at reduced scale; None for other items."""
    if not perceptual_rows(item) or (item.metadata.get("perceptual") or {}).get("kind"):
        return None
    return _stored_image(item)


CHECK_BATCH = 2_000  # hits checked against their rows per query
ID_BATCH = 5_000  # ids per `IN (...)`: SQLite refuses more than 32,766 parameters


def _hash_table(hex_hashes: Sequence[str]) -> np.ndarray:
    """(n, 32) uint8 rows of hashes given as hex."""
    return np.frombuffer(b"".join(as_bytes(value) for value in hex_hashes),
                         dtype=np.uint8).reshape(-1, 32)


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


def matchable_item_count(*, collection_ids: Sequence[int] | None) -> int:
    """How many images and videos grouping would search for (all collections when None)."""
    rows = PerceptualHash.objects.filter(quality__gte=MIN_QUALITY)
    if collection_ids is not None:
        rows = rows.filter(collection_id__in=list(collection_ids))
    return rows.values("item_id").distinct().count()


CLUSTER_BATCH = 64  # items whose eight variants are searched together
EXTRA_SLOTS = 2  # extra hashes stored per image at most (svidok.core.media.robust)




def image_links(*, collection_ids: Sequence[int] | None,
                max_distance: int = MAX_DISTANCE) -> Iterator[tuple[uuid.UUID, uuid.UUID]]:
    """Pairs of image items within ``max_distance``, rotations and mirror images included.

    Each item's eight turns and its stored extra hashes (border-trimmed, centre)
    are searched in the hash index among every stored hash, so a cropped or
    framed copy joins its photo's group; there is no local-feature confirmation
    here (that is per query, in :func:`similar_images`). The cost
    grows with the number of items times a search (about 2 ms for eight
    variants over a million hashes), not with the number of pairs.
    """
    rows = PerceptualHash.objects.filter(algorithm="pdq", quality__gte=MIN_QUALITY)
    if collection_ids is not None:
        rows = rows.filter(collection_id__in=list(collection_ids))
    scope = sorted(rows.values_list("id", "item_id", "hash", "position"))
    if len(scope) < 2:
        return
    row_ids = np.array([row[0] for row in scope], dtype=np.int64)  # sorted
    item_ids = list(dict.fromkeys(row[1] for row in scope))
    position = {item_id: index for index, item_id in enumerate(item_ids)}
    owner = np.array([position[row[1]] for row in scope], dtype=np.int64)
    stored = np.frombuffer(b"".join(bytes(row[2]) for row in scope),
                           dtype=np.uint8).reshape(-1, 32)
    positions = np.array([min(row[3], EXTRA_SLOTS + 1) for row in scope], dtype=np.int64)
    main = np.zeros((len(item_ids), 32), dtype=np.uint8)
    main[owner[positions == 0]] = stored[positions == 0]
    # Each item asks with its eight turns and its stored extra hashes (trimmed, centre;
    # missing ones repeat the image's own hash), against every stored hash.
    extras = np.repeat(main[:, None, :], EXTRA_SLOTS, axis=1)
    for slot in range(1, EXTRA_SLOTS + 1):
        at_slot = positions == slot
        extras[owner[at_slot], slot - 1] = stored[at_slot]
    turned = np.concatenate([_turned_variants(item_ids, main), extras], axis=1)
    # An image whose own hash is of low quality asks only with its matchable extras.
    has_main = np.zeros(len(item_ids), dtype=bool)
    has_main[owner[positions == 0]] = True
    _, first_row = np.unique(owner, return_index=True)
    turned[~has_main] = stored[first_row[~has_main]][:, None, :]
    # Every item in each of its eight variants against every stored hash, so a
    # mirrored or rotated copy joins the group of the photo it was made from.
    index = live_index("pdq").current()
    per_item = len(VARIANTS) + EXTRA_SLOTS
    for start in range(0, len(item_ids), CLUSTER_BATCH):
        queries = turned[start:start + CLUSTER_BATCH].reshape(-1, 32)
        hit_ids, _, query = index.pairs(queries, max_distance)
        at = np.searchsorted(row_ids, hit_ids)
        inside = (at < len(row_ids)) & (row_ids[np.minimum(at, len(row_ids) - 1)] == hit_ids)
        at, query = at[inside], query[inside]
        # The table's row decides, not the index's copy of it.
        exact = np.bitwise_count(stored[at] ^ queries[query]).sum(axis=1) <= max_distance
        for source, target in zip(start + query[exact] // per_item, owner[at[exact]],
                                  strict=True):
            if source != target:
                yield item_ids[int(source)], item_ids[int(target)]


def _turned_variants(item_ids: Sequence[uuid.UUID], base: np.ndarray) -> np.ndarray:
    """(n, 8, 32) hashes of each item's eight variants, from the metadata kept at ingest.

    An item hashed before the variants were kept contributes its stored hash only.
    """
    turned = np.repeat(base[:, None, :], len(VARIANTS), axis=1)
    position = {item_id: index for index, item_id in enumerate(item_ids)}
    rows = (row for start in range(0, len(item_ids), ID_BATCH)
            for row in Item.objects.filter(id__in=list(item_ids[start:start + ID_BATCH]))
            .values_list("id", "metadata"))
    for item_id, metadata in rows:
        dihedral = ((metadata or {}).get("perceptual") or {}).get("dihedral")
        if isinstance(dihedral, list) and len(dihedral) == len(VARIANTS):
            turned[position[item_id]] = np.frombuffer(
                b"".join(as_bytes(value) for value in dihedral), dtype=np.uint8).reshape(-1, 32)
    return turned
