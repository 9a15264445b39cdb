"""English and Ukrainian, switchable by the user; the Ukrainian catalog is complete."""

from __future__ import annotations

import polib
import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.conftest import REPO

pytestmark = pytest.mark.django_db
CATALOG = REPO / "src" / "svidok" / "locale" / "uk" / "LC_MESSAGES"


@pytest.fixture
def signed_in(client, svidok_home):
    """A client signed in as a user with no collections."""
    client.force_login(get_user_model().objects.create_user("olena"))
    return client


def test_english_by_default(signed_in):
    body = signed_in.get(reverse("items")).content.decode()
    assert "Evidence items" in body and '<html lang="en">' in body


def test_switching_to_ukrainian_sticks(signed_in):
    response = signed_in.post(reverse("set-language"), {"language": "uk", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    body = signed_in.get(reverse("items")).content.decode()
    assert "Доказові матеріали" in body and '<html lang="uk">' in body
    assert "Вийти" in body


def test_browser_preference_is_honoured_on_the_login_page(client):
    body = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="uk").content.decode()
    assert "Увійти" in body


def test_switch_refuses_foreign_redirects(signed_in):
    response = signed_in.post(reverse("set-language"),
                              {"language": "uk", "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_catalog_is_complete_and_compiled():
    source = polib.pofile(str(CATALOG / "django.po"))
    assert source.percent_translated() == 100, [e.msgid for e in source.untranslated_entries()]
    assert not source.fuzzy_entries() and not source.metadata_is_fuzzy
    compiled = {(e.msgid, e.msgstr) for e in polib.mofile(str(CATALOG / "django.mo"))}
    expected = {(e.msgid, e.msgstr) for e in source.translated_entries()}
    assert expected <= compiled, "django.mo is stale: run `make messages`"
