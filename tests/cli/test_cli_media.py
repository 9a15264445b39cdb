"""`svidok media`: hashes without an instance, near-duplicates within one."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from PIL import Image

from tests.apps.evidence.test_similarity import make_photo
from tests.cli.test_cli_locker import instance, svidok  # noqa: F401 — fixture

PDQ_LENGTH = 64


def test_hash_needs_no_instance(cli_env, tmp_path):
    photo = make_photo(tmp_path / "p.jpg", 5)
    (tmp_path / "not-an-image.txt").write_text("hello")
    result = svidok(cli_env, "media", "hash", str(photo), str(tmp_path / "not-an-image.txt"),
                    "--json", check=False)
    assert result.returncode == 1
    good, bad = (json.loads(line) for line in result.stdout.splitlines())
    assert good["kind"] == "image" and len(good["pdq"]) == PDQ_LENGTH and good["quality"] >= 50
    assert "not a decodable image" in bad["error"]


def test_similar_finds_a_mirrored_repost(instance, tmp_path):  # noqa: F811
    make_photo(tmp_path / "in" / "original.jpg", 6)
    make_photo(tmp_path / "in" / "unrelated.jpg", 7)
    svidok(instance, "ingest", str(tmp_path / "in"), "--collection", "Field")
    repost = tmp_path / "repost.jpg"
    Image.open(tmp_path / "in" / "original.jpg").transpose(
        Image.Transpose.FLIP_LEFT_RIGHT).resize((400, 300)).save(repost, quality=50)
    lines = svidok(instance, "media", "similar", str(repost), "--json").stdout.splitlines()
    matches = [json.loads(line) for line in lines]
    assert [(m["name"], m["variant"]) for m in matches] == [("original.jpg",
                                                             "mirrored left–right")]
    assert matches[0]["distance"] <= 31
    by_item = svidok(instance, "media", "similar", matches[0]["sha256"][:12], "--json")
    assert by_item.stdout.strip() == ""  # nothing else looks like it
    missing = svidok(instance, "media", "similar", str(repost), "--collection", "Nope",
                     check=False)
    assert missing.returncode != 0 and "no collection named 'Nope'" in missing.stderr


def test_similar_to_an_item_that_is_not_an_image_says_so(instance, tmp_path):  # noqa: F811
    (tmp_path / "notes.txt").write_text("witness statement, typed")
    item = json.loads(svidok(instance, "ingest", str(tmp_path / "notes.txt"), "--collection",
                             "Field", "--json").stdout.splitlines()[0])["item"]
    result = svidok(instance, "media", "similar", item, check=False)
    assert result.returncode == 2 and "has no perceptual hash" in result.stderr


def test_clusters(instance, tmp_path):  # noqa: F811
    make_photo(tmp_path / "in" / "a.jpg", 8)
    Image.open(tmp_path / "in" / "a.jpg").resize((320, 240)).save(tmp_path / "in" / "a-small.jpg")
    make_photo(tmp_path / "in" / "b.jpg", 9)
    svidok(instance, "ingest", str(tmp_path / "in"), "--collection", "Field")
    groups = [json.loads(line) for line in
              svidok(instance, "media", "clusters", "--json").stdout.splitlines()]
    assert [sorted(i["name"] for i in g["items"]) for g in groups] == [["a-small.jpg", "a.jpg"]]
    assert groups[0]["earliest"] == groups[0]["items"][0]["item"]


def test_reindex_and_a_damaged_index(instance, tmp_path):  # noqa: F811
    make_photo(tmp_path / "in" / "a.jpg", 10)
    make_photo(tmp_path / "in" / "b.jpg", 11)
    svidok(instance, "ingest", str(tmp_path / "in"), "--collection", "Field")
    out = svidok(instance, "media", "reindex").stdout
    rows, searchable = (int(n) for n in re.findall(r"\d+", out))
    assert rows >= 2 and searchable == rows  # each photo's own hash and its extra ones
    manifest = Path(instance["SVIDOK_HOME"]) / "index" / "pdq" / "manifest.json"
    assert manifest.is_file()
    manifest.write_text("{damaged")  # the next search rebuilds it rather than failing
    lines = svidok(instance, "media", "similar", str(tmp_path / "in" / "a.jpg"),
                   "--json").stdout.splitlines()
    assert [json.loads(line)["name"] for line in lines] == ["a.jpg"]
    assert json.loads(manifest.read_text())["count"] == searchable


def make_video(path, *, seconds, start=0, source="testsrc2"):
    """A synthetic video: ``seconds`` of a moving test pattern from ``start`` on."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"{source}=size=320x240:rate=10", "-ss", str(start), "-t", str(seconds),
                    "-pix_fmt", "yuv420p", str(path)], check=True)
    return path


def test_videos_hash_match_and_group(instance, tmp_path):  # noqa: F811
    make_video(tmp_path / "in" / "full.mp4", seconds=20)
    make_video(tmp_path / "in" / "other.mp4", seconds=8, source="mandelbrot")
    clip = make_video(tmp_path / "clip.mp4", seconds=6, start=7)
    hashed = json.loads(svidok(instance, "media", "hash", str(clip), "--json").stdout)
    assert hashed["kind"] == "video" and len(hashed["signature"]) == PDQ_LENGTH
    assert 1 <= len(hashed["frames"]) <= 6 and hashed["frames"][0]["ms"] == 0
    svidok(instance, "ingest", str(tmp_path / "in"), "--collection", "Field")
    found = [json.loads(line) for line in
             svidok(instance, "media", "similar", str(clip), "--json").stdout.splitlines()]
    assert [f["name"] for f in found] == ["full.mp4"]
    assert found[0]["query_share"] >= 0.8 and found[0]["target_share"] < 0.5
    svidok(instance, "ingest", str(clip), "--collection", "Field")
    groups = [json.loads(line) for line in
              svidok(instance, "media", "clusters", "--json").stdout.splitlines()]
    assert [sorted(i["name"] for i in g["items"]) for g in groups] == [["clip.mp4", "full.mp4"]]
    assert groups[0]["items"][0]["name"] == "full.mp4"  # acquired first
