"""A background thread that empties the text-extraction queue while the web server runs.

It polls :func:`~svidok.apps.text.services.extract_pending` every few seconds
(at once again after finding work, or when :meth:`BackgroundTextWorker.wake`
is called after an ingest). Stopping is clean: the item being read goes back to
the queue unread, and the thread closes its own database connections. Several
workers, in one process or many, never read the same item (see the claim in
``services``). A real job queue can replace it later by calling the same service.
"""

from __future__ import annotations

import logging
import threading

from django.db import close_old_connections, connections

from svidok.apps.text.services import extract_pending

logger = logging.getLogger(__name__)

MAX_BACKOFF_S = 300.0


class BackgroundTextWorker:
    """A daemon thread reading queued items; ``start()`` once, ``stop()`` at shutdown."""

    def __init__(self, *, poll_s: float = 5.0, batch: int = 5, name: str = "svidok-text") -> None:
        self.poll_s = poll_s
        self.batch = batch
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> BackgroundTextWorker:
        self._thread.start()
        return self

    def wake(self) -> None:
        """Look at the queue now rather than at the next poll (e.g. after an ingest)."""
        self._wake.set()

    def stop(self, timeout_s: float = 30.0) -> bool:
        """Ask the thread to stop and wait; True if it has stopped within ``timeout_s``.

        A page being OCR'd is finished first (at most tesseract's time limit), so
        a short timeout may return False while the thread is still winding down.
        """
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)
        return not self._thread.is_alive()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        failures = 0
        try:
            while not self._stop.is_set():
                self._wake.clear()
                close_old_connections()
                try:
                    summary = extract_pending(self.batch, should_stop=self._stop.is_set)
                except Exception:
                    failures += 1
                    logger.exception("text extraction worker: a pass failed (%d in a row)",
                                     failures)
                    self._wake.wait(min(MAX_BACKOFF_S, self.poll_s * 2 ** failures))
                    continue
                failures = 0
                if summary.claimed:
                    logger.info("text extraction: %d done, %d failed, %d pages in %.1f s",
                                summary.done, summary.failed, summary.pages, summary.seconds)
                else:
                    self._wake.wait(self.poll_s)
        finally:
            connections.close_all()  # this thread's connections only: they are per thread


# One worker per process: the web server's workers each start theirs (see
# ``svidok.serving``); ingest wakes the one of its own process, if any.
_process_worker: BackgroundTextWorker | None = None
_process_lock = threading.Lock()


def start_process_worker() -> BackgroundTextWorker:
    """Start this process's worker (once; later calls return the running one)."""
    global _process_worker
    with _process_lock:
        if _process_worker is None or not _process_worker.alive:
            _process_worker = BackgroundTextWorker().start()
        return _process_worker


def wake_process_worker() -> None:
    """Have this process's worker look at the queue now; nothing if none runs here."""
    worker = _process_worker
    if worker is not None:
        worker.wake()


def stop_process_worker(timeout_s: float = 30.0) -> None:
    global _process_worker
    with _process_lock:
        if _process_worker is not None:
            _process_worker.stop(timeout_s)
            _process_worker = None
