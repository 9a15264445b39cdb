"""Ingest: items, acquisitions, derived files and custody events."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from svidok.apps.custody.models import CustodyEvent, TreeHead
from svidok.apps.custody.services import Action
from svidok.apps.evidence.audit import audit_run
from svidok.apps.evidence.models import Acquisition, DerivedFile, Item
from svidok.apps.evidence.services import AcquisitionFacts, evidence_ingest
from svidok.apps.evidence.store import instance_store
from svidok.core.digest import Digest

pytestmark = pytest.mark.django_db

FACTS = AcquisitionFacts(actor="tester", source_url="https://t.me/s/example/1",
                         collected_by="Field team A", note="from a phone")


def ingest(paths, collection="Kharkiv strikes", facts=FACTS):
    results = []
    summary = evidence_ingest(paths=paths, collection_name=collection, facts=facts,
                              on_result=results.append)
    return summary, results


class TestIngestFolder:
    def test_every_file_becomes_an_item_or_an_acquisition(self, svidok_home, evidence_folder):
        summary, results = ingest([evidence_folder])
        assert summary.files == 7
        assert summary.error == 0
        assert summary.duplicate == 1 and summary.new == 6
        assert Item.objects.count() == 6
        statuses = {Path(r.path).name: r.status for r in results}
        # files are walked in sorted order: the copy comes first and is the new one
        assert statuses["copy of photo 1.jpg"] == "new"
        assert statuses["photo 1.jpg"] == "duplicate"
        assert statuses["фото 2 — Харків.jpg"] == "new"
        assert statuses["line\nbreak.jpg"] == "new"

    def test_duplicate_gains_an_acquisition(self, svidok_home, evidence_folder):
        ingest([evidence_folder])
        photo = Item.objects.get(original_name="copy of photo 1.jpg")
        paths = sorted(a.original_path for a in photo.acquisitions.all())
        assert [Path(p).name for p in paths] == ["copy of photo 1.jpg", "photo 1.jpg"]

    def test_media_type_is_sniffed_not_named(self, svidok_home, tmp_path):
        from tests.conftest import make_jpeg

        make_jpeg(tmp_path / "looks-like.pdf", 9)
        _, [result] = ingest([tmp_path / "looks-like.pdf"])
        assert result.media_type == "image/jpeg"

    def test_bad_files_are_preserved_and_flagged(self, svidok_home, evidence_folder):
        _, results = ingest([evidence_folder])
        by_name = {Path(r.path).name: r for r in results}
        for name in ("empty.bin", "truncated.jpg", "noise"):
            result = by_name[name]
            assert result.status == "new"
            item = Item.objects.get(id=result.item)
            assert item.flagged and item.extraction_errors, name
            assert instance_store().exists(Digest(item.sha256))
        assert by_name["empty.bin"].size == 0

    def test_thumbnail_is_a_separate_blob(self, svidok_home, evidence_folder):
        ingest([evidence_folder])
        photo = Item.objects.get(original_name="copy of photo 1.jpg")
        thumbnail = DerivedFile.objects.get(item=photo, kind="thumbnail")
        assert thumbnail.sha256 != photo.sha256
        assert instance_store().exists(Digest(thumbnail.sha256))
        original = instance_store().open(Digest(photo.sha256)).read()
        assert original == (evidence_folder / "photo 1.jpg").read_bytes()

    def test_unreadable_path_is_an_error_and_the_run_goes_on(self, svidok_home, tmp_path):
        from tests.conftest import make_jpeg

        good = make_jpeg(tmp_path / "good.jpg", 5)
        summary, results = ingest([tmp_path / "does-not-exist.jpg", good])
        assert [r.status for r in results] == ["error", "new"]
        assert "no such file" in results[0].error
        assert summary.error == 1

    def test_fifo_and_broken_link_in_a_folder_are_reported_not_read(self, svidok_home, tmp_path):
        import os

        from tests.conftest import make_jpeg

        folder = tmp_path / "in"
        make_jpeg(folder / "good.jpg", 5)
        os.mkfifo(folder / "pipe")
        (folder / "dangling").symlink_to(tmp_path / "nowhere")
        summary, results = ingest([folder])
        by_name = {Path(r.path).name: r for r in results}
        assert by_name["good.jpg"].status == "new"
        for name in ("pipe", "dangling"):
            assert by_name[name].status == "error"
            assert "not a regular file" in by_name[name].error
        assert summary.error == 2

    def test_file_name_that_is_not_utf8(self, svidok_home, tmp_path):
        import os

        from tests.conftest import make_jpeg

        raw = os.path.join(os.fsencode(tmp_path), b"\xff\xfe photo.jpg")
        with open(raw, "wb") as out:
            out.write(make_jpeg(tmp_path / "src.jpg", 8).read_bytes())
        _, [result] = ingest([Path(os.fsdecode(raw))])
        assert result.status == "new"
        item = Item.objects.get(id=result.item)
        assert item.original_name == "\\xff\\xfe photo.jpg"
        assert audit_run().ok

    def test_same_bytes_in_another_collection_is_another_item(self, svidok_home, tmp_path):
        from tests.conftest import make_jpeg

        photo = make_jpeg(tmp_path / "p.jpg", 6)
        ingest([photo], collection="A")
        _, [result] = ingest([photo], collection="B")
        assert result.status == "new"
        assert Item.objects.filter(sha256=result.sha256).count() == 2


class TestRerun:
    def test_rerun_records_nothing_twice(self, svidok_home, evidence_folder):
        ingest([evidence_folder])
        counts = (Item.objects.count(), Acquisition.objects.count(), CustodyEvent.objects.count())
        summary, results = ingest([evidence_folder])
        assert summary.new == 0 and summary.duplicate == 7
        assert not any(r.acquisition_recorded for r in results)
        assert (Item.objects.count(), Acquisition.objects.count(),
                CustodyEvent.objects.count()) == counts

    def test_different_facts_make_a_new_acquisition(self, svidok_home, evidence_folder):
        ingest([evidence_folder / "photo 1.jpg"])
        other = AcquisitionFacts(actor="tester", source_url="https://x.com/other/status/2")
        _, [result] = ingest([evidence_folder / "photo 1.jpg"], facts=other)
        assert result.status == "duplicate" and result.acquisition_recorded


class TestCustodyTrail:
    def test_events_cover_every_step_and_a_head_is_signed(self, svidok_home, evidence_folder):
        _, results = ingest([evidence_folder / "photo 1.jpg"])
        events = list(CustodyEvent.objects.filter(item_id=results[0].item).order_by("seq"))
        actions = [e.action for e in events]
        assert actions[:3] == [Action.ACQUIRED, Action.STORED, Action.METADATA_EXTRACTED]
        assert Action.DERIVED_CREATED in actions
        body = json.loads(events[0].body)
        assert body["item"]["sha256"] == results[0].sha256
        assert body["actor"] == "tester"
        assert body["time"].endswith("Z")
        head = TreeHead.objects.order_by("-size").first()
        assert head.size == CustodyEvent.objects.count()

    def test_a_clean_ingest_verifies(self, svidok_home, evidence_folder):
        ingest([evidence_folder])
        report = audit_run()
        assert report.problems == []
        assert report.items == 6
