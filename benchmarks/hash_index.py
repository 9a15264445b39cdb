"""Near-duplicate search over 1,000,000 PDQ hashes: Svidok's index against faiss.

Target (from the issue): a query against 1,000,000 image hashes answers in at
most 2 ms (median, 2 cores) with 100 % recall at distance 31 against brute
force; the index persists, takes incremental adds and can be rebuilt.

The index is built, saved and opened memory-mapped, as the web server opens
it; then 1,000 queries are asked: half are copies of stored hashes with 0–31
bits flipped (so they must be found), half are new hashes (most searches of
new material find nothing). Two figures: one hash per query (what faiss is
asked), and the eight rotations and mirror images Svidok tries for an image.

Baseline, same run, same queries: faiss ``IndexBinaryFlat.range_search`` (an
exact SIMD scan on 2 threads), and every answer is compared with it: recall
must be 100 % and nothing extra may appear. faiss's own multi-index hashing
(``IndexBinaryMultiHash``, 16 × 16 bits, 1 flip) is timed too, for reference.

The hashes are random 256-bit strings with planted near-copies. Real PDQ
hashes are less evenly spread (correlated bits make some buckets fuller), so
real queries will cost somewhat more; the recall argument does not depend on
the spread.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from benchmarks._common import Context, Result, median, say

NAME = "hash_index"
DESCRIPTION = "near-duplicate query over 1,000,000 PDQ hashes vs faiss (target <= 2 ms)"

TARGET_MS = 2.0
RADIUS = 31
VARIANTS = 8


def _flip(rng: np.random.Generator, rows: np.ndarray, max_bits: int) -> np.ndarray:
    bits = np.unpackbits(rows, axis=1)
    for row in bits:
        row[rng.choice(256, int(rng.integers(0, max_bits + 1)), replace=False)] ^= 1
    return np.packbits(bits, axis=1)


def make_hashes(count: int, seed: int = 11) -> np.ndarray:
    """``count`` hashes: random ones, and one in twenty a near-copy of another."""
    rng = np.random.default_rng(seed)
    table = rng.integers(0, 256, size=(count, 32), dtype=np.uint8)
    copies = rng.choice(count, count // 20, replace=False)
    table[copies] = _flip(rng, table[rng.choice(count, len(copies))], 24)
    return table


def make_queries(table: np.ndarray, count: int, seed: int = 12) -> np.ndarray:
    rng = np.random.default_rng(seed)
    present = _flip(rng, table[rng.choice(len(table), count // 2)], RADIUS)
    absent = rng.integers(0, 256, size=(count - count // 2, 32), dtype=np.uint8)
    queries = np.concatenate([present, absent])
    return queries[rng.permutation(len(queries))]


def _timed(call, repeat: int = 1) -> tuple[float, object]:
    start = time.perf_counter()
    for _ in range(repeat):
        answer = call()
    return (time.perf_counter() - start) / repeat, answer


def run(ctx: Context) -> list[Result]:
    import faiss

    from svidok.core.media.hash_index import HashIndex

    faiss.omp_set_num_threads(2)
    count = 50_000 if ctx.quick else 1_000_000
    asked = 200 if ctx.quick else 1_000
    say(f"making {count:,} hashes and {asked:,} queries")
    table = make_hashes(count)
    ids = np.arange(count, dtype=np.int64)
    queries = make_queries(table, asked)
    # Eight queries per image: the hash and seven others (a stand-in for its dihedral
    # variants, which are as far from each other as unrelated hashes).
    extra = np.random.default_rng(13).integers(0, 256, size=(asked, VARIANTS - 1, 32),
                                               dtype=np.uint8)
    groups = np.concatenate([queries[:, None, :], extra], axis=1)

    folder: Path = ctx.scratch("hash-index")
    build_s, built = _timed(lambda: HashIndex.build(table, ids))
    save_s, _ = _timed(lambda: built.save(folder))
    open_s, opened = _timed(lambda: HashIndex.open(folder))
    built = None  # the searches below use the saved copy, as a restarted server would
    say(f"built in {build_s:.1f} s, saved in {save_s:.1f} s, opened in {open_s * 1000:.1f} ms")

    flat = faiss.IndexBinaryFlat(256)
    flat.add(table)
    multi = faiss.IndexBinaryMultiHash(256, 16, 16)
    multi.nflip = 1
    multi_build_s, _ = _timed(lambda: multi.add(table))

    opened.search(queries[0], RADIUS)  # the first touch pages the offsets in
    # Each contender in its own loop: interleaved, faiss's 32 MB scans would evict
    # the caches between our queries (and ours theirs), which no server does.
    ours, ours8, theirs, theirs8, theirs_multi = [], [], [], [], []
    answers, answers8 = [], []
    for query in queries:
        seconds, hits = _timed(lambda q=query: opened.search(q, RADIUS))
        ours.append(seconds)
        answers.append(set(hits.ids.tolist()))
    for group in groups:
        seconds, hits = _timed(lambda g=group: opened.search(g, RADIUS))
        ours8.append(seconds)
        answers8.append(set(hits.ids.tolist()))
    wrong = found = 0
    for number, query in enumerate(queries):
        seconds, (_, _, labels) = _timed(lambda q=query: flat.range_search(q[None], RADIUS + 1))
        theirs.append(seconds)
        found += len(labels)
        wrong += set(labels.tolist()) != answers[number]
    for number, group in enumerate(groups):
        seconds, (_, _, labels) = _timed(lambda g=group: flat.range_search(g, RADIUS + 1))
        theirs8.append(seconds)
        wrong += set(labels.tolist()) != answers8[number]
    for query in queries:
        theirs_multi.append(_timed(lambda q=query: multi.range_search(q[None], RADIUS + 1))[0])

    tail = HashIndex.open(folder)
    tail.add(make_hashes(20_000, seed=14), np.arange(count, count + 20_000))
    tail_ms = median([_timed(lambda q=q: tail.search(q, RADIUS))[0] for q in queries[:200]])

    say(f"{found} stored hashes found by {asked} queries; {wrong} answers differ from faiss")
    say(f"faiss IndexBinaryMultiHash: built in {multi_build_s:.1f} s, "
        f"median {median(theirs_multi) * 1000:.2f} ms per query")
    label = f"faiss IndexBinaryFlat.range_search, {count:,} hashes, same queries"
    size = f"{count:,} hashes"
    results = [
        Result(NAME, f"query, 1 hash ({size})", median(ours) * 1000, "ms", TARGET_MS, "<",
               f"<= {TARGET_MS:g} ms", median(theirs) * 1000, label,
               {"p99_ms": float(np.percentile(ours, 99) * 1000), "queries": asked}),
        Result(NAME, f"query, 8 rotations/mirrors ({size})", median(ours8) * 1000, "ms",
               TARGET_MS, "<", f"<= {TARGET_MS:g} ms", median(theirs8) * 1000, label,
               {"p99_ms": float(np.percentile(ours8, 99) * 1000)}),
        Result(NAME, "answers equal to brute force", 100.0 * (1 - wrong / (2 * asked)), "%",
               100.0, ">=", "100 %", 100.0, "faiss IndexBinaryFlat answers",
               {"stored_hashes_found": found}),
        Result(NAME, f"build ({size})", build_s, "s", None, "<", "-", multi_build_s,
               "faiss IndexBinaryMultiHash(16 x 16 bits) add, same hashes",
               {"save_s": save_s, "open_ms": open_s * 1000}),
        Result(NAME, "query with 20,000 unmerged adds", tail_ms * 1000, "ms", TARGET_MS, "<",
               f"<= {TARGET_MS:g} ms", median(ours) * 1000, "same index, nothing added"),
    ]
    for result in results:
        ctx.record(result)
    return results
