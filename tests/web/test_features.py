"""Web pages beyond the basics: second factor, tokens, upload, filters, dashboard, audit."""

from __future__ import annotations

import base64
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from svidok.apps.accounts.models import AccessLogEntry, ApiToken
from svidok.apps.accounts.services import membership_grant
from svidok.apps.custody.models import CustodyEvent
from svidok.apps.custody.services import Action
from svidok.apps.evidence.models import Collection, Item
from svidok.apps.evidence.services import AcquisitionFacts, evidence_ingest
from tests.conftest import login_verified, make_jpeg

pytestmark = pytest.mark.django_db


@pytest.fixture
def field(svidok_home, tmp_path):
    for seed in range(3):
        evidence_ingest(paths=[make_jpeg(tmp_path / f"street-{seed}.jpg", seed)],
                        collection_name="Field",
                        facts=AcquisitionFacts(actor="t", collected_by=f"team {seed}"))
    users = get_user_model().objects
    users.create_user("ivanna", password="a long passphrase 1")
    membership_grant(username="ivanna", collection_name="Field", role="investigator", actor="t")
    users.create_user("andriy", password="a long passphrase 1")
    membership_grant(username="andriy", collection_name="Field", role="analyst", actor="t")
    users.create_superuser("root", password="a long passphrase 1")
    return Collection.objects.get(name="Field")


def log_in(client, username):
    """Through the real login form (django-axes needs the request)."""
    response = client.post(reverse("login"), {"username": username,
                                              "password": "a long passphrase 1"})
    assert response.status_code == 302, response.content[:300]


def now_code(device):
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits).token():06d}"


class TestSecondFactor:
    def test_admin_must_set_one_up(self, client, field):
        log_in(client, "root")
        response = client.get(reverse("items"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("second-factor"))
        page = client.get(response["Location"])
        assert b"<svg" in page.content
        secret = re.search(r'class="secret">([A-Z2-7]+)<', page.content.decode()).group(1)
        device = TOTPDevice.objects.get(user__username="root")
        assert base64.b32encode(device.bin_key).decode().rstrip("=") == secret
        wrong = client.post(reverse("second-factor"), {"code": "000000"})
        assert wrong.status_code == 400
        done = client.post(reverse("second-factor"), {"code": now_code(device),
                                                      "next": reverse("items")})
        assert done.status_code == 302 and done["Location"] == reverse("items")
        assert client.get(reverse("items")).status_code == 200
        assert AccessLogEntry.objects.filter(action="second_factor.enabled",
                                             target="root").exists()

    def test_user_with_a_device_must_enter_a_code(self, client, field):
        device = TOTPDevice.objects.create(user=get_user_model().objects.get(username="ivanna"),
                                           name="app", confirmed=True)
        log_in(client, "ivanna")
        response = client.get(reverse("items"))
        assert response["Location"].startswith(reverse("login-code"))
        assert client.post(reverse("login-code"), {"code": "12"}).status_code == 400
        assert AccessLogEntry.objects.filter(action="second_factor.failed").exists()
        ok = client.post(reverse("login-code"), {"code": now_code(device), "next": "/items/"})
        assert ok.status_code == 302 and ok["Location"] == "/items/"
        assert client.get(reverse("items")).status_code == 200

    def test_next_cannot_leave_the_site(self, client, field):
        device = TOTPDevice.objects.create(user=get_user_model().objects.get(username="ivanna"),
                                           name="app", confirmed=True)
        log_in(client, "ivanna")
        ok = client.post(reverse("login-code"), {"code": now_code(device),
                                                 "next": "https://evil.example/"})
        assert ok["Location"] == "/"

    def test_optional_for_others(self, client, field):
        log_in(client, "andriy")
        assert client.get(reverse("items")).status_code == 200

    def test_admins_cannot_turn_it_off(self, client, field):
        login_verified(client, get_user_model().objects.get(username="root"))
        client.post(reverse("second-factor-off"))
        assert TOTPDevice.objects.filter(user__username="root").exists()


class TestTokensPage:
    def test_create_shows_once_and_revoke(self, client, field):
        log_in(client, "andriy")
        client.post(reverse("token-create"), {"name": "laptop"})
        page = client.get(reverse("account")).content.decode()
        raw = re.search(r'class="new-token">(svk_[^<]+)<', page).group(1)
        assert ApiToken.objects.get().digest != raw
        assert raw not in client.get(reverse("account")).content.decode()  # shown once
        client.post(reverse("token-revoke"), {"prefix": raw[:12]})
        assert ApiToken.objects.get().revoked_at is not None


class TestUpload:
    def post(self, client, collection, *files, **fields):
        data = {"collection": collection, **fields,
                "files": [SimpleUploadedFile(n, c, content_type="image/jpeg") for n, c in files]}
        return client.post(reverse("upload"), data)

    def test_several_files(self, client, field, tmp_path):
        log_in(client, "ivanna")
        files = [(f"new-{i}.jpg", make_jpeg(tmp_path / f"n{i}.jpg", 40 + i).read_bytes())
                 for i in range(3)]
        response = self.post(client, field.id, *files, source_person="Synthetic Source")
        assert response.status_code == 200
        assert response.content.decode().count("new-") >= 3
        assert Item.objects.filter(original_name__startswith="new-").count() == 3
        item = Item.objects.get(original_name="new-0.jpg")
        assert item.acquisitions.get().source_person_sealed

    def test_collection_facts_are_recorded(self, client, field, tmp_path):
        log_in(client, "ivanna")
        photo = make_jpeg(tmp_path / "f.jpg", 53).read_bytes()
        response = self.post(client, field.id, ("f.jpg", photo), collected_at="2024-05-25",
                             source_url="https://example.org/v/1", note="from the roof")
        assert response.status_code == 200
        acquisition = Item.objects.get(original_name="f.jpg").acquisitions.get()
        assert acquisition.collected_at.isoformat() == "2024-05-25T00:00:00+00:00"
        assert (acquisition.source_url, acquisition.note) == ("https://example.org/v/1",
                                                              "from the roof")
        assert acquisition.actor == "web:ivanna"
        bad = self.post(client, field.id, ("f.jpg", photo), collected_at="25.05.2024")
        assert bad.status_code == 400 and b"YYYY-MM-DD" in bad.content

    def test_htmx_gets_the_results_fragment(self, client, field, tmp_path):
        log_in(client, "ivanna")
        photo = make_jpeg(tmp_path / "h.jpg", 50).read_bytes()
        response = client.post(reverse("upload"), {
            "collection": field.id, "files": [SimpleUploadedFile("h.jpg", photo)]},
            HTTP_HX_REQUEST="true")
        assert response.status_code == 200 and b"<html" not in response.content

    def test_role_without_ingest_is_refused(self, client, field, tmp_path):
        log_in(client, "andriy")
        photo = make_jpeg(tmp_path / "a.jpg", 51).read_bytes()
        assert self.post(client, field.id, ("a.jpg", photo)).status_code == 403
        assert not Item.objects.filter(original_name="a.jpg").exists()

    def test_too_large(self, client, field, tmp_path, settings):
        settings.SVIDOK_UPLOAD_MAX_BYTES = 500
        log_in(client, "ivanna")
        photo = make_jpeg(tmp_path / "big.jpg", 52, size=(200, 200)).read_bytes()
        response = self.post(client, field.id, ("big.jpg", photo))
        assert response.status_code == 413
        assert not Item.objects.filter(original_name="big.jpg").exists()


class TestItemList:
    def test_filters_and_search(self, client, field):
        log_in(client, "andriy")
        item = Item.objects.get(original_name="street-1.jpg")

        def names(**query):
            body = client.get(reverse("items"), query).content.decode()
            return sorted(set(re.findall(r"street-\d\.jpg", body)))

        assert names() == ["street-0.jpg", "street-1.jpg", "street-2.jpg"]
        assert names(q=item.sha256[:12]) == ["street-1.jpg"]
        assert names(q="street-2") == ["street-2.jpg"]
        assert names(hash=item.sha256[:8]) == ["street-1.jpg"]
        assert names(source="team 0") == ["street-0.jpg"]
        assert names(media="video") == []
        assert names(media="image", collection=field.id) == ["street-0.jpg", "street-1.jpg",
                                                             "street-2.jpg"]
        assert names(**{"from": "2999-01-01"}) == []

    def test_sort_by_name(self, client, field):
        log_in(client, "andriy")
        body = client.get(reverse("items"), {"sort": "-name"}).content.decode()
        assert body.index("street-2.jpg") < body.index("street-0.jpg")

    def test_bad_input_explained(self, client, field):
        log_in(client, "andriy")
        response = client.get(reverse("items"), {"from": "yesterday"})
        assert response.status_code == 400 and b"YYYY-MM-DD" in response.content
        assert client.get(reverse("items"), {"sort": "nope"}).status_code == 400
        assert client.get(reverse("items"), {"q": "a\x00b"}).status_code == 400


class TestDashboardAndAudit:
    def test_dashboard_counts_only_own_collections(self, client, field, tmp_path):
        evidence_ingest(paths=[make_jpeg(tmp_path / "secret.jpg", 60)], collection_name="Other",
                        facts=AcquisitionFacts(actor="t"))
        log_in(client, "andriy")
        body = client.get(reverse("dashboard")).content.decode()
        assert re.search(r'class="count-items">3<', body)
        assert "secret.jpg" not in body and "street-" in body

    def test_item_trail_and_user_trail(self, client, field):
        item = Item.objects.get(original_name="street-0.jpg")
        log_in(client, "andriy")
        client.get(reverse("item", args=[item.id]))
        assert client.get(reverse("item-trail", args=[item.id])).status_code == 403
        login_verified(client, get_user_model().objects.get(username="root"))
        trail = client.get(reverse("item-trail", args=[item.id])).content.decode()
        assert "web:andriy" in trail and Action.VIEWED in trail
        user = client.get(reverse("user-trail", args=["andriy"])).content.decode()
        assert "street-0.jpg" in user and "permission.granted" in user
        assert client.get(reverse("user-trail", args=["nobody"])).status_code == 404
        assert CustodyEvent.objects.filter(actor="web:andriy").exists()


def test_logout_lands_on_the_login_page(client, field):
    log_in(client, "andriy")
    response = client.post(reverse("logout"))
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert client.get(reverse("items")).status_code == 302


def test_login_lands_on_the_dashboard(client, field):
    response = client.post(reverse("login"), {"username": "andriy",
                                              "password": "a long passphrase 1"})
    assert response["Location"] == reverse("dashboard")
