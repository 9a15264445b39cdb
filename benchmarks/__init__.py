"""Svidok's benchmarks: ``make bench`` (``python -m benchmarks``).

Each benchmark drives the product end to end, as a user would, against a
throw-away instance under /tmp, prints its figure with the target and the
ratio to a baseline measured in the same run, and appends JSON lines to
``bench-results/results.jsonl``. The test suite never runs them, and they
assert nothing about timing. See ``python -m benchmarks --help``.
"""

from __future__ import annotations

# In the order they run; verify_log reuses the log that log_append builds.
NAMES = ("ingest_jpegs", "ingest_large", "log_append", "verify_log", "web_load", "hash_index",
         "media_edits", "video_hashes", "incidents_import", "incidents_duplicates",
         "incident_list")
