"""End-to-end: incidents in a real browser — the map of all incidents drawn offline on
the shipped oblast polygons, an incident page with its map, and a verifier's
assessment through the form, with no script error and no CSP violation."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.conftest import Ui

MAPPING = """
dataset = "team"

[fields]
id = "ref"
title = "title"
date = "day"
date_format = "iso"
latitude = "lat"
longitude = "lon"
location = ["place"]
"""
ROWS = ("ref,title,day,lat,lon,place\n"
        "T-1,Strike on a children's hospital,2024-07-08,50.4312,30.4695,Kyiv\n"
        "T-2,Shelling of a school,2024-07-09,49.98,36.25,Kharkiv\n")


def _import(ui: Ui, tmp_path) -> None:
    (tmp_path / "mapping.toml").write_text(MAPPING)
    (tmp_path / "team.csv").write_text(ROWS)
    ui.live.cli("import", "csv", str(tmp_path / "team.csv"), "--mapping",
                str(tmp_path / "mapping.toml"), "--collection", ui.live.collection)


def test_map_list_and_incident_page(ui: Ui, tmp_path) -> None:
    _import(ui, tmp_path)
    page = ui.page
    page.goto("/incidents/")
    ui.log_in(ui.live.investigator)
    expect(page.locator("table.incidents tbody tr")).to_have_count(2)
    expect(page.locator("aside.facets")).to_contain_text("Kharkiv Oblast")

    page.goto("/incidents/map/")
    expect(page.locator("#map-status")).to_have_attribute("data-count", "2")
    expect(page.locator("#map .leaflet-overlay-pane canvas")).to_have_count(1)
    page.wait_for_load_state("networkidle")
    ui.shot("map")

    page.goto("/incidents/?oblast=UA63")
    page.locator("table.incidents tbody a", has_text="Shelling of a school").click()
    expect(page.locator("h1")).to_have_text("Shelling of a school")
    expect(page.locator("#incident-map.leaflet-container")).to_be_visible()
    page.wait_for_load_state("networkidle")
    ui.shot("incident")
    # An investigator enters and links evidence; verifying is for verifiers.
    expect(page.locator("form.assess")).to_have_count(0)
    assert ui.problems() == [], ui.problems()
