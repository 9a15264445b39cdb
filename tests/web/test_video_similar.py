"""Near-duplicate videos on the item page and in the API: a clip finds its source."""

from __future__ import annotations

import shutil

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from svidok.apps.accounts.services import membership_grant
from svidok.apps.accounts.tokens import api_token_create
from svidok.apps.evidence.models import Item, PerceptualHash
from svidok.apps.evidence.services import AcquisitionFacts, evidence_ingest
from tests.cli.test_cli_media import make_video
from tests.conftest import login_verified

pytestmark = [pytest.mark.django_db,
              pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")]


@pytest.fixture
def videos(svidok_home, tmp_path):
    make_video(tmp_path / "in" / "full.mp4", seconds=20)
    make_video(tmp_path / "in" / "clip.mp4", seconds=6, start=7)
    make_video(tmp_path / "in" / "other.mp4", seconds=8, source="mandelbrot")
    evidence_ingest(paths=[tmp_path / "in"], collection_name="V",
                    facts=AcquisitionFacts(actor="t"))
    get_user_model().objects.create_user("ivanna")
    membership_grant(username="ivanna", collection_name="V", role="investigator", actor="t")
    return {item.original_name: item for item in Item.objects.all()}


def test_ingest_keeps_frame_hashes_in_metadata_and_the_search_table(videos):
    perceptual = videos["full.mp4"].metadata["perceptual"]
    assert perceptual["kind"] == "video" and len(perceptual["signature"]) == 64
    assert PerceptualHash.objects.filter(item=videos["full.mp4"], algorithm="vpdq").count() \
        == len(perceptual["frames"])


def test_item_page_and_api_list_the_matching_video(client, videos):
    login_verified(client, get_user_model().objects.get(username="ivanna"))
    page = client.get(reverse("item-similar", args=[videos["clip.mp4"].id])).content.decode()
    assert "full.mp4" in page and "other.mp4" not in page
    assert "100 % of this video" in page
    token = api_token_create(username="ivanna", name="t", actor="t")[1]
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    found = api.get(f"/api/v1/items/{videos['full.mp4'].id}/similar").json()
    assert [(f["name"], f["kind"]) for f in found] == [("clip.mp4", "video")]
    assert found[0]["target_share"] >= 0.8 and found[0]["distance"] is None
