"""Database upkeep that no single query does."""

from __future__ import annotations

from django.db import connection


def database_optimize() -> None:
    """Refresh the query planner's statistics after bulk changes.

    Without them SQLite may sort a whole collection to show one page of items
    instead of walking an index. ``analysis_limit`` samples each index, so this
    takes milliseconds even on millions of rows. PostgreSQL's autovacuum does the
    same by itself.
    """
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA analysis_limit=1000")
        cursor.execute("ANALYZE")
