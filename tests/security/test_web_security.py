"""CSRF, path traversal and header injection against the web application."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from svidok.apps.accounts.services import membership_grant, user_create
from svidok.apps.evidence.models import Item
from svidok.apps.evidence.services import AcquisitionFacts, evidence_ingest
from tests.conftest import make_jpeg

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


@pytest.fixture
def member(svidok_home, tmp_path):
    """A user with the analyst role in collection C, which holds one photo."""
    evidence_ingest(paths=[make_jpeg(tmp_path / "p.jpg", 1)], collection_name="C",
                    facts=AcquisitionFacts(actor="tester"))
    user_create(username="olena", password=PASSWORD, actor="test")
    membership_grant(username="olena", collection_name="C", role="analyst", actor="test")
    return get_user_model().objects.get(username="olena")


class TestCsrf:
    def test_login_without_token_is_refused(self, member):
        client = Client(enforce_csrf_checks=True)
        response = client.post(reverse("login"), {"username": "olena", "password": PASSWORD})
        assert response.status_code == 403
        assert "_auth_user_id" not in client.session

    def test_logout_without_token_is_refused(self, member):
        client = Client(enforce_csrf_checks=True)
        client.force_login(member)
        assert client.post(reverse("logout")).status_code == 403
        assert "_auth_user_id" in client.session

    def test_login_with_token_works(self, member):
        client = Client(enforce_csrf_checks=True)
        client.get(reverse("login"))
        token = client.cookies["csrftoken"].value
        response = client.post(reverse("login"), {"username": "olena", "password": PASSWORD,
                                                  "csrfmiddlewaretoken": token})
        assert response.status_code == 302


class TestPathTraversal:
    @pytest.mark.parametrize("path", [
        "/items/../../etc/passwd",
        "/items/%2e%2e/%2e%2e/etc/passwd",
        "/items/not-a-uuid/",
        "/items/00000000-0000-0000-0000-000000000000/derived/..%2f..%2fsecret_key",
        "/static/../settings.py",
        "/static/%2e%2e/%2e%2e/secret_key",
    ])
    def test_paths_outside_the_routes_are_not_found(self, client, member, path):
        client.force_login(member)
        response = client.get(path)
        assert response.status_code == 404
        assert b"SECRET" not in b"".join(getattr(response, "streaming_content", [response.content]))


class TestHeaders:
    def test_hostile_file_name_cannot_inject_headers(self, client, member):
        item = Item.objects.get()
        Item.objects.filter(id=item.id).update(original_name='a"\r\nSet-Cookie: x=1\r\n.jpg')
        client.force_login(member)
        response = client.get(reverse("item-download", args=[item.id]))
        disposition = response["Content-Disposition"]
        assert "\r" not in disposition and "\n" not in disposition
        assert "Set-Cookie" not in response.headers or "x=1" not in response.headers.get(
            "Set-Cookie", "")

    def test_security_headers_on_every_page(self, client, member):
        client.force_login(member)
        for url in (reverse("items"), reverse("item", args=[Item.objects.get().id])):
            response = client.get(url)
            assert response["X-Frame-Options"] == "DENY"
            assert response["X-Content-Type-Options"] == "nosniff"
            assert "default-src 'self'" in response["Content-Security-Policy"]
            assert "unsafe-inline" not in response["Content-Security-Policy"]


class TestSettings:
    def settings_in_subprocess(self, tmp_path, **env):
        import os
        import subprocess
        import sys

        code = ("from django.conf import settings; "
                "print(settings.DEBUG, settings.SESSION_COOKIE_SECURE, "
                "settings.CSRF_COOKIE_SECURE, getattr(settings, 'SECURE_HSTS_SECONDS', 0))")
        environment = {k: v for k, v in os.environ.items()
                       if not k.startswith("SVIDOK_") or k == "SVIDOK_DATABASE_URL"}
        environment.update(SVIDOK_HOME=str(tmp_path), DJANGO_SETTINGS_MODULE="svidok.settings",
                           **env)
        result = subprocess.run([sys.executable, "-c", code], env=environment,
                                capture_output=True, text=True, timeout=60, check=True)
        return result.stdout.split()

    def test_safe_defaults(self, tmp_path):
        assert self.settings_in_subprocess(tmp_path) == ["False", "False", "False", "0"]

    def test_tls_turns_on_secure_cookies_and_hsts(self, tmp_path):
        assert self.settings_in_subprocess(tmp_path, SVIDOK_TLS="1") == [
            "False", "True", "True", "31536000"]


HOSTILE = '<script>alert("x")</script>'


class TestEscapingOnNewPages:
    """User-supplied text on the dashboard, lists, upload results, account and reveal."""

    @pytest.fixture
    def investigator(self, svidok_home, tmp_path):
        evidence_ingest(paths=[make_jpeg(tmp_path / "p.jpg", 3)], collection_name=HOSTILE,
                        facts=AcquisitionFacts(actor="t", source_person=HOSTILE))
        user_create(username="ivanna", password=PASSWORD, actor="test")
        membership_grant(username="ivanna", collection_name=HOSTILE, role="investigator",
                         actor="test")
        client = Client()
        client.force_login(get_user_model().objects.get(username="ivanna"))
        return client

    def assert_escaped(self, response):
        body = response.content.decode()
        assert response.status_code < 500
        assert HOSTILE not in body, "user text must be escaped"

    def test_pages(self, investigator):
        item = Item.objects.get()
        for url in [reverse("dashboard"), reverse("collections"), reverse("items"),
                    reverse("items") + "?q=" + HOSTILE, reverse("upload"),
                    reverse("item", args=[item.id])]:
            self.assert_escaped(investigator.get(url))

    def test_revealed_value(self, investigator):
        item = Item.objects.get()
        acquisition = item.acquisitions.get()
        response = investigator.post(reverse("reveal", args=[item.id, acquisition.id,
                                                             "source_person"]))
        assert response.status_code == 200
        self.assert_escaped(response)
        assert "&lt;script&gt;" in response.content.decode()

    def test_upload_results_and_token_names(self, investigator, tmp_path):
        from django.core.files.uploadedfile import SimpleUploadedFile

        photo = make_jpeg(tmp_path / "u.jpg", 4).read_bytes()
        collection = Item.objects.get().collection_id
        response = investigator.post(reverse("upload"), {
            "collection": collection,
            "files": [SimpleUploadedFile(HOSTILE.replace("/", "") + ".jpg", photo)]})
        assert response.status_code == 200
        assert "<script>" not in response.content.decode()
        investigator.post(reverse("token-create"), {"name": HOSTILE})
        self.assert_escaped(investigator.get(reverse("account")))

    def test_upload_post_needs_csrf(self, investigator, tmp_path):
        strict = Client(enforce_csrf_checks=True)
        strict.cookies = investigator.cookies
        collection = Item.objects.get().collection_id
        response = strict.post(reverse("upload"), {"collection": collection})
        assert response.status_code == 403

    def test_reveal_needs_csrf(self, investigator):
        strict = Client(enforce_csrf_checks=True)
        strict.cookies = investigator.cookies
        item = Item.objects.get()
        url = reverse("reveal", args=[item.id, item.acquisitions.get().id, "source_person"])
        assert strict.post(url).status_code == 403
