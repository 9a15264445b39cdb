"""``svidok verify`` of the 1,000,000-event custody log built by ``log_append``.

Target (from the issue): the full audit takes less than 60 s, measured as
``svidok verify --json`` from process start to exit. The log holds 1,000,000
events and 1,000 signed tree heads; it is the one ``log_append`` made in the
same run (built here when this benchmark runs alone).

Baseline, same run, same log: recomputing the Merkle root from the stored
leaf hashes alone, read from the SQLite file with the ``sqlite3`` module and
folded with ``svidok.core.custody.merkle.CompactRange``. The ratio is how many
times longer the full audit takes than that bare minimum.
"""

from __future__ import annotations

import sqlite3
import time

from benchmarks._common import MB, BenchError, Context, Result, Run, median, median_run, say
from benchmarks.log_append import build_log

NAME = "verify_log"
DESCRIPTION = "svidok verify of the 1,000,000-event log (target < 60 s)"

TARGET_S = 60.0


def merkle_root_from_sqlite(database: str) -> tuple[bytes, int, float]:
    """The root of the stored leaf hashes, how many there were, and the seconds it took."""
    from svidok.core.custody.merkle import CompactRange

    start = time.perf_counter()
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        tree = CompactRange()
        rows = connection.execute("SELECT leaf_hash FROM custody_custodyevent ORDER BY seq")
        for (leaf_hash,) in rows:
            tree.append(bytes.fromhex(leaf_hash))
        root = tree.root()
    finally:
        connection.close()
    return root, tree.size, time.perf_counter() - start


def _signed_root(database: str, size: int) -> str | None:
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        row = connection.execute(
            "SELECT root FROM custody_treehead WHERE size = ? ORDER BY id DESC LIMIT 1", (size,)
        ).fetchone()
    finally:
        connection.close()
    return row[0] if row else None


def run(ctx: Context) -> list[Result]:
    log = build_log(ctx, baseline=False)
    database = str(log.instance.database)

    baselines: list[float] = []
    runs: list[Run] = []
    for attempt in range(1, ctx.repeats + 1):
        say(
            f"[{attempt}/{ctx.repeats}] baseline: Merkle root of the stored leaf hashes "
            "(sqlite3 + CompactRange)"
        )
        root, size, seconds = merkle_root_from_sqlite(database)
        if size != log.events or _signed_root(database, size) != root.hex():
            raise BenchError(f"the log's {size} leaves do not give its latest signed root")
        baselines.append(seconds)
        say(f"[{attempt}/{ctx.repeats}] svidok verify --json of {log.events:,} events")
        verify = log.instance.svidok("verify", "--json")
        report = verify.json_lines()[-1] if verify.stdout.strip() else {}
        if verify.returncode != 0 or not report.get("ok") or report.get("events") != log.events:
            raise BenchError(
                f"verify failed or saw the wrong log (exit {verify.returncode}): "
                f"{str(report)[:500]} {verify.stderr[-2000:]}"
            )
        runs.append(verify)
    verify = median_run(runs)
    baseline_s = median(baselines)

    result = Result(
        benchmark=NAME,
        figure=f"verify {log.events:,} events",
        value=verify.wall_s,
        unit="s",
        target=TARGET_S,
        target_op="<",
        target_text=f"< {TARGET_S:.0f} s",
        baseline=baseline_s,
        baseline_label="Merkle root of the stored leaf hashes: sqlite3 + CompactRange (s)",
        extra={
            "events": log.events,
            "heads": report.get("heads"),
            "events_per_s": round(log.events / verify.wall_s),
            "repeats": ctx.repeats,
            "wall_s_all": [round(r.wall_s, 3) for r in runs],
            "baseline_s_all": [round(b, 3) for b in baselines],
            "cpu_s": round(verify.cpu_s, 3),
            "peak_rss_mb": round(verify.maxrss_bytes / MB, 1),
        },
    )
    return [ctx.record(result)]
