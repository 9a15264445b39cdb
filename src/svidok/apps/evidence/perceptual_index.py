"""The instance's near-duplicate index: PerceptualHash rows in a HashIndex.

The table ``PerceptualHash`` is the truth; the index (``<home>/index/<algorithm>/``)
is a derived copy that makes a search over a million hashes take about a
millisecond instead of a scan. It is kept right this way:

* only matchable hashes (quality ≥ 50) are in it: low-quality ones are never
  reported as matches;
* the saved index records which rows it holds (highest id, count and sum of
  ids); when opened, the table is asked the same, and 64 saved hashes chosen at
  random are compared with their rows: any difference (a restored database, a
  rebuilt table, another instance's index) means a rebuild;
* each search first adds rows with a higher id than any seen (rows ingested
  since) to the index's tail; once the tail is large it is merged and saved;
* ids are never reused once committed, but on PostgreSQL a transaction can
  commit a lower id after a higher one was seen, so every ``AUDIT_SECONDS`` the
  count and sum of ids up to the highest seen are compared with the table and
  the index is rebuilt if they differ;
* hits are checked against the rows themselves before anyone sees them, so a
  stale entry invents nothing (a row committed out of order on PostgreSQL may
  stay unseen until the next audit, at most ``AUDIT_SECONDS``).

One process keeps one copy per algorithm; the files are memory-mapped, so
the web server's workers share them in the page cache. A file lock serialises
rebuilds between processes.
"""

from __future__ import annotations

import fcntl
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db.models import Count, Max, QuerySet, Sum

from svidok.apps.evidence.models import PerceptualHash
from svidok.core.media.hash_index import HashIndex, IndexUnusable
from svidok.core.media.pdq import MIN_QUALITY

log = logging.getLogger(__name__)

TAIL_LIMIT = 20_000  # hashes scanned linearly before they are merged (≈0.4 ms per query)
AUDIT_SECONDS = 60.0
READ_BATCH = 50_000


def index_directory(algorithm: str) -> Path:
    return Path(settings.SVIDOK_PATHS.home) / "index" / algorithm


def _matchable(algorithm: str) -> QuerySet[PerceptualHash]:
    return PerceptualHash.objects.filter(algorithm=algorithm, quality__gte=MIN_QUALITY)


def _table_state(algorithm: str, up_to: int | None = None) -> dict[str, int]:
    rows = _matchable(algorithm)
    if up_to is not None:
        rows = rows.filter(id__lte=up_to)
    found = rows.aggregate(count=Count("id"), max_id=Max("id"), id_sum=Sum("id"))
    return {"count": found["count"] or 0, "max_id": found["max_id"] or 0,
            "id_sum": int(found["id_sum"] or 0)}


def _read_rows(algorithm: str, after: int) -> tuple[np.ndarray, np.ndarray]:
    """(hashes, ids) of the matchable rows with an id above ``after``, in id order."""
    blobs: list[bytes] = []
    ids: list[int] = []
    rows = _matchable(algorithm).filter(id__gt=after).order_by("id").values_list("id", "hash")
    for row_id, blob in rows.iterator(chunk_size=READ_BATCH):
        ids.append(row_id)
        blobs.append(bytes(blob))
    table = np.frombuffer(b"".join(blobs), dtype=np.uint8).reshape(-1, 32).copy()
    return table, np.array(ids, dtype=np.int64)


SPOT_CHECKS = 64  # saved hashes compared with their rows when an index is opened


def _rows_agree(index: HashIndex, algorithm: str) -> bool:
    """Whether a random sample of the index's hashes are those of their rows (the same
    ids holding other hashes means another database's index, or a restored one)."""
    hashes, ids = index.sample(SPOT_CHECKS, seed=int(time.time()))
    rows = dict(_matchable(algorithm).filter(id__in=ids.tolist()).values_list("id", "hash"))
    return all(bytes(rows.get(int(row_id), b"")) == bytes(value)
               for row_id, value in zip(ids, hashes, strict=True))


class LiveIndex:
    """One algorithm's index in this process, topped up from the table before each use."""

    def __init__(self, algorithm: str) -> None:
        self.algorithm = algorithm
        self._lock = threading.Lock()
        self._index: HashIndex | None = None
        self._state = {"count": 0, "max_id": 0, "id_sum": 0}  # rows the index holds
        self._audited = 0.0

    @property
    def directory(self) -> Path:
        return index_directory(self.algorithm)

    def current(self) -> HashIndex:
        """The index, holding every matchable row committed so far."""
        with self._lock:
            if self._index is None:
                self._index = self._open_or_build()
            elif time.monotonic() - self._audited > AUDIT_SECONDS:
                if _table_state(self.algorithm, self._state["max_id"]) != self._state:
                    log.warning("hash index %s missed rows committed out of order; rebuilding",
                                self.algorithm)
                    self._index = self._rebuild()
                self._audited = time.monotonic()
            self._top_up(self._index)
            if self._index.tail_size > TAIL_LIMIT:
                self._index = self._save(self._index.merged())
            return self._index

    def rebuild(self) -> int:
        """Build from the table and save; returns the number of hashes indexed."""
        with self._lock:
            self._index = self._rebuild(force=True)
            return len(self._index)

    def forget(self) -> None:
        """Drop this process's copy (the saved files stay)."""
        with self._lock:
            self._index = None

    def _open_or_build(self) -> HashIndex:
        try:
            index = HashIndex.open(self.directory)
        except IndexUnusable as exc:
            log.info("hash index %s: %s; building it", self.algorithm, exc.message)
            return self._rebuild()
        if not self._matches_table(index):
            log.warning("hash index %s does not match the database; rebuilding", self.algorithm)
            return self._rebuild()
        return index

    def _matches_table(self, index: HashIndex) -> bool:
        """Whether a saved index holds the table's rows; if so it becomes the state."""
        saved = {key: index.metadata.get(key) for key in ("count", "max_id", "id_sum")}
        try:
            agrees = (_table_state(self.algorithm, saved["max_id"] or 0) == saved
                      and _rows_agree(index, self.algorithm))
        except (IndexError, ValueError, TypeError):
            agrees = False  # damaged arrays of the right shape: rebuild, never fail a search
        if agrees:
            self._state = dict(saved)  # type: ignore[arg-type]
            self._audited = time.monotonic()
        return agrees

    def _rebuild(self, *, force: bool = False) -> HashIndex:
        with self._file_lock():
            # Another process may have rebuilt it while this one waited for the lock.
            try:
                ready = None if force else HashIndex.open(self.directory)
            except IndexUnusable:
                ready = None
            if ready is not None and self._matches_table(ready):
                return ready
            hashes, ids = _read_rows(self.algorithm, after=0)
            index = HashIndex.build(hashes, ids)
            self._state = {"count": len(ids), "max_id": int(ids.max()) if len(ids) else 0,
                           "id_sum": int(ids.sum())}
            self._audited = time.monotonic()
            return self._save(index, locked=True)

    def _top_up(self, index: HashIndex) -> None:
        hashes, ids = _read_rows(self.algorithm, after=self._state["max_id"])
        if len(ids):
            index.add(hashes, ids)
            self._state = {"count": self._state["count"] + len(ids), "max_id": int(ids[-1]),
                           "id_sum": self._state["id_sum"] + int(ids.sum())}

    def _save(self, index: HashIndex, *, locked: bool = False) -> HashIndex:
        """Save, then use the saved copy (memory-mapped: shared with the other workers
        in the page cache); the in-memory one if saving failed."""
        index.metadata.update(self._state)
        try:
            if locked:
                index.save(self.directory)
            else:
                with self._file_lock():
                    index.save(self.directory)
            return HashIndex.open(self.directory)
        except (OSError, IndexUnusable) as exc:
            # The index still works from memory; the next process rebuilds it.
            log.warning("hash index %s could not be saved: %s", self.algorithm, exc)
            return index

    @contextmanager
    def _file_lock(self) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / "lock", "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


_live: dict[tuple[str, str], LiveIndex] = {}
_live_lock = threading.Lock()


def live_index(algorithm: str = "pdq") -> LiveIndex:
    """This process's index for ``algorithm`` in the current instance."""
    key = (str(settings.SVIDOK_PATHS.home), algorithm)
    with _live_lock:
        if key not in _live:
            _live[key] = LiveIndex(algorithm)
        return _live[key]


def forget_indexes() -> None:
    """Drop every in-process copy (tests, and after the table was rebuilt)."""
    with _live_lock:
        _live.clear()
