"""What every benchmark shares: instances, running the CLI, data caches, results.

Benchmarks drive Svidok as a user does: the ``svidok`` command in a separate
process, against a throw-away instance folder under /tmp with the embedded
SQLite database (``SVIDOK_DATABASE_URL`` is removed from the environment).
Each figure is printed with its target and its ratio to a baseline measured
in the same run, and appended as one JSON line to
``bench-results/results.jsonl``. Nothing here asserts on timing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import math
import os
import platform
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
RESULTS_FILE = REPO / "bench-results" / "results.jsonl"
CACHE = Path(os.environ.get("SVIDOK_BENCH_CACHE", "/tmp/svidok-bench-cache"))
SCRATCH_PARENT = Path(os.environ.get("SVIDOK_BENCH_TMP", "/tmp"))

MiB = 1024 * 1024
MB = 1_000_000
CHUNK = 1024 * 1024  # the blob store's chunk size, for the copy baselines


class BenchError(RuntimeError):
    """The product did not do what the benchmark measures (a failed run, wrong counts)."""


# --------------------------------------------------------------------------- output


def say(message: str) -> None:
    """Progress for the person watching, on stderr."""
    print(f"  · {message}", file=sys.stderr, flush=True)


def fmt(value: float | None, digits: int = 3) -> str:
    """A number for a table: thousands separators, about ``digits`` significant digits."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if abs(value) >= 10**digits:
        return f"{value:,.0f}"
    if value == 0:
        return "0"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    return f"{value:,.{decimals}f}"


@dataclass
class Result:
    """One measured figure, its target and its same-run baseline.

    ``ratio`` is ``value / baseline`` in the same unit (for a time, how many
    times slower than the baseline; for a throughput, the fraction of it).
    """

    benchmark: str
    figure: str
    value: float
    unit: str
    target: float | None  # in ``unit``
    target_op: str  # ">=" or "<"
    target_text: str
    baseline: float | None
    baseline_label: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0):
            return None
        return self.value / self.baseline

    @property
    def meets(self) -> bool | None:
        if self.target is None:
            return None
        return self.value >= self.target if self.target_op == ">=" else self.value < self.target

    def row(self) -> list[str]:
        verdict = {True: "yes", False: "NO", None: "-"}[self.meets]
        ratio = self.ratio
        return [
            self.benchmark,
            self.figure,
            f"{fmt(self.value)} {self.unit}",
            self.target_text,
            f"{fmt(self.baseline)} {self.unit}" if self.baseline is not None else "-",
            f"{fmt(ratio)}x" if ratio is not None else "-",
            verdict,
        ]


HEADER = [
    "benchmark",
    "figure",
    "measured",
    "target",
    "baseline (same run)",
    "ratio",
    "meets target",
]


def table(results: list[Result], notes: bool = True) -> str:
    rows = [r.row() for r in results]
    widths = [
        max(len(h), *(len(row[i]) for row in rows)) if rows else len(h)
        for i, h in enumerate(HEADER)
    ]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|-" + "-|-".join("-" * w for w in widths) + "-|"
    out = [line(HEADER), rule, *(line(row) for row in rows)]
    if notes:
        labels = []
        for result in results:
            if result.baseline_label and result.baseline_label not in labels:
                labels.append(result.baseline_label)
        out += [f"  baseline: {label}" for label in labels]
    return "\n".join(out)


# --------------------------------------------------------------------------- run context


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


class Context:
    """One ``python -m benchmarks`` run: its mode, its scratch space, its results."""

    def __init__(self, *, quick: bool) -> None:
        self.quick = quick
        self.run_id = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ-") + secrets.token_hex(3)
        self.results: list[Result] = []
        self.cleanup = contextlib.ExitStack()
        self._shared: dict[str, Any] = {}
        self._pending: list[Result] = []
        commit = _git("rev-parse", "HEAD")
        self.meta = {
            "run_id": self.run_id,
            "quick": quick,
            "git_commit": commit,
            "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "memory_gib": _memory_gib(),
        }

    # -- scratch

    def scratch(self, prefix: str) -> Path:
        """A temporary folder under /tmp, removed at the end of the run (or earlier by hand)."""
        path = Path(tempfile.mkdtemp(prefix=f"svidok-bench-{prefix}-", dir=SCRATCH_PARENT))
        self.cleanup.callback(shutil.rmtree, path, ignore_errors=True)
        return path

    @contextlib.contextmanager
    def instance(self, name: str) -> Iterator[Instance]:
        """A fresh, initialised instance, removed when the block ends."""
        home = Path(tempfile.mkdtemp(prefix=f"svidok-bench-{name}-", dir=SCRATCH_PARENT))
        try:
            instance = Instance(home)
            instance.init()
            yield instance
        finally:
            shutil.rmtree(home, ignore_errors=True)

    def kept_instance(self, name: str) -> Instance:
        """A fresh instance that lives until the end of the run (shared between benchmarks)."""
        home = self.scratch(name)
        instance = Instance(home)
        instance.init()
        return instance

    @property
    def settle_s(self) -> float:
        """The pause of :func:`settle` before each contender of an I/O benchmark."""
        default = "0" if self.quick else "6"
        return float(os.environ.get("SVIDOK_BENCH_SETTLE_S", default))

    def settle(self) -> None:
        settle(self.settle_s)

    @property
    def repeats(self) -> int:
        """How many times a short measurement is repeated; the median counts."""
        return 1 if self.quick else 3

    def shared(self, key: str, build: Callable[[], Any]) -> Any:
        """Build something once per run (e.g. the big custody log) and hand it to whoever asks."""
        if key not in self._shared:
            self._shared[key] = build()
        return self._shared[key]

    # -- results

    def record(self, result: Result) -> Result:
        """Keep a result; it is written out by :meth:`flush` once its benchmark has ended."""
        self.results.append(result)
        self._pending.append(result)
        return result

    def flush(self, load: dict[str, float]) -> None:
        """Append the pending results to the JSON lines file, with the machine's load."""
        RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
        with RESULTS_FILE.open("a", encoding="utf-8") as out:
            for result in self._pending:
                data = {
                    "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    **asdict(result),
                    "ratio": result.ratio,
                    "meets_target": result.meets,
                    **self.meta,
                    **load,
                }
                out.write(json.dumps(data, sort_keys=True) + "\n")
        self._pending = []


class LoadMeter:
    """How much CPU other processes used while a benchmark ran.

    Everything the machine did (``/proc/stat``) minus what this process and
    the children it waited for did (``os.times``). On a 2-core machine another
    busy process halves the figures, so the run says so instead of hiding it.
    """

    def __init__(self) -> None:
        self._start = (_busy_cpu_s(), _own_cpu_s(), time.perf_counter())

    def stop(self) -> dict[str, float]:
        busy, own, wall = (_busy_cpu_s(), _own_cpu_s(), time.perf_counter())
        foreign = max(0.0, (busy - self._start[0]) - (own - self._start[1]))
        elapsed = wall - self._start[2]
        return {
            "foreign_cpus_busy": round(foreign / elapsed, 3) if elapsed else 0.0,
            "benchmark_wall_s": round(elapsed, 1),
        }


def _busy_cpu_s() -> float:
    """CPU seconds spent not idle, all CPUs, since boot (0 where /proc is missing)."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
    except OSError:
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    busy = sum(fields[:8]) - idle  # user nice system idle iowait irq softirq steal
    return busy / os.sysconf("SC_CLK_TCK")


def _own_cpu_s() -> float:
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def machine_busy(seconds: float = 1.0) -> float:
    """CPUs kept busy by others over a short pause of this process (e.g. a test suite)."""
    meter = LoadMeter()
    time.sleep(seconds)
    return meter.stop()["foreign_cpus_busy"]


def _memory_gib() -> float | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as info:
            for line in info:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


# --------------------------------------------------------------------------- the product


def svidok_command() -> list[str]:
    """The ``svidok`` console script of this interpreter's environment, as a user runs it."""
    script = Path(sys.executable).with_name("svidok")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from svidok.cli import main; main()"]


def product_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment for the product: this home, the embedded SQLite database."""
    env = dict(os.environ)
    for name in ("SVIDOK_DATABASE_URL", "DJANGO_SETTINGS_MODULE", "SVIDOK_DEBUG"):
        env.pop(name, None)
    env["SVIDOK_HOME"] = str(home)
    env["SVIDOK_ACTOR"] = "bench:svidok"
    env.update(extra)
    return env


@dataclass
class Run:
    """One finished process: how long, how much CPU and memory, what it said."""

    args: list[str]
    returncode: int
    wall_s: float
    cpu_s: float  # user + system, the process and every child it reaped (exiftool…)
    maxrss_bytes: int  # ru_maxrss: the peak of the largest single process of the tree
    own_peak_bytes: int  # VmHWM of the process itself (not its children), sampled
    stdout: str
    stderr: str

    def check(self) -> Run:
        if self.returncode != 0:
            raise BenchError(
                f"{' '.join(self.args[-6:])} exited {self.returncode}:\n{self.stderr[-3000:]}"
            )
        return self

    def json_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]


def _high_water_mark(pid: int) -> int:
    """VmHWM (peak resident bytes so far) of one live process; 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def run_process(
    args: list[str],
    env: dict[str, str],
    *,
    timeout: float = 3600,
    cwd: Path | None = None,
    pass_stderr: bool = False,
) -> Run:
    """Run a process to completion; measure wall time, CPU time and peak memory.

    Uses ``os.wait4`` so the resource usage is that of this one child (and the
    children it reaped), not of everything the benchmark process ever started.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(
            args,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=None if pass_stderr else err,
        )
        peak = 0
        stop = threading.Event()

        def sample() -> None:  # VmHWM only grows: the last reading is the peak so far
            nonlocal peak
            while not stop.wait(0.1):
                peak = max(peak, _high_water_mark(process.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        killer = threading.Timer(timeout, process.kill)
        killer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            killer.cancel()
            stop.set()
            sampler.join()
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(
            args=args,
            returncode=process.returncode,
            wall_s=wall,
            cpu_s=usage.ru_utime + usage.ru_stime,
            maxrss_bytes=usage.ru_maxrss * 1024,  # KiB on Linux
            own_peak_bytes=peak,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
        )


class Instance:
    """One instance folder, driven through the ``svidok`` command."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.env = product_env(home)

    @property
    def database(self) -> Path:
        return self.home / "svidok.sqlite3"

    def init(self) -> None:
        self.svidok("init", "--json").check()

    def svidok(self, *args: str, timeout: float = 3600) -> Run:
        return run_process([*svidok_command(), *args], self.env, timeout=timeout)

    def ingest(self, *paths: Path, collection: str) -> tuple[Run, dict[str, Any], list[dict]]:
        """``svidok ingest PATHS --collection C --json``: the run, its summary, its lines."""
        run = self.svidok("ingest", *map(str, paths), "--collection", collection, "--json")
        run.check()
        *files, last = run.json_lines()
        return run, last["summary"], files


# --------------------------------------------------------------------------- data and baselines


def cache_dir(*parts: str) -> Path:
    path = CACHE.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_atomically(path: Path, write: Callable[[Any], None]) -> None:
    """Write ``path`` through a temporary name, so an interrupted run leaves no half file."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        with open(partial, "wb") as out:
            write(out)
        os.replace(partial, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()


def link_folder(files: list[Path], folder: Path) -> Path:
    """A folder holding exactly ``files`` (hard links, so no bytes are copied)."""
    folder.mkdir(parents=True, exist_ok=True)
    for source in files:
        target = folder / source.name
        try:
            os.link(source, target)
        except OSError:
            shutil.copyfile(source, target)
    return folder


def warm(files: Iterable[Path]) -> None:
    """Settle the disk and read files once, so every contender starts from the same state.

    ``sync`` first: freshly generated data would otherwise still be written back
    while the first contender runs, and slow it down.
    """
    os.sync()
    for path in files:
        with open(path, "rb") as stream:
            while stream.read(8 * MiB):
                pass


def settle(pause_s: float) -> None:
    """Put the machine in the same state before every contender: disk flushed, memory cold.

    ``sync`` so that no contender pays for the write-back of what an earlier
    step wrote or deleted. The pause matters on virtual machines that hand
    freed memory back to the host (virtio-balloon free page reporting, a
    couple of seconds after it is freed): whoever writes gigabytes right
    after a big deletion reuses warm pages and runs up to twice as fast as
    whoever writes after a pause. Pausing before each contender makes them
    all start cold, as a user's ingest usually does.
    """
    os.sync()
    time.sleep(pause_s)


def median_run(runs: list[Run]) -> Run:
    """The run with the median wall time (the lower middle one for an even count)."""
    return sorted(runs, key=lambda r: r.wall_s)[(len(runs) - 1) // 2]


def median(values: list[float]) -> float:
    return sorted(values)[(len(values) - 1) // 2]


def stdlib_copy_hash(files: list[Path], destination: Path, *, fsync: bool = True) -> Copy:
    """The baseline: copy each file while hashing it with SHA-256, fsync the copy.

    Streams in the same 1 MiB chunks as the blob store, with nothing but the
    standard library; the copies are removed afterwards (not timed).
    """
    destination.mkdir(parents=True, exist_ok=True)
    start, cpu = time.perf_counter(), time.process_time()
    for index, source in enumerate(files):
        hasher = hashlib.sha256()
        with open(source, "rb") as stream, open(destination / f"{index}", "wb") as out:
            while chunk := stream.read(CHUNK):
                hasher.update(chunk)
                out.write(chunk)
            out.flush()
            if fsync:
                os.fsync(out.fileno())
        hasher.hexdigest()
    copy = Copy(wall_s=time.perf_counter() - start, cpu_s=time.process_time() - cpu)
    shutil.rmtree(destination, ignore_errors=True)
    return copy


@dataclass(frozen=True)
class Copy:
    wall_s: float
    cpu_s: float
