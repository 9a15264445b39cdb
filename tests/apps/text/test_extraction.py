"""Text extraction as a queue beside ingest, and full-text search over what it read.

Runs on SQLite and on PostgreSQL (``scripts/with-postgres.sh``).
"""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
from django.db import OperationalError, connection
from django.utils import timezone

from svidok.apps.evidence.models import Item
from svidok.apps.evidence.services import AcquisitionFacts, evidence_ingest
from svidok.apps.text import services
from svidok.apps.text.models import ItemText, TextExtraction
from svidok.apps.text.search import query_terms, search_form, search_text
from svidok.apps.text.selectors import extraction_counts, item_text_pages
from svidok.apps.text.services import (
    MAX_ATTEMPTS,
    extract_pending,
    queue_items,
    queue_missing,
    retry_failed,
    text_reindex,
)
from svidok.apps.text.worker import BackgroundTextWorker
from tests.apps.text.samples import FONT, save_text_image, scanned_pdf, text_layer_pdf
from tests.conftest import make_jpeg

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not FONT.exists(),
                       reason="needs a Cyrillic font: apt-get install fonts-dejavu-core"),
]
Status = TextExtraction.Status


def ingest(folder, collection="C"):
    evidence_ingest(paths=[folder], collection_name=collection,
                    facts=AcquisitionFacts(actor="t"))
    items = list(Item.objects.filter(collection__name=collection))
    queue_items(items)
    return {item.original_name: item for item in items}


@pytest.fixture
def held(svidok_home, tmp_path):
    """Collection C: a photo of text, a PDF with a text layer, a scanned PDF, a truncated
    JPEG and a text file; collection D: one photo of other text."""
    folder = tmp_path / "c"
    save_text_image(folder / "sign.png")
    text_layer_pdf(folder / "report.pdf", [["Протокол огляду місця події", "м. КИЇВ"],
                                           ["Witness statement, page two"]])
    scanned_pdf(folder / "scan.pdf", ["Акт про знищення майна", "Ірпінь"])
    whole = make_jpeg(tmp_path / "whole.jpg", 1, size=(400, 300)).read_bytes()
    (folder / "cut.jpg").write_bytes(whole[:300])
    (folder / "notes.txt").write_text("not queued for OCR\n")
    items = ingest(folder)
    save_text_image(tmp_path / "d" / "other.png", ["Маріуполь, драмтеатр"])
    items.update(ingest(tmp_path / "d", "D"))
    return items


def status(item):
    return TextExtraction.objects.get(item=item)


class TestQueue:
    def test_images_and_pdfs_wait_others_are_not_applicable(self, held):
        assert status(held["notes.txt"]).status == Status.NOT_APPLICABLE
        assert status(held["sign.png"]).status == Status.PENDING
        assert extraction_counts()["pending"] == 5

    def test_queueing_twice_changes_nothing(self, held):
        assert queue_items(Item.objects.all()) == 0
        assert TextExtraction.objects.count() == 6

    def test_items_from_before_are_queued_by_queue_missing(self, held):
        TextExtraction.objects.all().delete()
        assert queue_missing() == 5
        assert queue_missing() == 0

    def test_everything_is_read_and_a_bad_file_does_not_block_the_rest(self, held):
        summary = extract_pending(limit=100)
        assert (summary.claimed, summary.done, summary.failed) == (5, 4, 1)
        failed = status(held["cut.jpg"])
        assert failed.status == Status.FAILED
        assert "truncated or corrupt image" in failed.error
        assert Item.objects.filter(id=held["cut.jpg"].id).exists()  # evidence never lost
        report = item_text_pages(item=held["report.pdf"])
        assert [(p.page, p.method) for p in report] == [(1, "text-layer"), (2, "text-layer")]
        assert report[0].text == "Протокол огляду місця події\nм. КИЇВ"
        scan = item_text_pages(item=held["scan.pdf"])
        assert scan[0].method == "ocr" and "Ірпінь" in scan[0].text
        done = status(held["sign.png"])
        assert (done.status, done.pages, done.attempts) == (Status.DONE, 1, 1)
        assert done.characters > 50
        assert extract_pending(limit=100).claimed == 0

    def test_a_failed_item_can_be_retried(self, held):
        extract_pending(limit=100)
        assert retry_failed() == 1
        row = status(held["cut.jpg"])
        assert (row.status, row.attempts, row.error) == (Status.PENDING, 0, "")

    def test_tesseract_missing_fails_with_the_fix_and_text_layers_still_work(
            self, held, tmp_path, monkeypatch):
        monkeypatch.setenv("PATH", str(tmp_path / "empty"))
        extract_pending(limit=100)
        assert status(held["report.pdf"]).status == Status.DONE
        for name in ("sign.png", "scan.pdf"):
            row = status(held[name])
            assert row.status == Status.FAILED
            assert "install tesseract-ocr" in row.error
        monkeypatch.undo()
        assert retry_failed() == 4  # the truncated JPEG too: it was never looked at
        assert extract_pending(limit=100).done == 3

    def test_two_workers_never_claim_the_same_item(self, held):
        first, second = services._claim(), services._claim()
        assert first.item_id != second.item_id
        assert first.claim != second.claim

    def test_a_vanished_worker_s_item_is_taken_over_then_given_up(self, held):
        row = services._claim()
        stale = timezone.now() - services.LEASE - timedelta(seconds=1)
        TextExtraction.objects.filter(pk=row.pk).update(heartbeat_at=stale)
        again = services._claim()
        assert again.item_id == row.item_id and again.attempts == 2
        TextExtraction.objects.filter(pk=row.pk).update(heartbeat_at=stale,
                                                        attempts=MAX_ATTEMPTS)
        assert extract_pending(limit=0).given_up == 1
        assert "gave up after 3 attempts" in TextExtraction.objects.get(pk=row.pk).error

    def test_a_result_after_the_claim_was_lost_is_not_stored(self, held):
        row = services._claim()
        TextExtraction.objects.filter(pk=row.pk).update(claim="someone-else")
        assert not services._store(row, Item.objects.get(id=row.item_id), [])

    def test_stopping_hands_the_item_back_unread(self, held):
        # The damaged image fails before any page is read, so it must not come first.
        TextExtraction.objects.filter(item=held["cut.jpg"]).update(status=Status.NOT_APPLICABLE)
        answers = iter([False])  # "go on" once, when the first item is claimed; then "stop"
        summary = extract_pending(limit=10, should_stop=lambda: next(answers, True))
        assert summary.released == 1 and summary.done == 0
        assert not TextExtraction.objects.filter(status=Status.RUNNING).exists()
        assert all(row.attempts == 0 for row in TextExtraction.objects.all())


class TestSearch:
    @pytest.fixture
    def read(self, held):
        extract_pending(limit=100)
        return held

    @pytest.mark.parametrize("query", ["київ", "КИЇВ", "Київ", "кИїВ"])
    def test_cyrillic_matches_regardless_of_case(self, read, query):
        found = {(hit.item_id, hit.page) for hit in search_text(query, collection_ids=None)}
        assert (read["report.pdf"].id, 1) in found
        assert (read["sign.png"].id, 1) in found

    def test_russian_english_and_several_words(self, read):
        assert [h.item_id for h in search_text("ХАРЬКОВЕ", collection_ids=None)] == \
            [read["sign.png"].id]
        assert [h.item_id for h in search_text("residential SHELLING",
                                               collection_ids=None)] == [read["sign.png"].id]
        assert search_text("residential Маріуполь", collection_ids=None) == []

    def test_hits_carry_page_method_and_snippet(self, read):
        [hit] = search_text("witness", collection_ids=None)
        assert (hit.item_id, hit.page, hit.method) == (read["report.pdf"].id, 2, "text-layer")
        assert hit.snippet == "Witness statement, page two"
        assert hit.rank > 0
        [scan] = search_text("ірпінь", collection_ids=None)
        assert scan.method == "ocr" and "Ірпінь" in scan.snippet

    def test_only_the_collections_asked_for(self, read):
        c, d = read["sign.png"].collection_id, read["other.png"].collection_id
        assert [h.item_id for h in search_text("маріуполь", collection_ids=[d])] == \
            [read["other.png"].id]
        assert search_text("маріуполь", collection_ids=[c]) == []
        assert search_text("маріуполь", collection_ids=[]) == []

    def test_hostile_queries_are_plain_words(self, read):
        report = read["report.pdf"].id
        for query in ['"', '""', "*", "NEAR(", "NEAR(a b)", "OR", "AND", "NOT", "-", "'",
                      "' OR 1=1 --", '"; DROP TABLE text_itemtext; --', "(", ")", "{a b}",
                      "a & b | !c", "<->", "\\", "%", "_", "\x00", "🙂", " " * 5,
                      "x" * 5_000, "слово " * 500, "col:x", "search_text:x"]:
            assert isinstance(search_text(query, collection_ids=None), list), query
        # Operators are neither obeyed nor errors: what is left of them is words.
        for query in ['"київ"', "київ*", "-київ", "^київ", "київ:*", "київ\x00", "(київ)",
                      "NEAR(київ", "search_text:київ"]:
            hits = search_text(query, collection_ids=None)
            assert (report in {h.item_id for h in hits}) == (len(query_terms(query)) == 1), \
                query
        assert ItemText.objects.filter(item_id=report).count() == 2  # nothing was dropped

    def test_text_found_in_a_deleted_item_is_gone_from_the_index(self, read):
        ItemText.objects.filter(item=read["other.png"]).delete()
        assert search_text("маріуполь", collection_ids=None) == []

    def test_reindex_rebuilds_the_index(self, read):
        assert text_reindex() == ItemText.objects.count()
        assert len(search_text("київ", collection_ids=None)) == 2


class TestSearchForm:
    def test_folds_case_apostrophes_and_latin_accents(self):
        assert search_form("КИЇВ — м’ясо, М'ЯСО, мʼясо; Café STRASSE_1") == \
            "київ мясо мясо мясо cafe strasse 1"

    def test_cyrillic_letters_keep_their_marks(self):
        assert search_form("Київ Ёлка Йосип") == "київ ёлка йосип"
        assert search_form("КИЇВ") != search_form("КИІВ")

    def test_look_alike_letters_take_the_word_s_script(self):
        # "Kharkiv" read with a Cyrillic а and р; "Харків" with a Latin a and p.
        assert search_form("Khаrkiv") == "kharkiv"
        assert search_form("Хaрків") == "харків"

    def test_query_terms_are_distinct_and_bounded(self):
        assert query_terms("Київ київ КИЇВ Ірпінь") == ["київ", "ірпінь"]
        assert len(query_terms(" ".join(f"w{n}" for n in range(100)))) == 16


@pytest.mark.sqlite_only
def test_sqlite_index_is_kept_by_triggers():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                       "AND tbl_name = 'text_itemtext'")
        assert {name for (name,) in cursor.fetchall()} == {
            "text_itemtext_ai", "text_itemtext_ad", "text_itemtext_au"}


def test_postgresql_index_is_used_and_folding_does_not_need_the_locale():
    """The stored copy is folded in Python: even a database whose LC_CTYPE is C (where
    lower() leaves Cyrillic alone) indexes and matches it."""
    url = os.environ.get("SVIDOK_DATABASE_URL", "")
    if connection.vendor != "postgresql" or not url:
        pytest.skip("PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s",
                       ["text_itemtext_search_gin"])
        assert "gin" in cursor.fetchone()[0].lower()
    import psycopg

    name = f"svidok_c_locale_{os.getpid()}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0 ENCODING \'UTF8\' '
                      "LC_COLLATE 'C' LC_CTYPE 'C'")
        try:
            with psycopg.connect(url.rsplit("/", 1)[0] + "/" + name) as c_locale:
                raw = c_locale.execute("SELECT lower('КИЇВ')").fetchone()[0]
                stored = search_form("«КИЇВ» — Харків")
                matched = c_locale.execute(
                    "SELECT to_tsvector('simple', %s) @@ plainto_tsquery('simple', %s)",
                    [stored, " ".join(query_terms("київ"))]).fetchone()[0]
            assert raw == "КИЇВ"  # the database alone would not fold it
            assert matched
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.django_db(transaction=True)
def test_background_worker_reads_the_queue_and_stops_cleanly(svidok_home, tmp_path):
    items = ingest(save_text_image(tmp_path / "in" / "sign.png").parent)
    worker = BackgroundTextWorker(poll_s=0.1).start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if status(items["sign.png"]).status == Status.DONE:
                    break
            except OperationalError:
                pass  # the test database's shared cache: "table is locked" while it writes
            time.sleep(0.1)
    finally:
        assert worker.stop(timeout_s=30)
    assert not worker.alive
    assert search_text("хрещатик", collection_ids=None)[0].item_id == items["sign.png"].id
