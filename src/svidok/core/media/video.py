"""Audio and video: ffprobe metadata, keyframes, and a contact sheet of them.

Each file costs one ``ffprobe`` and (for video) one ``ffmpeg`` process, which
extracts every keyframe in one run. Keyframes are previews (at most
KEYFRAME_MAX_SIDE pixels a side); the original keeps every pixel.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from svidok.core.errors import ExtractionError
from svidok.core.media.images import THUMBNAIL_QUALITY, discard, new_output
from svidok.core.media.metadata import json_safe, parse_duration_ms
from svidok.core.media.report import DerivedFile, Report

KEYFRAME_QUALITY = "3"  # ffmpeg's -q:v scale: 2 (best) .. 31
KEYFRAME_MAX_SIDE = 1280  # keyframes are previews; the original keeps every pixel
FFPROBE_TIMEOUT_S = 60.0
FFMPEG_TIMEOUT_S = 180.0


def _ffmpeg_url(path: Path) -> bytes:
    """An input/output name ffmpeg takes literally: no option, protocol or pattern parsing."""
    return b"file:" + os.fsencode(path)


def _tool_message(stderr: bytes, path: Path) -> str:
    """The last line of a tool's complaint, without the store path in it."""
    text = stderr.decode("utf-8", "replace")
    for name in (os.fsdecode(_ffmpeg_url(path)), os.fsdecode(path)):
        text = text.replace(name, "input")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no message"


def _run_tool(
    name: str, arguments: list[bytes | str], timeout: float
) -> subprocess.CompletedProcess[bytes]:
    """Run ffprobe/ffmpeg; raise ExtractionError for missing tool or timeout."""
    executable = shutil.which(name)
    if executable is None:
        raise ExtractionError(f"{name} not found: install ffmpeg", reason="missing")
    try:
        return subprocess.run(
            [executable, *arguments],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ExtractionError(
            f"{name} did not finish within {timeout:g} s", reason="timeout"
        ) from exc
    except OSError as exc:
        raise ExtractionError(f"{name} could not be started: {exc}", reason="os") from exc


def _probe(report: Report, kind: str) -> dict[str, Any] | None:
    """Run ffprobe and store its findings under metadata["ffprobe"]."""
    try:
        result = _run_tool(
            "ffprobe",
            [
                "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
                _ffmpeg_url(report.path),
            ],
            FFPROBE_TIMEOUT_S,
        )  # fmt: skip
    except ExtractionError as exc:
        timed_out = exc.extra.get("reason") == "timeout"
        report.error(f"corrupt {kind}: {exc.message}" if timed_out else exc.message)
        return None
    if result.returncode != 0:
        message = _tool_message(result.stderr, report.path)
        report.error(f"corrupt {kind}: ffprobe could not read the file: {message}")
        return None
    try:
        probe = json.loads(
            result.stdout.decode("utf-8", "replace"), parse_float=str, parse_constant=str
        )
    except ValueError as exc:
        report.error(f"corrupt {kind}: ffprobe gave unreadable output: {exc}")
        return None
    if not isinstance(probe, dict):
        report.error(f"corrupt {kind}: ffprobe gave unexpected output")
        return None
    format_section = probe.get("format")
    if isinstance(format_section, dict):
        format_section.pop("filename", None)  # the store's path, not the evidence's
    safe: dict[str, Any] = json_safe(probe)
    report.metadata["ffprobe"] = safe
    return safe


def _picture_stream(probe: dict[str, Any]) -> dict[str, Any] | None:
    """The first real video stream (cover art in audio files does not count)."""
    for stream in probe.get("streams", []):
        if not isinstance(stream, dict) or stream.get("codec_type") != "video":
            continue
        disposition = stream.get("disposition", {})
        if isinstance(disposition, dict) and disposition.get("attached_pic") == 1:
            continue
        return stream
    return None


def _probe_duration_ms(probe: dict[str, Any]) -> int | None:
    duration = parse_duration_ms(probe.get("format", {}).get("duration"))
    if duration:
        return duration
    streams = [s for s in probe.get("streams", []) if isinstance(s, dict)]
    durations = [d for s in streams if (d := parse_duration_ms(s.get("duration")))]
    return max(durations) if durations else None


def analyse_audio_video(report: Report, *, workdir: Path, keyframes: int, cell_size: int,
                        perceptual: bool = True) -> None:
    kind = "video" if report.media_type.startswith("video/") else "audio"
    probe = _probe(report, kind)
    if probe is None:
        return
    duration = _probe_duration_ms(probe)
    if duration is not None:
        report.summary["duration_ms"] = duration
    picture = _picture_stream(probe)
    has_audio = any(
        isinstance(s, dict) and s.get("codec_type") == "audio" for s in probe.get("streams", [])
    )
    if picture is None:
        # A sound recording in a video container (browser recordings are often
        # video/webm, and MP4 audio is often called video/mp4) is not corrupt.
        if not has_audio:
            report.error(f"corrupt {kind}: ffprobe found no {kind} stream")
        return
    for key in ("width", "height"):
        if isinstance(picture.get(key), int):
            report.summary[key] = picture[key]
    if perceptual:
        _video_hashes(report)
        _video_tmk(report, workdir)
    if keyframes < 1:
        return
    index = picture.get("index")
    if not isinstance(index, int):
        report.error("keyframes skipped: ffprobe gave no index for the video stream")
        return
    frames = _extract_keyframes(report, workdir, index, duration, keyframes)
    if frames:
        _make_contact_sheet(report, workdir, frames, cell_size)


def _video_hashes(report: Report) -> None:
    """The video's frame hashes (vPDQ) for near-duplicate search: one more decoding
    pass, at about 20 times real time on two cores; a failure flags, never loses."""
    from svidok.core.media.vpdq import hash_video  # vpdq builds on this module's helpers

    try:
        hashed = hash_video(report.path)
    except ExtractionError as exc:
        report.error(f"video hashes could not be computed: {exc.message}")
        return
    report.perceptual.update(hashed.to_json())
    if hashed.decode_error:
        report.error(f"video hashes cover only the frames before a decoding error: "
                     f"{hashed.decode_error}")


def _video_tmk(report: Report, workdir: Path) -> None:
    """The video's TMK+PDQF hash (whole-video matching, as ThreatExchange shares them):
    stored as a derived file in the reference ``.tmk`` format (263 kB), with its
    1 kB candidate vector (the normalised pure-average feature) in the metadata."""
    import base64

    from svidok.core.media.tmk import hash_video_tmk

    try:
        hashed = hash_video_tmk(report.path)
    except ExtractionError as exc:
        report.error(f"TMK video hash could not be computed: {exc.message}")
        return
    fd, name = tempfile.mkstemp(prefix="tmk-", suffix=".tmk", dir=workdir)
    with os.fdopen(fd, "wb") as out:
        out.write(hashed.to_tmk_bytes())
    report.derived.append(DerivedFile(kind="tmk", path=Path(name),
                                      media_type="application/x-tmk",
                                      details={"frames": hashed.frame_count}))
    report.perceptual["tmk"] = {
        "frames": hashed.frame_count,
        "vector": base64.b64encode(hashed.candidate_vector()).decode("ascii"),
    }
    if hashed.decode_error:
        report.error(f"TMK video hash covers only the frames before a decoding error: "
                     f"{hashed.decode_error}")


def _keyframe_times(duration_ms: int | None, count: int) -> list[int]:
    """Evenly spaced times, each in the middle of its slice (never at the very end)."""
    if not duration_ms:
        return [0]
    times = sorted({duration_ms * (2 * i + 1) // (2 * count) for i in range(count)})
    return times


def _seconds(milliseconds: int) -> str:
    return f"{milliseconds // 1000}.{milliseconds % 1000:03d}"


def _extract_keyframes(
    report: Report, workdir: Path, stream_index: int, duration_ms: int | None, count: int
) -> list[DerivedFile]:
    """Extract frames at evenly spaced times, one single-threaded ffmpeg run each.

    One run with an input per frame held all the decoders at once (about 250 MB
    for 1080p, 650 MB for 4K); one frame at a time with one decoder thread stays
    near 75 MB (1080p) and 130 MB (4K), whatever the length of the video.
    """
    scale = (
        f"scale=w='min({KEYFRAME_MAX_SIDE},iw)':h='min({KEYFRAME_MAX_SIDE},ih)'"
        ":force_original_aspect_ratio=decrease"
    )
    frames: list[DerivedFile] = []
    for time_ms in _keyframe_times(duration_ms, count):
        try:
            output = new_output(workdir, "keyframe")
        except OSError as exc:
            report.error(f"keyframe extraction failed: no room for the frames: {exc}")
            break
        arguments: list[bytes | str] = [
            "-nostdin", "-hide_banner", "-v", "error", "-y", "-threads", "1",
            # -ss before -i seeks the input (fast, and accurate when transcoding).
            "-ss", _seconds(time_ms), "-i", _ffmpeg_url(report.path),
            "-map", f"0:{stream_index}", "-frames:v", "1", "-vf", scale,
            "-filter_threads", "1", "-q:v", KEYFRAME_QUALITY, "-f", "image2", "-update", "1",
            _ffmpeg_url(output),
        ]  # fmt: skip
        try:
            result = _run_tool("ffmpeg", arguments, FFMPEG_TIMEOUT_S)
        except ExtractionError as exc:
            report.error(f"keyframe extraction failed: {exc.message}")
            discard(output)
            break
        if result.returncode != 0:
            message = _tool_message(result.stderr, report.path)
            report.error(f"keyframe at {time_ms} ms: ffmpeg said: {message}")
        frame = _checked_frame(output, time_ms)
        if frame is None:
            discard(output)
            report.error(f"keyframe at {time_ms} ms: ffmpeg produced no usable frame")
            continue
        frames.append(frame)
    report.derived.extend(frames)
    return frames


def _checked_frame(output: Path, time_ms: int) -> DerivedFile | None:
    """The frame at ``output`` if it is a whole JPEG, else None."""
    try:
        if output.stat().st_size == 0:
            return None
        with Image.open(output) as image:
            image.load()  # a frame cut short by a failing ffmpeg must not pass
            width, height = image.size
    except Exception:
        return None
    return DerivedFile(
        kind="keyframe",
        path=output,
        media_type="image/jpeg",
        details={"time_ms": time_ms, "width": width, "height": height},
    )


def _make_contact_sheet(
    report: Report, workdir: Path, frames: list[DerivedFile], cell_size: int
) -> None:
    """Lay the keyframes out in a grid, each labelled with its time."""
    try:
        sheet, columns, rows = _compose_sheet(frames, cell_size)
        output = new_output(workdir, "contact_sheet")
        try:
            sheet.save(output, "JPEG", quality=THUMBNAIL_QUALITY)
        except Exception:
            discard(output)
            raise
    except Exception as exc:
        report.error(f"contact sheet failed: {exc}")
        return
    report.derived.append(
        DerivedFile(
            kind="contact_sheet",
            path=output,
            media_type="image/jpeg",
            details={
                "width": sheet.width,
                "height": sheet.height,
                "columns": columns,
                "rows": rows,
                "times_ms": [frame.details["time_ms"] for frame in frames],
            },
        )
    )


def _compose_sheet(frames: list[DerivedFile], cell_size: int) -> tuple[Image.Image, int, int]:
    gap = 4
    columns = math.ceil(math.sqrt(len(frames)))
    rows = math.ceil(len(frames) / columns)
    first_width, first_height = frames[0].details["width"], frames[0].details["height"]
    cell_width = cell_size
    cell_height = max(1, min(cell_size * 2, cell_size * first_height // max(1, first_width)))
    sheet = Image.new(
        "RGB",
        (columns * cell_width + (columns + 1) * gap, rows * cell_height + (rows + 1) * gap),
        (24, 24, 24),
    )
    draw = ImageDraw.Draw(sheet)
    font = _label_font(max(10, cell_width // 16))
    for number, frame in enumerate(frames):
        with Image.open(frame.path) as image:
            cell = image.convert("RGB")
            cell.thumbnail((cell_width, cell_height), Image.Resampling.BILINEAR)
        row, column = divmod(number, columns)
        left = gap + column * (cell_width + gap) + (cell_width - cell.width) // 2
        top = gap + row * (cell_height + gap) + (cell_height - cell.height) // 2
        sheet.paste(cell, (left, top))
        label = _clock(frame.details["time_ms"])
        box = draw.textbbox((left + 4, top + 4), label, font=font)
        draw.rectangle((box[0] - 2, box[1] - 2, box[2] + 2, box[3] + 2), fill=(0, 0, 0))
        draw.text((left + 4, top + 4), label, fill=(255, 255, 255), font=font)
    return sheet, columns, rows


def _label_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except Exception:  # Pillow built without FreeType: the fixed bitmap font will do
        return ImageFont.load_default()


def _clock(milliseconds: int) -> str:
    minutes, rest = divmod(milliseconds, 60_000)
    hours, minutes = divmod(minutes, 60)
    seconds = _seconds(rest).zfill(6)
    return f"{hours}:{minutes:02d}:{seconds}" if hours else f"{minutes:02d}:{seconds}"
