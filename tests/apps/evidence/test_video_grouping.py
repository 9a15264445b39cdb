"""ThreatExchange's TMK sample clips, ingested as evidence, group as the TMK README
shows: the chair variants together, the pattern variants together, the large-logo
variants and the doorknob alone, nothing across scenes."""

from __future__ import annotations

import shutil

import pytest

from svidok.apps.evidence.grouping import near_duplicate_clusters
from svidok.apps.evidence.models import DerivedFile, Item
from svidok.apps.evidence.services import AcquisitionFacts, evidence_ingest
from tests.conftest import shared_data

SAMPLES = shared_data() / "media" / "threatexchange" / "tmk" / "sample-videos"
pytestmark = [
    pytest.mark.django_db, pytest.mark.slow,
    pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"needs {SAMPLES} (SVIDOK_SHARED_DATA)"),
    pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg"),
]

README_GROUPS = [
    ["chair-19-sd-bar", "chair-20-sd-bar", "chair-22-sd-grey-bar", "chair-22-sd-sepia-bar",
     "chair-22-with-small-logo-bar", "chair-orig-22-sd-bar"],
    ["pattern-hd-no-bar", "pattern-longer-no-bar", "pattern-sd-grey-bar",
     "pattern-sd-with-small-logo-bar"],
]


def test_sample_clips_group_as_the_tmk_readme_shows(svidok_home, tmp_path):
    folder = tmp_path / "clips"
    folder.mkdir()
    for video in SAMPLES.glob("*.mp4"):
        if video.name != "test-padded-dimensions.mp4":  # a format test, not a scene
            (folder / video.name).symlink_to(video)
    summary = evidence_ingest(paths=[folder], collection_name="TMK",
                              facts=AcquisitionFacts(actor="t"))
    assert summary.new == 13 and summary.error == 0
    assert DerivedFile.objects.filter(kind="tmk").count() == 13
    groups = near_duplicate_clusters(collection_ids=None)
    names = sorted(sorted(item.original_name.removesuffix(".mp4") for item in group.items)
                   for group in groups)
    assert names == README_GROUPS
    grouped = {item.id for group in groups for item in group.items}
    alone = sorted(i.original_name for i in Item.objects.exclude(id__in=grouped))
    assert alone == ["chair-22-with-large-logo-bar.mp4", "doorknob-hd-no-bar.mp4",
                     "pattern-sd-with-large-logo-bar.mp4"]
