"""`svidok demo` (what `make run` shows first): synthetic files that exercise every
feature, ingested once however often it runs."""

from __future__ import annotations

import json

from tests.cli.test_cli_locker import instance, svidok  # noqa: F401 — fixture


def test_demo_is_idempotent_and_shows_near_duplicates_and_text(instance):  # noqa: F811
    first = json.loads(svidok(instance, "demo", "--json").stdout)
    again = json.loads(svidok(instance, "demo", "--json").stdout)
    assert first["items"] == again["items"] >= 9
    assert first["incidents"] == again["incidents"] == 3  # synthetic, created once
    groups = [json.loads(line) for line in
              svidok(instance, "media", "clusters", "--json").stdout.splitlines()]
    assert [sorted(i["name"] for i in g["items"]) for g in groups] == [
        ["photo 1 (re-posted).jpg", "photo 1.jpg"]]
    svidok(instance, "text", "extract")
    hits = [json.loads(line) for line in
            svidok(instance, "text", "search", "евакуація", "--json").stdout.splitlines()]
    assert [h["name"] for h in hits] == ["leaflet.png"]
