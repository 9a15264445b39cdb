"""The tamper suite: every kind of tampering `svidok verify` promises to detect is detected."""

from __future__ import annotations

import os
import stat

import pytest

from svidok.apps.custody.models import CustodyEvent, LogState, TreeHead
from svidok.apps.custody.services import Action
from svidok.apps.evidence.audit import audit_run
from svidok.apps.evidence.models import Acquisition, DerivedFile, Item
from svidok.apps.evidence.services import AcquisitionFacts, evidence_ingest
from svidok.apps.evidence.store import instance_store
from svidok.core.custody import merkle
from svidok.core.custody.signing import SigningKey
from svidok.core.custody.signing import TreeHead as CoreHead
from svidok.core.digest import Digest

pytestmark = pytest.mark.django_db


@pytest.fixture
def locker(svidok_home, evidence_folder):
    """An instance holding the evidence folder, verified clean."""
    facts = AcquisitionFacts(actor="tester", note="n")
    evidence_ingest(paths=[evidence_folder], collection_name="C", facts=facts)
    assert audit_run().problems == []
    return Item.objects.get(original_name="copy of photo 1.jpg")


def kinds(report, item=None):
    return {p.kind for p in report.problems if item is None or p.item == str(item.id)}


def writable(path):
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    return path


class TestBlobs:
    def test_altered_byte_in_original(self, locker):
        path = writable(instance_store().path_of(Digest(locker.sha256)))
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x01
        path.write_bytes(bytes(data))
        report = audit_run()
        assert "blob_altered" in kinds(report, locker)
        assert not report.ok

    def test_missing_original(self, locker):
        instance_store().path_of(Digest(locker.sha256)).unlink()
        assert "blob_missing" in kinds(audit_run(), locker)

    def test_altered_derived_file(self, locker):
        thumbnail = DerivedFile.objects.get(item=locker, kind="thumbnail")
        path = writable(instance_store().path_of(Digest(thumbnail.sha256)))
        path.write_bytes(path.read_bytes() + b"\x00")
        assert "blob_altered" in kinds(audit_run(), locker)

    def test_stray_file(self, locker):
        directory = instance_store().path_of(Digest(locker.sha256)).parent
        (directory / "planted.jpg").write_bytes(b"x")
        assert "blob_stray" in kinds(audit_run())


class TestRows:
    def test_edited_item_row(self, locker):
        Item.objects.filter(id=locker.id).update(media_type="image/png")
        assert "item_row_altered" in kinds(audit_run(), locker)

    def test_edited_metadata(self, locker):
        Item.objects.filter(id=locker.id).update(metadata={"summary": {"created": "1999"}})
        assert "metadata_altered" in kinds(audit_run(), locker)

    def test_edited_acquisition(self, locker):
        Acquisition.objects.filter(item=locker).update(note="rewritten")
        assert "acquisition_altered" in kinds(audit_run(), locker)

    def test_deleted_acquisition(self, locker):
        Acquisition.objects.filter(item=locker).delete()
        assert "acquisition_missing" in kinds(audit_run(), locker)

    def test_deleted_item(self, locker):
        Acquisition.objects.filter(item=locker).delete()
        DerivedFile.objects.filter(item=locker).delete()
        Item.objects.filter(id=locker.id).delete()
        assert "item_missing" in kinds(audit_run(), locker)

    def test_planted_item(self, locker):
        planted = Item.objects.create(collection=locker.collection, sha256=locker.sha256[::-1],
                                      size=1, media_type="image/jpeg", original_name="x")
        assert "item_unlogged" in kinds(audit_run(), planted)


class TestLog:
    def test_deleted_event(self, locker):
        CustodyEvent.objects.filter(seq=3).delete()
        report = audit_run()
        assert "event_missing" in kinds(report)
        assert "head_root_mismatch" in kinds(report)

    def test_edited_event_body(self, locker):
        event = CustodyEvent.objects.filter(item_id=locker.id, action=Action.ACQUIRED).first()
        CustodyEvent.objects.filter(seq=event.seq).update(
            body=event.body.replace('"tester"', '"someone else"'))
        assert "event_altered" in kinds(audit_run(), locker)

    def test_edited_event_with_recomputed_leaf_hash(self, locker):
        event = CustodyEvent.objects.filter(item_id=locker.id, action=Action.ACQUIRED).first()
        body = event.body.replace('"tester"', '"someone else"')
        CustodyEvent.objects.filter(seq=event.seq).update(
            body=body, actor="someone else",
            leaf_hash=merkle.hash_leaf(body.encode()).hex())
        report = audit_run()
        assert "head_root_mismatch" in kinds(report)

    def test_reordered_events(self, locker):
        first, second = CustodyEvent.objects.order_by("seq")[1:3]
        fields = ("action", "item_id", "item_sha256", "actor", "time", "body", "leaf_hash")
        for target, source in ((first, second), (second, first)):
            CustodyEvent.objects.filter(seq=target.seq).update(
                **{f: getattr(source, f) for f in fields})
        report = audit_run()
        assert "event_out_of_order" in kinds(report)
        assert "head_root_mismatch" in kinds(report)

    def test_column_edited_but_not_body(self, locker):
        event = CustodyEvent.objects.filter(item_id=locker.id).first()
        CustodyEvent.objects.filter(seq=event.seq).update(actor="forger")
        assert "event_altered" in kinds(audit_run(), locker)

    def test_truncated_log(self, locker):
        last = CustodyEvent.objects.order_by("-seq").first()
        CustodyEvent.objects.filter(seq=last.seq).delete()
        report = audit_run()
        assert {"head_beyond_log", "log_state_mismatch"} <= kinds(report)

    def test_unsigned_appended_event(self, locker):
        size = CustodyEvent.objects.count()
        body = '{"action":"item.viewed"}'
        CustodyEvent.objects.create(seq=size, action="item.viewed", actor="x", time="t",
                                    body=body, leaf_hash=merkle.hash_leaf(body.encode()).hex())
        assert "unsigned_events" in kinds(audit_run())


class TestHeads:
    def test_forged_signature(self, locker):
        head = TreeHead.objects.order_by("-id").first()
        forged = bytearray(bytes.fromhex(head.signature))
        forged[0] ^= 0xFF
        TreeHead.objects.filter(id=head.id).update(signature=forged.hex())
        assert "head_signature_invalid" in kinds(audit_run())

    def test_head_replaced_by_another_key(self, locker):
        head = TreeHead.objects.order_by("-id").first()
        other = SigningKey.generate()
        signed = other.sign(CoreHead(size=head.size, root=bytes.fromhex(head.root),
                                     time=head.time))
        TreeHead.objects.filter(id=head.id).update(key_id=signed.key_id,
                                                   signature=signed.signature.hex())
        assert "head_signature_invalid" in kinds(audit_run())

    def test_head_with_a_different_root_resigned_by_another_key(self, locker):
        head = TreeHead.objects.order_by("-id").first()
        other = SigningKey.generate()
        signed = other.sign(CoreHead(size=head.size, root=b"\x00" * 32, time=head.time))
        TreeHead.objects.filter(id=head.id).update(root=(b"\x00" * 32).hex(),
                                                   key_id=signed.key_id,
                                                   signature=signed.signature.hex())
        assert {"head_signature_invalid", "head_root_mismatch"} <= kinds(audit_run())

    def test_shrinking_heads(self, locker, tmp_path):
        from tests.conftest import make_jpeg

        later = make_jpeg(tmp_path / "later.jpg", 77)
        evidence_ingest(paths=[later], collection_name="C",
                        facts=AcquisitionFacts(actor="tester"))
        head = TreeHead.objects.order_by("id").first()
        TreeHead.objects.create(size=head.size, root=head.root, time=head.time,
                                key_id=head.key_id, signature=head.signature)
        # a copy of an early head written after later ones: the log appears to shrink
        assert "heads_inconsistent" in kinds(audit_run())

    def test_log_state_edited(self, locker):
        LogState.objects.filter(id=1).update(frontier=["00" * 32])
        assert "log_state_mismatch" in kinds(audit_run())


