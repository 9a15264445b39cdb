"""Near-duplicate search among videos, two ways that fail differently.

* **Frames (vPDQ).** A video is held as its kept frame hashes (``PerceptualHash``
  rows with algorithm "vpdq", one per frame). A query's distinct matchable
  frames are searched in the "vpdq" hash index; the videos owning any hit are
  compared in full with :func:`svidok.core.media.vpdq.match_videos`. A video
  matches when at least 80 % of the frames of either are found in the other
  (ThreatExchange's threshold), so a clip cut out of a longer video finds it,
  and the longer video finds the clip.
* **Whole video (TMK+PDQF).** Each video's TMK hash is a derived ``.tmk`` file;
  its normalised pure-average feature (1 kB) is in the metadata. Candidates
  are the videos whose level-1 score (a dot product of those vectors) reaches
  0.7; their full TMK is read and the level-2 score must reach 0.7 too (the
  reference thresholds). This finds re-timed and re-encoded copies whose
  sampled frames do not line up, which frame matching misses.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from svidok.apps.evidence.models import DerivedFile, Item, PerceptualHash
from svidok.apps.evidence.perceptual_index import live_index
from svidok.apps.evidence.store import instance_store
from svidok.core.digest import Digest
from svidok.core.errors import ExtractionError, InvalidInput, NotFound
from svidok.core.media.pdq import MAX_DISTANCE, MIN_QUALITY, as_bytes
from svidok.core.media.tmk import (
    LEVEL1_THRESHOLD,
    LEVEL2_THRESHOLD,
    TmkHash,
    hash_video_tmk,
    level2,
    read_tmk,
)
from svidok.core.media.vpdq import MATCH_THRESHOLD, VideoHash, hash_video, match_videos

CANDIDATES = 500  # videos compared in full per query, those sharing most frames first
ID_BATCH = 2_000


@dataclass(frozen=True)
class VideoQuery:
    """What a video is searched by: its frame hashes and its TMK hash (either may be
    missing when it could not be computed)."""

    frames: VideoHash | None
    tmk: TmkHash | None

    @property
    def usable(self) -> bool:
        return self.frames is not None or self.tmk is not None


@dataclass(frozen=True)
class VideoFound:
    item: Item
    query_share: float | None  # of the query's frames, found in this video
    target_share: float | None  # of this video's frames, found in the query
    tmk_level1: float | None = None
    tmk_level2: float | None = None

    @property
    def strength(self) -> float:
        return max(self.query_share or 0.0, self.target_share or 0.0, self.tmk_level2 or 0.0)

    def to_json(self) -> dict[str, object]:
        def rounded(value: float | None) -> float | None:
            return None if value is None else round(value, 3)

        return {"item": str(self.item.id), "collection": self.item.collection.name,
                "name": self.item.original_name, "sha256": self.item.sha256, "kind": "video",
                "query_share": rounded(self.query_share),
                "target_share": rounded(self.target_share),
                "tmk_level1": rounded(self.tmk_level1), "tmk_level2": rounded(self.tmk_level2)}


def item_video_query(item: Item) -> VideoQuery | None:
    """The hashes kept for a video item at ingest; None if it is not a hashed video."""
    perceptual = (item.metadata or {}).get("perceptual") or {}
    if perceptual.get("kind") != "video":
        return None
    try:
        frames: VideoHash | None = VideoHash.from_json(perceptual)
    except InvalidInput:
        frames = None
    query = VideoQuery(frames=frames, tmk=item_tmk(item))
    return query if query.usable else None


def item_tmk(item: Item) -> TmkHash | None:
    """The item's TMK hash, read from its derived ``.tmk`` file; None if it has none."""
    derived = DerivedFile.objects.filter(item=item, kind="tmk").first()
    if derived is None:
        return None
    try:
        with instance_store().local_path(Digest(derived.sha256)) as path:
            return read_tmk(path)
    except (InvalidInput, NotFound, OSError):
        return None  # a damaged derived file is for `svidok verify` to report


def file_video_query(path: Path) -> VideoQuery:
    """The hashes of a video file; ExtractionError if it is not a decodable video."""
    frames = hash_video(path)
    try:
        tmk: TmkHash | None = hash_video_tmk(path)
    except ExtractionError:
        tmk = None
    return VideoQuery(frames=frames, tmk=tmk)


def similar_videos(*, query: VideoQuery, collection_ids: Sequence[int] | None,
                   exclude: Item | None = None, max_distance: int = MAX_DISTANCE,
                   threshold: float = MATCH_THRESHOLD, limit: int = 100) -> list[VideoFound]:
    """Videos that match the query by frames (either share ≥ ``threshold``) or by TMK
    (both levels ≥ 0.7); best first. ``collection_ids`` None means every collection."""
    found: dict[uuid.UUID, VideoFound] = {}
    if query.frames is not None:
        for hit in _by_frames(query.frames, collection_ids, exclude, max_distance, threshold):
            found[hit.item.id] = hit
    if query.tmk is not None:
        for hit in _by_tmk(query.tmk, collection_ids, exclude):
            earlier = found.get(hit.item.id)
            found[hit.item.id] = hit if earlier is None else VideoFound(
                item=earlier.item, query_share=earlier.query_share,
                target_share=earlier.target_share, tmk_level1=hit.tmk_level1,
                tmk_level2=hit.tmk_level2)
    ranked = sorted(found.values(), key=lambda f: (-f.strength, str(f.item.id)))
    return ranked[:limit]


def _by_frames(query: VideoHash, collection_ids: Sequence[int] | None, exclude: Item | None,
               max_distance: int, threshold: float) -> list[VideoFound]:
    frames = sorted({f.pdq.hex for f in query.frames if f.pdq.quality >= MIN_QUALITY})
    if not frames:
        return []
    table = np.frombuffer(b"".join(as_bytes(h) for h in frames), dtype=np.uint8).reshape(-1, 32)
    hit_ids, _, _ = live_index("vpdq").current().pairs(table, max_distance)
    shared: Counter[uuid.UUID] = Counter()
    unique_ids = np.unique(hit_ids).tolist()
    for start in range(0, len(unique_ids), ID_BATCH):
        rows = _in_scope(PerceptualHash.objects.filter(
            id__in=unique_ids[start:start + ID_BATCH], algorithm="vpdq"), collection_ids, exclude)
        shared.update(rows.values_list("item_id", flat=True))
    candidates = [item_id for item_id, _ in shared.most_common(CANDIDATES)]
    found = []
    for item in Item.objects.select_related("collection").in_bulk(candidates).values():
        target = item_video_query(item)
        if target is None or target.frames is None:
            continue
        # The full comparison decides; the index only proposed the candidate.
        match = match_videos(query, target.frames, max_distance=max_distance)
        if match.query_share >= threshold or match.target_share >= threshold:
            found.append(VideoFound(item=item, query_share=match.query_share,
                                    target_share=match.target_share))
    return found


def _by_tmk(query: TmkHash, collection_ids: Sequence[int] | None,
            exclude: Item | None) -> list[VideoFound]:
    ids, vectors = _tmk_vectors(collection_ids, exclude)
    if not ids:
        return []
    own = np.frombuffer(query.candidate_vector(), dtype="<f4")
    level1 = vectors @ own
    order = np.argsort(-level1)
    chosen = [int(i) for i in order[:CANDIDATES] if level1[i] >= LEVEL1_THRESHOLD]
    items = Item.objects.select_related("collection").in_bulk([ids[i] for i in chosen])
    found = []
    for index in chosen:
        item = items.get(ids[index])
        target = item_tmk(item) if item is not None else None
        if item is None or target is None:
            continue
        second = level2(query, target)
        if second >= LEVEL2_THRESHOLD:
            found.append(VideoFound(item=item, query_share=None, target_share=None,
                                    tmk_level1=float(level1[index]), tmk_level2=second))
    return found


def _tmk_vectors(collection_ids: Sequence[int] | None,
                 exclude: Item | None) -> tuple[list[uuid.UUID], np.ndarray]:
    """Ids and (n, 256) unit vectors of the videos in scope that have a TMK hash."""
    rows = _in_scope(Item.objects.filter(metadata__perceptual__tmk__isnull=False),
                     collection_ids, exclude, field="id")
    ids: list[uuid.UUID] = []
    vectors: list[bytes] = []
    for item_id, vector in rows.values_list("id", "metadata__perceptual__tmk__vector"):
        try:
            raw = base64.b64decode(vector or "", validate=True)
        except (binascii.Error, ValueError):
            continue
        if len(raw) == 1024:
            ids.append(item_id)
            vectors.append(raw)
    return ids, np.frombuffer(b"".join(vectors), dtype="<f4").reshape(-1, 256)


def _in_scope(rows, collection_ids, exclude, *, field="item"):  # type: ignore[no-untyped-def]
    if collection_ids is not None:
        rows = rows.filter(collection_id__in=list(collection_ids))
    if exclude is not None:
        rows = rows.exclude(**{field: exclude.id if field == "id" else exclude})
    return rows


def video_links(*, collection_ids: Sequence[int] | None,
                max_distance: int = MAX_DISTANCE) -> Iterator[tuple[uuid.UUID, uuid.UUID]]:
    """Pairs of video items that match (by frames either way, or by TMK), within the
    collections given."""
    videos = Item.objects.filter(metadata__perceptual__kind="video")
    if collection_ids is not None:
        videos = videos.filter(collection_id__in=list(collection_ids))
    video_ids = list(videos.values_list("id", flat=True))
    for start in range(0, len(video_ids), 200):
        for item in Item.objects.filter(id__in=video_ids[start:start + 200]):
            query = item_video_query(item)
            if query is None:
                continue
            for found in similar_videos(query=query, collection_ids=collection_ids,
                                        exclude=item, max_distance=max_distance,
                                        limit=CANDIDATES):
                yield item.id, found.item.id
