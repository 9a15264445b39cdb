"""The filesystem blob store: content addressing, write-once, constant memory."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from svidok.core.digest import Digest
from svidok.core.errors import NotFound
from svidok.core.store.fs import FileBlobStore


@pytest.fixture
def store(tmp_path):
    """An empty store in a temporary folder."""
    s = FileBlobStore(tmp_path / "blobs")
    s.create()
    return s


class TestPut:
    def test_address_is_sha256_and_file_is_sharded_and_read_only(self, store):
        result = store.put(io.BytesIO(b"evidence"))
        expected = hashlib.sha256(b"evidence").hexdigest()
        assert result.digest == Digest(expected)
        assert result.size == 8 and result.created
        path = store.path_of(result.digest)
        parts = ("sha256", expected[:2], expected[2:4], expected)
        assert path.relative_to(store.root).parts == parts
        assert not os.stat(path).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)

    def test_duplicate_is_stored_once(self, store):
        first = store.put(io.BytesIO(b"same"))
        second = store.put(io.BytesIO(b"same"))
        assert first.digest == second.digest
        assert first.created and not second.created
        assert list(store.iterate()) == [first.digest]

    def test_empty_blob(self, store):
        result = store.put(io.BytesIO(b""))
        assert result.size == 0
        assert str(result.digest) == "sha256:" + hashlib.sha256(b"").hexdigest()

    def test_no_temporary_file_is_left(self, store):
        store.put(io.BytesIO(b"x" * 3_000_000))
        assert list((store.root / "tmp").iterdir()) == []

    def test_failed_read_leaves_nothing(self, store):
        class Broken(io.RawIOBase):
            def readinto(self, buffer):
                raise OSError(5, "Input/output error")

        with pytest.raises(Exception, match="could not store blob"):
            store.put(Broken())
        assert list(store.iterate()) == []
        assert list((store.root / "tmp").iterdir()) == []

    def test_concurrent_writers_of_the_same_bytes(self, store):
        data = os.urandom(200_000)
        results = []
        threads = [threading.Thread(target=lambda: results.append(store.put(io.BytesIO(data))))
                   for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len({r.digest for r in results}) == 1
        assert sum(r.created for r in results) == 1
        assert store.open(results[0].digest).read() == data

    @settings(max_examples=30, deadline=None)
    @given(st.binary(max_size=5000))
    def test_round_trip(self, tmp_path_factory, data):
        s = FileBlobStore(tmp_path_factory.mktemp("prop"))
        result = s.put(io.BytesIO(data))
        assert s.exists(result.digest)
        assert s.size(result.digest) == len(data)
        with s.open(result.digest) as stream:
            assert stream.read() == data


class TestRead:
    def test_missing_blob_is_not_found(self, store):
        absent = Digest.of_bytes(b"absent")
        assert not store.exists(absent)
        with pytest.raises(NotFound, match="not in the store"):
            store.open(absent)
        with pytest.raises(NotFound):
            store.size(absent)

    def test_local_path(self, store):
        result = store.put(io.BytesIO(b"abc"))
        with store.local_path(result.digest) as path:
            assert path.read_bytes() == b"abc"

    def test_strays_are_listed_and_not_iterated(self, store):
        result = store.put(io.BytesIO(b"abc"))
        stray = store.path_of(result.digest).parent / "not-a-digest"
        stray.write_bytes(b"junk")
        assert list(store.iterate()) == [result.digest]
        assert list(store.strays()) == [stray]

    def test_clean_temporary_spares_young_files(self, store):
        young = store.root / "tmp" / "put-young"
        old = store.root / "tmp" / "put-old"
        young.write_bytes(b"1")
        old.write_bytes(b"2")
        os.utime(old, (0, 0))
        assert store.clean_temporary() == 1
        assert young.exists() and not old.exists()
