"""`svidok text`: the queue read from the command line, and search."""

from __future__ import annotations

import json

import pytest

from tests.apps.text.samples import FONT, save_text_image
from tests.cli.test_cli_locker import instance, svidok  # noqa: F401 — fixture

pytestmark = pytest.mark.skipif(not FONT.exists(), reason="needs fonts-dejavu-core")


def test_extract_then_search(instance, tmp_path):  # noqa: F811
    save_text_image(tmp_path / "in" / "sign.png", ["Евакуація дітей", "Mariupol theatre"])
    (tmp_path / "in" / "notes.bin").write_bytes(b"\x00\x01 not text")
    svidok(instance, "ingest", str(tmp_path / "in"), "--collection", "Field")
    status = json.loads(svidok(instance, "text", "status", "--json").stdout)
    assert status["pending"] == 1 and status["not-applicable"] == 1
    assert svidok(instance, "text", "search", "дітей", check=False).stderr.strip() == \
        "no text found"  # not read yet
    done = json.loads(svidok(instance, "text", "extract", "--json").stdout)
    assert done["done"] == 1 and done["failed"] == 0 and done["errors"] == []
    hits = [json.loads(line) for line in
            svidok(instance, "text", "search", "ДІТЕЙ евакуація", "--json").stdout.splitlines()]
    assert [(h["name"], h["page"], h["method"]) for h in hits] == [("sign.png", 1, "ocr")]
    assert "Евакуація" in hits[0]["snippet"]
    plain = svidok(instance, "text", "search", "theatre", "--collection", "Field").stdout
    assert "sign.png" in plain and "Mariupol" in plain
    missing = svidok(instance, "text", "search", "x", "--collection", "Nope", check=False)
    assert missing.returncode != 0 and "no collection named 'Nope'" in missing.stderr
    again = json.loads(svidok(instance, "text", "queue", "--failed", "--json").stdout)
    assert again == {"queued": 0, "requeued": 0}
