"""PDQ perceptual hashes of images (Meta's ThreatExchange algorithm, via ``pdqhash``).

A PDQ hash is 256 bits; two images are near-duplicates when the Hamming
distance of their hashes is at most 31 and both hashes have a quality of at
least 50 (the reference defaults). Mirror images and rotations get different
hashes; :func:`pdq_dihedral` gives all eight, so a query can try them against
hashes stored once per image.

Images are decoded once, at reduced scale: the hash is computed from a copy at
most :data:`WORK_SIZE` pixels on its longest side (PDQ itself reduces to 64×64,
so this changes a few bits at most; the reference tools reduce too), with the
EXIF orientation applied, as a viewer would show it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pdqhash
from PIL import Image, ImageOps, UnidentifiedImageError

from svidok.core.errors import ExtractionError

WORK_SIZE = 416  # measured on ThreatExchange's images: worst 12 bits from the reference
MAX_DISTANCE = 31  # PDQ reference: match at Hamming distance <= 31
MIN_QUALITY = 50  # PDQ reference: hashes of lower quality are not trusted for matching
# Beyond MAX_DISTANCE and up to here, a candidate matches only when local features confirm
# it (svidok.core.media.robust); unrelated hashes lie about 128 bits apart.
CONFIRM_DISTANCE = 90
HASH_BITS = 256


@dataclass(frozen=True, slots=True)
class PdqHash:
    """A PDQ hash as 64 hex characters, with its quality (0–100)."""

    hex: str
    quality: int

    @property
    def matchable(self) -> bool:
        return self.quality >= MIN_QUALITY

    def distance(self, other: PdqHash | str) -> int:
        return hamming(self.hex, other if isinstance(other, str) else other.hex)

    def to_json(self) -> dict[str, object]:
        return {"pdq": self.hex, "quality": self.quality}


def hamming(a: str, b: str) -> int:
    """Bits that differ between two hashes given as hex."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def work_copy(image: Image.Image) -> Image.Image:
    """The image in RGB, no larger than WORK_SIZE on its longest side (the input is not
    changed).

    The hash costs time in proportion to the pixels it is given: 416 px keeps the
    cost of a photo at about 3 ms while staying within 12 bits of the reference
    hashes (512 px: 10 bits, 6 ms; 384 px: 16 bits).
    """
    copy = image if image.mode == "RGB" else image.convert("RGB")
    if max(copy.size) > WORK_SIZE:
        copy = copy.copy() if copy is image else copy
        copy.thumbnail((WORK_SIZE, WORK_SIZE), Image.Resampling.BILINEAR)
    return copy


def _hex(bits: np.ndarray) -> str:
    return bytes(np.packbits(bits.astype(np.uint8))).hex()


def pdq_of(image: Image.Image) -> PdqHash:
    """The PDQ hash of an image as it is shown (orientation already applied)."""
    pixels = np.asarray(work_copy(image), dtype=np.uint8)
    bits, quality = pdqhash.compute(pixels)
    return PdqHash(_hex(bits), int(quality))


def pdq_dihedral(image: Image.Image) -> list[PdqHash]:
    """The hashes of the image's eight rotations and mirror images, original first."""
    pixels = np.asarray(work_copy(image), dtype=np.uint8)
    hashes, quality = pdqhash.compute_dihedral(pixels)
    return [PdqHash(_hex(bits), int(quality)) for bits in hashes]


def as_bytes(hex_hash: str) -> bytes:
    """The 32 bytes of a hash, for compact storage and vectorised search."""
    if len(hex_hash) != HASH_BITS // 4:
        raise ValueError(f"a PDQ hash has {HASH_BITS // 4} hex digits, got {len(hex_hash)}")
    return bytes.fromhex(hex_hash)


def distances(query: bytes, hashes: np.ndarray) -> np.ndarray:
    """Hamming distances from one 32-byte hash to each row of an (n, 32) uint8 array."""
    xor = np.bitwise_xor(hashes, np.frombuffer(query, dtype=np.uint8))
    counts: np.ndarray = np.bitwise_count(xor).sum(axis=1, dtype=np.int32)
    return counts


def open_for_hashing(path: str | os.PathLike[str], *, max_pixels: int) -> Image.Image:
    """Decode an image file once, at reduced scale, turned as a viewer shows it.

    Raises :class:`ExtractionError` saying what is wrong with files that are not
    images, are damaged, or exceed ``max_pixels`` (a decompression bomb).
    """
    try:
        image = Image.open(path)
    except (UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise ExtractionError(f"not a decodable image: {exc}") from exc
    except OSError as exc:
        raise ExtractionError(f"cannot read file: {exc.strerror or exc}") from exc
    with image:
        width, height = image.size
        if width < 1 or height < 1 or width * height > max_pixels:
            raise ExtractionError(f"{width}x{height} pixels is outside 1..{max_pixels} pixels "
                                  "(a decompression-bomb guard)")
        try:
            if image.format in ("JPEG", "MPO"):
                image.draft("RGB", (WORK_SIZE, WORK_SIZE))
            image.load()
            shown = ImageOps.exif_transpose(image)
            return work_copy(shown)
        except Exception as exc:  # truncated data and decoder errors of every kind
            raise ExtractionError(f"truncated or corrupt image: {exc}") from exc
