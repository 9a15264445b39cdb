"""Text in media, as users reach it: ingest queues it, the item page and the API show
it, and search (web and API) finds it only in the searcher's collections."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from svidok.apps.accounts.services import membership_grant
from svidok.apps.accounts.tokens import api_token_create
from svidok.apps.custody.models import CustodyEvent
from svidok.apps.evidence.models import Item
from svidok.apps.evidence.services import AcquisitionFacts, evidence_ingest
from svidok.apps.text.models import TextExtraction
from svidok.apps.text.services import extract_pending
from tests.apps.text.samples import FONT, save_text_image
from tests.conftest import login_verified, make_jpeg

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not FONT.exists(), reason="needs fonts-dejavu-core to draw Cyrillic"),
]


@pytest.fixture
def texts(svidok_home, tmp_path):
    """Collection A: a photographed sign and a plain photo; collection B: another sign."""
    save_text_image(tmp_path / "a" / "sign.png", ["ОБСТРІЛ ЛІКАРНІ", "Kyiv hospital"])
    make_jpeg(tmp_path / "a" / "photo.jpg", 1)
    save_text_image(tmp_path / "b" / "other.png", ["ОБСТРІЛ ШКОЛИ"])
    for name in ("a", "b"):
        evidence_ingest(paths=[tmp_path / name], collection_name=name.upper(),
                        facts=AcquisitionFacts(actor="t"))
    users = get_user_model().objects
    users.create_user("ivanna")
    membership_grant(username="ivanna", collection_name="A", role="investigator", actor="t")
    return {item.original_name: item for item in Item.objects.all()}


def test_ingest_queues_images_and_the_queue_reads_them(texts):
    states = dict(TextExtraction.objects.values_list("item__original_name", "status"))
    assert states == {"sign.png": "pending", "photo.jpg": "pending", "other.png": "pending"}
    summary = extract_pending(10)
    assert summary.done == 3 and summary.failed == 0
    assert TextExtraction.objects.get(item=texts["sign.png"]).pages == 1


def test_item_page_says_queued_then_shows_the_text(client, texts):
    login_verified(client, get_user_model().objects.get(username="ivanna"))
    url = reverse("item", args=[texts["sign.png"].id])
    assert "read in the background" in client.get(url).content.decode()
    extract_pending(10)
    page = client.get(url).content.decode()
    assert "ЛІКАРНІ" in page and "read by OCR" in page


def test_web_search_finds_words_in_any_case_only_in_own_collections(client, texts):
    extract_pending(10)
    login_verified(client, get_user_model().objects.get(username="ivanna"))
    page = client.get(reverse("text-search"), {"q": "обстріл"}).content.decode()
    assert "sign.png" in page and "other.png" not in page
    chosen = client.get(reverse("text-search"),
                        {"q": "обстріл", "collection": texts["other.png"].collection_id})
    assert "other.png" not in chosen.content.decode()  # not a member of B: nothing
    hostile = client.get(reverse("text-search"), {"q": '"<script>alert(1)</script> NEAR( *'})
    assert hostile.status_code == 200 and "<script>alert" not in hostile.content.decode()


def test_api_search_and_item_text(texts):
    extract_pending(10)
    token = api_token_create(username="ivanna", name="t", actor="t")[1]
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    hits = api.get("/api/v1/text/search", {"q": "HOSPITAL kyiv"}).json()
    assert [(h["name"], h["collection_name"], h["page"]) for h in hits] == [("sign.png", "A", 1)]
    assert api.get("/api/v1/text/search", {"q": "школи"}).json() == []  # collection B
    assert api.get("/api/v1/text/search").json() == []
    item = texts["sign.png"]
    body = api.get(f"/api/v1/items/{item.id}/text").json()
    assert body["status"] == "done" and "ЛІКАРНІ" in body["pages"][0]["text"]
    assert CustodyEvent.objects.filter(item_id=item.id, action="item.viewed").exists()
    outside = api.get(f"/api/v1/items/{texts['other.png'].id}/text")
    assert outside.status_code == 404
