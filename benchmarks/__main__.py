"""``python -m benchmarks [--quick] [--list] [NAME...]``."""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback

from benchmarks import NAMES
from benchmarks._common import CACHE, RESULTS_FILE, Context, LoadMeter, machine_busy, table

# Other processes using more than this many CPUs make figures unreliable (2 cores).
BUSY = 0.15


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Run Svidok's benchmarks (all of them unless NAMEs are given).",
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help="benchmarks to run")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small sizes: a smoke run that finishes in under a minute",
    )
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    options = parser.parse_args(argv)

    modules = {name: importlib.import_module(f"benchmarks.{name}") for name in NAMES}
    if options.list:
        for name, module in modules.items():
            print(f"{name:14} {module.DESCRIPTION}")
        return 0
    unknown = [name for name in options.names if name not in modules]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(NAMES)}")
    chosen = [name for name in NAMES if not options.names or name in options.names]

    ctx = Context(quick=options.quick)
    mode = "quick (smoke sizes)" if options.quick else "full"
    print(f"Svidok benchmarks, {mode} run {ctx.run_id}: {', '.join(chosen)}")
    print(
        f"commit {ctx.meta['git_commit'][:12] or '?'}"
        f"{' (with uncommitted changes)' if ctx.meta['git_dirty'] else ''}, "
        f"{ctx.meta['cpus']} CPUs, {ctx.meta['memory_gib']} GiB, Python {ctx.meta['python']}; "
        f"data cache {CACHE}"
    )
    busy = machine_busy()
    if busy > BUSY:
        print(
            f"WARNING: other processes keep {busy:.1f} of {ctx.meta['cpus']} CPUs busy; "
            "the figures will be low. Run the benchmarks on a quiet machine."
        )
    failed: list[str] = []
    loaded: list[str] = []
    started = time.perf_counter()
    try:
        for name in chosen:
            print(f"\n== {name}: {modules[name].DESCRIPTION}", flush=True)
            meter = LoadMeter()
            try:
                results = modules[name].run(ctx)
            except KeyboardInterrupt:
                raise
            except Exception:
                failed.append(name)
                print(f"FAILED: {name}", file=sys.stderr)
                traceback.print_exc()
                continue
            finally:
                load = meter.stop()
                ctx.flush(load)
            print(table(results))
            print(
                f"({name} took {load['benchmark_wall_s']:.0f} s; other processes kept "
                f"{load['foreign_cpus_busy']:.2f} CPUs busy meanwhile)",
                flush=True,
            )
            if load["foreign_cpus_busy"] > BUSY:
                loaded.append(name)
                print(f"WARNING: the machine was not quiet during {name}; its figures are low.")
    finally:
        ctx.cleanup.close()

    print(f"\n== Summary ({mode}, {time.perf_counter() - started:.0f} s)")
    if ctx.results:
        print(table(ctx.results))
    if options.quick:
        print("  (quick mode: sizes too small for the targets; the verdicts are indicative only)")
    print(f"results appended to {RESULTS_FILE}")
    if loaded:
        print(
            f"WARNING: other processes competed for the CPUs during {', '.join(loaded)}: "
            "rerun those on a quiet machine before trusting the figures."
        )
    if failed:
        print(f"benchmarks that could not run: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
