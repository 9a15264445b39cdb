"""Custody log appends, in batches: 1,000,000 events, 1,000 per transaction.

Target (from the issue): at least 20,000 events/s.

The service is driven in-process, as the web application and ingest drive
it: a worker process (this module with ``--worker``) sets up Django against a
fresh instance made with ``svidok init`` and calls ``custody_append`` inside
``transaction.atomic()``, one transaction and one signed tree head per batch.
Only the append loop is timed (Django start-up is not part of an append).

The events are ``item.viewed`` events with small details, about the items
of a 997-item collection in turn, so each transaction's 1,000 events concern
about 1,000 different items (as when a whole collection is exported or
reviewed). Events per second are reported for the whole run and for its
last tenth (the log between 900,000 and 1,000,000 events): whether appending
slows down as the log grows.

Baseline, same process, same events: building the canonical JSON of each
event body and hashing it as a Merkle leaf (``canonical_json`` +
``merkle.hash_leaf``), nothing else; the ratio shows what storing, the tree
and signing add. The log is kept for ``verify_log``. --quick: 50,000 events.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from benchmarks._common import (
    REPO,
    Context,
    Instance,
    Result,
    product_env,
    run_process,
    say,
)

NAME = "log_append"
DESCRIPTION = "custody_append of 1,000,000 events in 1,000-event transactions (>= 20,000/s)"

TARGET_EVENTS_PER_S = 20_000.0
FULL_EVENTS = 1_000_000
QUICK_EVENTS = 50_000
BATCH = 1_000
ACTOR = "web:analyst@bench"


class CustodyLog:
    """A built log: its instance and what the worker measured while building it."""

    def __init__(self, instance: Instance, events: int, measured: dict[str, Any]) -> None:
        self.instance = instance
        self.events = events
        self.measured = measured


def build_log(ctx: Context, *, baseline: bool) -> CustodyLog:
    """Make an instance with the benchmark's log in it (once per run)."""

    def build() -> CustodyLog:
        events = QUICK_EVENTS if ctx.quick else FULL_EVENTS
        instance = ctx.kept_instance("log")
        out = ctx.scratch("log-worker") / "result.json"
        env = product_env(
            instance.home,
            DJANGO_SETTINGS_MODULE="svidok.settings",
            PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        )
        args = [
            sys.executable,
            "-m",
            "benchmarks.log_append",
            "--worker",
            "--events",
            str(events),
            "--batch",
            str(BATCH),
            "--out",
            str(out),
        ]
        if not baseline:
            args.append("--no-baseline")
        say(f"appending {events:,} custody events in batches of {BATCH:,}")
        worker = run_process(args, env, cwd=REPO, pass_stderr=True).check()
        measured = json.loads(out.read_text())
        measured["worker_wall_s"] = worker.wall_s
        measured["worker_peak_rss_bytes"] = worker.maxrss_bytes
        measured["database_bytes"] = sum(
            p.stat().st_size for p in instance.home.glob("svidok.sqlite3*")
        )
        return CustodyLog(instance, events, measured)

    log: CustodyLog = ctx.shared("custody_log", build)
    return log


def run(ctx: Context) -> list[Result]:
    log = build_log(ctx, baseline=True)
    m = log.measured
    rate = log.events / m["append_s"]
    baseline = log.events / m["baseline_s"]
    result = Result(
        benchmark=NAME,
        figure=f"append {log.events:,} events, {BATCH:,}/txn",
        value=rate,
        unit="events/s",
        target=TARGET_EVENTS_PER_S,
        target_op=">=",
        target_text=f">= {TARGET_EVENTS_PER_S:,.0f} events/s",
        baseline=baseline,
        baseline_label="canonical_json + merkle.hash_leaf of the same event bodies (events/s)",
        extra={
            "events": log.events,
            "batch": BATCH,
            "append_s": round(m["append_s"], 3),
            "baseline_s": round(m["baseline_s"], 3),
            "txn_ms_p50": m["txn_ms_p50"],
            "txn_ms_p99": m["txn_ms_p99"],
            "txn_ms_max": m["txn_ms_max"],
            "events_per_s_first_10pct": m["rate_first"],
            "events_per_s_last_10pct": m["rate_last"],
            "worker_peak_rss_mb": round(m["worker_peak_rss_bytes"] / 1e6, 1),
            "database_mb": round(m["database_bytes"] / 1e6, 1),
        },
    )
    tail = Result(
        benchmark=NAME,
        figure="  the same, last tenth of the log",
        value=m["rate_last"],
        unit="events/s",
        target=TARGET_EVENTS_PER_S,
        target_op=">=",
        target_text=f">= {TARGET_EVENTS_PER_S:,.0f} events/s",
        baseline=baseline,
        baseline_label=result.baseline_label,
        extra={"events_per_s_first_10pct": m["rate_first"]},
    )
    return [ctx.record(result), ctx.record(tail)]


# --------------------------------------------------------------------------- the worker


def _worker(events: int, batch: int, out: Path, baseline: bool) -> None:
    import django

    django.setup()
    from django.db import transaction

    from svidok.apps.custody.services import (
        Action,
        EventDraft,
        custody_append,
        event_body,
        utc_now_text,
    )
    from svidok.core.canonical import canonical_json
    from svidok.core.custody import merkle

    rng = random.Random(6962)
    items = [
        (uuid.UUID(int=rng.getrandbits(128), version=4), rng.randbytes(32).hex())
        for _ in range(997)
    ]
    pages = ["overview", "metadata", "custody", "download", "proof"]

    def drafts(start: int) -> list[EventDraft]:
        result = []
        for seq in range(start, min(start + batch, events)):
            item_id, sha256 = items[seq % len(items)]
            result.append(
                EventDraft(
                    action=Action.VIEWED,
                    details={"page": pages[seq % len(pages)], "session": seq // 50},
                    item_id=item_id,
                    item_sha256=sha256,
                )
            )
        return result

    baseline_s = None
    if baseline:
        start = time.perf_counter()
        for first in range(0, events, batch):
            now = utc_now_text()
            for seq, draft in enumerate(drafts(first), start=first):
                merkle.hash_leaf(
                    canonical_json(event_body(seq=seq, time=now, actor=ACTOR, draft=draft))
                )
        baseline_s = time.perf_counter() - start
        print(
            f"  · baseline hashed {events:,} events in {baseline_s:.1f} s",
            file=sys.stderr,
            flush=True,
        )

    latencies: list[float] = []
    start = time.perf_counter()
    next_report = start + 15
    for first in range(0, events, batch):
        begin = time.perf_counter()
        with transaction.atomic():
            custody_append(drafts=drafts(first), actor=ACTOR)
        now = time.perf_counter()
        latencies.append(now - begin)
        if now > next_report:
            done = first + batch
            print(
                f"  · {done:,} events appended, {done / (now - start):,.0f}/s so far",
                file=sys.stderr,
                flush=True,
            )
            next_report = now + 15
    append_s = time.perf_counter() - start

    tenth = max(1, len(latencies) // 10)
    first, last = latencies[:tenth], latencies[-tenth:]
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    out.write_text(
        json.dumps(
            {
                "append_s": append_s,
                "baseline_s": baseline_s,
                "txn_ms_p50": round(statistics.median(latencies) * 1000, 2),
                "txn_ms_p99": round(quantiles[98] * 1000, 2),
                "txn_ms_max": round(max(latencies) * 1000, 2),
                # events over the time their transactions took (the last batch may be short)
                "rate_first": round(batch * len(first) / sum(first)),
                "rate_last": round((events - batch * (len(latencies) - tenth)) / sum(last)),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="custody log append worker (internal)")
    parser.add_argument("--worker", action="store_true", required=True)
    parser.add_argument("--events", type=int, required=True)
    parser.add_argument("--batch", type=int, default=BATCH)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--no-baseline", dest="baseline", action="store_false")
    options = parser.parse_args()
    _worker(options.events, options.batch, options.out, options.baseline)


if __name__ == "__main__":
    main()
