"""Video hashing speed: vPDQ frame hashes and TMK+PDQF, over ThreatExchange's sample clips.

The issue asks for the frames per second of video hashing to be measured
(no target). Measured: :func:`svidok.core.media.vpdq.hash_video` (a frame a
second, PDQ each) and :func:`svidok.core.media.tmk.hash_video_tmk` (15 frames
a second at 64 × 64, PDQF each) over the 13 sample clips, as seconds of video
hashed per second of wall time and frames hashed per second.

Baseline, same run, same clips: ``ffmpeg`` decoding each clip with the same
sampling filter into nothing (``-f null``): the decoding the hashes cannot
avoid. The ratio is the hashing's speed as a share of decoding alone.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from benchmarks._common import REPO, Context, Result, say

NAME = "video_hashes"
DESCRIPTION = "video hashing speed: vPDQ and TMK over the sample clips (measured, no target)"


def _samples() -> list[Path]:
    shared = Path(os.environ.get("SVIDOK_SHARED_DATA", REPO.parent / "shared" / "data"))
    folder = shared / "media" / "threatexchange" / "tmk" / "sample-videos"
    return sorted(folder.glob("*.mp4")) if folder.is_dir() else []


def _decode_only(path: Path, video_filter: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-map", "0:V:0",
                    "-vf", video_filter, "-f", "null", "-"], check=True, timeout=600)


def run(ctx: Context) -> list[Result]:
    from svidok.core.media.tmk import hash_video_tmk
    from svidok.core.media.vpdq import hash_video

    clips = _samples()
    if not clips:
        print("SKIPPED: no TMK sample videos under the shared data (set SVIDOK_SHARED_DATA)")
        return []
    if ctx.quick:
        clips = clips[:3]
    results = []
    for label, hasher, video_filter in (
        ("vPDQ (1 frame/s, PDQ)", hash_video, "fps=1:round=up,scale=384:384:flags=area"),
        ("TMK+PDQF (15 frames/s, 64 x 64)", hash_video_tmk, "fps=15,scale=64:64"),
    ):
        frames = 0
        video_s = 0.0
        started = time.perf_counter()
        for clip in clips:
            hashed = hasher(clip)
            frames += getattr(hashed, "sampled_frames", None) or getattr(hashed, "frame_count", 0)
            video_s += (getattr(hashed, "duration_ms", None) or 0) / 1000
        hash_s = time.perf_counter() - started
        started = time.perf_counter()
        for clip in clips:
            _decode_only(clip, video_filter)
        decode_s = time.perf_counter() - started
        if not video_s:  # TMK keeps no duration: the clips are the same
            video_s = results[0].extra["video_s"] if results else 0.0
        say(f"{label}: {frames} frames, {video_s:.0f} s of video in {hash_s:.1f} s "
            f"(decoding alone {decode_s:.1f} s)")
        results.append(ctx.record(Result(
            NAME, f"{label}: seconds of video per second", video_s / hash_s, "x real time",
            None, ">=", "(measured)", video_s / decode_s,
            "ffmpeg decoding the same clips with the same sampling, output discarded",
            {"frames": frames, "frames_per_s": frames / hash_s, "video_s": video_s,
             "clips": len(clips), "hash_s": hash_s, "decode_s": decode_s})))
        results.append(ctx.record(Result(
            NAME, f"{label}: frames hashed per second", frames / hash_s, "frames/s",
            None, ">=", "(measured)", None, "", {})))
    return results
