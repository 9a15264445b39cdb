"""Near-duplicate search among videos: vPDQ frame hashes through the hash index.

A video is held as its kept frame hashes (``PerceptualHash`` rows with
algorithm "vpdq", one per frame, from the item's metadata). A query video's
distinct matchable frames are searched in the "vpdq" index; the videos that
own any hit are candidates, and each candidate is compared in full with
:func:`svidok.core.media.vpdq.match_videos`: the share of the query's frames
found in it and the share of its frames found in the query. A video matches
when either share reaches 80 % (ThreatExchange's threshold), so a clip cut
out of a longer video finds it, and the longer video finds the clip.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from svidok.apps.evidence.models import Item, PerceptualHash
from svidok.apps.evidence.perceptual_index import live_index
from svidok.core.errors import InvalidInput
from svidok.core.media.pdq import MAX_DISTANCE, MIN_QUALITY, as_bytes
from svidok.core.media.vpdq import MATCH_THRESHOLD, VideoHash, hash_video, match_videos

CANDIDATES = 500  # videos compared in full per query, those sharing most frames first
ID_BATCH = 2_000


@dataclass(frozen=True)
class VideoFound:
    item: Item
    query_share: float  # of the query's frames, found in this video
    target_share: float  # of this video's frames, found in the query

    def to_json(self) -> dict[str, object]:
        return {"item": str(self.item.id), "collection": self.item.collection.name,
                "name": self.item.original_name, "sha256": self.item.sha256, "kind": "video",
                "query_share": round(self.query_share, 3),
                "target_share": round(self.target_share, 3)}


def item_video_hash(item: Item) -> VideoHash | None:
    """The video hash kept in the item's metadata at ingest; None if it has none."""
    perceptual = (item.metadata or {}).get("perceptual") or {}
    if perceptual.get("kind") != "video":
        return None
    try:
        return VideoHash.from_json(perceptual)
    except InvalidInput:
        return None


def file_video_hash(path: Path) -> VideoHash:
    """The video hash of a file; ExtractionError if it is not a decodable video."""
    return hash_video(path)


def similar_videos(*, query: VideoHash, collection_ids: Sequence[int] | None,
                   exclude: Item | None = None, max_distance: int = MAX_DISTANCE,
                   threshold: float = MATCH_THRESHOLD, limit: int = 100) -> list[VideoFound]:
    """Videos sharing at least ``threshold`` of their frames with the query, either way;
    best first. ``collection_ids`` None means every collection."""
    frames = sorted({f.pdq.hex for f in query.frames if f.pdq.quality >= MIN_QUALITY})
    if not frames:
        return []
    table = np.frombuffer(b"".join(as_bytes(h) for h in frames), dtype=np.uint8).reshape(-1, 32)
    hit_ids, _, _ = live_index("vpdq").current().pairs(table, max_distance)
    shared: Counter[uuid.UUID] = Counter()
    unique_ids = np.unique(hit_ids).tolist()
    for start in range(0, len(unique_ids), ID_BATCH):
        rows = PerceptualHash.objects.filter(id__in=unique_ids[start:start + ID_BATCH],
                                             algorithm="vpdq")
        if collection_ids is not None:
            rows = rows.filter(collection_id__in=list(collection_ids))
        if exclude is not None:
            rows = rows.exclude(item=exclude)
        shared.update(rows.values_list("item_id", flat=True))
    candidates = [item_id for item_id, _ in shared.most_common(CANDIDATES)]
    items = Item.objects.select_related("collection").in_bulk(candidates)
    found = []
    for item in items.values():
        target = item_video_hash(item)
        if target is None:
            continue
        # The full comparison decides; the index only proposed the candidate.
        match = match_videos(query, target, max_distance=max_distance)
        if match.query_share >= threshold or match.target_share >= threshold:
            found.append(VideoFound(item=item, query_share=match.query_share,
                                    target_share=match.target_share))
    found.sort(key=lambda f: (-max(f.query_share, f.target_share), str(f.item.id)))
    return found[:limit]


def video_links(*, collection_ids: Sequence[int] | None,
                max_distance: int = MAX_DISTANCE) -> Iterator[tuple[uuid.UUID, uuid.UUID]]:
    """Pairs of video items that match (either way), within the collections given."""
    rows = PerceptualHash.objects.filter(algorithm="vpdq")
    if collection_ids is not None:
        rows = rows.filter(collection_id__in=list(collection_ids))
    video_ids = list(rows.values_list("item_id", flat=True).distinct())
    for start in range(0, len(video_ids), 200):
        for item in Item.objects.filter(id__in=video_ids[start:start + 200]):
            query = item_video_hash(item)
            if query is None:
                continue
            for found in similar_videos(query=query, collection_ids=collection_ids,
                                        exclude=item, max_distance=max_distance,
                                        limit=CANDIDATES):
                yield item.id, found.item.id
