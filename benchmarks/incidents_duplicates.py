"""``svidok incidents duplicates`` across Bellingcat 2023 and CIR.

Target (from issue 5): duplicate candidates across Bellingcat's 2023 export (1,158
incidents) and the CIR monitor file (6,634) in less than 30 s, measured as the
command from process start to exit, on an instance where both datasets were
imported into one collection (pairs are proposed within a collection). The
stored candidates are then re-found (every pair known) in a second run.

Baseline, same run: the framework-free scoring alone
(:func:`svidok.core.incidents.duplicates.find_candidates`) on the parsed files in
this process; the ratio is how much the whole command costs over it.
"""

from __future__ import annotations

import time

from benchmarks._common import BenchError, Context, Result, median, say
from benchmarks.media_edits import shared_data

NAME = "incidents_duplicates"
DESCRIPTION = "svidok incidents duplicates over Bellingcat 2023 + CIR (target < 30 s)"

TARGET_S = 30.0
COLLECTION = "Public datasets"


def run(ctx: Context) -> list[Result]:
    data = shared_data() / "incidents"
    bellingcat, cir = data / "bellingcat-timemap-2023", data / "cir-monitor" / "events.csv"
    if not bellingcat.exists() or not cir.exists():
        say(f"skipped: no Bellingcat or CIR data under {data} (SVIDOK_SHARED_DATA)")
        return []
    from svidok.core.incidents.duplicates import facts_of, find_candidates
    from svidok.core.incidents.importers import bellingcat as bellingcat_parser
    from svidok.core.incidents.importers import cir as cir_parser

    parsed = bellingcat_parser.parse(bellingcat).incidents + cir_parser.parse(cir).incidents
    facts = [facts_of(incident, str(n)) for n, incident in enumerate(parsed)]
    core_s = []
    for _ in range(ctx.repeats):
        started = time.perf_counter()
        expected = len(find_candidates(facts))
        core_s.append(time.perf_counter() - started)
    first_s, again_s = [], []
    with ctx.instance("duplicates") as instance:
        say("importing Bellingcat 2023 and CIR into one collection")
        instance.svidok("import", "bellingcat", str(bellingcat), "--collection", COLLECTION,
                        "--json").check()
        instance.svidok("import", "cir", str(cir), "--collection", COLLECTION, "--json").check()
        for attempt in range(1, ctx.repeats + 1):
            say(f"[{attempt}/{ctx.repeats}] svidok incidents duplicates")
            found = instance.svidok("incidents", "duplicates", "--collection", COLLECTION,
                                    "--json").check()
            summary = found.json_lines()[-1]
            if summary["incidents"] != len(parsed) or summary["candidates"] != expected:
                raise BenchError(f"expected {len(parsed)} incidents and {expected} pairs, "
                                 f"got {summary['incidents']} and {summary['candidates']}")
            (first_s if attempt == 1 else again_s).append(found.wall_s)
    baseline = median(core_s)
    results = [ctx.record(Result(
        benchmark=NAME, figure=f"candidates among {len(parsed):,} incidents",
        value=first_s[0], unit="s", target=TARGET_S, target_op="<",
        target_text=f"< {TARGET_S:.0f} s", baseline=baseline,
        baseline_label="core scoring alone on the parsed files (s)",
        extra={"pairs": expected, "core_s_all": [round(s, 2) for s in core_s]}))]
    if again_s:
        results.append(ctx.record(Result(
            benchmark=NAME, figure="again, every pair already stored", value=median(again_s),
            unit="s", target=None, target_op="<", target_text="(measured)", baseline=baseline,
            baseline_label="core scoring alone on the parsed files (s)", extra={})))
    return results
