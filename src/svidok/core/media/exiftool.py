"""Metadata from one ``exiftool -stay_open`` process, with deadlines and restarts.

One process serves an analyser's whole lifetime and reads a whole batch of
paths per command. :class:`ExifToolReader` runs the batches on a thread of
its own, so that exiftool works while the caller decodes thumbnails.

:class:`ExifToolClient` speaks to the process. PyExifTool 0.5.6 is
deliberately not used for this: it has no timeout, and if exiftool dies
during a command it spins forever on the closed pipe. An ingest must not hang
on one hostile file, so this client reads both pipes under a deadline, kills
the process when the deadline passes, and lets the reader start a fresh one.

exiftool -stay_open does not exit when its stdin closes, so a process killed
with SIGKILL (which runs no finalizer) would leave it running forever. On
Linux it is therefore started through util-linux ``setpriv --pdeathsig KILL``
(``preexec_fn`` would do the same, but is unsafe in a process with threads).
The kernel sends that signal when the *thread* that started the child ends,
not the process, so the reader starts, restarts and stops exiftool only on
its own worker thread, which lives exactly as long as the reader.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import secrets
import select
import shutil
import subprocess
import sys
import time
import uuid
import weakref
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeAlias

from svidok.core.errors import ConfigurationError, ExtractionError

__all__ = ["ExifToolClient", "ExifToolReader"]

log = logging.getLogger(__name__)

EXIFTOOL_MISSING = "exiftool not found: install libimage-exiftool-perl"
# -G: family-0 group names ("EXIF:Make"); -n: numbers, not prose; -q: no
# "1 image files read" chatter on stderr.
EXIFTOOL_ARGS = ("-json", "-G", "-n", "-q", "-api", "LargeFileSupport=1")
EXIFTOOL_BATCH_SIZE = 128
EXIFTOOL_TIMEOUT_S = 30.0  # per command, plus EXIFTOOL_TIMEOUT_PER_FILE_S per path
EXIFTOOL_TIMEOUT_PER_FILE_S = 2.0
EXIFTOOL_MAX_OUTPUT_BYTES = 256 * 1024 * 1024

# What one path gives: exiftool's JSON object for it, or why there is none.
Entry: TypeAlias = dict[str, Any] | str


# --------------------------------------------------------------------------- the process


def _command(executable: str) -> list[str]:
    """How to run exiftool: under ``setpriv --pdeathsig KILL`` where that is available."""
    if sys.platform.startswith("linux"):
        setpriv = shutil.which("setpriv")
        if setpriv is not None and _knows_pdeathsig(setpriv):
            return [setpriv, "--pdeathsig", "KILL", "--", executable]
    return [executable]


@functools.cache
def _knows_pdeathsig(setpriv: str) -> bool:
    """Whether this setpriv has ``--pdeathsig`` (util-linux 2.33 and later)."""
    try:
        result = subprocess.run(
            [setpriv, "--help"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return b"--pdeathsig" in result.stdout


def _stop_process(process: subprocess.Popen[bytes], *, kill: bool = False) -> None:
    """End an exiftool process politely (or not), and release its pipes."""
    if process.poll() is None:
        if not kill:
            try:
                assert process.stdin is not None
                os.set_blocking(process.stdin.fileno(), True)
                process.stdin.write(b"-stay_open\nFalse\n")
                process.stdin.flush()
            except (OSError, ValueError):
                kill = True
        if kill:
            process.kill()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            try:
                stream.close()
            except OSError:
                pass


class ExifToolClient:
    """One ``exiftool -stay_open`` process, fed commands through its stdin.

    On Linux the process dies with the thread that calls :meth:`start` (see
    the module's docstring): call it from a thread that outlives the process.
    """

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the process; raise ConfigurationError if exiftool is not installed."""
        executable = shutil.which("exiftool")
        if executable is None:
            raise ConfigurationError(EXIFTOOL_MISSING)
        arguments = ["-stay_open", "True", "-@", "-", "-common_args", *EXIFTOOL_ARGS]
        process = subprocess.Popen(
            [*_command(executable), *arguments],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert process.stdin is not None
        os.set_blocking(process.stdin.fileno(), False)
        self._process = process
        # Stops the process even if the analyser is dropped without close().
        self._finalizer = weakref.finalize(self, _stop_process, process)

    def close(self, *, kill: bool = False) -> None:
        """Stop the process (kill it if ``kill``); safe to call more than once."""
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        if self._process is not None:
            _stop_process(self._process, kill=kill)
            self._process = None

    def query(self, arguments: Sequence[bytes], timeout: float) -> tuple[bytes, str]:
        """Run one command; return its stdout (JSON) and its stderr text.

        Raises ExtractionError if exiftool dies, floods its output, or does not
        answer within ``timeout`` seconds; the process is then gone.
        """
        process = self._process
        if process is None:
            raise ExtractionError("exiftool is not running")
        if process.poll() is not None:
            said = _remaining_stderr(process)
            self.close(kill=True)
            raise ExtractionError(
                f"exiftool exited with status {process.returncode}: {said or 'no message'}"
            )
        assert process.stdin is not None and process.stdout is not None
        assert process.stderr is not None
        # An unguessable number, so that no file's metadata can forge the end
        # of the output and leave the rest to be misread as the next answer.
        sequence = secrets.randbelow(10**15) + 1
        ready = b"{ready%d}" % sequence
        done = b"done%d" % sequence
        command = b"\n".join([*arguments, b"-echo4", done, b"-execute%d" % sequence])
        try:
            out, err = self._exchange(process, command + b"\n", ready, done, timeout)
        except ExtractionError:
            self.close(kill=True)
            raise
        stdout = out.rstrip()[: -len(ready)]
        stderr = err.rstrip()[: -len(done)].decode("utf-8", "replace").strip()
        return stdout, stderr

    @staticmethod
    def _exchange(
        process: subprocess.Popen[bytes], command: bytes, ready: bytes, done: bytes, timeout: float
    ) -> tuple[bytes, bytes]:
        assert process.stdin is not None and process.stdout is not None
        assert process.stderr is not None
        stdin, stdout, stderr = (
            process.stdin.fileno(),
            process.stdout.fileno(),
            process.stderr.fileno(),
        )
        buffers = {stdout: bytearray(), stderr: bytearray()}
        markers = {stdout: ready, stderr: done}
        pending = memoryview(command)
        # poll, not select: a busy server may hold descriptors beyond select's 1024.
        poller = select.poll()
        poller.register(stdin, select.POLLOUT)
        poller.register(stdout, select.POLLIN)
        poller.register(stderr, select.POLLIN)
        waiting = {stdout, stderr}
        deadline = time.monotonic() + timeout
        while waiting:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ExtractionError(f"exiftool did not answer within {timeout:g} s")
            for fd, event in poller.poll(math.ceil(remaining * 1000)):
                if fd == stdin:
                    pending = _feed(stdin, pending, event)
                    if not pending:
                        poller.unregister(stdin)
                    continue
                chunk = os.read(fd, 65536)
                if not chunk:
                    said = bytes(buffers[stderr][-300:]).decode("utf-8", "replace").strip()
                    raise ExtractionError(f"exiftool exited unexpectedly: {said or 'no message'}")
                buffer = buffers[fd]
                buffer += chunk
                if len(buffer) > EXIFTOOL_MAX_OUTPUT_BYTES:
                    raise ExtractionError(
                        f"exiftool output exceeded {EXIFTOOL_MAX_OUTPUT_BYTES} bytes"
                    )
                if _ends_with_marker(buffer, markers[fd]):
                    poller.unregister(fd)
                    waiting.discard(fd)
        return bytes(buffers[stdout]), bytes(buffers[stderr])


def _feed(stdin: int, pending: memoryview, event: int) -> memoryview:
    """Write what the pipe will take of ``pending``; return the rest."""
    if event & (select.POLLERR | select.POLLHUP | select.POLLNVAL):
        raise ExtractionError("exiftool stopped reading commands")
    try:
        return pending[os.write(stdin, pending) :]
    except BlockingIOError:
        return pending
    except OSError as exc:
        raise ExtractionError(f"exiftool stopped reading commands: {exc}") from exc


def _remaining_stderr(process: subprocess.Popen[bytes]) -> str:
    """What a dead exiftool left on stderr (its last words, for the error message)."""
    try:
        assert process.stderr is not None
        said = process.stderr.read(4096) or b""
    except (OSError, ValueError):
        return ""
    return said.decode("utf-8", "replace").strip()[-300:]


def _ends_with_marker(buffer: bytearray, marker: bytes) -> bool:
    """True if ``marker`` stands on a line of its own at the very end of ``buffer``."""
    window = len(marker) + 16  # look at the tail only: outputs can be megabytes
    tail = bytes(buffer[-window:]).rstrip()
    if tail.endswith(b"\n" + marker):
        return True
    return len(buffer) < window and tail.lstrip() == marker


# --------------------------------------------------------------------------- batches


class ExifToolReader:
    """exiftool's JSON for batches of paths, read on a worker thread of its own.

    The worker thread lives from :meth:`start` to :meth:`close` and is the
    only thread that starts, restarts or stops the exiftool process (see the
    module's docstring for why).
    """

    def __init__(self) -> None:
        self.client = ExifToolClient()
        self._executor: ThreadPoolExecutor | None = None

    @property
    def started(self) -> bool:
        return self._executor is not None

    def start(self) -> None:
        """Start the worker thread, and exiftool on it (so the first batch does not pay)."""
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="svidok-exiftool")
        try:
            self._executor.submit(self._ensure_running).result()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Stop exiftool and the worker thread; safe to call more than once."""
        executor, self._executor = self._executor, None
        if executor is not None:
            try:
                # Stopped from the worker thread: once that thread has ended,
                # the kernel would kill exiftool rather than let it finish.
                executor.submit(self.client.close).result()
            except RuntimeError:  # the interpreter is shutting down: stop it from here
                pass
            finally:
                executor.shutdown(wait=True)
        self.client.close()

    def read(self, paths: list[Path], workdir: Path) -> Future[list[Entry]]:
        """Start reading ``paths``; the future gives one Entry per path, in the same order.

        ``workdir`` takes symlinks for paths exiftool cannot be given as they are.
        """
        if self._executor is None:
            raise ConfigurationError("ExifToolReader must be started before use")
        return self._executor.submit(self._read, paths, workdir)

    def _ensure_running(self) -> str | None:
        """Start exiftool if it is not running; return why it cannot run, if so."""
        if self.client.running:
            return None
        self.client.close()
        try:
            self.client.start()
        except ConfigurationError as exc:
            return exc.message
        except OSError as exc:
            return f"metadata extraction failed: exiftool could not be started: {exc}"
        return None

    def _read(self, paths: list[Path], workdir: Path) -> list[Entry]:
        results: list[Entry] = []
        links_dir = workdir / f"exiftool-links-{uuid.uuid4().hex}"
        try:
            for start in range(0, len(paths), EXIFTOOL_BATCH_SIZE):
                chunk = paths[start : start + EXIFTOOL_BATCH_SIZE]
                results.extend(self._read_chunk(chunk, links_dir))
        finally:
            shutil.rmtree(links_dir, ignore_errors=True)
        return results

    def _read_chunk(self, paths: list[Path], links_dir: Path) -> list[Entry]:
        problem = self._ensure_running()
        if problem is not None:
            return [problem] * len(paths)
        arguments = [_exiftool_argument(path, links_dir) for path in paths]
        found: list[Entry | None] = [
            argument if isinstance(argument, str) else None for argument in arguments
        ]
        wanted: dict[str, list[int]] = {}  # a path may come twice in one batch
        for index, argument in enumerate(arguments):
            if isinstance(argument, bytes):
                wanted.setdefault(os.fsdecode(argument), []).append(index)
        if wanted:
            batch = [argument for argument in arguments if isinstance(argument, bytes)]
            timeout = EXIFTOOL_TIMEOUT_S + EXIFTOOL_TIMEOUT_PER_FILE_S * len(batch)
            try:
                entries, _ = self._query_json(batch, timeout)
            except ExtractionError as exc:
                # One hostile file must not cost the others their metadata:
                # ask again file by file below.
                log.warning("exiftool batch of %d failed (%s); retrying per file", len(batch), exc)
                entries = []
            for entry in entries:
                source = entry.get("SourceFile") if isinstance(entry, dict) else None
                for index in wanted.get(source, []) if isinstance(source, str) else []:
                    found[index] = entry
        results: list[Entry] = []
        for argument, entry in zip(arguments, found, strict=True):
            if entry is None:
                assert isinstance(argument, bytes)
                entry = self._read_one(argument)
            results.append(entry)
        return results

    def _read_one(self, argument: bytes) -> Entry:
        problem = self._ensure_running()
        if problem is not None:
            return problem
        try:
            entries, stderr = self._query_json([argument], EXIFTOOL_TIMEOUT_S)
        except ExtractionError as exc:
            return f"metadata extraction failed: {exc.message}"
        if entries and isinstance(entries[0], dict):
            return entries[0]
        message = stderr.replace(os.fsdecode(argument), "input").strip() or "no message"
        return f"metadata extraction failed: exiftool returned nothing ({message[:300]})"

    def _query_json(self, arguments: list[bytes], timeout: float) -> tuple[list[Any], str]:
        stdout, stderr = self.client.query(arguments, timeout)
        if not stdout.strip():
            return [], stderr
        try:
            # Numbers stay as the text exiftool printed: no floats, no rounding.
            entries = json.loads(
                stdout.decode("utf-8", "replace"), parse_float=str, parse_constant=str
            )
        except ValueError as exc:
            raise ExtractionError(f"exiftool gave unreadable JSON: {exc}") from exc
        if not isinstance(entries, list):
            raise ExtractionError("exiftool gave JSON that is not a list")
        return entries, stderr


def _exiftool_argument(path: Path, links_dir: Path) -> bytes | str:
    """The path as exiftool should read it, or why it cannot be given.

    exiftool reads one argument per line, so a path with a line break in it
    is passed as a symlink with a plain name instead.
    """
    raw = os.fsencode(path)
    if b"\n" not in raw and b"\r" not in raw:
        return raw
    try:
        links_dir.mkdir(exist_ok=True)
        link = links_dir / f"{uuid.uuid4().hex}"
        link.symlink_to(path)
    except OSError as exc:
        return f"metadata extraction failed: could not link the file for exiftool: {exc}"
    linked = os.fsencode(link)
    if b"\n" in linked or b"\r" in linked:
        return "metadata extraction failed: the work directory's path contains a line break"
    return linked
