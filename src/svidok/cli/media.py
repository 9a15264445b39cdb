"""Media analysis: perceptual hashes and near-duplicates."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import click

from svidok.cli.base import emit_json, json_option, setup_django
from svidok.core.media.pdq import CONFIRM_DISTANCE  # the widest distance worth asking


@click.group()
def media() -> None:
    """Perceptual hashes (PDQ) and near-duplicate search."""


@media.command("hash")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@json_option
def hash_files(paths: tuple[Path, ...], as_json: bool) -> None:
    """Print the perceptual hashes of image and video files; needs no instance.

    Images: the PDQ hash and its quality. Videos: the PDQ hashes of frames
    sampled once a second (runs of near-identical frames kept once) and a
    whole-video signature. With --json, one line per file:
    {"path", "kind": "image", "pdq", "quality"} or {"path", "kind": "video",
    "frames": [{"ms", "pdq", "quality", "count"}], "signature", "duration_ms",
    "interval_ms", "tmk": {"frames", "vector"}}, or {"path", "error"}. The TMK vector is
    the base64 of 256 float32 (its normalised pure-average feature). Exits 1 if any
    file could not be hashed.
    """
    from svidok.core.errors import ExtractionError

    failed = False
    for path in paths:
        try:
            kind, hashed = _hash_one(path)
        except ExtractionError as exc:
            failed = True
            if as_json:
                emit_json({"path": str(path), "error": exc.message})
            else:
                click.echo(f"{path}: {exc.message}", err=True)
            continue
        if as_json:
            emit_json({"path": str(path), "kind": kind, **hashed})
        elif kind == "image":
            click.echo(f"{hashed['pdq']}  quality {hashed['quality']:3d}  {path}")
        else:
            frames = hashed["frames"]
            assert isinstance(frames, list)  # noqa: S101 — VideoHash.to_json's shape
            click.echo(f"{hashed['signature']}  video, {len(frames)} frames  {path}")
    if failed:
        raise SystemExit(1)


def _hash_one(path: Path) -> tuple[str, dict[str, object]]:
    """("image"|"video", its hashes as JSON) of a file; ExtractionError if neither."""
    from svidok.core.media.images import MAX_IMAGE_PIXELS
    from svidok.core.media.pdq import open_for_hashing, pdq_of
    from svidok.core.media.tmk import hash_video_tmk
    from svidok.core.media.vpdq import hash_video

    if _is_video(path):
        hashed = {k: v for k, v in hash_video(path).to_json().items() if k != "kind"}
        tmk = hash_video_tmk(path)
        hashed["tmk"] = {"frames": tmk.frame_count,
                         "vector": base64.b64encode(tmk.candidate_vector()).decode("ascii")}
        return "video", hashed
    return "image", pdq_of(open_for_hashing(path, max_pixels=MAX_IMAGE_PIXELS)).to_json()


def _is_video(path: Path) -> bool:
    from svidok.core.errors import ConfigurationError, ExtractionError
    from svidok.core.media.sniff import media_kind, sniff_media_type

    try:
        return media_kind(sniff_media_type(path)) == "video"
    except (ExtractionError, ConfigurationError):
        return False  # hashing it as an image says what is wrong with it


@media.command()
@click.argument("query")
@click.option("--collection", default=None, help="Search only this collection.")
@click.option("--max-distance", default=31, show_default=True,
              type=click.IntRange(0, CONFIRM_DISTANCE),
              help="Largest Hamming distance between PDQ hashes that counts as a match.")
@json_option
@click.pass_context
def similar(ctx: click.Context, query: str, collection: str | None, max_distance: int,
            as_json: bool) -> None:
    """Items that look like QUERY: an image or video file, or an item (id or SHA-256
    prefix).

    Images: rotations and mirror images of the query are tried too, and its
    copies without borders, caption or interface bars, and its central crops; a
    match says which. Matches need PDQ quality >= 50 on both sides. Candidates
    up to distance 90 that did not match are compared by local features (ORB +
    RANSAC) and match when those confirm it. With --json, one line per match:
    {"item", "collection", "name", "sha256", "distance", "variant",
    "confirmed_by": "hash"|"local features"}.

    Videos: a video matches when at least 80 % of its frames or of the query's
    are found in the other (so a clip cut out of a longer video is found both
    ways), or when its TMK hash scores at least 0.7 at both levels (re-timed or
    re-encoded whole copies). With --json: {"item", "collection", "name",
    "sha256", "kind": "video", "query_share", "target_share", "tmk_level1",
    "tmk_level2"} (null where that method did not match).
    """
    setup_django(ctx)
    from svidok.apps.evidence.selectors import item_resolve
    from svidok.apps.evidence.similarity import Match, similar_images, similar_to_item
    from svidok.apps.evidence.video_similarity import (
        VideoQuery,
        file_video_query,
        item_video_query,
        similar_videos,
    )
    from svidok.core.errors import InvalidInput
    from svidok.core.media.images import MAX_IMAGE_PIXELS
    from svidok.core.media.pdq import open_for_hashing, pdq_of

    collection_ids = collection_ids_named(collection)
    exclude = None
    video: VideoQuery | None = None
    matches: list[Match] | None = None
    if Path(query).is_file():
        if _is_video(Path(query)):
            video = file_video_query(Path(query))
        else:
            image = open_for_hashing(Path(query), max_pixels=MAX_IMAGE_PIXELS)
            quality = pdq_of(image).quality
            if quality < 50:
                click.echo(f"the query's PDQ quality is {quality} (< 50): too little detail "
                           "to match it as it is", err=True)
            matches = similar_images(image=image, collection_ids=collection_ids,
                                     max_distance=max_distance)
    else:
        exclude = item_resolve(reference=query)
        video = item_video_query(exclude)
        if video is None:
            matches = similar_to_item(item=exclude, collection_ids=collection_ids,
                                      max_distance=max_distance)
        if matches is None and video is None:
            raise InvalidInput(f"item {exclude.id} ({exclude.media_type}) has no perceptual "
                               "hash: near-duplicates are found for images and videos")
    if video is not None:
        _similar_videos(similar_videos(query=video, collection_ids=collection_ids,
                                       exclude=exclude, max_distance=max_distance), as_json)
        return
    matches = matches or []
    for match in matches:
        if as_json:
            emit_json(match.to_json())
        else:
            notes = [] if match.variant == "as is" else [match.variant]
            if match.confirmed_by != "hash":
                notes.append(f"confirmed by {match.confirmed_by}")
            click.echo(f"{match.distance:3d}  {match.item.id}  {match.item.collection.name}  "
                       f"{match.item.original_name}"
                       + (f"  ({'; '.join(notes)})" if notes else ""))
    if not matches and not as_json:
        click.echo("no near-duplicates", err=True)


def _similar_videos(found: list[Any], as_json: bool) -> None:
    for video in found:
        if as_json:
            emit_json(video.to_json())
            continue
        how = []
        if video.query_share is not None:
            how.append(f"frames: {video.query_share:.0%} of the query, "
                       f"{video.target_share:.0%} of it")
        if video.tmk_level2 is not None:
            how.append(f"TMK {video.tmk_level1:.2f}/{video.tmk_level2:.2f}")
        click.echo(f"{video.item.id}  {video.item.collection.name}  {video.item.original_name}"
                   f"  ({'; '.join(how)})")
    if not found and not as_json:
        click.echo("no near-duplicates", err=True)


@media.command()
@click.option("--collection", default=None, help="Only this collection.")
@click.option("--max-distance", default=31, show_default=True,
              type=click.IntRange(0, CONFIRM_DISTANCE))
@json_option
@click.pass_context
def clusters(ctx: click.Context, collection: str | None, max_distance: int,
             as_json: bool) -> None:
    """Groups of near-duplicate images, each led by its earliest-acquired copy.

    A group is a connected component: items linked by chains of matches. With
    --json, one line per group: {"size", "earliest", "items": [...]}.
    """
    setup_django(ctx)
    from svidok.apps.evidence.grouping import near_duplicate_clusters

    collection_ids = collection_ids_named(collection)
    groups = near_duplicate_clusters(collection_ids=collection_ids, max_distance=max_distance)
    for number, group in enumerate(groups, 1):
        if as_json:
            emit_json(group.to_json())
            continue
        click.echo(f"group {number}: {len(group.items)} copies")
        for item in group.items:
            mark = "earliest" if item is group.earliest else "        "
            click.echo(f"  {mark}  {group.acquired[item.id]:%Y-%m-%d %H:%M}  {item.id}  "
                       f"{item.collection.name}  {item.original_name}")
    if not groups and not as_json:
        click.echo("no near-duplicates", err=True)


def collection_ids_named(name: str | None) -> list[int] | None:
    """The id of the named collection as a one-item list; None (all) without a name."""
    if name is None:
        return None
    from svidok.apps.evidence.models import Collection
    from svidok.core.errors import NotFound

    found = Collection.objects.filter(name=name).values_list("id", flat=True).first()
    if found is None:
        raise NotFound(f"no collection named {name!r}")
    return [found]


@media.command()
@click.pass_context
def reindex(ctx: click.Context) -> None:
    """Rebuild the near-duplicate search table from the items' stored hashes, then the
    hash index (<home>/index) from the table.

    Not needed in normal use: new items join the index as they are ingested, and
    a saved index that does not match the database is rebuilt when opened.
    """
    setup_django(ctx)
    from svidok.apps.evidence.perceptual_index import live_index
    from svidok.apps.evidence.similarity import perceptual_reindex

    rows = perceptual_reindex()
    click.echo(f"indexed {rows} perceptual hashes; "
               f"{len(live_index('pdq').current())} of matchable quality are searchable")


COMMANDS = [media]
