"""A protected field end to end: sealed in the database, absent from the custody log,
masked by role, and revealed only with a logged event."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from svidok.apps.accounts.services import membership_grant
from svidok.apps.custody.models import CustodyEvent
from svidok.apps.custody.services import Action
from svidok.apps.evidence.audit import audit_run
from svidok.apps.evidence.models import Acquisition
from svidok.apps.evidence.protected import acquisition_masked, protected_reveal
from svidok.apps.evidence.services import AcquisitionFacts, evidence_ingest
from svidok.core.errors import Forbidden, InvalidInput, NotFound
from tests.conftest import make_jpeg

pytestmark = pytest.mark.django_db
WITNESS = "Synthetic Witness Ω, +380 00 111 2233"


@pytest.fixture
def acquisition(svidok_home, tmp_path):
    evidence_ingest(paths=[make_jpeg(tmp_path / "p.jpg", 1)], collection_name="C",
                    facts=AcquisitionFacts(actor="tester", source_person=WITNESS))
    users = get_user_model()
    for role in ("investigator", "analyst"):
        users.objects.create_user(role)
        membership_grant(username=role, collection_name="C", role=role, actor="test")
    users.objects.create_user("outsider")
    return Acquisition.objects.select_related("item__collection").get()


def test_value_is_nowhere_in_plain_text(acquisition):
    assert WITNESS not in acquisition.source_person_sealed
    with connection.cursor() as cursor:
        for table in ("evidence_acquisition", "custody_custodyevent", "evidence_item"):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 — fixed table names
            assert "Witness" not in repr(cursor.fetchall()), table
    body = json.loads(CustodyEvent.objects.get(action=Action.ACQUIRED).body)
    assert len(body["details"]["acquisition"]["source_person_commitment"]) == 64


def test_masked_by_role(acquisition):
    users = get_user_model().objects
    [investigator] = acquisition_masked(user=users.get(username="investigator"),
                                        acquisition=acquisition)
    [analyst] = acquisition_masked(user=users.get(username="analyst"), acquisition=acquisition)
    assert investigator.present and investigator.can_reveal
    assert analyst.present and not analyst.can_reveal


def test_reveal_is_logged_without_the_value(acquisition):
    user = get_user_model().objects.get(username="investigator")
    value = protected_reveal(user=user, acquisition=acquisition, field="source_person",
                             actor="web:investigator")
    assert value == WITNESS
    event = CustodyEvent.objects.get(action=Action.PROTECTED_REVEALED)
    assert event.actor == "web:investigator" and event.item_id == acquisition.item_id
    assert json.loads(event.body)["details"] == {"acquisition": str(acquisition.id),
                                                 "field": "source_person"}
    assert "Witness" not in event.body


@pytest.mark.parametrize(("who", "error"), [("analyst", Forbidden), ("outsider", NotFound)])
def test_reveal_refused_and_not_logged(acquisition, who, error):
    user = get_user_model().objects.get(username=who)
    with pytest.raises(error):
        protected_reveal(user=user, acquisition=acquisition, field="source_person", actor=who)
    assert not CustodyEvent.objects.filter(action=Action.PROTECTED_REVEALED).exists()


def test_unknown_field_refused(acquisition):
    user = get_user_model().objects.get(username="investigator")
    with pytest.raises(InvalidInput, match="not a protected field"):
        protected_reveal(user=user, acquisition=acquisition, field="note", actor="x")


def test_verify_detects_an_altered_or_moved_sealed_value(acquisition, tmp_path):
    assert audit_run().ok
    evidence_ingest(paths=[make_jpeg(tmp_path / "q.jpg", 2)], collection_name="C",
                    facts=AcquisitionFacts(actor="tester", source_person="Someone Else"))
    other = Acquisition.objects.exclude(id=acquisition.id).get()
    # Copy another row's (valid) ciphertext over this one: bound to its row, it fails.
    Acquisition.objects.filter(id=acquisition.id).update(
        source_person_sealed=other.source_person_sealed)
    report = audit_run()
    assert not report.ok
    assert "acquisition_altered" in {p.kind for p in report.problems}


def test_same_file_from_another_person_is_another_acquisition(acquisition, tmp_path):
    photo = tmp_path / "p.jpg"
    evidence_ingest(paths=[photo], collection_name="C",
                    facts=AcquisitionFacts(actor="tester", source_person=WITNESS))
    assert Acquisition.objects.count() == 1  # same facts: recorded once
    evidence_ingest(paths=[photo], collection_name="C",
                    facts=AcquisitionFacts(actor="tester", source_person="Another Person"))
    assert Acquisition.objects.count() == 2
