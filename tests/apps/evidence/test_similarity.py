"""Near-duplicate search: re-posted copies are found, distinct photos are not."""

from __future__ import annotations

import random

import pytest
from PIL import Image, ImageDraw

from svidok.apps.evidence.models import Item, PerceptualHash
from svidok.apps.evidence.services import AcquisitionFacts, evidence_ingest
from svidok.apps.evidence.similarity import (
    file_variants,
    item_variants,
    perceptual_reindex,
    similar_items,
)
from tests.conftest import make_jpeg

pytestmark = pytest.mark.django_db


def make_photo(path, seed, size=(640, 480)):
    """A synthetic photo with enough structure for PDQ: shapes over a gradient."""
    rng = random.Random(seed)
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        w, h = rng.randrange(20, 200), rng.randrange(20, 200)
        colour = tuple(rng.randrange(256) for _ in range(3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)([x, y, x + w, y + h],
                                                                  fill=colour)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, "JPEG", quality=92)
    return path


@pytest.fixture
def held(svidok_home, tmp_path):
    """Collection C holds one photo, a distinct photo and a flat image."""
    folder = tmp_path / "held"
    make_photo(folder / "strike.jpg", 1)
    make_photo(folder / "other.jpg", 2)
    make_jpeg(folder / "flat.jpg", 3)
    evidence_ingest(paths=[folder], collection_name="C", facts=AcquisitionFacts(actor="t"))
    return {item.original_name: item for item in Item.objects.all()}


def names(matches):
    return [m.item.original_name for m in matches]


def test_ingest_stores_a_hash_per_image(held):
    strike = held["strike.jpg"]
    assert len(strike.metadata["perceptual"]["pdq"]) == 64
    assert strike.metadata["perceptual"]["quality"] >= 50
    assert PerceptualHash.objects.filter(position=0).count() == 3
    extra = strike.metadata["perceptual"]["extra"]
    assert [e["label"] for e in extra] and all(e["quality"] >= 50 for e in extra)
    assert PerceptualHash.objects.filter(item=strike).count() == 1 + len(extra)
    assert held["flat.jpg"].metadata["perceptual"]["quality"] < 50


@pytest.mark.parametrize("edit", [
    lambda im: im.resize((320, 240)),
    lambda im: im.convert("L").convert("RGB"),
    lambda im: im.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
    lambda im: im.transpose(Image.Transpose.ROTATE_90),
], ids=["resized", "greyscale", "mirrored", "rotated"])
def test_edited_copy_finds_the_original(held, tmp_path, edit):
    original = Image.open(tmp_path / "held" / "strike.jpg")
    copy = tmp_path / "copy.jpg"
    edit(original).save(copy, "JPEG", quality=60)
    matches = similar_items(variants=file_variants(copy), collection_ids=None)
    assert names(matches) == ["strike.jpg"]


def test_from_an_item_and_not_itself(held):
    strike = held["strike.jpg"]
    assert similar_items(variants=item_variants(strike), collection_ids=None,
                         exclude=strike) == []
    found = similar_items(variants=item_variants(strike), collection_ids=None)
    assert names(found) == ["strike.jpg"] and found[0].distance == 0


def test_low_quality_never_matches(held, tmp_path):
    flat = held["flat.jpg"]
    assert similar_items(variants=item_variants(flat), collection_ids=None) == []


def test_other_collections_are_not_searched(held, tmp_path):
    assert similar_items(variants=file_variants(tmp_path / "held" / "strike.jpg"),
                         collection_ids=[held["strike.jpg"].collection_id + 1]) == []


def test_reindex_rebuilds_from_metadata(held):
    before = sorted(PerceptualHash.objects.values_list("item_id", "position", "hash"))
    PerceptualHash.objects.all().delete()
    assert perceptual_reindex() == len(before)
    assert sorted(PerceptualHash.objects.values_list("item_id", "position", "hash")) == before


def test_item_page_fragment_lists_copies_in_the_users_collections(held, tmp_path, client):
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    from svidok.apps.accounts.services import membership_grant

    original = Image.open(tmp_path / "held" / "strike.jpg")
    original.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(tmp_path / "mirror.jpg")
    evidence_ingest(paths=[tmp_path / "mirror.jpg"], collection_name="C",
                    facts=AcquisitionFacts(actor="t"))
    evidence_ingest(paths=[tmp_path / "held" / "strike.jpg"], collection_name="Secret",
                    facts=AcquisitionFacts(actor="t"))
    get_user_model().objects.create_user("andriy")
    membership_grant(username="andriy", collection_name="C", role="analyst", actor="t")
    client.force_login(get_user_model().objects.get(username="andriy"))
    body = client.get(reverse("item-similar", args=[held["strike.jpg"].id])).content.decode()
    assert "mirror.jpg" in body and "mirrored left–right" in body
    assert "Secret" not in body  # a copy in a collection the user cannot see stays unseen
    flat = client.get(reverse("item-similar", args=[held["flat.jpg"].id])).content.decode()
    assert "None in your collections" in flat


def test_clusters_group_copies_and_lead_with_the_earliest(held, tmp_path):
    from datetime import UTC, datetime

    from svidok.apps.evidence.grouping import near_duplicate_clusters

    original = Image.open(tmp_path / "held" / "strike.jpg")
    original.resize((300, 225)).save(tmp_path / "small.jpg", quality=50)
    original.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(tmp_path / "mirror.jpg")
    # The small copy was collected before anything else: it leads its group.
    evidence_ingest(paths=[tmp_path / "small.jpg"], collection_name="C",
                    facts=AcquisitionFacts(actor="t", collected_at=datetime(2022, 3, 1,
                                                                            tzinfo=UTC)))
    evidence_ingest(paths=[tmp_path / "mirror.jpg"], collection_name="C",
                    facts=AcquisitionFacts(actor="t"))
    [group] = near_duplicate_clusters(collection_ids=None)
    names = [i.original_name for i in group.items]
    assert names[0] == "small.jpg" and sorted(names[1:]) == ["mirror.jpg", "strike.jpg"]
    assert group.to_json()["earliest"] == str(group.items[0].id)


def test_cluster_page_shows_only_the_users_collections(held, tmp_path, client):
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    from svidok.apps.accounts.services import membership_grant

    Image.open(tmp_path / "held" / "strike.jpg").resize((320, 240)).save(tmp_path / "s.jpg")
    evidence_ingest(paths=[tmp_path / "s.jpg"], collection_name="C",
                    facts=AcquisitionFacts(actor="t"))
    Image.open(tmp_path / "held" / "other.jpg").save(tmp_path / "o1.jpg", quality=40)
    evidence_ingest(paths=[tmp_path / "o1.jpg", tmp_path / "held" / "other.jpg"],
                    collection_name="Secret", facts=AcquisitionFacts(actor="t"))
    get_user_model().objects.create_user("andriy")
    membership_grant(username="andriy", collection_name="C", role="analyst", actor="t")
    client.force_login(get_user_model().objects.get(username="andriy"))
    body = client.get(reverse("clusters")).content.decode()
    assert "s.jpg" in body and "strike.jpg" in body
    assert "o1.jpg" not in body and "Secret" not in body


def test_a_one_pixel_image_is_hashed_kept_and_never_matched(svidok_home, tmp_path):
    Image.new("RGB", (1, 1), (10, 20, 30)).save(tmp_path / "dot.png")
    Image.new("RGB", (1, 1), (10, 20, 30)).save(tmp_path / "dot2.png")
    evidence_ingest(paths=[tmp_path / "dot.png"], collection_name="C",
                    facts=AcquisitionFacts(actor="t"))
    dot = Item.objects.get()
    assert dot.metadata["perceptual"]["quality"] == 0
    assert PerceptualHash.objects.filter(item=dot).exists()  # kept…
    assert similar_items(variants=file_variants(tmp_path / "dot2.png"),
                         collection_ids=None) == []  # …but never a match


def test_cluster_page_refuses_to_group_too_many_on_the_fly(held, client, monkeypatch):
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    from svidok.web import views

    monkeypatch.setattr(views, "CLUSTERS_ON_THE_FLY", 0)
    client.force_login(get_user_model().objects.create_superuser("root", password=None))
    from tests.conftest import login_verified

    login_verified(client, get_user_model().objects.get(username="root"))
    body = client.get(reverse("clusters")).content.decode()
    assert "too many to group" in body and "svidok media clusters" in body


def _bordered(image):
    framed = Image.new("RGB", (image.width + 120, image.height + 120), (255, 255, 255))
    framed.paste(image, (60, 60))
    return framed


def _captioned(image):
    out = Image.new("RGB", (image.width, image.height + 90), (20, 20, 20))
    out.paste(image, (0, 0))
    ImageDraw.Draw(out).text((20, image.height + 30), "BREAKING: shelling reported",
                             fill=(255, 255, 255))
    return out


@pytest.mark.parametrize("edit", [
    lambda im: im.crop((int(im.width * 0.08), 0, im.width, im.height)),
    _bordered,
    _captioned,
    lambda im: im.crop((30, 20, im.width - 30, im.height - 20)).resize((480, 360)),
], ids=["cropped-8%", "bordered", "caption-bar", "cropped-and-resized"])
def test_reposts_that_plain_pdq_misses_are_found(held, tmp_path, edit):
    from svidok.apps.evidence.similarity import similar_images
    from svidok.core.media.images import MAX_IMAGE_PIXELS
    from svidok.core.media.pdq import open_for_hashing

    copy = tmp_path / "copy.jpg"
    edit(Image.open(tmp_path / "held" / "strike.jpg")).save(copy, quality=85)
    image = open_for_hashing(copy, max_pixels=MAX_IMAGE_PIXELS)
    assert names(similar_images(image=image, collection_ids=None)) == ["strike.jpg"]


def test_a_bordered_copy_joins_its_photos_group(held, tmp_path):
    from svidok.apps.evidence.grouping import near_duplicate_clusters

    _bordered(Image.open(tmp_path / "held" / "strike.jpg")).save(tmp_path / "framed.jpg")
    evidence_ingest(paths=[tmp_path / "framed.jpg"], collection_name="C",
                    facts=AcquisitionFacts(actor="t"))
    [group] = near_duplicate_clusters(collection_ids=None)
    assert sorted(i.original_name for i in group.items) == ["framed.jpg", "strike.jpg"]
