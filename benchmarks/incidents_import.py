"""``svidok import cir`` of the Centre for Information Resilience monitor file.

Target (from issue 5): the 6,650-row CIR file imported in less than 20 s, measured
as the command from process start to exit on a fresh instance (the gazetteer's
disk cache warm, as on any instance after its first geography use). A second
import of the same file (every incident unchanged) is reported too.

Baseline, same run: parsing the file alone with the core importer
(:func:`svidok.core.incidents.importers.cir.parse`) in this process; the ratio is
how many times longer the whole import takes than reading the file.
"""

from __future__ import annotations

import time

from benchmarks._common import BenchError, Context, Result, median, say
from benchmarks.media_edits import shared_data

NAME = "incidents_import"
DESCRIPTION = "svidok import cir of 6,650 rows (target < 20 s)"

TARGET_S = 20.0


def run(ctx: Context) -> list[Result]:
    path = shared_data() / "incidents" / "cir-monitor" / "events.csv"
    if not path.exists():
        say(f"skipped: no CIR file at {path} (SVIDOK_SHARED_DATA)")
        return []
    from svidok.core.geo.lookup import gazetteer
    from svidok.core.incidents.importers import cir

    gazetteer()  # builds the disk cache once, as the first geography use of an instance does
    parse_s = []
    for _ in range(ctx.repeats):
        started = time.perf_counter()
        parsed = cir.parse(path)
        parse_s.append(time.perf_counter() - started)
    first_s, second_s = [], []
    for attempt in range(1, ctx.repeats + 1):
        with ctx.instance("incidents") as instance:
            say(f"[{attempt}/{ctx.repeats}] svidok import cir ({len(parsed.incidents):,} "
                "incidents), then again")
            first = instance.svidok("import", "cir", str(path), "--collection", "CIR",
                                    "--json").check()
            counts = first.json_lines()[-1]
            if counts["created"] != len(parsed.incidents):
                raise BenchError(f"expected {len(parsed.incidents)} created, got {counts}")
            again = instance.svidok("import", "cir", str(path), "--collection", "CIR",
                                    "--json").check()
            if again.json_lines()[-1]["unchanged"] != len(parsed.incidents):
                raise BenchError(f"the second import changed something: {again.stdout[:500]}")
            first_s.append(first.wall_s)
            second_s.append(again.wall_s)
    baseline = median(parse_s)
    rows = len(parsed.incidents) + len(parsed.errors)
    return [
        ctx.record(Result(
            benchmark=NAME, figure=f"import {rows:,} CIR rows", value=median(first_s), unit="s",
            target=TARGET_S, target_op="<", target_text=f"< {TARGET_S:.0f} s",
            baseline=baseline, baseline_label="parsing the file alone (core importer, s)",
            extra={"wall_s_all": [round(s, 2) for s in first_s], "rows": rows})),
        ctx.record(Result(
            benchmark=NAME, figure="re-import, all unchanged", value=median(second_s), unit="s",
            target=None, target_op="<", target_text="(measured)", baseline=baseline,
            baseline_label="parsing the file alone (core importer, s)",
            extra={"wall_s_all": [round(s, 2) for s in second_s]})),
    ]
