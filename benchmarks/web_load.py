"""The web application under load: item list and item detail, 50 concurrent clients.

Target (from the issue): the item list and the item detail page answer with a
99th-percentile latency under 150 ms with 50 concurrent clients, over a
collection of 100,000 items on SQLite, the load sent from a second process
on loopback.

The server is the real one, ``svidok serve`` (gunicorn, with the worker class
and as many workers as ``svidok serve`` uses by default;
``SVIDOK_BENCH_WEB_WORKERS`` overrides the count), started in its own
process group on a free loopback port. The benchmark logs in over HTTP as a
non-admin user with the analyst role in the collection (the login form, its
CSRF token, the ``sessionid`` cookie) and runs ``wrk -t2 -c50 --latency
--timeout 30s`` with that session: 30 s per page (5 s with --quick), after a
3 s warm-up with 4 clients. wrk is closed-loop: each of the 50 connections sends its next
request when the previous answer arrived, so the latencies include queueing
for a worker, requests/s is what the server sustained, and the mean latency
is about 50 / (requests/s) (Little's law). The 30 s timeout keeps slow
answers in the distribution (wrk leaves timed-out requests out of its
latencies); when fewer than two answers per client finish within the window
the latencies are marked as a lower bound.

* item list: the list page (``/items/``, or ``/`` where the list lived
  before) with a page number drawn uniformly from all pages (2,000 pages of
  50), so deep pages (large OFFSETs) count as often as the first one;
* item detail: ``/items/<id>/`` of an item drawn uniformly from all items.
  Every view is a custody event (a signed, fsynced SQLite write under the
  log's lock), so this also measures how views serialise on the log.

Baseline, same run, same server, same session cookie, same wrk settings:
``GET /login/``, a small template rendered through the whole middleware stack
with the session and user looked up: what Django and gunicorn cost for the
most trivial signed-in page. The ratios show what the list and the detail
add to that floor.

The figures are only reported when they mean something: every answer must
be a 200 (counted by the wrk Lua script; wrk itself flags only 4xx/5xx, not
a redirect to the login page), and before the load the first and the last
list page and one detail page are fetched and checked for the items' names.
After each load the benchmark waits until the server has answered what was
still queued when wrk stopped (a sync worker only notices a closed connection
when it writes the answer), so no page pays for the previous one; before each
measurement it waits (up to 120 s) for other processes to leave the CPUs
alone. Also reported: the server's CPU time per request (all gunicorn
processes, answered requests counted in its access log) and how many CPUs
other processes and the kernel used during each window.

The instance: ``svidok init``, ``svidok ingest`` of a few real files (JPEG
photographs, a PDF, a short video: thumbnails, a contact sheet, metadata,
custody events), then items up to 100,000 created in bulk in a Django
process (this module with ``--worker``): 5,000 per transaction under the
log's lock, each with an acquisition row and its ``item.acquired``,
``item.stored`` and ``item.metadata_extracted`` custody events, made with the
same record functions as ingest. The bulk items have no bytes in the blob
store (the pages measured never read them; ``svidok verify`` would report
them missing). The instance is built once into the data cache (keyed by its
size and ``BUILD_VERSION``) and copied for each run, because viewing items
changes it; ``svidok init`` on the copy applies newer migrations. --quick
uses 5,000 items.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import math
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks._common import (
    CACHE,
    REPO,
    BenchError,
    Context,
    Instance,
    LoadMeter,
    Result,
    fmt,
    machine_busy,
    product_env,
    run_process,
    say,
    svidok_command,
)

NAME = "web_load"
DESCRIPTION = "item list and detail under 50 clients, 100,000 items (target p99 < 150 ms)"

TARGET_P99_MS = 150.0
FULL_ITEMS = 100_000
QUICK_ITEMS = 5_000
CLIENTS = 50
WRK_THREADS = 2
FULL_DURATION_S = 30
QUICK_DURATION_S = 5
WARMUP_S = 3
WARMUP_CLIENTS = 4  # enough to warm every worker; few, so little is left queued afterwards
BATCH = 5_000
COLLECTION = "bench-web"
USERNAME = "bench-analyst"
PASSWORD = "analyst-Kx7-bench-Tq4w"  # a throw-away instance's throw-away login
ACTOR = "bench:bulk-items"
BUILD_VERSION = "v1"  # bump when the way the instance is built changes
FILES_CACHE = "web-files-v1"
PHOTOS = 6


# --------------------------------------------------------------------------- the instance


def _real_files() -> list[Path]:
    """A handful of real files to ingest: photographs, a PDF, a short video (cached)."""
    from benchmarks.ingest_jpegs import photos

    folder = CACHE / FILES_CACHE
    folder.mkdir(parents=True, exist_ok=True)
    pdf = folder / "field-report.pdf"
    if not pdf.exists():
        from pypdf import PdfWriter

        writer = PdfWriter()
        for _ in range(3):
            writer.add_blank_page(width=595, height=842)
        writer.add_metadata({"/Title": "Synthetic field report", "/Author": "Svidok bench"})
        partial = pdf.with_name(f".{pdf.name}.partial")
        with open(partial, "wb") as out:
            writer.write(out)
        os.replace(partial, pdf)
    files = [*photos(PHOTOS), pdf]
    video = folder / "street-clip.mp4"
    ffmpeg = shutil.which("ffmpeg")
    if not video.exists() and ffmpeg is not None:
        partial = video.with_name(f".{video.stem}.partial.mp4")
        subprocess.run(
            [ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i",
             "testsrc=duration=4:size=640x360:rate=25", "-pix_fmt", "yuv420p",
             "-c:v", "libx264", str(partial)],
            check=True, timeout=300,
        )
        os.replace(partial, video)
    if video.exists():
        files.append(video)
    else:
        say("warning: ffmpeg is missing; the instance holds no ingested video")
    return files


def _build(items: int, target: Path) -> dict[str, Any]:
    """Make the instance into ``target`` (a folder that does not exist yet)."""
    started = time.perf_counter()
    home = target / "home"
    instance = Instance(home)
    instance.init()
    files = _real_files()
    folder = target / "files"
    folder.mkdir()
    for source in files:
        shutil.copyfile(source, folder / source.name)
    say(f"svidok ingest of {len(files)} real files into '{COLLECTION}'")
    _, summary, _ = instance.ingest(folder, collection=COLLECTION)
    if summary["new"] != len(files) or summary["error"]:
        raise BenchError(f"expected {len(files)} new files and no errors, got {summary}")
    shutil.rmtree(folder)

    say(f"creating items up to {items:,} in bulk, {BATCH:,} per transaction (once; cached)")
    env = product_env(
        home,
        DJANGO_SETTINGS_MODULE="svidok.settings",
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    )
    run_process(
        [sys.executable, "-m", "benchmarks.web_load", "--worker", "--items", str(items)],
        env, cwd=REPO, pass_stderr=True,
    ).check()

    user = subprocess.run(
        [*svidok_command(), "user", "add", USERNAME, "--password-stdin"],
        input=PASSWORD + "\n", env=instance.env, capture_output=True, text=True, check=False,
    )
    if user.returncode != 0:
        raise BenchError(f"svidok user add failed: {user.stderr[-2000:]}")
    instance.svidok("user", "grant", USERNAME, COLLECTION, "analyst").check()
    meta = {
        "items": items,
        "version": BUILD_VERSION,
        "ingested": [path.name for path in files],
        "build_s": round(time.perf_counter() - started, 1),
    }
    (target / "built.json").write_text(json.dumps(meta))
    return meta


def cached_instance(items: int) -> tuple[Path, dict[str, Any], bool]:
    """The built instance's cache folder and its description; built when missing."""
    final = CACHE / f"web-instance-{items}-{BUILD_VERSION}"
    if (final / "built.json").exists():
        return final, json.loads((final / "built.json").read_text()), False
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = CACHE / f".{final.name}.{os.getpid()}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    try:
        meta = _build(items, partial)
        shutil.rmtree(final, ignore_errors=True)
        os.replace(partial, final)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return final, meta, True


def _items_in(database: Path) -> list[tuple[str, str]]:
    """(id with hyphens, original name) of every item, read with the sqlite3 module."""
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        rows = connection.execute("SELECT id, original_name FROM evidence_item").fetchall()
    finally:
        connection.close()
    return [(str(uuid.UUID(str(row_id))), name) for row_id, name in rows]


# --------------------------------------------------------------------------- the server


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve_default_workers() -> int | None:
    """The ``--workers`` default that ``svidok serve --help`` shows, if it shows one."""
    helped = subprocess.run([*svidok_command(), "serve", "--help"], capture_output=True,
                            text=True, check=False)
    match = re.search(r"--workers\b.*?\[default:\s*(\d+)", helped.stdout, re.S)
    return int(match.group(1)) if match else None


class Server:
    """``svidok serve`` in its own process group; stopped with :meth:`stop`."""

    def __init__(self, instance: Instance, workers: int, log: Path) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                [*svidok_command(), "--home", str(instance.home), "serve", "--host",
                 "127.0.0.1", "--port", str(self.port), "--workers", str(workers)],
                env=instance.env, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"svidok serve exited {self.process.returncode}:\n{self.tail()}")
            try:
                if get(self.port, "/login/").status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise BenchError(f"svidok serve did not answer within {timeout:.0f} s:\n{self.tail()}")

    def tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def cpu_s(self) -> float:
        """CPU seconds used so far by the live processes of the server's group."""
        total = 0.0
        ticks = os.sysconf("SC_CLK_TCK")
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[2]) == self.process.pid:  # pgrp
                total += (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
        return total

    def worker_class(self) -> str:
        """The worker class gunicorn says it uses (``sync``, ``gthread``…), from its log."""
        try:
            with open(self.log, "rb") as log:
                head = log.read(20_000).decode("utf-8", "replace")
        except OSError:
            head = ""
        match = re.search(r"Using worker: (\S+)", head)
        return match.group(1) if match else "?"

    def drain(self, timeout: float = 600) -> float:
        """Wait until the server has worked off what a finished load left queued.

        When wrk stops, the requests it had in flight are still queued in the
        listen backlog and the workers process them all (a closed connection
        is only noticed when the answer is written). Measuring the next page
        before they are done would charge their cost to it. Idle means: the
        server's processes used under 5 % of a CPU for a second and a
        trivial page then answers within half a second. Returns the seconds
        waited.
        """
        started = time.monotonic()
        before = self.cpu_s()
        while time.monotonic() - started < timeout:
            time.sleep(1.0)
            now = self.cpu_s()
            busy, before = now - before, now
            if busy < 0.05:
                probe = time.monotonic()
                if get(self.port, "/login/").status == 200 and time.monotonic() - probe < 0.5:
                    return time.monotonic() - started
                before = self.cpu_s()
        raise BenchError(f"the server was still busy {timeout:.0f} s after the load ended")

    def served(self) -> int:
        """Requests answered so far: the lines of gunicorn's access log."""
        try:
            with open(self.log, "rb") as log:
                return sum(1 for line in log if b'"GET ' in line or b'"POST ' in line)
        except OSError:
            return 0

    def stop(self) -> None:
        """Stop gunicorn gracefully and reap it, so its and its workers' CPU counts as ours.

        SIGTERM goes to the master, which stops and reaps its workers; only if
        it has not exited after 30 s is the whole process group killed.
        """
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                say("warning: svidok serve did not stop within 30 s; killing its process group")
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)  # any worker that outlived its master


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    cookies: dict[str, str]
    body: str


def get(port: int, path: str, *, cookies: dict[str, str] | None = None,
        method: str = "GET", form: dict[str, str] | None = None) -> Answer:
    """One request with http.client (no redirects followed, no cookie jar)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        headers = {"Host": f"127.0.0.1:{port}"}
        if cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://127.0.0.1:{port}/login/"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        jar = {}
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                jar[key.strip()] = rest.split(";", 1)[0]
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, jar,
                      response.read().decode("utf-8", "replace"))
    finally:
        connection.close()


def login(port: int) -> dict[str, str]:
    """Log in through the form as the analyst; the cookies of the session."""
    page = get(port, "/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
    if page.status != 200 or token is None or "csrftoken" not in page.cookies:
        raise BenchError(f"GET /login/ gave {page.status} without a CSRF token")
    cookies = {"csrftoken": page.cookies["csrftoken"]}
    answer = get(port, "/login/", cookies=cookies, method="POST", form={
        "username": USERNAME, "password": PASSWORD,
        "csrfmiddlewaretoken": token.group(1), "next": "",
    })
    if answer.status != 302 or "sessionid" not in answer.cookies:
        raise BenchError(f"login as {USERNAME} failed: {answer.status}, {answer.body[:500]}")
    cookies.update(answer.cookies)
    return {"csrftoken": cookies["csrftoken"], "sessionid": cookies["sessionid"]}


def find_list_path(port: int, cookies: dict[str, str],
                   items: dict[str, str]) -> tuple[str, int, int]:
    """Where the item list lives (``/items/``, else ``/``), its page size and page count.

    Checked: the first page links to items by their names, and the last page
    holds exactly the items left over, so the random pages of the load all exist.
    """
    tried = []
    for path in ("/items/", "/"):
        page = get(port, f"{path}?page=1", cookies=cookies)
        shown = _item_links(page.body, items)
        if page.status != 200 or len(shown) < min(10, len(items)):
            tried.append(f"{path}: {page.status}, {len(shown)} item links")
            continue
        if not all(items[i] in page.body for i in shown):
            raise BenchError(f"{path} links to items but does not show their names")
        per_page = len(shown)
        pages = math.ceil(len(items) / per_page)
        last = get(port, f"{path}?page={pages}", cookies=cookies)
        expected = len(items) - (pages - 1) * per_page
        if last.status != 200 or len(_item_links(last.body, items)) != expected:
            raise BenchError(f"{path}?page={pages} should list {expected} items; got "
                             f"{last.status} with {len(_item_links(last.body, items))}")
        return path, per_page, pages
    raise BenchError(f"found no item list page ({'; '.join(tried)})")


def _item_links(html: str, items: dict[str, str]) -> list[str]:
    found = re.findall(r'href="/items/([0-9a-f-]{36})/"', html)
    return [i for i in dict.fromkeys(found) if i in items]


# --------------------------------------------------------------------------- wrk

LUA = """\
-- Made by benchmarks/web_load.py: one GET per request, every status counted.
local counter = 0
local threads = {}

function setup(thread)
  counter = counter + 1
  thread:set("thread_no", counter)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(6962 + 7919 * thread_no)
  ok, redirect, client_error, server_error, other = 0, 0, 0, 0, 0
  @INIT@
end

request = function()
  return wrk.format("GET", @PATH@)
end

function response(status, headers, body)
  if status == 200 then ok = ok + 1
  elseif status >= 300 and status < 400 then redirect = redirect + 1
  elseif status >= 400 and status < 500 then client_error = client_error + 1
  elseif status >= 500 then server_error = server_error + 1
  else other = other + 1 end
end

function done(summary, latency, requests)
  local total = {ok = 0, redirect = 0, client_error = 0, server_error = 0, other = 0}
  for _, thread in ipairs(threads) do
    for key, _ in pairs(total) do total[key] = total[key] + thread:get(key) end
  end
  io.write(string.format(
    "svidok-status ok=%d redirect=%d client_error=%d server_error=%d other=%d\\n",
    total.ok, total.redirect, total.client_error, total.server_error, total.other))
  io.write(string.format("svidok-latency p999_us=%d max_us=%d\\n",
    latency:percentile(99.9), latency.max))
end
"""


@dataclass(frozen=True)
class Load:
    """One page to load: its label, its Lua ``init`` and ``request`` path expressions."""

    key: str
    label: str
    init: str
    path: str


@dataclass
class Measured:
    load: Load
    latency_ms: dict[str, float]  # "50", "75", "90", "99", "99.9", "max"
    requests: int
    rps: float
    statuses: dict[str, int]
    socket_errors: dict[str, int]
    non_2xx_3xx: int
    server_cpu_s: float
    served: int  # requests the server answered, from the window's start to the drain's end
    wrk_cpu_s: float
    output: str
    drain_s: float
    warmup_drain_s: float
    others_cpus: float  # CPUs kept busy by other processes (and the kernel) during the window
    problems: list[str] = field(default_factory=list)

    @property
    def cpu_ms_per_request(self) -> float | None:
        return self.server_cpu_s / self.served * 1000 if self.served else None

    @property
    def little_ms(self) -> float | None:
        """The mean latency that the throughput implies for 50 clients (Little's law)."""
        return CLIENTS / self.rps * 1000 if self.rps else None

    @property
    def too_few(self) -> bool:
        """Fewer than two answers per client: wrk saw only the requests that finished
        within the window, so its latencies are a lower bound (the slow ones are missing)."""
        return self.requests < 2 * CLIENTS


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    if match is None:
        raise BenchError(f"cannot read wrk's time {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(output: str) -> dict[str, Any]:
    """Figures from ``wrk --latency`` output and the Lua ``done`` lines."""
    latency = {p: _ms(v) for p, v in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", output, re.M)}
    if set(latency) != {"50", "75", "90", "99"}:
        raise BenchError(f"no latency distribution in wrk's output:\n{output[-2000:]}")
    stats = re.search(r"^\s+Latency\s+(\S+)\s+(\S+)\s+(\S+)", output, re.M)
    if stats:
        latency["mean"], latency["max"] = _ms(stats.group(1)), _ms(stats.group(3))
    extra = re.search(r"svidok-latency p999_us=(\d+) max_us=(\d+)", output)
    if extra:
        latency["99.9"] = int(extra.group(1)) / 1000
        latency["max"] = int(extra.group(2)) / 1000
    requests = re.search(r"^\s+(\d+) requests in", output, re.M)
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    if requests is None or rps is None:
        raise BenchError(f"no request count in wrk's output:\n{output[-2000:]}")
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    status = re.search(r"svidok-status (.*)", output)
    if status is None:
        raise BenchError(f"the wrk script did not report statuses:\n{output[-2000:]}")
    return {
        "latency_ms": latency,
        "requests": int(requests.group(1)),
        "rps": float(rps.group(1)),
        "socket_errors": dict(zip(("connect", "read", "write", "timeout"),
                                  map(int, errors.groups()), strict=True)) if errors else {},
        "non_2xx_3xx": int(non_2xx.group(1)) if non_2xx else 0,
        "statuses": {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", status.group(1))},
    }


def wait_quiet(limit_s: float = 120, busy: float = 0.15) -> None:
    """Wait (up to ``limit_s``) until other processes leave the CPUs alone for 2 s.

    On 2 cores a test suite running meanwhile halves the server's share; the
    window's own figure of what others used is reported either way.
    """
    deadline = time.monotonic() + limit_s
    said = False
    while (load := machine_busy(2.0)) > busy:
        if time.monotonic() > deadline:
            say(f"warning: other processes still keep {load:.2f} CPUs busy; measuring anyway")
            return
        if not said:
            say(f"other processes keep {load:.2f} CPUs busy; waiting up to {limit_s:.0f} s "
                "for them to finish")
            said = True


def run_wrk(ctx: Context, server: Server, load: Load, cookies: dict[str, str],
            scratch: Path, duration_s: int) -> Measured:
    script = scratch / f"{load.key}.lua"
    script.write_text(LUA.replace("@INIT@", load.init).replace("@PATH@", load.path))
    header = "Cookie: " + "; ".join(f"{k}={v}" for k, v in cookies.items())

    def wrk(seconds: int, clients: int) -> tuple[str, float]:
        args = ["wrk", f"-t{WRK_THREADS}", f"-c{clients}", f"-d{seconds}s", "--timeout", "30s",
                "--latency", "-s", str(script), "-H", header, server.base + "/"]
        done = run_process(args, dict(os.environ), timeout=seconds + 120)
        if done.returncode != 0:
            raise BenchError(f"wrk exited {done.returncode}: {done.stderr[-2000:]}")
        return done.stdout, done.cpu_s

    say(f"{load.label}: warm-up {WARMUP_S} s with {WARMUP_CLIENTS} clients, then "
        f"wrk -t{WRK_THREADS} -c{CLIENTS} -d{duration_s}s")
    wrk(WARMUP_S, WARMUP_CLIENTS)
    warm_drain = server.drain()
    ctx.settle()
    wait_quiet(10 if ctx.quick else 120)
    cpu_before, served_before = server.cpu_s(), server.served()
    meter = LoadMeter()
    output, wrk_cpu = wrk(duration_s, CLIENTS)
    window_cpu = server.cpu_s() - cpu_before
    load_seen = meter.stop()
    # The meter counts the server (not reaped yet) as another process: take it out.
    wall = load_seen["benchmark_wall_s"] or 1.0
    others = max(0.0, load_seen["foreign_cpus_busy"] * wall - window_cpu) / wall
    drain = server.drain()
    # Everything the load made the server do, including what was still queued when
    # wrk stopped, over every request it answered (the access log counts them).
    server_cpu, served = server.cpu_s() - cpu_before, server.served() - served_before
    parsed = parse_wrk(output)
    measured = Measured(load=load, server_cpu_s=server_cpu, served=served, wrk_cpu_s=wrk_cpu,
                        output=output, drain_s=drain, warmup_drain_s=warm_drain,
                        others_cpus=others, **parsed)
    statuses = measured.statuses
    bad = {k: v for k, v in statuses.items() if k != "ok" and v}
    if bad:
        measured.problems.append(f"non-200 answers: {bad}")
    if statuses.get("ok", 0) == 0:
        measured.problems.append("no 200 answers at all")
    if any(measured.socket_errors.values()):
        measured.problems.append(f"socket errors: {measured.socket_errors}")
    if measured.non_2xx_3xx:
        measured.problems.append(f"wrk counted {measured.non_2xx_3xx} non-2xx/3xx responses")
    if drain > 3:
        say(f"{load.label}: the server needed {drain:.0f} s after the load to answer what "
            "was still queued (not in the figures)")
    lat = measured.latency_ms
    say(f"{load.label}: p50 {fmt(lat['50'])} ms, p90 {fmt(lat['90'])} ms, p99 "
        f"{fmt(lat['99'])} ms, {fmt(measured.rps)} req/s, {measured.requests:,} requests; "
        f"others kept {others:.2f} CPUs busy"
        + (f" — {'; '.join(measured.problems)}" if measured.problems else ""))
    return measured


# --------------------------------------------------------------------------- the benchmark


def run(ctx: Context) -> list[Result]:
    if shutil.which("wrk") is None:
        raise BenchError("wrk is not installed (apt-get install wrk)")
    items = QUICK_ITEMS if ctx.quick else FULL_ITEMS
    duration = QUICK_DURATION_S if ctx.quick else FULL_DURATION_S
    started = time.perf_counter()
    cached, meta, built = cached_instance(items)
    build_s = time.perf_counter() - started
    if built:
        say(f"built the {items:,}-item instance in {build_s:.0f} s (cached in {cached})")
    else:
        say(f"using the cached {items:,}-item instance {cached} "
            f"(built in {meta.get('build_s', '?')} s)")

    scratch = ctx.scratch("web")
    copy_started = time.perf_counter()
    shutil.copytree(cached / "home", scratch / "home", symlinks=True)
    instance = Instance(scratch / "home")
    instance.init()  # applies migrations added since the cache was built
    copy_s = time.perf_counter() - copy_started
    names = dict(_items_in(instance.database))
    if len(names) != items:
        raise BenchError(f"the instance holds {len(names):,} items, expected {items:,}")
    ids_file = scratch / "item-ids.txt"
    ids_file.write_text("".join(f"{item_id}\n" for item_id in names))

    default_workers = serve_default_workers()
    override = os.environ.get("SVIDOK_BENCH_WEB_WORKERS")
    cpus = os.cpu_count() or 1
    if override:
        workers, why = int(override), "from SVIDOK_BENCH_WEB_WORKERS"
    elif default_workers:
        workers, why = default_workers, "the default of svidok serve"
    else:
        workers, why = 2 * cpus + 1, "2 x cores + 1 (svidok serve shows no default)"
    say(f"svidok serve with {workers} gunicorn workers ({why}; {cpus} CPUs)")

    server = Server(instance, workers, scratch / "server.log")
    ctx.cleanup.callback(server.stop)
    measured: dict[str, Measured] = {}
    try:
        server.wait_ready()
        cookies = login(server.port)
        list_path, per_page, pages = find_list_path(server.port, cookies, names)
        rng = random.Random(1)
        probe_id = rng.choice(list(names))
        detail = get(server.port, f"/items/{probe_id}/", cookies=cookies)
        if detail.status != 200 or names[probe_id] not in detail.body:
            raise BenchError(f"GET /items/{probe_id}/ gave {detail.status} without the item's "
                             f"name: {detail.body[:300]!r}")
        baseline_page = get(server.port, "/login/", cookies=cookies)
        if baseline_page.status != 200 or USERNAME not in baseline_page.body:
            raise BenchError("GET /login/ with the session does not show the signed-in user")
        say(f"logged in as {USERNAME} (analyst); item list at {list_path}, "
            f"{pages:,} pages of {per_page}; detail at /items/<id>/")

        loads = [
            Load("baseline", "baseline GET /login/ (signed in)", "", '"/login/"'),
            Load("list", f"item list GET {list_path}?page=1..{pages}",
                 f"pages = {pages}", f'"{list_path}?page=" .. math.random(1, pages)'),
            Load("detail", f"item detail GET /items/<one of {items:,}>/",
                 f'ids = {{}}\n  for line in io.lines("{ids_file}") do '
                 "ids[#ids + 1] = line end",
                 '"/items/" .. ids[math.random(1, #ids)] .. "/"'),
        ]
        for load in loads:
            measured[load.key] = run_wrk(ctx, server, load, cookies, scratch, duration)
        worker_class = server.worker_class()
    finally:
        server.stop()

    _print_distribution(measured, workers, worker_class)
    problems = [f"{m.load.label}: {p}" for m in measured.values() for p in m.problems]
    if problems:
        raise BenchError("the load was not answered with 200s, so its figures mean nothing:\n  "
                         + "\n  ".join(problems))

    base = measured["baseline"]
    server_text = f"{workers} {worker_class} workers"
    common = {
        "items": items,
        "pages": pages,
        "items_per_page": per_page,
        "clients": CLIENTS,
        "wrk_threads": WRK_THREADS,
        "duration_s": duration,
        "workers": workers,
        "workers_choice": why,
        "worker_class": worker_class,
        "list_path": list_path,
        "instance_built_this_run": built,
        "instance_build_s": meta.get("build_s"),
        "instance_copy_s": round(copy_s, 1),
    }
    results = []
    for key, label in (("list", "item list"), ("detail", "item detail")):
        m = measured[key]
        results.append(Result(
            benchmark=NAME,
            figure=(f"{label} p99, {CLIENTS} clients, {items:,} items"
                    + (" (lower bound)" if m.too_few else "")),
            value=m.latency_ms["99"],
            unit="ms",
            target=TARGET_P99_MS,
            target_op="<",
            target_text=f"< {TARGET_P99_MS:.0f} ms",
            baseline=base.latency_ms["99"],
            baseline_label=(f"GET /login/ signed in, same server ({server_text}) and wrk "
                            "load: what Django + gunicorn cost for a trivial page (p99 ms)"),
            extra={**common, **_extra(m)},
        ))
        results.append(Result(
            benchmark=NAME,
            figure=f"  {label} throughput",
            value=m.rps,
            unit="req/s",
            target=None,
            target_op=">=",
            target_text="(reported)",
            baseline=base.rps,
            baseline_label=(f"GET /login/ signed in, same server ({server_text}) and wrk "
                            "load (req/s)"),
            extra=_extra(m),
        ))
    results.append(Result(
        benchmark=NAME,
        figure=f"  baseline GET /login/ p99, {CLIENTS} clients",
        value=base.latency_ms["99"],
        unit="ms",
        target=None,
        target_op="<",
        target_text="(the floor)",
        baseline=None,
        baseline_label="",
        extra={**common, **_extra(base)},
    ))
    return [ctx.record(result) for result in results]


def _extra(m: Measured) -> dict[str, Any]:
    cpu = m.cpu_ms_per_request
    return {
        "page": m.load.label,
        "latency_ms": {k: round(v, 2) for k, v in m.latency_ms.items()},
        "latency_is_lower_bound": m.too_few,
        "little_mean_ms": round(m.little_ms, 1) if m.little_ms else None,
        "requests_per_s": m.rps,
        "requests": m.requests,
        "statuses": m.statuses,
        "served_incl_drain": m.served,
        "drain_s": round(m.drain_s, 1),
        "warmup_drain_s": round(m.warmup_drain_s, 1),
        "server_cpu_s": round(m.server_cpu_s, 2),
        "server_cpu_ms_per_request": round(cpu, 2) if cpu is not None else None,
        "wrk_cpu_s": round(m.wrk_cpu_s, 2),
        "others_cpus_busy_in_window": round(m.others_cpus, 3),
    }


def _print_distribution(measured: dict[str, Measured], workers: int, worker_class: str) -> None:
    header = ["page", "p50 ms", "p75 ms", "p90 ms", "p99 ms", "max ms", "req/s", "requests",
              "non-200", "server CPU ms/req"]
    rows = []
    for m in measured.values():
        lat = m.latency_ms
        bad = sum(v for k, v in m.statuses.items() if k != "ok")
        rows.append([
            m.load.label, *(fmt(lat.get(p)) for p in ("50", "75", "90", "99", "max")),
            fmt(m.rps), f"{m.requests:,}", f"{bad:,}", fmt(m.cpu_ms_per_request),
        ])
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print(f"wrk -t{WRK_THREADS} -c{CLIENTS} --timeout 30s against svidok serve "
          f"({workers} gunicorn {worker_class} workers):")
    for cells in (header, *rows):
        print("  " + "  ".join(c.rjust(w) if i else c.ljust(w)
                               for i, (c, w) in enumerate(zip(cells, widths, strict=True))))
    print("  (server CPU: all gunicorn processes, from the window's start until what was "
          "queued at its end was answered, per request answered)")
    for m in measured.values():
        if m.too_few:
            print(f"  NOTE {m.load.label}: only {m.requests} requests finished in the window "
                  f"(< 2 per client), so wrk's latencies are a lower bound; at "
                  f"{fmt(m.rps)} req/s, 50 clients wait {fmt((m.little_ms or 0) / 1000)} s on "
                  "average (Little's law)")


# --------------------------------------------------------------------------- the worker


def _worker(items: int) -> None:
    """Create items up to ``items`` in the collection, as ingest records them."""
    import django

    django.setup()
    import datetime as dt
    import hashlib

    from django.db import transaction

    from svidok.apps.custody.models import LogState
    from svidok.apps.custody.services import Action, EventDraft, custody_append
    from svidok.apps.evidence.models import Acquisition, Collection, Item
    from svidok.apps.evidence.records import (
        acquisition_fingerprint,
        acquisition_record,
        item_record,
        metadata_record,
    )

    collection = Collection.objects.get(name=COLLECTION)
    have = Item.objects.filter(collection=collection).count()
    rng = random.Random(20240224)
    start_of_year = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    kinds = [  # media type, name pattern, size range, weight
        ("image/jpeg", "IMG_{t:%Y%m%d_%H%M%S}_{n:06d}.jpg", (150_000, 6_000_000), 70),
        ("video/mp4", "VID_{t:%Y%m%d_%H%M%S}_{n:06d}.mp4", (2_000_000, 800_000_000), 20),
        ("application/pdf", "report-{t:%Y-%m-%d}-{n:06d}.pdf", (40_000, 9_000_000), 10),
    ]
    weights = [kind[3] for kind in kinds]
    sources = ["https://t.me/s/example/{n}", "https://x.com/example/status/{n}", ""]

    def metadata(media_type: str, taken: dt.datetime) -> dict[str, Any]:
        if rng.random() < 0.1:
            return {}
        summary: dict[str, Any] = {"created": taken.isoformat(), "created_source": "exif"}
        if media_type == "image/jpeg":
            summary["width"], summary["height"] = rng.choice([(4032, 3024), (1600, 1200)])
            if rng.random() < 0.5:
                summary["gps"] = {"latitude": f"{rng.uniform(46, 52):.6f}",
                                  "longitude": f"{rng.uniform(22, 40):.6f}", "source": "exif"}
        elif media_type == "application/pdf":
            summary = {"pages": rng.randint(1, 40)}
        else:
            summary["width"], summary["height"] = 1920, 1080
        return {"summary": summary}

    started = time.perf_counter()
    made = 0
    for first in range(have, items, BATCH):
        batch: list[tuple[Item, Acquisition]] = []
        for n in range(first, min(first + BATCH, items)):
            media_type, pattern, (low, high), _ = rng.choices(kinds, weights)[0]
            created = start_of_year + dt.timedelta(seconds=rng.randrange(366 * 86_400))
            taken = created - dt.timedelta(hours=rng.randrange(1, 24 * 30))
            item = Item(
                collection=collection,
                sha256=hashlib.sha256(f"svidok-bench-web-item-{n}".encode()).hexdigest(),
                size=rng.randint(low, high),
                media_type=media_type,
                original_name=pattern.format(t=taken, n=n),
                metadata=metadata(media_type, taken),
                created_at=created,
            )
            facts = {
                "collected_at": taken + dt.timedelta(hours=rng.randrange(1, 72)),
                "collected_by": f"Field team {'ABCD'[n % 4]}",
                "source_url": rng.choice(sources).format(n=n),
                "note": "",
            }
            path = f"/mnt/phone-dump-{n // 1000:03d}/{item.original_name}"
            acquisition = Acquisition(
                item=item,
                fingerprint=acquisition_fingerprint(original_path=path, **facts),
                recorded_at=created,
                original_path=path,
                actor=ACTOR,
                **facts,
            )
            batch.append((item, acquisition))
        with transaction.atomic():
            LogState.objects.select_for_update().get(id=1)
            Item.objects.bulk_create([item for item, _ in batch])
            Acquisition.objects.bulk_create([acquisition for _, acquisition in batch])
            drafts = []
            for item, acquisition in batch:
                on_item = {"item_id": item.id, "item_sha256": item.sha256}
                drafts += [
                    EventDraft(Action.ACQUIRED, {"acquisition": acquisition_record(acquisition)},
                               **on_item),
                    EventDraft(Action.STORED, {"item": item_record(item)}, **on_item),
                    EventDraft(Action.METADATA_EXTRACTED, metadata_record(item), **on_item),
                ]
            custody_append(drafts=drafts, actor=ACTOR)
        made += len(batch)
        if made % 25_000 == 0 or first + BATCH >= items:
            print(f"  · {have + made:,} items, {made / (time.perf_counter() - started):,.0f}/s",
                  file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="bulk item worker of web_load (internal)")
    parser.add_argument("--worker", action="store_true", required=True)
    parser.add_argument("--items", type=int, required=True)
    options = parser.parse_args()
    _worker(options.items)


if __name__ == "__main__":
    main()
