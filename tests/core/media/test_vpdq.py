"""vPDQ-style video hashes: agreement with ThreatExchange, grouping of its sample
videos, clips found in longer videos, and bad input that never crashes."""

from __future__ import annotations

import itertools
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tests.conftest import shared_data

from svidok.core.errors import ExtractionError, InvalidInput
from svidok.core.media.pdq import PdqHash, hamming
from svidok.core.media.vpdq import (
    SIGNATURE_CANDIDATE_DISTANCE,
    VideoFrame,
    VideoHash,
    VideoMatch,
    hash_video,
    is_match,
    match_videos,
    signature_of,
)

THREATEXCHANGE = shared_data() / "media" / "threatexchange"
SAMPLE_VIDEOS = THREATEXCHANGE / "tmk" / "sample-videos"
SAMPLE_HASHES = THREATEXCHANGE / "vpdq" / "sample-hashes"
# Measured at 1 frame/s on the 14 sample videos: median 4 bits, worst 16.
REFERENCE_TOLERANCE = 24

needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed")
needs_samples = pytest.mark.skipif(
    not SAMPLE_VIDEOS.is_dir() or not SAMPLE_HASHES.is_dir(),
    reason=f"no ThreatExchange sample videos under {THREATEXCHANGE} (SVIDOK_SHARED_DATA)",
)


def ffmpeg(*arguments: str | Path) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *map(str, arguments)],
                   check=True, timeout=60)


def slideshow(path: Path, seed: int, seconds: int, *, size: str = "320x240") -> Path:
    """A video showing a different smooth random picture each second (25 fps), changing
    half-way between whole seconds so that no sample lands on a cut."""
    rng = np.random.default_rng(seed)
    width, height = map(int, size.split("x"))
    pictures = [
        np.asarray(Image.fromarray(rng.integers(0, 256, (12, 16, 3), dtype=np.uint8))
                   .resize((width, height), Image.Resampling.BICUBIC))
        for _ in range(seconds)
    ]
    raw = b"".join(pictures[min(seconds - 1, (number + 12) // 25)].tobytes()
                   for number in range(25 * seconds))
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
         "-s", size, "-r", "25", "-i", "pipe:0", "-c:v", "libx264", "-preset", "ultrafast",
         "-pix_fmt", "yuv420p", str(path)],
        input=raw, check=True, timeout=60,
    )
    return path


def frame(ms: int, hex_hash: str, quality: int = 100, count: int = 1) -> VideoFrame:
    return VideoFrame(ms, PdqHash(hex_hash, quality), count)


def video(*frames: VideoFrame) -> VideoHash:
    return VideoHash(frames, signature_of(frames), duration_ms=None, interval_ms=1000)


def random_hashes(seed: int, count: int) -> list[str]:
    rng = np.random.default_rng(seed)
    return [bytes(rng.integers(0, 256, 32, dtype=np.uint8)).hex() for _ in range(count)]


def flip(hex_hash: str, bits: int) -> str:
    """The hash with its lowest ``bits`` bits inverted."""
    return f"{int(hex_hash, 16) ^ ((1 << bits) - 1):064x}"


# --------------------------------------------------------------------------- reference data


@pytest.fixture(scope="module")
def sample_hashes() -> dict[str, VideoHash]:
    """Every ThreatExchange sample video hashed at the defaults (about 10 s in all)."""
    if not SAMPLE_VIDEOS.is_dir():
        pytest.skip("no sample videos")
    return {path.stem: hash_video(path) for path in sorted(SAMPLE_VIDEOS.glob("*.mp4"))}


def reference(name: str) -> list[tuple[int, str]]:
    """ThreatExchange's vPDQ hashes of every frame: (ms, hex) per line of
    ``frame,quality,hash,seconds``."""
    rows = []
    for line in (SAMPLE_HASHES / f"{name}.txt").read_text().split():
        _, _, hex_hash, seconds = line.split(",")
        rows.append((round(float(seconds) * 1000), hex_hash))
    return rows


@pytest.mark.slow
@needs_ffmpeg
@needs_samples
class TestThreatExchangeSamples:
    def test_frames_agree_with_the_published_vpdq_hashes(self, sample_hashes):
        distances = []
        for name, hashed in sample_hashes.items():
            published = reference(name)
            for kept in hashed.frames:
                ms, expected = min(published, key=lambda row: abs(row[0] - kept.ms))
                assert abs(ms - kept.ms) <= 20, f"{name}: no published frame at {kept.ms} ms"
                distances.append(hamming(kept.pdq.hex, expected))
        assert len(distances) > 150
        assert max(distances) <= REFERENCE_TOLERANCE
        assert np.median(distances) <= 8

    def test_variants_group_by_scene_and_never_across(self, sample_hashes):
        def scene(name: str) -> str:
            return name.split("-")[0]

        videos = {k: v for k, v in sample_hashes.items() if not k.startswith("test-")}
        for a, b in itertools.combinations(videos, 2):
            match = match_videos(videos[a], videos[b])
            if scene(a) != scene(b):
                assert match.query_share == match.target_share == 0.0, (a, b)
        chairs = ["chair-20-sd-bar", "chair-22-sd-grey-bar", "chair-22-sd-sepia-bar",
                  "chair-22-with-small-logo-bar", "chair-orig-22-sd-bar"]
        patterns = ["pattern-sd-grey-bar", "pattern-sd-with-small-logo-bar"]
        for group in (chairs, patterns):
            for a, b in itertools.permutations(group, 2):
                assert is_match(videos[a], videos[b]), (a, b)
        assert not any(is_match(videos["doorknob-hd-no-bar"], videos[other], either_way=True)
                       for other in videos if other != "doorknob-hd-no-bar")
        # As in ThreatExchange's own vPDQ results, a large logo hides too much of
        # the picture for PDQ: that variant stands alone.
        assert not is_match(videos["chair-22-with-large-logo-bar"], videos["chair-orig-22-sd-bar"],
                            either_way=True)

    def test_signatures_of_matching_videos_are_close(self, sample_hashes):
        grey, sepia = sample_hashes["chair-22-sd-grey-bar"], sample_hashes["chair-22-sd-sepia-bar"]
        assert hamming(grey.signature, sepia.signature) <= SIGNATURE_CANDIDATE_DISTANCE
        doorknob = sample_hashes["doorknob-hd-no-bar"]
        assert hamming(grey.signature, doorknob.signature) > SIGNATURE_CANDIDATE_DISTANCE

    def test_json_round_trip(self, sample_hashes):
        hashed = sample_hashes["pattern-longer-no-bar"]
        data = hashed.to_json()
        assert data["kind"] == "video" and len(data["signature"]) == 64
        assert data["frames"][0] == {"ms": 0, "pdq": hashed.frames[0].pdq.hex,
                                     "quality": hashed.frames[0].pdq.quality, "count": 1}
        assert 7000 < data["duration_ms"] < 9000
        assert VideoHash.from_json(data) == hashed


# --------------------------------------------------------------------------- hashing


@needs_ffmpeg
class TestHashVideo:
    def test_a_clip_cut_out_of_a_longer_video_is_found(self, tmp_path):
        long = hash_video(slideshow(tmp_path / "long.mp4", seed=1, seconds=12))
        ffmpeg("-ss", "4", "-i", tmp_path / "long.mp4", "-t", "5", "-vf", "scale=240:180",
               "-c:v", "libx264", "-preset", "ultrafast", tmp_path / "clip.mp4")
        clip = hash_video(tmp_path / "clip.mp4")
        other = hash_video(slideshow(tmp_path / "other.mp4", seed=2, seconds=6))

        match = match_videos(clip, long)
        assert match.query_share >= 0.8
        assert match.target_share <= 0.6
        assert is_match(match)
        assert not is_match(match_videos(long, clip))
        assert is_match(match_videos(long, clip), either_way=True)
        assert match_videos(other, long).query_share == 0.0
        assert not is_match(other, long, either_way=True)

    def test_frames_are_sampled_collapsed_and_reported(self, tmp_path):
        path = tmp_path / "still.mp4"
        ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=10:duration=3",
               "-f", "lavfi", "-i", "color=c=gray:size=320x240:rate=10:duration=4",
               "-filter_complex", "[0][1]concat=n=2", "-c:v", "libx264", path)
        seen: list[int] = []
        hashed = hash_video(path, on_frame=seen.append)
        assert seen[:4] == [0, 1000, 2000, 3000]
        assert hashed.sampled_frames == len(seen)
        grey = hashed.frames[-1]
        assert grey.count >= 4 and grey.ms == 3000 and not grey.pdq.matchable
        assert hashed.duration_ms == 7000
        assert hashed.decode_error is None

    def test_a_one_frame_video_and_a_name_like_an_option(self, tmp_path):
        path = tmp_path / "-i.mp4"
        ffmpeg("-f", "lavfi", "-i", "testsrc=size=160x120:rate=1", "-frames:v", "1",
               "file:" + str(path))
        hashed = hash_video(path)
        assert len(hashed.frames) == 1 and hashed.frames[0].ms == 0

    def test_rotation_metadata_is_applied(self, tmp_path):
        plain = slideshow(tmp_path / "plain.mp4", seed=3, seconds=3)
        rotated = tmp_path / "rotated.mp4"
        # A rotate=90 tag (ffprobe: rotation=90) is shown as transpose=cclock shows it.
        ffmpeg("-i", plain, "-c", "copy", "-metadata:s:v:0", "rotate=90", rotated)
        turned = tmp_path / "turned.mp4"
        ffmpeg("-i", plain, "-vf", "transpose=cclock", "-c:v", "libx264", turned)
        assert is_match(hash_video(rotated), hash_video(turned))
        assert not is_match(hash_video(rotated), hash_video(plain))

    @pytest.mark.parametrize("content, reason", [
        (b"", "empty"),
        (b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40, "corrupt"),
    ], ids=["zero-length", "garbage"])
    def test_unreadable_files_raise_a_clear_error(self, tmp_path, content, reason):
        path = tmp_path / "broken.mp4"
        path.write_bytes(content)
        with pytest.raises(ExtractionError) as caught:
            hash_video(path)
        assert caught.value.extra["reason"] == reason
        assert str(tmp_path) not in caught.value.message

    def test_audio_only_is_not_video(self, tmp_path):
        path = tmp_path / "sound.m4a"
        ffmpeg("-f", "lavfi", "-i", "sine=duration=2", path)
        with pytest.raises(ExtractionError, match="no video stream") as caught:
            hash_video(path)
        assert caught.value.extra["reason"] == "no-video"

    def test_a_truncated_video_is_hashed_up_to_the_break_or_refused(self, tmp_path):
        whole = tmp_path / "whole.mp4"
        ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=8",
               "-c:v", "libx264", "-movflags", "+faststart", whole)
        cut = tmp_path / "cut.mp4"
        cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
        hashed = hash_video(cut)  # the index is whole, half the frames are missing
        assert 1 <= hashed.sampled_frames < 8
        tail_first = tmp_path / "tail-first.mp4"  # index at the end: nothing is readable
        ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=4",
               "-c:v", "libx264", tail_first)
        tail_first.write_bytes(tail_first.read_bytes()[:4000])
        with pytest.raises(ExtractionError):
            hash_video(tail_first)

    def test_a_slow_decode_times_out(self, tmp_path):
        path = slideshow(tmp_path / "v.mp4", seed=4, seconds=2)
        with pytest.raises(ExtractionError, match="did not finish") as caught:
            hash_video(path, timeout_s=0.001)
        assert caught.value.extra["reason"] == "timeout"

    def test_nonsense_sampling_is_refused(self, tmp_path):
        with pytest.raises(ValueError):
            hash_video(tmp_path / "x.mp4", seconds_per_frame=0)


# --------------------------------------------------------------------------- matching


class TestMatchVideos:
    def test_shares_count_distinct_matchable_frames(self):
        a, b, c, d = random_hashes(1, 4)
        query = video(frame(0, a), frame(1000, b), frame(2000, a), frame(3000, c, quality=20))
        target = video(frame(0, flip(a, 31)), frame(1000, d), frame(2000, flip(c, 1)))
        match = match_videos(query, target)
        assert (match.query_matched, match.query_frames) == (1, 2)  # a twice, c too poor
        assert (match.target_matched, match.target_frames) == (1, 3)
        assert match.query_share == 0.5 and match.swapped().target_share == 0.5
        assert match_videos(query, video(frame(0, flip(a, 32)))).query_share == 0.0

    def test_low_quality_frames_never_match(self):
        (a,) = random_hashes(2, 1)
        poor = video(frame(0, a, quality=49))
        match = match_videos(poor, poor)
        assert match == VideoMatch(0, 0, 0, 0) and match.query_share == 0.0
        assert not is_match(poor, poor, either_way=True)

    def test_vectorised_matching_agrees_with_brute_force(self):
        base = random_hashes(3, 300)
        rng = np.random.default_rng(3)
        query = video(*(frame(i, flip(h, int(rng.integers(0, 40)))) for i, h in enumerate(base)))
        target = video(*(frame(i, h) for i, h in enumerate(base[:200] + random_hashes(4, 50))))
        match = match_videos(query, target, max_distance=31)
        brute = sum(any(hamming(q.pdq.hex, t.pdq.hex) <= 31 for t in target.frames)
                    for q in query.frames)
        assert match.query_matched == brute

    def test_signature_is_the_weighted_majority(self):
        zeros, ones = "0" * 64, "f" * 64
        assert signature_of([frame(0, zeros, count=3), frame(1, ones, count=2)]) == zeros
        assert signature_of([frame(0, zeros, count=2), frame(1, ones, count=3)]) == ones
        # Frames too poor to match do not vote while better ones exist.
        assert signature_of([frame(0, zeros, count=9, quality=10), frame(1, ones)]) == ones


class TestJson:
    def test_round_trip_and_integers_only(self):
        hashed = VideoHash((frame(0, "ab" * 32, 80, 3),), "cd" * 32, 2500, 1000, "cut short")
        data = hashed.to_json()
        assert data["decode_error"] == "cut short"
        assert VideoHash.from_json(data) == hashed

    @pytest.mark.parametrize("change", [
        {"kind": "image"},
        {"frames": []},
        {"signature": "xyz"},
        {"frames": [{"ms": 0, "pdq": "ab" * 32, "quality": 101, "count": 1}]},
        {"frames": [{"ms": 0.5, "pdq": "ab" * 32, "quality": 90, "count": 1}]},
        {"frames": [{"ms": 0, "pdq": "a b" * 21 + "c", "quality": 90, "count": 1}]},
        {"interval_ms": "1000"},
    ])
    def test_malformed_data_is_refused(self, change):
        data = VideoHash((frame(0, "ab" * 32),), "cd" * 32, None, 1000).to_json() | change
        with pytest.raises(InvalidInput):
            VideoHash.from_json(data)
