"""Annotating and exporting items: logged, proven, never exporting damaged bytes."""

from __future__ import annotations

import json
import os
import stat

import pytest

from svidok.apps.custody.models import CustodyEvent
from svidok.apps.custody.services import Action
from svidok.apps.evidence.audit import audit_run
from svidok.apps.evidence.models import Item
from svidok.apps.evidence.selectors import item_list, item_resolve
from svidok.apps.evidence.services import (
    AcquisitionFacts,
    evidence_ingest,
    item_annotate,
    item_export,
)
from svidok.apps.evidence.store import instance_store
from svidok.core.custody.proofs import verify_proof_bundle
from svidok.core.digest import Digest
from svidok.core.errors import InvalidInput, NotFound, StoreError
from tests.conftest import make_jpeg

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(svidok_home, tmp_path):
    """One ingested photo."""
    evidence_ingest(paths=[make_jpeg(tmp_path / "p.jpg", 1)], collection_name="C",
                    facts=AcquisitionFacts(actor="tester"))
    return Item.objects.get()


class TestResolve:
    def test_by_id_and_hash_prefix(self, item):
        assert item_resolve(reference=str(item.id)) == item
        assert item_resolve(reference=item.sha256[:10]) == item
        assert item_resolve(reference=f"sha256:{item.sha256}") == item

    @pytest.mark.parametrize("bad", ["", "abc", "../../etc/passwd", "zzzzzzzzzz"])
    def test_malformed_reference(self, item, bad):
        with pytest.raises(InvalidInput, match="expected an item id"):
            item_resolve(reference=bad)

    def test_unknown(self, item):
        with pytest.raises(NotFound):
            item_resolve(reference="0" * 12)

    def test_list(self, item):
        assert item_list(collection="C") == [item]
        assert item_list(collection="other") == []


class TestAnnotate:
    def test_annotation_is_a_logged_event(self, item):
        item_annotate(item=item, text="  shows the north wall ", actor="analyst")
        event = CustodyEvent.objects.get(item_id=item.id, action=Action.ANNOTATED)
        assert json.loads(event.body)["details"] == {"text": "shows the north wall"}
        assert audit_run().ok

    def test_empty_annotation_refused(self, item):
        with pytest.raises(InvalidInput):
            item_annotate(item=item, text="   ", actor="analyst")


class TestExport:
    def test_export_copies_bytes_and_a_proof_that_covers_the_export(self, item, tmp_path):
        target = item_export(item=item, destination=tmp_path / "out", actor="legal")
        assert Digest.of_bytes(target.read_bytes()).hex == item.sha256
        bundle = json.loads((target.parent / "custody-proof.json").read_text())
        verify_proof_bundle(bundle)
        actions = [json.loads(e["event"])["action"] for e in bundle["events"]]
        assert actions[-1] == Action.EXPORTED
        assert not list(target.parent.glob(".*partial"))

    def test_hostile_name_is_not_used_as_a_path(self, item, tmp_path):
        Item.objects.filter(id=item.id).update(original_name="..")
        item.refresh_from_db()
        target = item_export(item=item, destination=tmp_path / "out", actor="legal")
        assert target.name == item.sha256
        assert target.parent.parent == tmp_path / "out"

    def test_damaged_blob_is_never_exported(self, item, tmp_path):
        path = instance_store().path_of(Digest(item.sha256))
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        path.write_bytes(b"damaged")
        with pytest.raises(StoreError, match="damaged"):
            item_export(item=item, destination=tmp_path / "out", actor="legal")
        assert not any(p.is_file() for p in (tmp_path / "out").rglob("*"))
        assert not CustodyEvent.objects.filter(action=Action.EXPORTED).exists()
