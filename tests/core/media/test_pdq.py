"""PDQ hashes agree with ThreatExchange's published ones; dihedral variants match."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PIL import Image, ImageOps
from tests.conftest import shared_data

from svidok.core.media.pdq import (
    MAX_DISTANCE,
    as_bytes,
    distances,
    hamming,
    pdq_dihedral,
    pdq_of,
)

THREATEXCHANGE = shared_data() / "media" / "threatexchange"
# ThreatExchange's own Python tests allow this many bits between implementations.
TOLERANCE = 16


def published():
    table = THREATEXCHANGE / "expected_pdq_hashes.csv"
    if not table.exists():
        return []
    with table.open(encoding="utf-8") as rows:
        return [row for row in csv.DictReader(rows) if row["exists_here"] == "True"]


needs_data = pytest.mark.skipif(not published(), reason=f"no ThreatExchange data under "
                                                        f"{THREATEXCHANGE} (SVIDOK_SHARED_DATA)")


def shown(path):
    """The image as a viewer shows it (EXIF orientation applied)."""
    return ImageOps.exif_transpose(Image.open(path))


@needs_data
@pytest.mark.parametrize("row", published(), ids=lambda row: row["image"].rsplit("/", 2)[-1])
def test_agrees_with_the_published_hash(row):
    ours = pdq_of(shown(THREATEXCHANGE / row["image"]))
    assert hamming(ours.hex, row["expected_pdq_hex"]) <= TOLERANCE
    if row["quality"]:
        assert abs(ours.quality - int(row["quality"])) <= 10


@needs_data
def test_dihedral_variants_of_the_bridge_match_each_other():
    folder = THREATEXCHANGE / "pdq" / "data" / "reg-test-input" / "dih"
    original = pdq_dihedral(shown(folder / "bridge-1-original.jpg"))
    variants = sorted(folder.glob("bridge-*.jpg"))
    assert len(variants) == 8
    for variant in variants:
        plain = pdq_of(shown(variant))
        assert min(plain.distance(h) for h in original) <= MAX_DISTANCE, variant.name
    # Without trying the variants, a rotation is (rightly) not a plain match.
    rotated = pdq_of(shown(folder / "bridge-2-rotate-90.jpg"))
    assert rotated.distance(original[0]) > MAX_DISTANCE


def test_hash_shape_and_vectorised_distances():
    image = Image.linear_gradient("L").convert("RGB").resize((300, 200))
    noise = Image.effect_noise((300, 200), 80).convert("RGB")
    a, b = pdq_of(image), pdq_of(noise)
    assert len(a.hex) == 64 and int(a.hex, 16) >= 0
    assert 0 <= a.quality <= 100
    table = np.frombuffer(as_bytes(a.hex) + as_bytes(b.hex), dtype=np.uint8).reshape(2, 32)
    assert distances(as_bytes(a.hex), table).tolist() == [0, a.distance(b)]


def test_large_images_are_hashed_from_a_reduced_copy(tmp_path):
    from tests.apps.evidence.test_similarity import make_photo

    big = Image.open(make_photo(tmp_path / "big.jpg", 3, size=(2400, 1600))).convert("RGB")
    assert pdq_of(big).distance(pdq_of(big.resize((600, 400)))) <= TOLERANCE
    assert big.size == (2400, 1600)  # the caller's image is left alone


def test_a_flat_image_has_low_quality():
    flat = Image.new("RGB", (64, 64), (128, 128, 128))
    assert not pdq_of(flat).matchable
