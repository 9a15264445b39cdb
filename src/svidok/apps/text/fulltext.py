"""The full-text index of ``ItemText.search_text``: each database's dialect, in one place.

- SQLite: an external-content FTS5 table (tokenizer ``unicode61 remove_diacritics 2``)
  whose rows are the ``text_itemtext`` rows, kept in step by triggers, so that
  every insert, update and delete (cascades from deleted items included) reaches
  the index without the services having to remember it.
- PostgreSQL: a GIN index on ``to_tsvector('simple', search_text)``. The
  ``simple`` configuration neither stems nor drops stop words, so it treats
  Ukrainian, Russian and English alike; queries must use the same expression
  (see ``search.py``) or the planner cannot use the index.

``search_text`` is already casefolded words separated by spaces (see
``search.search_form``), so neither database's own folding matters.
"""

from __future__ import annotations

from typing import Any

from django.db import connection

FTS_TABLE = "text_itemtext_fts"

# Literal SQL (no formatting): the names are fixed and the triggers are FTS5's
# documented pattern for external-content tables.
_SQLITE_CREATE = [
    "CREATE VIRTUAL TABLE text_itemtext_fts USING fts5(search_text, "
    "content='text_itemtext', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER text_itemtext_ai AFTER INSERT ON text_itemtext BEGIN "
    "INSERT INTO text_itemtext_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER text_itemtext_ad AFTER DELETE ON text_itemtext BEGIN "
    "INSERT INTO text_itemtext_fts(text_itemtext_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER text_itemtext_au AFTER UPDATE ON text_itemtext BEGIN "
    "INSERT INTO text_itemtext_fts(text_itemtext_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO text_itemtext_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
]
_SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS text_itemtext_ai",
    "DROP TRIGGER IF EXISTS text_itemtext_ad",
    "DROP TRIGGER IF EXISTS text_itemtext_au",
    "DROP TABLE IF EXISTS text_itemtext_fts",
]
SQLITE_TRIGGERS = ("text_itemtext_ai", "text_itemtext_ad", "text_itemtext_au")

_POSTGRES_CREATE = ["CREATE INDEX text_itemtext_search_gin ON text_itemtext "
                    "USING GIN (to_tsvector('simple'::regconfig, search_text))"]
_POSTGRES_DROP = ["DROP INDEX IF EXISTS text_itemtext_search_gin"]


def create_index(apps: Any, schema_editor: Any) -> None:
    """Migration step: the index for this database (other databases: none, search is off)."""
    for statement in _statements(schema_editor.connection.vendor, create=True):
        schema_editor.execute(statement)


def drop_index(apps: Any, schema_editor: Any) -> None:
    """Migration step, reversed."""
    for statement in _statements(schema_editor.connection.vendor, create=False):
        schema_editor.execute(statement)


def _statements(vendor: str, *, create: bool) -> list[str]:
    if vendor == "sqlite":
        return _SQLITE_CREATE if create else _SQLITE_DROP
    if vendor == "postgresql":
        return _POSTGRES_CREATE if create else _POSTGRES_DROP
    return []


def fulltext_rebuild() -> None:
    """Make the index whole again: triggers and FTS table recreated if a table rebuild
    dropped them, and every row indexed anew (SQLite); a REINDEX on PostgreSQL."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger') "
                "AND name IN (%s, %s, %s, %s)", [FTS_TABLE, *SQLITE_TRIGGERS])
            if len(cursor.fetchall()) < 1 + len(SQLITE_TRIGGERS):
                for statement in _SQLITE_DROP + _SQLITE_CREATE:
                    cursor.execute(statement)
            cursor.execute("INSERT INTO text_itemtext_fts(text_itemtext_fts) VALUES ('rebuild')")
        elif connection.vendor == "postgresql":
            cursor.execute("REINDEX INDEX text_itemtext_search_gin")
