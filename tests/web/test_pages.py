"""The web pages: login required, items shown safely, every view and download logged."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from svidok.apps.accounts.services import membership_grant
from svidok.apps.custody.models import CustodyEvent
from svidok.apps.custody.services import Action
from svidok.apps.evidence.audit import audit_run
from svidok.apps.evidence.models import DerivedFile, Item
from svidok.apps.evidence.services import AcquisitionFacts, evidence_ingest
from tests.conftest import make_jpeg

pytestmark = pytest.mark.django_db
HOSTILE = '<svg onload=alert(1)>.jpg'  # no slash: it must stay one file name


@pytest.fixture
def item(svidok_home, tmp_path):
    """One photo with a hostile file name and note, ingested."""
    photo = make_jpeg(tmp_path / HOSTILE, 1)
    facts = AcquisitionFacts(actor="tester", note='<img src=x onerror="alert(1)">')
    evidence_ingest(paths=[photo], collection_name="C", facts=facts)
    return Item.objects.get()


@pytest.fixture
def user_client(client, item):
    """A client logged in as an analyst of collection C."""
    user = get_user_model().objects.create_user("analyst", password="a long passphrase 1")
    membership_grant(username="analyst", collection_name="C", role="analyst", actor="test")
    client.force_login(user)
    return client


class TestAccess:
    @pytest.mark.parametrize("name", ["items", "item", "item-download", "derived"])
    def test_anonymous_is_sent_to_login(self, client, item, name):
        args = {"items": [], "item": [item.id], "item-download": [item.id],
                "derived": [item.id, DerivedFile.objects.get(kind="thumbnail").id]}[name]
        response = client.get(reverse(name, args=args))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))

    def test_login_page_has_security_headers(self, client):
        response = client.get(reverse("login"))
        assert response.status_code == 200
        assert "script-src 'self'" in response["Content-Security-Policy"]
        assert response["X-Frame-Options"] == "DENY"


class TestPages:
    def test_list_escapes_file_names(self, user_client, item):
        body = user_client.get(reverse("items")).content.decode()
        assert "&lt;svg onload=alert(1)&gt;.jpg" in body
        assert HOSTILE not in body

    def test_detail_escapes_notes_and_logs_the_view(self, user_client, item):
        response = user_client.get(reverse("item", args=[item.id]))
        body = response.content.decode()
        assert response.status_code == 200
        assert '<img src=x onerror' not in body and "&lt;img src=x" in body
        viewed = CustodyEvent.objects.get(item_id=item.id, action=Action.VIEWED)
        assert viewed.actor == "web:analyst"
        assert audit_run().ok

    def test_download_is_an_attachment_and_logged(self, user_client, item):
        response = user_client.get(reverse("item-download", args=[item.id]))
        assert response["Content-Type"] == "application/octet-stream"
        assert "attachment" in response["Content-Disposition"]
        assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"
        assert CustodyEvent.objects.filter(item_id=item.id, action=Action.DOWNLOADED).exists()

    def test_unknown_item_is_404(self, user_client, item):
        import uuid

        assert user_client.get(reverse("item", args=[uuid.uuid4()])).status_code == 404


class TestProofPage:
    def test_proof_verifies_and_is_logged_as_a_view(self, user_client, item):
        response = user_client.get(reverse("item-proof", args=[item.id]))
        body = response.content.decode()
        assert response.status_code == 200
        assert "Verified" in body and "NOT VERIFIED" not in body
        assert "item.acquired" in body
        assert CustodyEvent.objects.filter(item_id=item.id, action=Action.VIEWED).exists()

    def test_a_head_not_signed_by_the_trusted_key_is_not_verified(self, user_client, item,
                                                                   monkeypatch):
        from svidok.core.custody.signing import SigningKey
        from svidok.web import views

        stranger = SigningKey.generate().public_key_bytes()
        monkeypatch.setattr(views, "instance_public_key", lambda: stranger)
        response = user_client.get(reverse("item-proof", args=[item.id]))
        assert response.status_code == 409
        assert "NOT VERIFIED" in response.content.decode()
