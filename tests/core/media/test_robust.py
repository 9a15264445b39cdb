"""Robust near-duplicate matching: border trimming, extra hashes, local-feature checks."""

from __future__ import annotations

import random

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageOps
from tests.conftest import shared_data

from svidok.core.media.pdq import MAX_DISTANCE, pdq_dihedral, pdq_of, work_copy
from svidok.core.media.robust import (
    _inset_boxes,
    best_distance,
    extra_hashes,
    geometric_match,
    picture_quality,
    query_hashes,
    same_picture,
    trim_borders,
)

PHOTOS = shared_data() / "media" / "threatexchange" / "pdq" / "data" / "reg-test-input"
BRIDGE = PHOTOS / "dih" / "bridge-1-original.jpg"
COASTER = PHOTOS / "pen-and-coaster.png"
needs_photos = pytest.mark.skipif(not BRIDGE.exists() or not COASTER.exists(),
                                  reason=f"no ThreatExchange photos under {PHOTOS} "
                                         "(SVIDOK_SHARED_DATA)")


def scene(seed: int = 1, size: tuple[int, int] = (400, 300)) -> Image.Image:
    """A photo-like synthetic picture: smooth gradients, shapes and noise."""
    rng = np.random.default_rng(seed)
    width, height = size
    y, x = np.mgrid[0:height, 0:width]
    pixels = np.stack([x * 200 / width, y * 200 / height, (x + y) * 100 / (width + height)],
                      axis=2) + rng.normal(0, 6, (height, width, 3))
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        x0, y0 = int(rng.integers(0, width - 20)), int(rng.integers(0, height - 20))
        radius = int(rng.integers(6, 40))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.ellipse((x0, y0, x0 + radius, y0 + radius), fill=colour)
        else:
            draw.rectangle((x0, y0, x0 + radius, y0 + radius // 2), fill=colour)
    return image


def photo(path) -> Image.Image:
    image = Image.open(path).convert("RGB")
    image.thumbnail((800, 800))
    return image


def crop(image: Image.Image, *, left=0.0, top=0.0, right=0.0, bottom=0.0) -> Image.Image:
    w, h = image.size
    return image.crop((round(w * left), round(h * top), w - round(w * right),
                       h - round(h * bottom)))


def caption(image: Image.Image) -> Image.Image:
    bar = image.height // 6
    framed = Image.new("RGB", (image.width, image.height + bar), (255, 255, 255))
    framed.paste(image, (0, bar))
    ImageDraw.Draw(framed).text((10, bar // 3), "shelling near the station, share", fill=0)
    return framed


def letterbox(image: Image.Image) -> Image.Image:
    framed = Image.new("RGB", (image.width, image.height * 3 // 2), (0, 0, 0))
    framed.paste(image, (0, image.height // 4))
    return framed


def plain_distance(original: Image.Image, edited: Image.Image) -> int:
    return min(pdq_of(original).distance(v) for v in pdq_dihedral(edited))


def robust_distance(original: Image.Image, edited: Image.Image) -> int:
    stored = [("image", pdq_of(original)), *extra_hashes(original)]
    return best_distance(query_hashes(edited), stored)[0]


class TestTrimBorders:
    def test_removes_a_solid_border_exactly(self):
        picture = scene()
        framed = ImageOps.expand(picture, border=(30, 12, 18, 40), fill=(0, 0, 0))
        trimmed = trim_borders(framed)
        assert trimmed.size == picture.size
        assert np.array_equal(np.asarray(trimmed), np.asarray(picture))

    def test_removes_borders_of_different_colours_and_nested(self):
        picture = scene(2)
        framed = ImageOps.expand(ImageOps.expand(picture, border=10, fill=(255, 255, 255)),
                                 border=25, fill=(200, 30, 30))
        assert trim_borders(framed).size == picture.size

    def test_tolerates_jpeg_noise(self, tmp_path):
        framed = letterbox(scene(3))
        framed.save(tmp_path / "boxed.jpg", quality=40)
        trimmed = trim_borders(Image.open(tmp_path / "boxed.jpg"))
        assert abs(trimmed.height - 300) <= 4 and trimmed.width == 400

    def test_keeps_a_uniform_image_whole(self):
        for colour in ((0, 0, 0), (255, 255, 255), (90, 120, 200)):
            image = Image.new("RGB", (200, 100), colour)
            assert trim_borders(image).size == (200, 100)

    def test_keeps_a_picture_without_borders(self):
        picture = scene(4)
        assert trim_borders(picture).size == picture.size

    def test_tiny_images(self):
        for size in ((1, 1), (2, 3), (5, 1)):
            assert trim_borders(Image.new("RGB", size, (10, 10, 10))).size == size


class TestHashes:
    def test_extra_hashes_are_few_labelled_and_matchable(self):
        extra = extra_hashes(letterbox(scene()))
        assert 1 <= len(extra) <= 2
        assert {label for label, _ in extra} <= {"trimmed", "centre"}
        assert all(value.matchable for _, value in extra)

    def test_uniform_images_have_no_matchable_hashes(self):
        image = Image.new("RGB", (120, 80), (30, 30, 30))
        assert extra_hashes(image) == []
        assert query_hashes(image) == []

    @needs_photos
    @pytest.mark.parametrize("edit", [
        lambda im: crop(im, left=0.08),
        letterbox,
        caption,
    ], ids=["crop 8 %", "letterbox", "caption bar"])
    def test_find_edits_that_plain_pdq_misses(self, edit):
        # Found where plain PDQ misses it, for at least one of the two photos: a one-sided
        # crop of 8 % moves the bridge's best hash 94 bits away, beyond CONFIRM_DISTANCE,
        # although local features would confirm it (see benchmarks/media_edits).
        found = []
        for path in (BRIDGE, COASTER):
            original = photo(path)
            edited = edit(original)
            distance = robust_distance(original, edited)
            assert distance <= plain_distance(original, edited)
            assert plain_distance(original, edited) > MAX_DISTANCE
            found.append(same_picture(edited, original, distance).same)
        assert any(found)


class TestGeometricMatch:
    @needs_photos
    def test_accepts_a_crop_and_a_mirrored_crop(self):
        original = photo(BRIDGE)
        assert geometric_match(original, crop(original, right=0.1, top=0.05)).same
        mirrored = ImageOps.mirror(crop(original, left=0.08))
        result = geometric_match(original, mirrored)
        assert result.same and result.mirrored

    @needs_photos
    def test_rejects_two_distinct_photos(self):
        assert not geometric_match(photo(BRIDGE), photo(COASTER)).same

    def test_rejects_two_crops_of_one_texture(self):
        rng = np.random.default_rng(7)
        texture = Image.fromarray(rng.integers(0, 256, (400, 800), dtype=np.uint8)).convert("RGB")
        texture = texture.resize((800, 400), Image.Resampling.NEAREST)
        left, right = texture.crop((0, 0, 400, 400)), texture.crop((400, 0, 800, 400))
        assert not geometric_match(left, right).same

    def test_tiny_and_uniform_images_do_not_match_or_crash(self):
        uniform = Image.new("RGB", (300, 200), (128, 128, 128))
        tiny = Image.new("RGB", (1, 1), (0, 0, 0))
        for a, b in ((uniform, uniform), (tiny, tiny), (tiny, scene()), (scene(), uniform)):
            result = geometric_match(a, b)
            assert not result.same and not result.contradicts

    def test_is_deterministic(self):
        picture = scene(5)
        edited = crop(picture, left=0.07)
        assert geometric_match(picture, edited) == geometric_match(picture, edited)


class TestSamePicture:
    def test_rule(self):
        picture = scene(6)
        assert same_picture(picture, crop(picture, bottom=0.06), 10).same
        assert same_picture(picture, crop(picture, bottom=0.06), 60).same
        assert not same_picture(picture, scene(9), 60).same
        assert not same_picture(picture, picture, 200).same


def night_sky(seed: int, size: tuple[int, int] = (400, 300)) -> Image.Image:
    """Dark, faintly noisy, a few stars: a picture without matchable detail."""
    rng = np.random.default_rng(seed)
    width, height = size
    pixels = np.full((height, width, 3), (8, 12, 35), float) + rng.normal(0, 2, (height, width, 3))
    for _ in range(40):
        x, y = int(rng.integers(1, width)), int(rng.integers(1, height))
        pixels[y - 1:y + 1, x - 1:x + 1] = 220
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def phone_screenshot(picture: Image.Image) -> Image.Image:
    """A status bar, a header with text, the picture, a white area with text, a tab bar."""
    frame = Image.new("RGB", (360, 640), (250, 250, 250))
    draw = ImageDraw.Draw(frame)
    draw.rectangle((0, 0, 360, 20), fill=(20, 20, 20))
    draw.text((8, 4), "21:47", fill=(255, 255, 255))
    draw.text((48, 34), "eyewitness_ua  2 h", fill=(0, 0, 0))
    shown = picture.copy()
    shown.thumbnail((360, 400))
    frame.paste(shown, (0, 60))
    draw.text((10, 60 + shown.height + 16), "1,204 likes  share before it is deleted",
              fill=(0, 0, 0))
    draw.rectangle((0, 600, 360, 640), fill=(235, 235, 235))
    return frame


class TestPictureInAScreenshot:
    def test_the_picture_inside_a_screenshot_is_a_query_source(self):
        picture = scene(14)
        labels = [label for label, _ in query_hashes(phone_screenshot(picture))]
        assert any(label.startswith("inset") for label in labels)
        insets = [(label, value) for label, value in query_hashes(phone_screenshot(picture))
                  if label.startswith("inset")]
        best, _, _ = best_distance(insets, [("image", pdq_of(picture))])
        assert best <= MAX_DISTANCE

    def test_a_featureless_picture_under_a_caption_is_unmatchable(self):
        assert picture_quality(scene(14)) >= 50
        assert pdq_of(caption(night_sky(2))).quality >= 50  # the caption's detail
        assert picture_quality(caption(night_sky(2))) < 50

    def test_a_featureless_picture_in_an_app_is_unmatchable(self):
        assert picture_quality(phone_screenshot(scene(14))) >= 50
        assert pdq_of(phone_screenshot(night_sky(1))).quality >= 50  # the app's detail
        assert picture_quality(phone_screenshot(night_sky(1))) < 50

    def test_a_plain_box_in_a_drawing_does_not_make_it_unmatchable(self):
        # Flat surroundings look like an interface, but a box of one colour is no picture.
        rng = random.Random(2)
        drawing = Image.linear_gradient("L").resize((640, 480)).convert("RGB")
        draw = ImageDraw.Draw(drawing)
        for _ in range(40):
            x, y = rng.randrange(640), rng.randrange(480)
            w, h = rng.randrange(20, 200), rng.randrange(20, 200)
            colour = tuple(rng.randrange(256) for _ in range(3))
            (draw.ellipse if rng.random() < 0.5 else draw.rectangle)([x, y, x + w, y + h],
                                                                      fill=colour)
        assert _inset_boxes(work_copy(drawing))  # the box is found as a set-in rectangle
        assert picture_quality(drawing) >= 50
