"""Ingest of large files: throughput against plain copying, and memory against file size.

Targets (from the issue):

* ingesting 2 GB of large files (4 x 512 MiB of incompressible bytes) runs
  at no less than 75 % of the throughput of copying and SHA-256-hashing the
  same files with the standard library, the copy fsynced (the store fsyncs);
* a 10 GB video ingests in under 200 MB of resident memory. Shown here by
  ingesting, each into a fresh instance, one 512 MiB and one 2 GiB file of
  random bytes (the store's path: read, hash, fsync) and one 512 MiB and
  one 2 GiB 1080p H.264 video (the same plus ffprobe and the ffmpeg that
  extracts keyframes): the peak RSS must stay under 200 MB and must not grow
  with the file size. The baseline is the peak RSS of ingesting a 1 MiB file
  the same way, so a ratio near 1.0 means the memory does not depend on the
  size.

Peak RSS is ``ru_maxrss`` of the ``svidok`` process from ``wait4``: the peak of
the largest single process of its tree (the Python process, or an exiftool,
ffprobe or ffmpeg child if one was larger). The Python process's own peak
(VmHWM, sampled) is in the JSON extras as ``own_peak_mb``.

The baseline copy and the ingest alternate three times (once with --quick)
and the medians count, so a slow moment of the disk hits both alike. The
files are read once beforehand so that both find them in the page cache, and
before each contender the disk is synced and the machine pauses (6 s; see
``_common.settle``), so that both write into cold memory: on a VM that hands
freed memory back to its host, whoever wrote right after a big deletion
would otherwise run up to twice as fast as the other.
--quick uses 4 x 32 MiB, and 32 MiB / 128 MiB single files and videos. The
videos are made once with ffmpeg (a noisy 10 s clip at about 150 Mbit/s,
looped without re-encoding) and cached with the other data.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from benchmarks._common import (
    MB,
    BenchError,
    Context,
    MiB,
    Result,
    Run,
    cache_dir,
    link_folder,
    median,
    median_run,
    say,
    stdlib_copy_hash,
    warm,
    write_atomically,
)

NAME = "ingest_large"
DESCRIPTION = "svidok ingest of 4 x 512 MiB (>= 75% of stdlib copy+hash) and RSS vs file size"

TARGET_RATIO = 0.75
TARGET_RSS_MB = 200.0
CACHE_NAME = "large-random-v1"


def random_file(size: int, name: str) -> Path:
    """A cached file of ``size`` incompressible bytes."""
    path = cache_dir(CACHE_NAME) / name
    if path.exists() and path.stat().st_size == size:
        return path
    say(f"generating {size // MiB} MiB of random bytes into {path} (once; reused later)")

    def write(out: object) -> None:
        left = size
        while left:
            chunk = os.urandom(min(left, 16 * MiB))
            out.write(chunk)  # type: ignore[attr-defined]
            left -= len(chunk)

    write_atomically(path, write)
    return path


def video_file(size: int) -> Path:
    """A cached 1080p H.264 video of about ``size`` bytes (a noisy 10 s clip, looped)."""
    folder = cache_dir(CACHE_NAME)
    path = folder / f"video-1080p-{size // MiB}MiB.mp4"
    if path.exists():
        return path
    clip = folder / "clip-1080p-10s.mp4"
    ffmpeg = ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y"]
    if not clip.exists():
        say(f"generating a 10 s 1080p H.264 clip into {clip} (once; reused later)")
        partial = clip.with_name(f".{clip.name}.partial")
        subprocess.run(
            [*ffmpeg, "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30:duration=10",
             "-vf", "noise=alls=12:allf=t", "-c:v", "libx264", "-preset", "ultrafast",
             "-crf", "20", "-pix_fmt", "yuv420p", "-movflags", "+faststart", "-f", "mp4",
             str(partial)],
            check=True,
        )  # fmt: skip
        os.replace(partial, clip)
    say(f"looping it into a {size // MiB} MiB video {path} (once; reused later)")
    partial = path.with_name(f".{path.name}.partial")
    subprocess.run(
        [*ffmpeg, "-stream_loop", "-1", "-i", str(clip), "-c", "copy", "-fs", str(size),
         "-movflags", "+faststart", "-f", "mp4", str(partial)],
        check=True,
    )  # fmt: skip
    os.replace(partial, path)
    return path


def run(ctx: Context) -> list[Result]:
    part_size = (32 if ctx.quick else 512) * MiB
    big_size = (128 if ctx.quick else 2048) * MiB
    parts = [random_file(part_size, f"part-{part_size // MiB}MiB-{n}.bin") for n in range(4)]
    small = parts[0]
    big = random_file(big_size, f"single-{big_size // MiB}MiB.bin")
    tiny = random_file(1 * MiB, "single-1MiB.bin")
    total = sum(path.stat().st_size for path in parts)
    folder = link_folder(parts, ctx.scratch("large") / "files")
    warm([*parts, big, tiny])

    # Baseline and product alternate, so a slow moment of the disk hits both alike.
    baselines: list[float] = []
    runs: list[Run] = []
    for attempt in range(1, ctx.repeats + 1):
        say(
            f"[{attempt}/{ctx.repeats}] baseline: stdlib copy + SHA-256 + fsync of "
            f"4 x {part_size // MiB} MiB"
        )
        ctx.settle()
        baselines.append(stdlib_copy_hash(parts, ctx.scratch("large-copy")).wall_s)
        with ctx.instance("large") as instance:
            if attempt == 1:  # what any ingest costs before its first byte: start-up
                empty = ctx.scratch("large-empty")
                fixed_s = instance.ingest(empty, collection="bench-large")[0].wall_s
            say(f"[{attempt}/{ctx.repeats}] svidok ingest of 4 x {part_size // MiB} MiB")
            ctx.settle()
            ingest, summary, _ = instance.ingest(folder, collection="bench-large")
        if summary["new"] != 4 or summary["error"]:
            raise BenchError(f"expected 4 new files and no errors, got {summary}")
        runs.append(ingest)
    ingest = median_run(runs)
    baseline_s = median(baselines)

    throughput = total / ingest.wall_s / MB
    baseline = total / baseline_s / MB
    results = [
        Result(
            benchmark=NAME,
            figure=f"ingest 4 x {part_size // MiB} MiB",
            value=throughput,
            unit="MB/s",
            target=TARGET_RATIO * baseline,
            target_op=">=",
            target_text=f">= 75% of baseline ({TARGET_RATIO * baseline:.0f} MB/s)",
            baseline=baseline,
            baseline_label="stdlib copy + SHA-256 + fsync of the same files (MB/s)",
            extra={
                "bytes": total,
                "wall_s": round(ingest.wall_s, 3),
                "cpu_s": round(ingest.cpu_s, 3),
                "peak_rss_mb": round(ingest.maxrss_bytes / MB, 1),
                "repeats": ctx.repeats,
                "empty_ingest_s": round(fixed_s, 3),
                "wall_s_all": [round(r.wall_s, 3) for r in runs],
                "baseline_s_all": [round(b, 3) for b in baselines],
            },
        )
    ]

    cases = [
        ("1 MiB file", tiny),
        (f"{part_size // MiB} MiB file", small),
        (f"{big_size // MiB} MiB file", big),
    ]
    if shutil.which("ffmpeg") is None:
        say("warning: ffmpeg is not installed; the video cases are skipped (make system-deps)")
    else:
        cases += [
            (f"{part_size // MiB} MiB video", video_file(part_size)),
            (f"{big_size // MiB} MiB video", video_file(big_size)),
        ]
        warm([path for _, path in cases[3:]])
    peaks = {}
    for label, path in cases:
        with ctx.instance("rss") as instance:
            say(f"svidok ingest of one {label} (peak memory)")
            ctx.settle()
            ingest, summary, lines = instance.ingest(path, collection="bench-rss")
        if summary["new"] != 1 or summary["error"]:
            raise BenchError(f"expected 1 new file and no errors, got {summary}")
        problems = lines[0].get("extraction_errors", [])
        if problems and label.endswith("video"):  # random bytes are rightly "unrecognised"
            say(f"warning: {label} flagged: {problems}")
        peaks[label] = (path.stat().st_size, ingest, lines[0].get("media_type"), problems)
    tiny_label, *sized = peaks
    reference = peaks[tiny_label][1].maxrss_bytes / MB
    for label in sized:
        file_bytes, ingest, media_type, problems = peaks[label]
        results.append(
            Result(
                benchmark=NAME,
                figure=f"peak RSS, one {label}",
                value=ingest.maxrss_bytes / MB,
                unit="MB",
                target=TARGET_RSS_MB,
                target_op="<",
                target_text=f"< {TARGET_RSS_MB:.0f} MB, flat in size",
                baseline=reference,
                baseline_label="peak RSS of ingesting one 1 MiB file the same way (MB)",
                extra={
                    "file_bytes": file_bytes,
                    "media_type": media_type,
                    "extraction_errors": problems,
                    # the svidok process alone; the figure is the largest process of its tree
                    "own_peak_mb": round(ingest.own_peak_bytes / MB, 1),
                    "wall_s": round(ingest.wall_s, 3),
                    "throughput_mb_s": round(file_bytes / ingest.wall_s / MB, 1),
                },
            )
        )
    return [ctx.record(result) for result in results]
