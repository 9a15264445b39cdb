"""The PDQ hash index: exact against brute force, incremental, persistent, and
refusing damaged files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from svidok.core.media.hash_index import HashIndex, IndexUnusable


def brute_force(table: np.ndarray, ids: np.ndarray, queries: np.ndarray, radius: int) -> dict:
    best: dict[int, int] = {}
    for query in queries:
        found = np.bitwise_count(table ^ query).sum(axis=1)
        for position in np.flatnonzero(found <= radius):
            key = int(ids[position])
            best[key] = min(best.get(key, 999), int(found[position]))
    return best


def flip(rng: np.random.Generator, row: np.ndarray, bits: int) -> np.ndarray:
    unpacked = np.unpackbits(row.copy())
    unpacked[rng.choice(256, bits, replace=False)] ^= 1
    return np.packbits(unpacked)


@pytest.fixture
def clustered():
    """Random hashes plus groups of near-copies at every distance up to 40 bits, and
    duplicates: the cases where bucket look-ups could miss or double-count."""
    rng = np.random.default_rng(7)
    centres = rng.integers(0, 256, size=(40, 32), dtype=np.uint8)
    rows = [rng.integers(0, 256, size=(2_000, 32), dtype=np.uint8), centres, centres[:5]]
    rows += [np.stack([flip(rng, centre, int(k)) for k in rng.integers(0, 41, size=12)])
             for centre in centres]
    table = np.concatenate(rows)
    ids = rng.permutation(len(table)).astype(np.int64) * 7 + 3
    queries = np.stack([flip(rng, centre, int(rng.integers(0, 20))) for centre in centres])
    return table, ids, queries


@pytest.mark.parametrize("radius", [0, 1, 15, 31, 32, 47, 90])
def test_finds_exactly_what_brute_force_finds(clustered, radius):
    table, ids, queries = clustered
    index = HashIndex.build(table, ids)
    for query in queries[:15]:
        hits = index.search(query, radius)
        assert dict(zip(hits.ids.tolist(), hits.distances.tolist(), strict=True)) == \
            brute_force(table, ids, query[None], radius)
        assert list(hits.distances) == sorted(hits.distances)


def test_many_queries_keep_each_id_once_with_its_closest_query(clustered):
    table, ids, queries = clustered
    index = HashIndex.build(table, ids)
    hits = index.search(queries, 31)
    assert len(set(hits.ids.tolist())) == len(hits)
    assert dict(zip(hits.ids.tolist(), hits.distances.tolist(), strict=True)) == \
        brute_force(table, ids, queries, 31)
    for found_id, distance, query in zip(hits.ids, hits.distances, hits.queries, strict=True):
        row = table[list(ids).index(found_id)]
        assert int(np.bitwise_count(row ^ queries[query]).sum()) == distance


def test_pairs_gives_each_id_once_per_query_even_in_big_batches(clustered):
    table, ids, queries = clustered
    index = HashIndex.build(table, ids)
    many = np.concatenate([queries] * 4)  # 160 queries: probed in slices
    found_ids, distances, which = index.pairs(many, 31)
    assert len(set(zip(found_ids.tolist(), which.tolist(), strict=True))) == len(found_ids)
    expected = {(int(ids[p]), q) for q, query in enumerate(many)
                for p in np.flatnonzero(np.bitwise_count(table ^ query).sum(axis=1) <= 31)}
    assert set(zip(found_ids.tolist(), which.tolist(), strict=True)) == expected


def test_added_hashes_are_found_before_and_after_merging(clustered):
    table, ids, queries = clustered
    index = HashIndex.build(table[:1000], ids[:1000])
    index.add(table[1000:], ids[1000:])
    assert len(index) == len(table) and index.tail_size == len(table) - 1000
    expected = brute_force(table, ids, queries, 31)
    found = index.search(queries, 31)
    assert dict(zip(found.ids.tolist(), found.distances.tolist(), strict=True)) == expected
    merged = index.merged()
    assert merged.tail_size == 0
    found = merged.search(queries, 31)
    assert dict(zip(found.ids.tolist(), found.distances.tolist(), strict=True)) == expected


def test_empty_index_and_empty_query():
    index = HashIndex.build(np.empty((0, 32), np.uint8), [])
    assert len(index.search(bytes(32), 31)) == 0
    index.add([bytes(32)], [5])
    assert index.search(bytes(32), 0).ids.tolist() == [5]
    assert len(index.search(np.empty((0, 32), np.uint8), 31)) == 0


def test_rejects_malformed_input():
    with pytest.raises(ValueError, match="32 bytes"):
        HashIndex.build([b"short"], [1])
    with pytest.raises(ValueError, match="2 hashes but 1 ids"):
        HashIndex.build([bytes(32), bytes(32)], [1])
    with pytest.raises(ValueError, match="max_distance"):
        HashIndex.build([bytes(32)], [1]).search(bytes(32), 300)


def test_saved_index_opens_memory_mapped_with_the_same_answers(clustered, tmp_path):
    table, ids, queries = clustered
    index = HashIndex.build(table[:1500], ids[:1500], metadata={"max_id": 41})
    index.add(table[1500:], ids[1500:])  # the tail is merged in by save
    index.save(tmp_path)
    opened = HashIndex.open(tmp_path)
    assert opened.metadata == {"max_id": 41} and opened.tail_size == 0
    assert len(opened) == len(table)
    a, b = index.search(queries, 31), opened.search(queries, 31)
    assert a.ids.tolist() == b.ids.tolist() and a.distances.tolist() == b.distances.tolist()


def test_saving_again_replaces_the_old_generation(clustered, tmp_path):
    table, ids, _ = clustered
    HashIndex.build(table[:10], ids[:10]).save(tmp_path)
    HashIndex.build(table, ids).save(tmp_path)
    assert len(HashIndex.open(tmp_path)) == len(table)
    assert len(list(tmp_path.glob("*.npy"))) == 4  # one generation left
    assert not list(tmp_path.glob("*.tmp"))


def test_a_missing_or_damaged_index_is_refused_with_the_reason(clustered, tmp_path):
    table, ids, _ = clustered
    with pytest.raises(IndexUnusable, match="no hash index"):
        HashIndex.open(tmp_path)
    HashIndex.build(table, ids).save(tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())

    manifest_copy = dict(manifest, count=manifest["count"] + 1)
    (tmp_path / "manifest.json").write_text(json.dumps(manifest_copy))
    with pytest.raises(IndexUnusable, match="expected"):
        HashIndex.open(tmp_path)

    (tmp_path / "manifest.json").write_text(json.dumps(dict(manifest, format="other")))
    with pytest.raises(IndexUnusable, match="format 'other'"):
        HashIndex.open(tmp_path)

    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(IndexUnusable, match="unreadable"):
        HashIndex.open(tmp_path)

    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    ids_file = next(tmp_path.glob("ids.*.npy"))
    ids_file.write_bytes(b"garbage")
    with pytest.raises(IndexUnusable, match="unreadable"):
        HashIndex.open(tmp_path)


def test_a_failed_save_leaves_the_previous_index_and_no_partial_files(clustered, tmp_path,
                                                                     monkeypatch):
    table, ids, _ = clustered
    HashIndex.build(table[:10], ids[:10]).save(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    calls = []

    def full_disk(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real_save(*args, **kwargs)

    real_save = np.save
    monkeypatch.setattr(np, "save", full_disk)
    with pytest.raises(OSError, match="No space"):
        HashIndex.build(table, ids).save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert len(HashIndex.open(tmp_path)) == 10
