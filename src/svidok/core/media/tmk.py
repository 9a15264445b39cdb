"""TMK+PDQF whole-video hashes (Meta ThreatExchange's Temporal Match Kernel), in numpy.

A TMK hash summarises a whole video in a fixed size, whatever its length. It is
computed as ThreatExchange's ``tmk-hash-video`` does (``hashing/tmk/cpp``):

1. ``ffprobe`` checks that the file has a picture stream (as for vPDQ).
2. One ``ffmpeg`` process resamples the video to 15 frames/s and squeezes each
   frame to 64×64 RGB (``-s 64:64 -r 15``, the reference's own options), streamed
   through a pipe, so memory stays flat whatever the length of the video.
3. Each frame becomes a PDQF feature: PDQ's 16×16 DCT of the frame's luma, as
   256 floats before the median threshold (a 64×64 frame skips PDQ's blur).
4. The features are summed into the *pure-average feature* (their plain mean),
   and, L2-normalised, into cosine and sine features: for each of the four
   periods T (frames) and Fourier coefficients j = 0..31, the sum over frames t
   of feature × cos(2πjt/T) and × sin(2πjt/T).
5. At the end each cosine/sine feature is L2-normalised and scaled by the square
   root of its Fourier coefficient (Poullot's von Mises kernel weights).

Two hashes are compared in two levels (``tmkfv.h``): the level-1 score is the
cosine of the pure-average features (-1..1, cheap); the level-2 score is the
TMK kernel maximised over every time offset modulo each period, normalised so
that a video scores 1 with itself (0..1). ThreatExchange suggests 0.7 for both.
TMK matches whole videos, re-encoded, rescaled, recoloured, re-timed a little
or with a small logo; it is weak at finding a clip inside a longer video (use
vPDQ for that).

Sizes: the reference ``.tmk`` file is 263,344 bytes. :meth:`TmkHash.to_json`
stores the same data in 130,048 bytes (the average as float32, the unit
cosine/sine features as float16, the always-zero sine features of j = 0
dropped): about 173.5 kB of JSON, nearly all base64. Scores of hashes read back
differ from the originals' by less than 2e-4 (measured: 1.2e-4).
:meth:`TmkHash.candidate_vector` is the L2-normalised pure-average feature as
256 float32 (1,024 bytes; 1,368 characters of base64): its dot product with
another is the level-1 score, so an inner-product index over these vectors
finds the candidates worth a level-2 comparison.
"""

from __future__ import annotations

import base64
import binascii
import math
import os
import shutil
import struct
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from svidok.core.errors import ExtractionError, InvalidInput
from svidok.core.media.video import _ffmpeg_url
from svidok.core.media.vpdq import (
    FFMPEG_BASE_TIMEOUT_S,
    FFMPEG_TIMEOUT_PER_VIDEO_S,
    _probe_video,
    pump_frames,
)

__all__ = [
    "CANDIDATE_VECTOR_BYTES",
    "FEATURE_DIMENSION",
    "FOURIER_COEFFICIENTS",
    "FRAMES_PER_SECOND",
    "FRAME_SIZE",
    "LEVEL1_THRESHOLD",
    "LEVEL2_THRESHOLD",
    "PERIODS",
    "TmkHash",
    "hash_video_tmk",
    "level1",
    "level2",
    "pdqf_features",
    "read_tmk",
    "tmk_match",
]

Floats = npt.NDArray[np.float32]

FRAMES_PER_SECOND = 15  # tmk-hash-video's resampling rate
FRAME_SIZE = 64  # ffmpeg squeezes frames to 64×64: PDQ's own working size
FEATURE_DIMENSION = 256  # PDQF: the 16×16 DCT coefficients
PERIODS = (2731, 4391, 9767, 14653)  # frames; TMKFeatureVectors::makePoullotPeriods
# TMKFeatureVectors::makePoullotFourierCoefficients: I_j(32) / sinh(32) (Bessel
# functions; a_0 halved and corrected), m = 32, as the reference tabulates them.
FOURIER_COEFFICIENTS = (
    0.0708041893112, 0.13937789309, 0.132897260304, 0.122765735552, 0.109878684888,
    0.09529606433, 0.0800986647852, 0.0652590650356, 0.0515478238322, 0.0394851531195,
    0.0293374252025, 0.0211492623679, 0.0147973073245, 0.0100512818746, 0.0066306408014,
    0.00424947117334, 0.0026467615764, 0.00160270959695, 0.000943882629639,
    0.000540841638603, 0.000301633183798, 0.000163800158855, 8.66454753015e-05,
    4.46626303151e-05, 2.24429442235e-05, 1.09982139799e-05, 5.25823487999e-06,
    2.45358229988e-06, 1.11781474895e-06, 4.97406489221e-07, 2.16265487234e-07,
    9.19087006565e-08,
)  # fmt: skip
LEVEL1_THRESHOLD = 0.7  # ThreatExchange's suggested thresholds (tmk_default_thresholds.h)
LEVEL2_THRESHOLD = 0.7
CANDIDATE_VECTOR_BYTES = FEATURE_DIMENSION * 4
JSON_KIND = "tmk"
JSON_ALGORITHM = "tmk-pdqf"  # the reference's algorithm magic is PDQF

_FILE_MAGIC = b"TMK1FVECPDQF"
_HEADER = struct.Struct("<12s5i")  # magics, fps, periods, coefficients, dimension, frames
_BATCH_FRAMES = 64  # frames turned into features at once: numpy speed at 800 kB of memory
_COEFFICIENTS = np.array(FOURIER_COEFFICIENTS, dtype=np.float32)
_SCALES = np.sqrt(_COEFFICIENTS)  # the reference scales each unit feature by sqrt(a_j)
# a_0 + 2 Σ a_j: the level-2 kernel of a video with itself at offset 0 (tmkfv.h).
_PAIR_SCORE_NORMALIZER = float(_COEFFICIENTS[0] + 2 * _COEFFICIENTS[1:].sum(dtype=np.float64))
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # PDQ's fillFloatLumaFromRGB
_P, _C, _D = len(PERIODS), len(FOURIER_COEFFICIENTS), FEATURE_DIMENSION
_FEATURE_VALUES = (_P * _C + _P * (_C - 1)) * _D  # JSON: sine features of j = 0 are zero


def _dct_matrix() -> Floats:
    """PDQ's 16×64 DCT-II matrix (rows 1..16 of the 64-point DCT), as pdqhashing.cpp."""
    rows = np.arange(1, 17, dtype=np.float64)[:, None]
    columns = np.arange(64, dtype=np.float64)[None, :]
    matrix = math.sqrt(2.0 / 64.0) * np.cos(np.pi / 2 / 64.0 * rows * (2 * columns + 1))
    return matrix.astype(np.float32)


_DCT = _dct_matrix()
_DCT_T = np.ascontiguousarray(_DCT.T)


@dataclass(frozen=True, slots=True, eq=False)
class TmkHash:
    """A TMK+PDQF hash with the reference's parameters (15 fps, Poullot periods and
    coefficients, 256-float PDQF features).

    ``average`` is the pure-average feature (256,); ``cos`` and ``sin`` are the
    (4, 32, 256) cosine and sine features, each a unit vector scaled by sqrt(a_j)
    (or zero). ``decode_error`` holds ffmpeg's complaint when the video broke off
    part-way and only the frames before the break were hashed. Arrays are
    read-only.
    """

    frame_count: int
    average: Floats
    cos: Floats
    sin: Floats
    decode_error: str | None = None

    def __post_init__(self) -> None:
        for name, shape in (("average", (_D,)), ("cos", (_P, _C, _D)), ("sin", (_P, _C, _D))):
            value = np.array(getattr(self, name), dtype=np.float32)  # a private copy
            if value.shape != shape:
                raise InvalidInput(f"TMK {name} must have shape {shape}, got {value.shape}")
            if not np.isfinite(value).all():
                raise InvalidInput(f"TMK {name} holds values that are not finite")
            value.flags.writeable = False
            object.__setattr__(self, name, value)
        if self.frame_count < 0:
            raise InvalidInput(f"frame_count must be >= 0, got {self.frame_count}")

    def candidate_vector(self) -> bytes:
        """The L2-normalised pure-average feature as 256 little-endian float32 (1,024
        bytes): the dot product of two is their level-1 score."""
        return _unit(self.average).astype("<f4").tobytes()

    def to_json(self) -> dict[str, object]:
        """Plain JSON data (strings and whole numbers, no floats), for item metadata.

        ``average`` is the pure-average feature as base64 float32 (1,024 bytes);
        ``features`` holds the cosine features (4 × 32 × 256) then the sine features
        of j = 1..31 (4 × 31 × 256) as base64 float16 unit vectors (129,536 bytes):
        the sqrt(a_j) scale is put back when read, so the tiny high-j features keep
        float16's full relative precision.
        """
        units = np.concatenate([
            (self.cos / _SCALES[None, :, None]).reshape(-1),
            (self.sin[:, 1:] / _SCALES[None, 1:, None]).reshape(-1),
        ])  # fmt: skip
        data: dict[str, object] = {
            "kind": JSON_KIND,
            "algorithm": JSON_ALGORITHM,
            "fps": FRAMES_PER_SECOND,
            "frame_count": self.frame_count,
            "average": _b64(self.average.astype("<f4").tobytes()),
            "features": _b64(units.astype("<f2").tobytes()),
        }
        if self.decode_error is not None:
            data["decode_error"] = self.decode_error
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TmkHash:
        """The inverse of :meth:`to_json`; raises :class:`InvalidInput` on malformed data."""
        if data.get("kind") != JSON_KIND:
            raise InvalidInput(f"expected a TMK hash, got kind {data.get('kind')!r}")
        if data.get("algorithm") != JSON_ALGORITHM or data.get("fps") != FRAMES_PER_SECOND:
            raise InvalidInput(
                f"expected algorithm {JSON_ALGORITHM!r} at {FRAMES_PER_SECOND} fps, got "
                f"{data.get('algorithm')!r} at {data.get('fps')!r}"
            )
        count = data.get("frame_count")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise InvalidInput(f"frame_count must be a whole number >= 0, got {count!r}")
        error = data.get("decode_error")
        if error is not None and not isinstance(error, str):
            raise InvalidInput(f"decode_error must be text, got {error!r}")
        average = np.frombuffer(_unb64(data.get("average"), "average", _D * 4), dtype="<f4")
        units = np.frombuffer(
            _unb64(data.get("features"), "features", _FEATURE_VALUES * 2), dtype="<f2"
        ).astype(np.float32)
        split = _P * _C * _D
        cos = units[:split].reshape(_P, _C, _D) * _SCALES[None, :, None]
        sin = np.zeros((_P, _C, _D), dtype=np.float32)
        sin[:, 1:] = units[split:].reshape(_P, _C - 1, _D) * _SCALES[None, 1:, None]
        return cls(frame_count=count, average=average, cos=cos, sin=sin, decode_error=error)

    def to_tmk_bytes(self) -> bytes:
        """The reference's ``.tmk`` file format (263,344 bytes), readable by its tools."""
        header = _HEADER.pack(_FILE_MAGIC, FRAMES_PER_SECOND, _P, _C, _D, self.frame_count)
        return b"".join([
            header,
            np.array(PERIODS, dtype="<i4").tobytes(),
            _COEFFICIENTS.astype("<f4").tobytes(),
            self.average.astype("<f4").tobytes(),
            self.cos.astype("<f4").tobytes(),
            self.sin.astype("<f4").tobytes(),
        ])  # fmt: skip


# --------------------------------------------------------------------------- .tmk files


def read_tmk(path: str | os.PathLike[str]) -> TmkHash:
    """Read a ``.tmk`` file written by ThreatExchange's ``tmk-hash-video``.

    The layout (``tmkiotypes.h``, ``tmkfv.cpp``; all little-endian): a 32-byte
    header ``TMK1`` ``FVEC`` ``PDQF`` then int32 fps, period count P, coefficient
    count C, feature dimension D and frame count; P int32 periods; C float32
    coefficients; the D-float pure average; P × C cosine features; P × C sine
    features. Raises :class:`InvalidInput` for another layout or other parameters
    (their scores could not be compared with ours).
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read TMK file: {exc.strerror or exc}") from exc
    return _parse_tmk(data)


def _parse_tmk(data: bytes) -> TmkHash:
    expected = _HEADER.size + 4 * (_P + _C + _D + 2 * _P * _C * _D)
    if len(data) < _HEADER.size:
        raise InvalidInput(f"TMK file too short: expected {expected} bytes, got {len(data)}")
    magic, fps, periods, coefficients, dimension, frames = _HEADER.unpack_from(data)
    if magic != _FILE_MAGIC:
        raise InvalidInput(f"not a TMK+PDQF file: expected magic {_FILE_MAGIC!r}, got {magic!r}")
    found = (fps, periods, coefficients, dimension)
    if found != (FRAMES_PER_SECOND, _P, _C, _D):
        raise InvalidInput(
            f"unsupported TMK parameters: expected fps, periods, coefficients, dimension "
            f"{(FRAMES_PER_SECOND, _P, _C, _D)}, got {found}"
        )
    if len(data) != expected:
        raise InvalidInput(f"TMK file has wrong size: expected {expected} bytes, got {len(data)}")
    if frames < 0:
        raise InvalidInput(f"TMK file has a negative frame count: {frames}")
    offset = _HEADER.size
    file_periods = tuple(int(p) for p in np.frombuffer(data, "<i4", _P, offset))
    offset += 4 * _P
    file_coefficients = np.frombuffer(data, "<f4", _C, offset)
    offset += 4 * _C
    if file_periods != PERIODS:
        raise InvalidInput(f"unsupported TMK periods: expected {PERIODS}, got {file_periods}")
    # areCompatible in tmkfv.cpp: relative error up to 1e-6
    if not np.allclose(file_coefficients, _COEFFICIENTS, rtol=1e-6, atol=0.0):
        raise InvalidInput("unsupported TMK Fourier coefficients: not Poullot's")
    average = np.frombuffer(data, "<f4", _D, offset)
    offset += 4 * _D
    cos = np.frombuffer(data, "<f4", _P * _C * _D, offset).reshape(_P, _C, _D)
    offset += 4 * _P * _C * _D
    sin = np.frombuffer(data, "<f4", _P * _C * _D, offset).reshape(_P, _C, _D)
    return TmkHash(frame_count=frames, average=average, cos=cos, sin=sin)


# --------------------------------------------------------------------------- scores


def level1(a: TmkHash, b: TmkHash) -> float:
    """Cosine similarity of the pure-average features, -1..1 (0 when one is all zero)."""
    norms = float(np.linalg.norm(a.average.astype(np.float64))) * float(
        np.linalg.norm(b.average.astype(np.float64))
    )
    if norms == 0.0:
        return 0.0
    return float(a.average.astype(np.float64) @ b.average.astype(np.float64)) / norms


def level2(a: TmkHash, b: TmkHash) -> float:
    """The TMK score, 0..1 (1 for a video with itself): for each period, the kernel
    at every time offset, maximised; the best period wins (``computeLevel2Score``).

    For period T and offset δ = 2π·o/T the kernel is
    ``cc_0 + Σ_j cos(jδ)(cc_j + ss_j) + sin(jδ)(sc_j − cs_j)`` where ``cc_j`` is the
    dot product of the j-th cosine features of a and b, and so on. That is the real
    part of a length-T inverse DFT of ``(cc_j + ss_j) − i(sc_j − cs_j)``, so every
    offset is evaluated at once by an FFT instead of the reference's loop.
    """
    cc = np.einsum("pcd,pcd->pc", a.cos, b.cos, dtype=np.float64)
    ss = np.einsum("pcd,pcd->pc", a.sin, b.sin, dtype=np.float64)
    sc = np.einsum("pcd,pcd->pc", a.sin, b.cos, dtype=np.float64)
    cs = np.einsum("pcd,pcd->pc", a.cos, b.sin, dtype=np.float64)
    best = -math.inf
    for index, period in enumerate(PERIODS):
        spectrum = np.zeros(period, dtype=np.complex128)
        spectrum[1:_C] = (cc[index, 1:] + ss[index, 1:]) - 1j * (sc[index, 1:] - cs[index, 1:])
        kernels = cc[index, 0] + period * np.fft.ifft(spectrum).real
        best = max(best, float(kernels.max()))
    return best / _PAIR_SCORE_NORMALIZER


def tmk_match(
    a: TmkHash, b: TmkHash, c1: float = LEVEL1_THRESHOLD, c2: float = LEVEL2_THRESHOLD
) -> bool:
    """ThreatExchange's two-level test: level-1 >= c1, then level-2 >= c2."""
    return level1(a, b) >= c1 and level2(a, b) >= c2


# --------------------------------------------------------------------------- hashing


def hash_video_tmk(
    path: str | os.PathLike[str],
    *,
    timeout_s: float | None = None,
    on_frame: Callable[[int], None] | None = None,
) -> TmkHash:
    """Hash a video file with TMK+PDQF (steps 1–5 above).

    ``on_frame`` is called with the number of frames hashed so far after each
    batch, for progress. ``timeout_s`` defaults to vPDQ's: 180 s plus four times
    the duration.

    Raises :class:`ExtractionError` for files that are empty, not video, audio
    only, or broken before the first frame; a video that breaks later is hashed
    up to the break and flagged in ``decode_error``.
    """
    source = Path(path)
    duration_ms = _probe_video(source)
    if timeout_s is None:
        timeout_s = FFMPEG_BASE_TIMEOUT_S + FFMPEG_TIMEOUT_PER_VIDEO_S * (duration_ms or 0) / 1000
    accumulator = _Accumulator(on_frame)
    error = _decode(source, timeout_s=timeout_s, consume=accumulator.add)
    if accumulator.frame_count == 0:
        reason = f"ffmpeg said: {error}" if error else "the video has no decodable frames"
        raise ExtractionError(f"corrupt video: no frame could be decoded: {reason}",
                              reason="corrupt")
    return accumulator.finish(error)


def pdqf_features(frames: npt.NDArray[np.uint8]) -> Floats:
    """PDQF features of 64×64 RGB frames, (n, 64, 64, 3) → (n, 256): PDQ's luma,
    then its 16×16 DCT, row-major as the reference's ``_outputBuffer16x16``.

    (``pdqhash.compute_float`` gives the same numbers in reverse order.)
    """
    if frames.ndim != 4 or frames.shape[1:] != (FRAME_SIZE, FRAME_SIZE, 3):
        raise ValueError(f"expected (n, {FRAME_SIZE}, {FRAME_SIZE}, 3) frames, "
                         f"got {frames.shape}")
    luma = frames.astype(np.float32) @ _LUMA
    dct: Floats = (_DCT @ luma @ _DCT_T).reshape(len(frames), FEATURE_DIMENSION)
    return dct


class _Accumulator:
    """The running sums of tmkfv.cpp's ingestFrameFeature, fed a batch at a time."""

    def __init__(self, on_frame: Callable[[int], None] | None) -> None:
        self.frame_count = 0
        self._on_frame = on_frame
        self._sum = np.zeros(_D, dtype=np.float64)
        self._cos = np.zeros((_P, _C, _D), dtype=np.float64)
        self._sin = np.zeros((_P, _C, _D), dtype=np.float64)
        self._periods = np.array(PERIODS, dtype=np.int64)[:, None, None]
        self._harmonics = np.arange(_C, dtype=np.int64)[None, :, None]

    def add(self, frames: npt.NDArray[np.uint8]) -> None:
        features = pdqf_features(frames).astype(np.float64)
        self._sum += features.sum(axis=0)
        norms = np.linalg.norm(features, axis=1, keepdims=True)
        units = np.divide(features, norms, out=np.zeros_like(features), where=norms > 0)
        times = np.arange(self.frame_count, self.frame_count + len(frames), dtype=np.int64)
        # (j·t mod T)/T is exact in integers, so long videos lose no phase precision
        phases = 2 * np.pi * ((self._harmonics * times[None, None, :]) % self._periods)
        phases = phases / self._periods
        self._cos += np.cos(phases) @ units
        self._sin += np.sin(phases) @ units
        self.frame_count += len(frames)
        if self._on_frame is not None:
            self._on_frame(self.frame_count)

    def finish(self, decode_error: str | None) -> TmkHash:
        """finishFrameFeatureIngest: the mean, and unit cos/sin features × sqrt(a_j)."""
        scales = _SCALES.astype(np.float64)[None, :, None]
        return TmkHash(
            frame_count=self.frame_count,
            average=(self._sum / self.frame_count).astype(np.float32),
            cos=(_unit(self._cos) * scales).astype(np.float32),
            sin=(_unit(self._sin) * scales).astype(np.float32),
            decode_error=decode_error,
        )


def _decode(
    path: Path, *, timeout_s: float, consume: Callable[[npt.NDArray[np.uint8]], None]
) -> str | None:
    """Stream the resampled frames of one ffmpeg run to ``consume``, in batches.

    The options after the input are tmk-hash-video's (filehasher.cpp), so frame
    timing and scaling follow the reference; ``-map 0:V:0`` skips cover art.
    Returns ffmpeg's complaint when it failed part-way (None when it succeeded);
    raises :class:`ExtractionError` when it cannot start or runs out of time.
    """
    executable = shutil.which("ffmpeg")
    if executable is None:
        raise ExtractionError("ffmpeg not found: install ffmpeg", reason="missing")
    arguments: list[bytes | str] = [
        executable, "-nostdin", "-hide_banner", "-v", "error", "-i", _ffmpeg_url(path),
        "-map", "0:V:0", "-s", f"{FRAME_SIZE}:{FRAME_SIZE}", "-an", "-f", "rawvideo",
        "-c:v", "rawvideo", "-pix_fmt", "rgb24", "-r", str(FRAMES_PER_SECOND), "pipe:1",
    ]  # fmt: skip
    try:
        process = subprocess.Popen(
            arguments, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
    except OSError as exc:
        raise ExtractionError(f"ffmpeg could not be started: {exc}", reason="os") from exc
    with process:
        return pump_frames(process, path, timeout_s, lambda out: _read_batches(out, consume))


def _read_batches(
    stdout: IO[bytes], consume: Callable[[npt.NDArray[np.uint8]], None]
) -> None:
    frame_bytes = FRAME_SIZE * FRAME_SIZE * 3
    while True:
        chunk = stdout.read(frame_bytes * _BATCH_FRAMES)
        whole = len(chunk) // frame_bytes  # a frame cut short by a dying ffmpeg is dropped
        if whole:
            frames = np.frombuffer(chunk, dtype=np.uint8, count=whole * frame_bytes)
            consume(frames.reshape(whole, FRAME_SIZE, FRAME_SIZE, 3))
        if len(chunk) < frame_bytes * _BATCH_FRAMES:
            return


# --------------------------------------------------------------------------- helpers


def _unit(vectors: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Each vector along the last axis divided by its L2 norm; zero vectors stay zero
    (libvec's L2NormalizeVector)."""
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    units: npt.NDArray[Any] = np.divide(
        vectors, norms, out=np.zeros_like(vectors), where=norms > 0
    )
    return units


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(value: object, name: str, size: int) -> bytes:
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be base64 text, got {type(value).__name__}")
    try:
        data = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise InvalidInput(f"{name} is not valid base64: {exc}") from exc
    if len(data) != size:
        raise InvalidInput(f"{name} has wrong size: expected {size} bytes, got {len(data)}")
    return data
