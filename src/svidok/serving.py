"""gunicorn hooks for ``svidok serve`` (passed as ``--config python:svidok.serving``).

Each worker process runs one background thread that reads text from newly
ingested images and PDFs (see :mod:`svidok.apps.text.worker`), so OCR never
holds up an upload. It is started after the worker has loaded the
application and stopped, handing back any unfinished item, when the worker exits.
"""

from __future__ import annotations

from typing import Any


def post_worker_init(worker: Any) -> None:
    from svidok.apps.text.worker import start_process_worker

    start_process_worker()


def worker_exit(server: Any, worker: Any) -> None:
    from svidok.apps.text.worker import stop_process_worker

    stop_process_worker(timeout_s=10.0)
