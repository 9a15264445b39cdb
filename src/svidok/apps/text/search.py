"""Full-text search over the text read from items.

Both the stored text and the user's query go through :func:`search_form`, in
Python, so the two databases behave alike and neither database's locale can
change the result:

1. Unicode NFKC, then casefold ("КИЇВ" → "київ", "Straße" → "strasse").
2. Apostrophes inside words dropped, so "м'ясо", "м’ясо" and "мʼясо" are one word.
3. Diacritics dropped from Latin letters only ("café" → "cafe"); Cyrillic й, ї,
   ё stay letters of their own.
4. Words are runs of letters and digits; everything else separates them.
5. In a word mixing Latin and Cyrillic letters (OCR of mixed-language text
   often reads "Kharkiv" with a Cyrillic "а"), look-alike letters are written
   in the word's majority script.

A query is plain words, all of which must be on the page (whole words, no
operators): quotes, ``*``, ``NEAR(``, ``OR``, ``-`` and SQL are only ever
separators or words, and reach the database as bound parameters.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection

from svidok.apps.text.models import ItemText
from svidok.core.errors import ConfigurationError

MAX_QUERY_TERMS = 16
MAX_WORD_CHARS = 100  # longer "words" are OCR noise or base64; they are not indexed
SNIPPET_CHARS = 200

_APOSTROPHES = re.compile(r"(?<=\w)['’ʼʹ`´](?=\w)")
_WORD = re.compile(r"[^\W_]+")
# Letters that look alike in Latin and Cyrillic, after casefolding.
_CYRILLIC_TO_LATIN = str.maketrans("авекмнорстухіјѕ", "abekmhopctyxijs")
_LATIN_TO_CYRILLIC = str.maketrans("abekmhopctyxijs", "авекмнорстухіјѕ")
_LOOKALIKES = frozenset("авекмнорстухіјѕabekmhopctyxijs")


def search_form(text: str) -> str:
    """The words of ``text`` as the index stores them, separated by single spaces."""
    return " ".join(_words(text))


def query_terms(query: str) -> list[str]:
    """The distinct words of a user's query, in order, at most MAX_QUERY_TERMS."""
    terms: list[str] = []
    for word in _words(query):
        if word not in terms:
            terms.append(word)
    return terms[:MAX_QUERY_TERMS]


def _words(text: str) -> list[str]:
    folded = _APOSTROPHES.sub("", unicodedata.normalize("NFKC", text).casefold())
    return [_one_script(_plain_latin(word)) for word in _WORD.findall(folded)
            if len(word) <= MAX_WORD_CHARS]


def _plain_latin(word: str) -> str:
    if word.isascii():
        return word
    decomposed = unicodedata.normalize("NFD", word)
    kept: list[str] = []
    for ch in decomposed:
        if unicodedata.combining(ch) and kept and kept[-1].isascii():
            continue
        kept.append(ch)
    return unicodedata.normalize("NFC", "".join(kept))


def _script(ch: str) -> str:
    if "a" <= ch <= "z":
        return "latin"
    if "\u0400" <= ch <= "\u04ff":
        return "cyrillic"
    return ""


def _one_script(word: str) -> str:
    scripts = {_script(ch) for ch in word} - {""}
    if len(scripts) < 2:
        return word
    latin = sum(1 for ch in word if _script(ch) == "latin" and ch not in _LOOKALIKES)
    cyrillic = sum(1 for ch in word if _script(ch) == "cyrillic" and ch not in _LOOKALIKES)
    if latin == cyrillic:  # no unambiguous letter decides: count every letter
        latin = sum(1 for ch in word if _script(ch) == "latin")
        cyrillic = sum(1 for ch in word if _script(ch) == "cyrillic")
    if latin > cyrillic:
        return word.translate(_CYRILLIC_TO_LATIN)
    if cyrillic > latin:
        return word.translate(_LATIN_TO_CYRILLIC)
    return word


@dataclass(frozen=True)
class TextHit:
    """One page that has every word of the query; a higher ``rank`` is a better match."""

    item_id: uuid.UUID
    page: int
    method: str
    snippet: str
    rank: float

    def to_json(self) -> dict[str, object]:
        return {"item": str(self.item_id), "page": self.page, "method": self.method,
                "snippet": self.snippet, "rank": round(self.rank, 6)}


def search_text(
    query: str, *, collection_ids: Sequence[int] | None, limit: int = 50
) -> list[TextHit]:
    """Pages whose text has every word of ``query``, best first.

    ``collection_ids`` None means every collection (operators, instance admins);
    an empty list means none. A query with no words finds nothing.
    """
    terms = query_terms(query)
    limit = max(0, min(int(limit), 1000))
    if not terms or limit == 0 or (collection_ids is not None and not collection_ids):
        return []
    ranked = _ranked_row_ids(terms, collection_ids, limit)
    rows = ItemText.objects.in_bulk([row_id for row_id, _ in ranked])
    return [TextHit(item_id=rows[row_id].item_id, page=rows[row_id].page,
                    method=rows[row_id].method, snippet=snippet(rows[row_id].text, terms),
                    rank=rank)
            for row_id, rank in ranked if row_id in rows]


def _ranked_row_ids(terms: list[str], collection_ids: Sequence[int] | None,
                    limit: int) -> list[tuple[int, float]]:
    """(ItemText id, rank) of the best pages: the one place that speaks each dialect."""
    params: list[object]
    if connection.vendor == "sqlite":
        # Every term a quoted FTS5 string: the terms hold letters and digits only,
        # and doubling quotes keeps that true even if search_form ever changes.
        params = [" ".join('"' + term.replace('"', '""') + '"' for term in terms)]
        sql = ("SELECT t.id, -bm25(text_itemtext_fts) FROM text_itemtext_fts "
               "JOIN text_itemtext t ON t.id = text_itemtext_fts.rowid "
               "JOIN evidence_item i ON i.id = t.item_id "
               "WHERE text_itemtext_fts MATCH %s")
        if collection_ids is not None:
            # Only placeholders are added to the text; the ids are parameters.
            sql += " AND i.collection_id IN (" + ", ".join(["%s"] * len(collection_ids)) + ")"
            params.extend(int(c) for c in collection_ids)
        sql += " ORDER BY bm25(text_itemtext_fts), t.id LIMIT %s"
    elif connection.vendor == "postgresql":
        # The same expression as the GIN index of migration 0001, or it is not used.
        params = [" ".join(terms)]
        sql = ("SELECT t.id, ts_rank(to_tsvector('simple'::regconfig, t.search_text), q) AS score "
               "FROM text_itemtext t JOIN evidence_item i ON i.id = t.item_id "
               "CROSS JOIN plainto_tsquery('simple', %s) q "
               "WHERE to_tsvector('simple'::regconfig, t.search_text) @@ q")
        if collection_ids is not None:
            sql += " AND i.collection_id = ANY(%s)"
            params.append([int(c) for c in collection_ids])
        sql += " ORDER BY score DESC, t.id LIMIT %s"
    else:
        raise ConfigurationError(f"full-text search needs SQLite or PostgreSQL; "
                                 f"this database is {connection.vendor}")
    params.append(limit)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(int(row_id), float(rank)) for row_id, rank in cursor.fetchall()]


def snippet(text: str, terms: Sequence[str], *, width: int = SNIPPET_CHARS) -> str:
    """About ``width`` characters of ``text`` around the first word of the query found.

    Found in the original text (not the folded copy) so that the user sees the
    words as they were written; plain text, for the caller to escape.
    """
    wanted = set(terms)
    start = 0
    for match in re.finditer(r"[^\W_]+(?:['’ʼʹ`´][^\W_]+)*", text):
        if wanted.intersection(_words(match.group())):
            start = max(0, match.start() - width // 3)
            break
    end = min(len(text), start + width)
    if start > 0:
        space = text.find(" ", start, start + 20)
        start = space + 1 if space != -1 else start
    if end < len(text):
        space = text.rfind(" ", end - 20, end)
        end = space if space > start else end
    piece = " ".join(text[start:end].split())
    return ("…" if start > 0 else "") + piece + ("…" if end < len(text) else "")
