"""The instance's hash index stays true to the PerceptualHash table: new rows are
found at once, a saved index is reused after a restart, and a stale one is
rebuilt or overruled by the rows themselves."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from svidok.apps.evidence import perceptual_index
from svidok.apps.evidence.grouping import near_duplicate_clusters
from svidok.apps.evidence.models import Collection, Item, PerceptualHash
from svidok.apps.evidence.perceptual_index import index_directory, live_index
from svidok.apps.evidence.services import AcquisitionFacts, evidence_ingest
from svidok.apps.evidence.similarity import file_variants, similar_items
from svidok.core.media.hash_index import HashIndex
from tests.apps.evidence.test_similarity import make_photo

pytestmark = pytest.mark.django_db


def ingest(folder, collection="C"):
    evidence_ingest(paths=[folder], collection_name=collection, facts=AcquisitionFacts(actor="t"))


def resized_copy(source, target):
    target.parent.mkdir(parents=True, exist_ok=True)
    Image.open(source).resize((500, 375)).save(target, "JPEG", quality=80)


def names(matches):
    return sorted(m.item.original_name for m in matches)


@pytest.fixture
def photos(svidok_home, tmp_path):
    first = tmp_path / "first"
    make_photo(first / "a.jpg", 1)
    make_photo(first / "b.jpg", 2)
    ingest(first)
    return tmp_path


def test_the_index_is_saved_and_reused_after_a_restart(photos):
    query = file_variants(photos / "first" / "a.jpg")
    assert names(similar_items(variants=query, collection_ids=None)) == ["a.jpg"]
    saved = HashIndex.open(index_directory("pdq"))
    assert len(saved) == PerceptualHash.objects.count() >= 2
    perceptual_index.forget_indexes()  # as a new process would start
    assert names(similar_items(variants=query, collection_ids=None)) == ["a.jpg"]
    assert live_index().current().tail_size == 0  # opened, not rebuilt into a tail


def test_items_ingested_after_the_index_was_built_are_found_at_once(photos):
    query = file_variants(photos / "first" / "a.jpg")
    similar_items(variants=query, collection_ids=None)  # builds the index
    later = photos / "later"
    resized_copy(photos / "first" / "a.jpg", later / "a-again.jpg")
    ingest(later)
    assert names(similar_items(variants=query, collection_ids=None)) == ["a-again.jpg", "a.jpg"]
    assert live_index().current().tail_size == PerceptualHash.objects.filter(
        item__original_name="a-again.jpg").count()


def test_a_full_tail_is_merged_and_saved(photos, monkeypatch):
    query = file_variants(photos / "first" / "a.jpg")
    similar_items(variants=query, collection_ids=None)
    monkeypatch.setattr(perceptual_index, "TAIL_LIMIT", 0)
    later = photos / "later"
    resized_copy(photos / "first" / "a.jpg", later / "a-again.jpg")
    ingest(later)
    assert names(similar_items(variants=query, collection_ids=None)) == ["a-again.jpg", "a.jpg"]
    assert live_index().current().tail_size == 0
    assert len(HashIndex.open(index_directory("pdq"))) == PerceptualHash.objects.count()


def test_a_saved_index_that_does_not_match_the_table_is_rebuilt(photos):
    query = file_variants(photos / "first" / "a.jpg")
    similar_items(variants=query, collection_ids=None)
    # A different instance's index (as after restoring a database backup).
    rng = np.random.default_rng(3)
    HashIndex.build(rng.integers(0, 256, (5, 32), dtype=np.uint8), [1, 2, 3, 4, 5],
                    metadata={"count": 5, "max_id": 5, "id_sum": 15}).save(index_directory("pdq"))
    perceptual_index.forget_indexes()
    assert names(similar_items(variants=query, collection_ids=None)) == ["a.jpg"]
    assert len(HashIndex.open(index_directory("pdq"))) == PerceptualHash.objects.count()


def test_the_rows_overrule_a_stale_index(photos):
    """An index entry whose row now holds another hash is not reported."""
    query = file_variants(photos / "first" / "a.jpg")
    similar_items(variants=query, collection_ids=None)
    # The rows changed behind the index's back.
    PerceptualHash.objects.filter(item__original_name="a.jpg").update(hash=bytes(32))
    assert similar_items(variants=query, collection_ids=None) == []


def test_collections_and_exclusions_apply_to_index_hits(photos):
    other = photos / "other"
    resized_copy(photos / "first" / "a.jpg", other / "a-copy.jpg")
    ingest(other, collection="D")
    query = file_variants(photos / "first" / "a.jpg")
    d = Collection.objects.get(name="D")
    assert names(similar_items(variants=query, collection_ids=[d.id])) == ["a-copy.jpg"]
    original = Item.objects.get(original_name="a.jpg")
    assert names(similar_items(variants=query, collection_ids=None,
                               exclude=original)) == ["a-copy.jpg"]
    groups = near_duplicate_clusters(collection_ids=None)
    assert [sorted(i.original_name for i in g.items) for g in groups] == [["a-copy.jpg", "a.jpg"]]
    assert near_duplicate_clusters(collection_ids=[d.id]) == []


def test_an_unwritable_index_folder_still_answers(photos, monkeypatch):
    def refuse(self, directory):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(HashIndex, "save", refuse)
    query = file_variants(photos / "first" / "a.jpg")
    assert names(similar_items(variants=query, collection_ids=None)) == ["a.jpg"]


def test_damaged_arrays_of_the_right_shape_mean_a_rebuild(photos, monkeypatch):
    query = file_variants(photos / "first" / "a.jpg")
    similar_items(variants=query, collection_ids=None)
    perceptual_index.forget_indexes()

    def damaged(self, count, seed=0):
        raise IndexError("index 9999999 is out of bounds")

    monkeypatch.setattr(HashIndex, "sample", damaged)
    assert names(similar_items(variants=query, collection_ids=None)) == ["a.jpg"]
