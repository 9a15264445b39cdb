"""An index of 256-bit PDQ hashes that finds every hash within a Hamming distance.

Multi-index hashing (Norouzi, Punjani and Fleet, "Fast search in Hamming space
with multi-index hashing", CVPR 2012): a hash is cut into 16 chunks of 16 bits.
If two hashes differ in at most ``d`` bits, some chunk differs in at most
``d // 16`` bits (pigeonhole), so it is enough to look up, in each chunk's
table, the query's chunk value and its neighbours within that radius, then
compute the exact distance of those candidates only. At PDQ's threshold of 31
that is 16 × 17 bucket look-ups, and about 4,000 candidates per query in a
million uniformly spread hashes, instead of a million comparisons. The
answer is exact: the same hits as a brute-force scan (the tests check it).

Each chunk's table is a counting sort: ``offsets[c, v]`` is where the rows
whose chunk ``c`` has value ``v`` begin in ``packed[c]``, which holds those
rows' whole hashes in that order. Keeping copies of the hashes next to each
other per chunk (16 × 32 bytes per hash: 512 MB for a million) turns each
bucket into one contiguous read; with a single shared copy, the random reads
of the candidates cost more than all the rest (measured: 3.6 ms against
2.1 ms for eight queries over a million hashes).

Hashes added after the index was built go to a small unsorted tail, scanned
linearly, until the owner merges them (:meth:`HashIndex.merged`).
The index is saved as plain ``.npy`` files and opened memory-mapped, so
opening it costs no time and several processes share one copy in the page
cache.
"""

from __future__ import annotations

import itertools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from svidok.core.errors import SvidokError
from svidok.core.store.fs import fsync_directory

HASH_BYTES = 32
CHUNKS = 16
CHUNK_VALUES = 1 << 16
FORMAT = "svidok-pdq-mih-1"
LINEAR_SHARE = 0.25  # scan linearly when the buckets would hand over more rows than this
QUERY_SLICE = 64  # queries probed together: bounds the temporary arrays of a big batch

Hashes = npt.NDArray[np.uint8]
Ids = npt.NDArray[np.int64]


class IndexUnusable(SvidokError):
    """The saved index is missing, of another format, or damaged; rebuild it."""


@dataclass(frozen=True)
class Hits:
    """Hashes within the distance asked: one entry per stored id, the closest query's."""

    ids: Ids
    distances: npt.NDArray[np.int32]
    queries: npt.NDArray[np.int32]  # which query row came closest

    def __len__(self) -> int:
        return len(self.ids)


def _empty_hits() -> Hits:
    return Hits(np.empty(0, np.int64), np.empty(0, np.int32), np.empty(0, np.int32))


def as_hash_array(hashes: Any) -> Hashes:
    """An (n, 32) uint8 C-contiguous array of hashes, from one 32-byte hash, 32-byte rows,
    or an array."""
    if isinstance(hashes, bytes | bytearray | memoryview):
        hashes = [hashes]
    if isinstance(hashes, np.ndarray):
        array = np.ascontiguousarray(hashes, dtype=np.uint8)
    else:
        rows = [bytes(row) for row in hashes]
        if any(len(row) != HASH_BYTES for row in rows):
            raise ValueError(f"every hash must be {HASH_BYTES} bytes")
        array = np.frombuffer(b"".join(rows), dtype=np.uint8).copy()
    return array.reshape(-1, HASH_BYTES)


def _chunk_values(hashes: Hashes) -> npt.NDArray[np.int64]:
    """(n, 16) chunk values; chunk c is bytes 2c and 2c+1, most significant first."""
    return hashes.view(">u2").reshape(len(hashes), CHUNKS).astype(np.int64)


def _words(hashes: Hashes) -> npt.NDArray[np.uint64]:
    """The same hashes as four 64-bit words each: four popcounts per row instead of 32."""
    return hashes.view(np.uint64).reshape(len(hashes), HASH_BYTES // 8)


def _flip_masks(radius: int) -> npt.NDArray[np.int64]:
    """Every 16-bit mask with at most ``radius`` bits set: the neighbours to probe."""
    masks = [0]
    for weight in range(1, min(radius, 16) + 1):
        for bits in itertools.combinations(range(16), weight):
            masks.append(sum(1 << bit for bit in bits))
    return np.array(masks, dtype=np.int64)


def _popcount_distance(rows: npt.NDArray[np.uint64],
                       queries: npt.NDArray[np.uint64]) -> npt.NDArray[np.int32]:
    counts = np.bitwise_count(rows ^ queries)
    distance: npt.NDArray[np.int32] = counts[:, 0].astype(np.int32)
    for word in range(1, counts.shape[1]):
        distance += counts[:, word]
    return distance


class HashIndex:
    """Exact radius search over PDQ hashes, each stored with an integer id.

    Build with :meth:`build`, search with :meth:`search`, add with :meth:`add`,
    persist with :meth:`save` / :meth:`open`. Any number of threads may search
    while one adds (a search sees the tail before or after the add, whole); the
    owner serialises :meth:`add` calls.
    """

    def __init__(self, *, packed: Hashes, order: npt.NDArray[np.int32],
                 offsets: npt.NDArray[np.int64], ids: Ids,
                 metadata: dict[str, Any] | None = None) -> None:
        self._packed = packed  # (16 n, 32): chunk c's rows at [c n, (c+1) n), bucket order
        self._order = order  # (16 n,): position in `ids` of each packed row
        self._offsets = offsets  # (16, 65537): bucket starts per chunk
        self._ids = ids  # (n,)
        # Replaced whole by add(), never changed in place: a search reads it once and
        # sees one consistent tail, whatever another thread adds meanwhile.
        self._tail: tuple[Hashes, Ids] = (np.empty((0, HASH_BYTES), np.uint8),
                                          np.empty(0, np.int64))
        self.metadata: dict[str, Any] = dict(metadata or {})

    # -- building -------------------------------------------------------------

    @classmethod
    def build(cls, hashes: Any, ids: Any, *,
              metadata: dict[str, Any] | None = None) -> HashIndex:
        """Index ``hashes`` ((n, 32) uint8 or 32-byte rows) under ``ids`` (n integers)."""
        table = as_hash_array(hashes)
        id_array = np.ascontiguousarray(ids, dtype=np.int64).reshape(-1)
        if len(id_array) != len(table):
            raise ValueError(f"{len(table)} hashes but {len(id_array)} ids")
        n = len(table)
        chunks = table.view(">u2").reshape(n, CHUNKS).astype(np.uint16)  # radix-sortable
        order = np.empty((CHUNKS, n), dtype=np.int32)
        offsets = np.zeros((CHUNKS, CHUNK_VALUES + 1), dtype=np.int64)
        for c in range(CHUNKS):
            # numpy sorts 16-bit keys stably by radix sort: linear in n.
            order[c] = np.argsort(chunks[:, c], kind="stable")
            np.cumsum(np.bincount(chunks[:, c], minlength=CHUNK_VALUES), out=offsets[c, 1:])
        flat_order = order.reshape(-1)
        return cls(packed=table[flat_order], order=flat_order, offsets=offsets,
                   ids=id_array, metadata=metadata)

    def __len__(self) -> int:
        return len(self._ids) + self.tail_size

    @property
    def tail_size(self) -> int:
        return len(self._tail[1])

    def add(self, hashes: Any, ids: Any) -> None:
        """Add hashes to the unsorted tail; searched at once, merged by :meth:`merged`."""
        table = as_hash_array(hashes).copy()
        id_array = np.array(ids, dtype=np.int64).reshape(-1)
        if len(id_array) != len(table):
            raise ValueError(f"{len(table)} hashes but {len(id_array)} ids")
        if len(table):
            hashes, ids = self._tail
            self._tail = (np.concatenate([hashes, table]), np.concatenate([ids, id_array]))

    def all_hashes(self) -> tuple[Hashes, Ids]:
        """Every (hash, id), the built part in id order of building, then the tail."""
        n = len(self._ids)
        built = np.empty((n, HASH_BYTES), dtype=np.uint8)
        built[self._order[:n]] = self._packed[:n]
        tail_hashes, tail_ids = self._tail_arrays()
        return np.concatenate([built, tail_hashes]), np.concatenate([self._ids, tail_ids])

    def sample(self, count: int, seed: int = 0) -> tuple[Hashes, Ids]:
        """Up to ``count`` (hash, id) pairs of the built part, chosen at random: for
        checking, cheaply, that the index describes the rows its owner thinks."""
        n = len(self._ids)
        chosen = np.random.default_rng(seed).choice(n, size=min(count, n), replace=False)
        return np.asarray(self._packed[chosen]), self._ids[self._order[chosen]]

    def merged(self) -> HashIndex:
        """A new index with the tail sorted in (the old one stays usable meanwhile)."""
        hashes, ids = self.all_hashes()
        return HashIndex.build(hashes, ids, metadata=self.metadata)

    def _tail_arrays(self) -> tuple[Hashes, Ids]:
        return self._tail

    # -- searching ------------------------------------------------------------

    def search(self, queries: Any, max_distance: int) -> Hits:
        """Every stored id whose hash is within ``max_distance`` bits of any query row.

        Exact. Each id appears once, with its smallest distance and the query
        that gave it; ordered by distance, then id.
        """
        rows, found, which = self._raw_pairs(queries, max_distance)  # de-duplicated below
        if not len(rows):
            return _empty_hits()
        # Keep each id's closest query: sort by id, then distance; first of each id.
        by_id = np.lexsort((which, found, rows))
        rows, found, which = rows[by_id], found[by_id], which[by_id]
        first = np.ones(len(rows), dtype=bool)
        first[1:] = rows[1:] != rows[:-1]
        rows, found, which = rows[first], found[first], which[first]
        nearest = np.lexsort((rows, found))
        return Hits(rows[nearest], found[nearest], which[nearest])

    def pairs(self, queries: Any, max_distance: int
              ) -> tuple[Ids, npt.NDArray[np.int32], npt.NDArray[np.int32]]:
        """Every (stored id, distance, query row) within ``max_distance``, unordered: an id
        close to several queries appears once per query (what grouping needs)."""
        ids, found, which = self._raw_pairs(queries, max_distance)
        # A hash close enough is usually in several of the probed buckets: once each.
        order = np.lexsort((which, ids))
        ids, found, which = ids[order], found[order], which[order]
        first = np.ones(len(ids), dtype=bool)
        first[1:] = (ids[1:] != ids[:-1]) | (which[1:] != which[:-1])
        return ids[first], found[first], which[first]

    def _raw_pairs(self, queries: Any, max_distance: int
                   ) -> tuple[Ids, npt.NDArray[np.int32], npt.NDArray[np.int32]]:
        """Every (id, distance, query) found, once per bucket that held it."""
        if not 0 <= max_distance <= 256:
            raise ValueError(f"max_distance must be within 0..256, got {max_distance}")
        query_table = as_hash_array(queries)
        if not len(query_table) or not len(self):
            return np.empty(0, np.int64), np.empty(0, np.int32), np.empty(0, np.int32)
        parts = [self._search_built(query_table, max_distance),
                 self._search_tail(query_table, max_distance)]
        return (np.concatenate([p[0] for p in parts]),
                np.concatenate([p[1] for p in parts]).astype(np.int32),
                np.concatenate([p[2] for p in parts]).astype(np.int32))

    def _search_built(self, queries: Hashes, max_distance: int
                      ) -> tuple[Ids, npt.NDArray[np.int32], npt.NDArray[np.int32]]:
        n = len(self._ids)
        if n == 0:
            return np.empty(0, np.int64), np.empty(0, np.int32), np.empty(0, np.int32)
        masks = _flip_masks(max_distance // CHUNKS)
        if CHUNKS * len(masks) > LINEAR_SHARE * CHUNK_VALUES:
            # Wide radii probe so many buckets that even evenly spread hashes would
            # hand over more rows than a scan reads: scan, without building the probes.
            return self._scan(self._packed[:n], self._order[:n], queries, max_distance)
        if len(queries) > QUERY_SLICE:
            parts = [self._search_built(queries[start:start + QUERY_SLICE], max_distance)
                     for start in range(0, len(queries), QUERY_SLICE)]
            return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]),
                    np.concatenate([p[2] + start for p, start in
                                    zip(parts, range(0, len(queries), QUERY_SLICE),
                                        strict=True)]))
        per_query = CHUNKS * len(masks)
        keys = _chunk_values(queries)[:, :, None] ^ masks[None, None, :]  # (q, 16, probes)
        bucket = (np.arange(CHUNKS, dtype=np.int64)[None, :, None] * (CHUNK_VALUES + 1)
                  + keys).reshape(-1)
        offsets = self._offsets.reshape(-1)
        starts = offsets[bucket]
        lengths = offsets[bucket + 1] - starts
        total = int(lengths.sum())
        if total > LINEAR_SHARE * n * len(queries):
            return self._scan(self._packed[:n], self._order[:n], queries, max_distance)
        # The rows of every probed bucket, laid end to end: run r covers
        # packed[start_r, start_r + length_r) of its chunk's section.
        section = np.repeat(np.arange(CHUNKS, dtype=np.int64) * n, len(masks))
        run_starts = starts + np.tile(section, len(queries))
        ends = np.cumsum(lengths)
        rows = np.repeat(run_starts - (ends - lengths), lengths) + np.arange(total)
        query_of_row = np.repeat(np.repeat(np.arange(len(queries), dtype=np.int32), per_query),
                                 lengths)
        found = _popcount_distance(_words(self._packed)[rows], _words(queries)[query_of_row])
        close = np.flatnonzero(found <= max_distance)
        return self._ids[self._order[rows[close]]], found[close], query_of_row[close]

    def _search_tail(self, queries: Hashes, max_distance: int
                     ) -> tuple[Ids, npt.NDArray[np.int32], npt.NDArray[np.int32]]:
        hashes, ids = self._tail_arrays()
        if not len(ids):
            return np.empty(0, np.int64), np.empty(0, np.int32), np.empty(0, np.int32)
        return self._scan(hashes, np.arange(len(ids), dtype=np.int32), queries, max_distance,
                          ids=ids)

    def _scan(self, table: Hashes, positions: npt.NDArray[np.int32], queries: Hashes,
              max_distance: int, *, ids: Ids | None = None
              ) -> tuple[Ids, npt.NDArray[np.int32], npt.NDArray[np.int32]]:
        """Compare every row of ``table`` with every query (small tables, or wide radii)."""
        id_of = self._ids if ids is None else ids
        words = _words(table)
        found_ids, found, which = [], [], []
        for index, query in enumerate(_words(queries)):
            distance = _popcount_distance(words, query[None, :])
            close = np.flatnonzero(distance <= max_distance)
            found_ids.append(id_of[positions[close]])
            found.append(distance[close])
            which.append(np.full(len(close), index, dtype=np.int32))
        return np.concatenate(found_ids), np.concatenate(found), np.concatenate(which)

    # -- persistence ----------------------------------------------------------

    def save(self, directory: Path) -> None:
        """Write the index (tail merged in) to ``directory``, replacing what was there.

        Readers never see a half-written index: the arrays of a new generation
        are written and synced first, then the manifest naming them replaces the
        old one in one rename, then the old generation's files are removed.
        """
        index = self.merged() if self.tail_size else self
        directory.mkdir(parents=True, exist_ok=True)
        generation = os.urandom(6).hex()
        arrays: dict[str, npt.NDArray[Any]] = {
            "packed": index._packed, "order": index._order,
            "offsets": index._offsets, "ids": index._ids}
        try:
            for name, array in arrays.items():
                path = directory / f"{name}.{generation}.npy"
                with open(path, "wb") as out:
                    np.save(out, array, allow_pickle=False)
                    out.flush()
                    os.fsync(out.fileno())
            manifest = {"format": FORMAT, "generation": generation, "count": len(index._ids),
                        "metadata": self.metadata}
            staging = directory / f"manifest.{generation}.tmp"
            staging.write_text(json.dumps(manifest, sort_keys=True), encoding="utf-8")
            with open(staging, "rb") as written:
                os.fsync(written.fileno())
            os.replace(staging, directory / "manifest.json")
        except BaseException:
            # A full disk must not keep half a generation (hundreds of MB) beside the
            # evidence store: the previous generation stays in use.
            for partial in directory.glob(f"*.{generation}.*"):
                partial.unlink(missing_ok=True)
            raise
        fsync_directory(directory)
        for stale in directory.iterdir():
            if stale.suffix in (".npy", ".tmp") and f".{generation}." not in stale.name:
                stale.unlink(missing_ok=True)

    @classmethod
    def open(cls, directory: Path) -> HashIndex:
        """The index saved in ``directory``, memory-mapped read-only.

        Raises :class:`IndexUnusable` saying what is wrong when there is none,
        it is of another format, or its files do not fit together.
        """
        manifest_path = directory / "manifest.json"
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise IndexUnusable(f"no hash index in {directory}") from None
        except (OSError, ValueError) as exc:
            raise IndexUnusable(f"unreadable hash index manifest {manifest_path}: {exc}") from exc
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            found = manifest.get("format") if isinstance(manifest, dict) else type(manifest)
            raise IndexUnusable(f"hash index format {found!r}, expected {FORMAT!r}")
        generation, count = manifest.get("generation"), manifest.get("count")
        if not isinstance(generation, str) or not isinstance(count, int):
            raise IndexUnusable(f"hash index manifest {manifest_path} lacks generation/count")
        expected = {"packed": ((CHUNKS * count, HASH_BYTES), np.uint8),
                    "order": ((CHUNKS * count,), np.int32),
                    "offsets": ((CHUNKS, CHUNK_VALUES + 1), np.int64),
                    "ids": ((count,), np.int64)}
        arrays: dict[str, Any] = {}
        for name, (shape, dtype) in expected.items():
            path = directory / f"{name}.{generation}.npy"
            try:
                array = np.load(path, mmap_mode="r", allow_pickle=False)
            except (OSError, ValueError) as exc:
                raise IndexUnusable(f"hash index file {path} unreadable: {exc}") from exc
            if array.shape != shape or array.dtype != dtype:
                raise IndexUnusable(f"hash index file {path}: {array.dtype}{array.shape}, "
                                    f"expected {np.dtype(dtype)}{shape}")
            arrays[name] = array
        offsets = arrays["offsets"]
        if count and (offsets[:, 0].any() or (offsets[:, -1] != count).any()):
            raise IndexUnusable(f"hash index in {directory}: bucket offsets do not add up "
                                f"to its {count} hashes")
        metadata = manifest.get("metadata")
        return cls(packed=arrays["packed"], order=arrays["order"], offsets=offsets,
                   ids=arrays["ids"], metadata=metadata if isinstance(metadata, dict) else {})
