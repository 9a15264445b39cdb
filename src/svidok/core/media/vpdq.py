"""Video perceptual hashes in the vPDQ style: a PDQ hash for each sampled frame.

A video is hashed in five steps:

1. ``ffprobe`` checks that the file has a picture stream (cover art in a sound
   file does not count) and reads its duration.
2. One ``ffmpeg`` process samples a frame every ``seconds_per_frame`` (the ``fps``
   filter), turned as a player shows it (ffmpeg applies rotation metadata by
   default), squeezed to FRAME_SIZE × FRAME_SIZE and streamed as raw RGB through a
   pipe, so memory stays flat whatever the length of the video.
3. Each frame is PDQ-hashed as it arrives.
4. A frame within ``collapse_distance`` bits of the last kept frame is collapsed
   into it (vPDQ's frame pruning); the kept frame counts the sampled frames it
   stands for and keeps the time of the first.
5. A 256-bit signature, the count-weighted bitwise majority of the matchable
   frames, summarises the whole video for candidate search (see
   :func:`signature_of` for what it can and cannot find).

Two videos are compared as vPDQ does (:func:`match_videos`): as bags of
distinct frame hashes of quality >= 50, a frame matching when some frame of the
other video is within 31 bits. The query share is the fraction of the query's
frames found in the target; :func:`is_match` follows ThreatExchange's rule
(query share >= 80 %, target share not required), so a clip cut out of a longer
video is found when the clip is the query.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import pdqhash

from svidok.core.errors import ExtractionError, InvalidInput
from svidok.core.media.pdq import HASH_BITS, MAX_DISTANCE, MIN_QUALITY, PdqHash, as_bytes
from svidok.core.media.video import (
    FFPROBE_TIMEOUT_S,
    _ffmpeg_url,
    _picture_stream,
    _probe_duration_ms,
    _run_tool,
    _tool_message,
)

__all__ = [
    "COLLAPSE_DISTANCE",
    "FRAME_SIZE",
    "MATCH_THRESHOLD",
    "SIGNATURE_CANDIDATE_DISTANCE",
    "VideoFrame",
    "VideoHash",
    "VideoMatch",
    "hash_video",
    "is_match",
    "match_videos",
    "signature_of",
]

# Frames go to PDQ squeezed to a square: PDQ squeezes every image to 64×64 itself,
# so the aspect ratio is lost either way. On ThreatExchange's sample videos 384 px
# gave hashes within 4 bits (median) and 30 bits (worst) of vPDQ's full-size ones;
# 256 and 512 px were worse (18 and 6 bits median), 128 px matched vPDQ's own
# 128×128 mode (2 bits) but was 12 bits from the full-size hashes.
FRAME_SIZE = 384
COLLAPSE_DISTANCE = 8  # consecutive samples this close are one frame (vPDQ prunes too)
MATCH_THRESHOLD = 0.8  # ThreatExchange: a video matches when 80 % of its frames match
SIGNATURE_CANDIDATE_DISTANCE = 80  # TMK samples: matching videos <= 61 bits apart, others >= 87
DEFAULT_SECONDS_PER_FRAME = 1.0  # vPDQ's default sampling rate
MIN_INTERVAL_MS = 10
MAX_INTERVAL_MS = 3_600_000
FFMPEG_BASE_TIMEOUT_S = 180.0
FFMPEG_TIMEOUT_PER_VIDEO_S = 4.0  # decoding may be four times slower than real time
STDERR_TAIL_BYTES = 8192
_HEX_DIGITS = "0123456789abcdefABCDEF"
_MATCH_CHUNK_CELLS = 1 << 18  # query×target cells compared at once: bounds the memory


@dataclass(frozen=True, slots=True)
class VideoFrame:
    """A kept frame: its PDQ hash, when it first appears, and how many samples it
    stands for (the samples collapsed into it)."""

    ms: int
    pdq: PdqHash
    count: int = 1

    def to_json(self) -> dict[str, object]:
        return {"ms": self.ms, "pdq": self.pdq.hex, "quality": self.pdq.quality,
                "count": self.count}


@dataclass(frozen=True, slots=True)
class VideoHash:
    """The frame hashes of a video, in time order, with its whole-video signature.

    ``decode_error`` holds ffmpeg's complaint when the video broke off part-way
    and only the frames before the break were hashed.
    """

    frames: tuple[VideoFrame, ...]
    signature: str
    duration_ms: int | None
    interval_ms: int
    decode_error: str | None = None

    @property
    def sampled_frames(self) -> int:
        """How many frames were sampled before collapsing."""
        return sum(frame.count for frame in self.frames)

    def to_json(self) -> dict[str, object]:
        """Plain JSON data (no floats), for item metadata and ``--json`` output."""
        data: dict[str, object] = {
            "kind": "video",
            "frames": [frame.to_json() for frame in self.frames],
            "signature": self.signature,
            "duration_ms": self.duration_ms,
            "interval_ms": self.interval_ms,
        }
        if self.decode_error is not None:
            data["decode_error"] = self.decode_error
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> VideoHash:
        """The inverse of :meth:`to_json`; raises :class:`InvalidInput` on malformed data."""
        if data.get("kind") != "video":
            raise InvalidInput(f"expected a video hash, got kind {data.get('kind')!r}")
        frames = data.get("frames")
        if not isinstance(frames, list) or not frames:
            raise InvalidInput("a video hash needs a non-empty list of frames")
        duration = data.get("duration_ms")
        error = data.get("decode_error")
        if error is not None and not isinstance(error, str):
            raise InvalidInput(f"decode_error must be text, got {error!r}")
        return cls(
            frames=tuple(_frame_from_json(frame) for frame in frames),
            signature=_checked_hex(data.get("signature"), "signature"),
            duration_ms=None if duration is None else _checked_int(duration, "duration_ms", 0),
            interval_ms=_checked_int(data.get("interval_ms"), "interval_ms", MIN_INTERVAL_MS),
            decode_error=error,
        )


@dataclass(frozen=True, slots=True)
class VideoMatch:
    """How much of each video was found in the other (distinct matchable frames)."""

    query_matched: int
    query_frames: int
    target_matched: int
    target_frames: int

    @property
    def query_share(self) -> float:
        """Fraction of the query's frames that have a match in the target."""
        return self.query_matched / self.query_frames if self.query_frames else 0.0

    @property
    def target_share(self) -> float:
        """Fraction of the target's frames that have a match in the query."""
        return self.target_matched / self.target_frames if self.target_frames else 0.0

    def swapped(self) -> VideoMatch:
        """The same comparison seen from the target's side."""
        return VideoMatch(self.target_matched, self.target_frames,
                          self.query_matched, self.query_frames)


# --------------------------------------------------------------------------- hashing


def hash_video(
    path: str | os.PathLike[str],
    *,
    seconds_per_frame: float = DEFAULT_SECONDS_PER_FRAME,
    collapse_distance: int = COLLAPSE_DISTANCE,
    timeout_s: float | None = None,
    on_frame: Callable[[int], None] | None = None,
) -> VideoHash:
    """Hash a video file as a sequence of PDQ frame hashes (steps 1–5 above).

    ``on_frame`` is called with the time (ms) of each sampled frame, for progress.
    ``timeout_s`` defaults to FFMPEG_BASE_TIMEOUT_S plus four times the duration.

    Raises :class:`ExtractionError` for files that are empty, not video, audio
    only, or broken before the first frame; a video that breaks later is hashed
    up to the break and flagged in ``decode_error``.
    """
    interval_ms = _interval_ms(seconds_per_frame)
    source = Path(path)
    duration_ms = _probe_video(source)
    if timeout_s is None:
        timeout_s = FFMPEG_BASE_TIMEOUT_S + FFMPEG_TIMEOUT_PER_VIDEO_S * (duration_ms or 0) / 1000
    collapser = _Collapser(interval_ms, collapse_distance, on_frame)
    error = _decode(source, interval_ms=interval_ms, timeout_s=timeout_s, consume=collapser.add)
    if not collapser.frames:
        reason = f"ffmpeg said: {error}" if error else "the video has no decodable frames"
        raise ExtractionError(f"corrupt video: no frame could be decoded: {reason}",
                              reason="corrupt")
    frames = tuple(collapser.frames)
    return VideoHash(frames=frames, signature=signature_of(frames), duration_ms=duration_ms,
                     interval_ms=interval_ms, decode_error=error)


def _interval_ms(seconds_per_frame: float) -> int:
    if not math.isfinite(seconds_per_frame):
        raise ValueError(f"seconds_per_frame must be finite, got {seconds_per_frame}")
    interval = round(seconds_per_frame * 1000)
    if not MIN_INTERVAL_MS <= interval <= MAX_INTERVAL_MS:
        raise ValueError(f"seconds_per_frame must be {MIN_INTERVAL_MS / 1000}.."
                         f"{MAX_INTERVAL_MS // 1000} s, got {seconds_per_frame}")
    return interval


def _probe_video(path: Path) -> int | None:
    """The video's duration in ms (None when unknown), after checking it has pictures."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ExtractionError(f"cannot read file: {exc.strerror or exc}", reason="os") from exc
    if size == 0:
        raise ExtractionError("empty file: a video needs at least one frame", reason="empty")
    arguments: list[bytes | str] = [
        "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
        _ffmpeg_url(path),
    ]  # fmt: skip
    result = _run_tool("ffprobe", arguments, FFPROBE_TIMEOUT_S)
    if result.returncode != 0:
        message = _tool_message(result.stderr, path)
        raise ExtractionError(f"not a readable video: ffprobe said: {message}", reason="corrupt")
    try:
        probe = json.loads(result.stdout.decode("utf-8", "replace"), parse_float=str)
    except ValueError as exc:
        raise ExtractionError(f"ffprobe gave unreadable output: {exc}", reason="corrupt") from exc
    if not isinstance(probe, dict) or _picture_stream(probe) is None:
        raise ExtractionError("no video stream: the file holds no moving pictures "
                              "(sound only, or a still image)", reason="no-video")
    return _probe_duration_ms(probe)


class _Collapser:
    """Hashes frames as they arrive and collapses runs of near-identical ones."""

    def __init__(
        self, interval_ms: int, distance: int, on_frame: Callable[[int], None] | None
    ) -> None:
        self.frames: list[VideoFrame] = []
        self._interval_ms = interval_ms
        self._distance = distance
        self._on_frame = on_frame
        self._sampled = 0

    def add(self, pixels: np.ndarray) -> None:
        ms = self._sampled * self._interval_ms
        self._sampled += 1
        bits, quality = pdqhash.compute(pixels)
        pdq = PdqHash(bytes(np.packbits(bits.astype(np.uint8))).hex(), int(quality))
        last = self.frames[-1] if self.frames else None
        if last is not None and last.pdq.distance(pdq) <= self._distance:
            self.frames[-1] = VideoFrame(last.ms, last.pdq, last.count + 1)
        else:
            self.frames.append(VideoFrame(ms, pdq))
        if self._on_frame is not None:
            self._on_frame(ms)


def _decode(
    path: Path, *, interval_ms: int, timeout_s: float, consume: Callable[[np.ndarray], None]
) -> str | None:
    """Stream the sampled frames of one ffmpeg run to ``consume``.

    Returns ffmpeg's complaint when it failed part-way (None when it succeeded);
    raises :class:`ExtractionError` when it cannot start or runs out of time.
    """
    executable = shutil.which("ffmpeg")
    if executable is None:
        raise ExtractionError("ffmpeg not found: install ffmpeg", reason="missing")
    arguments: list[bytes | str] = [
        executable, "-nostdin", "-hide_banner", "-v", "error", "-i", _ffmpeg_url(path),
        "-map", "0:V:0",  # capital V: the first video stream that is not cover art
        "-vf", f"fps=1000/{interval_ms}:round=up,scale={FRAME_SIZE}:{FRAME_SIZE}:flags=area",
        "-pix_fmt", "rgb24", "-f", "rawvideo", "pipe:1",
    ]  # fmt: skip
    try:
        process = subprocess.Popen(
            arguments, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
    except OSError as exc:
        raise ExtractionError(f"ffmpeg could not be started: {exc}", reason="os") from exc
    with process:
        return pump_frames(process, path, timeout_s, lambda out: _read_frames(out, consume))


def pump_frames(
    process: subprocess.Popen[bytes],
    path: Path,
    timeout_s: float,
    read: Callable[[IO[bytes]], None],
) -> str | None:
    """Let ``read`` take ffmpeg's output until it ends; a timer kills ffmpeg when time
    runs out, and the stderr tail is drained by a thread so that a chatty ffmpeg never
    blocks. Returns ffmpeg's complaint when it failed part-way (None when it did not);
    raises ExtractionError on timeout. Shared by the vPDQ and TMK hashers."""
    assert process.stdout is not None and process.stderr is not None
    tail = bytearray()
    drainer = threading.Thread(target=_drain, args=(process.stderr, tail), daemon=True)
    timed_out = threading.Event()

    def kill() -> None:
        timed_out.set()
        process.kill()

    timer = threading.Timer(timeout_s, kill)
    drainer.start()
    timer.start()
    try:
        read(process.stdout)
        returncode = process.wait()
    finally:
        timer.cancel()
        if process.poll() is None:
            process.kill()
            process.wait()
        drainer.join()
    if timed_out.is_set():
        raise ExtractionError(f"ffmpeg did not finish within {timeout_s:g} s", reason="timeout")
    if returncode != 0:
        return _tool_message(bytes(tail), path)
    return None


def _read_frames(stdout: IO[bytes], consume: Callable[[np.ndarray], None]) -> None:
    frame_bytes = FRAME_SIZE * FRAME_SIZE * 3
    while True:
        chunk = stdout.read(frame_bytes)
        if len(chunk) < frame_bytes:  # the end, or a frame cut short by a dying ffmpeg
            return
        consume(np.frombuffer(chunk, dtype=np.uint8).reshape(FRAME_SIZE, FRAME_SIZE, 3))


def _drain(stream: IO[bytes], tail: bytearray) -> None:
    """Keep the last STDERR_TAIL_BYTES of a stream: its last lines say what went wrong."""
    for chunk in iter(lambda: stream.read(4096), b""):
        tail.extend(chunk)
        del tail[:-STDERR_TAIL_BYTES]


# --------------------------------------------------------------------------- signature


def signature_of(frames: tuple[VideoFrame, ...] | list[VideoFrame]) -> str:
    """A 256-bit whole-video signature: each bit is the majority of that bit over the
    matchable frames, weighted by how many samples each frame stands for.

    The signature is the hash of the video's "average frame". Copies of the whole
    video (re-encoded, rescaled, recoloured, with a bar or a small logo) keep it
    within SIGNATURE_CANDIDATE_DISTANCE bits, so a search by signature narrows
    the candidates for :func:`match_videos` cheaply. It cannot find a clip cut out
    of a longer video with different scenes, nor a video with long added
    material: their averages differ. Such searches need the frames themselves.
    """
    usable = [frame for frame in frames if frame.pdq.matchable] or list(frames)
    if not usable:
        raise ValueError("a signature needs at least one frame")
    bits = np.unpackbits(_hash_matrix([frame.pdq.hex for frame in usable]), axis=1)
    weights = np.array([frame.count for frame in usable], dtype=np.int64)
    ones = weights @ bits.astype(np.int64)
    majority = (2 * ones > weights.sum()).astype(np.uint8)
    return bytes(np.packbits(majority)).hex()


# --------------------------------------------------------------------------- matching


def match_videos(
    query: VideoHash,
    target: VideoHash,
    *,
    max_distance: int = MAX_DISTANCE,
    min_quality: int = MIN_QUALITY,
) -> VideoMatch:
    """Compare two videos as vPDQ does (python-threatexchange's brute matcher).

    Each video is a bag of distinct frame hashes of quality >= ``min_quality``
    (time and order are not used; a frame repeated or held counts once). A frame
    matches when some frame of the other video is within ``max_distance`` bits.
    Low-quality frames never match and do not count in the shares.
    """
    query_hashes = _distinct_matchable(query, min_quality)
    target_hashes = _distinct_matchable(target, min_quality)
    query_found, target_found = _found_in_each_other(query_hashes, target_hashes, max_distance)
    return VideoMatch(
        query_matched=int(query_found.sum()),
        query_frames=len(query_hashes),
        target_matched=int(target_found.sum()),
        target_frames=len(target_hashes),
    )


def is_match(
    query: VideoHash | VideoMatch,
    target: VideoHash | None = None,
    *,
    threshold: float = MATCH_THRESHOLD,
    either_way: bool = False,
) -> bool:
    """Whether the query is found in the target: query share >= ``threshold``.

    This is ThreatExchange's rule (80 % of the query, 0 % of the target), so a
    clip cut out of a longer video is found when the clip is the query, and a
    video with extra material appended still finds its source. ``either_way``
    also accepts the reverse (the target found in the query), for grouping
    copies without knowing which is the longer one.

    Takes a :class:`VideoMatch`, or two :class:`VideoHash` to compare at the
    default distance and quality.
    """
    if isinstance(query, VideoMatch):
        if target is not None:
            raise TypeError("give a VideoMatch alone, or a query and a target VideoHash")
        match = query
    elif target is None:
        raise TypeError("a target VideoHash is needed to compare with the query")
    else:
        match = match_videos(query, target)
    found = match.query_share >= threshold
    return found or (either_way and match.target_share >= threshold)


def _distinct_matchable(video: VideoHash, min_quality: int) -> np.ndarray:
    """The distinct hashes of the frames of sufficient quality, as an (n, 32) uint8 array."""
    hexes = sorted({frame.pdq.hex for frame in video.frames if frame.pdq.quality >= min_quality})
    return _hash_matrix(hexes)


def _found_in_each_other(
    query: np.ndarray, target: np.ndarray, max_distance: int
) -> tuple[np.ndarray, np.ndarray]:
    """For each query row and each target row: is some row of the other side within
    ``max_distance`` bits? Computed in chunks of query rows to bound the memory."""
    query_found = np.zeros(len(query), dtype=bool)
    target_found = np.zeros(len(target), dtype=bool)
    if len(query) == 0 or len(target) == 0:
        return query_found, target_found
    query_words, target_words = _as_words(query), _as_words(target)
    step = max(1, _MATCH_CHUNK_CELLS // len(target))
    for start in range(0, len(query), step):
        rows = query_words[start : start + step]
        xor = np.bitwise_xor(rows[:, None, :], target_words[None, :, :])
        close = np.bitwise_count(xor).sum(axis=2, dtype=np.int32) <= max_distance
        query_found[start : start + step] = close.any(axis=1)
        target_found |= close.any(axis=0)
    return query_found, target_found


def _as_words(hashes: np.ndarray) -> np.ndarray:
    """(n, 32) bytes as (n, 4) 64-bit words: an eighth of the elements to count."""
    return np.ascontiguousarray(hashes).view(np.uint64)


def _hash_matrix(hexes: list[str]) -> np.ndarray:
    data = b"".join(as_bytes(value) for value in hexes)
    return np.frombuffer(data, dtype=np.uint8).reshape(len(hexes), HASH_BITS // 8)


# --------------------------------------------------------------------------- JSON checks


def _frame_from_json(data: object) -> VideoFrame:
    if not isinstance(data, Mapping):
        raise InvalidInput(f"a video frame is an object, got {data!r}")
    return VideoFrame(
        ms=_checked_int(data.get("ms"), "ms", 0),
        pdq=PdqHash(_checked_hex(data.get("pdq"), "pdq"),
                    _checked_int(data.get("quality"), "quality", 0, 100)),
        count=_checked_int(data.get("count", 1), "count", 1),
    )


def _checked_int(value: object, name: str, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{name} must be a whole number, got {value!r}")
    if value < low or (high is not None and value > high):
        limit = f"{low}..{high}" if high is not None else f">= {low}"
        raise InvalidInput(f"{name} must be {limit}, got {value}")
    return value


def _checked_hex(value: object, name: str) -> str:
    digits = HASH_BITS // 4
    if not isinstance(value, str) or len(value) != digits or value.strip(_HEX_DIGITS):
        raise InvalidInput(f"{name} must be {digits} hex digits, got {value!r}")
    return value.lower()
