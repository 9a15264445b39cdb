"""`svidok geo`: the gazetteer from the command line, without an instance."""

from __future__ import annotations

import json

from tests.cli.test_cli_locker import svidok


def test_search_finds_kharkiv_in_russian_spelling(cli_env):
    hits = json.loads(svidok(cli_env, "geo", "search", "Харьков", "--json").stdout)
    assert hits[0]["code"] == "UA6312027001"
    assert hits[0]["name_uk"] == "Харків" and hits[0]["match"] == "exact"
    plain = svidok(cli_env, "geo", "search", "Kherson oblast").stdout
    assert plain.startswith("UA65") and "Херсонська область" in plain


def test_search_filters_and_misses(cli_env):
    hits = json.loads(svidok(cli_env, "geo", "search", "Андріївка", "--oblast", "ua63",
                             "--kind", "settlement", "--limit", "5", "--json").stdout)
    assert 1 <= len(hits) <= 5
    assert all(h["oblast"] == "UA63" and h["kind"] == "settlement" for h in hits)
    assert "no place found" in svidok(cli_env, "geo", "search", "Qqqqqqqq").stdout
    bad = svidok(cli_env, "geo", "search", "Буча", "--kind", "village", check=False)
    assert bad.returncode != 0 and "village" in bad.stderr


def test_locate(cli_env):
    found = json.loads(svidok(cli_env, "geo", "locate", "49.85005", "36.659031", "--json").stdout)
    assert found["oblast"]["code"] == "UA63" and found["hromada"]["code"] == "UA6314017"
    assert found["settlement"]["name_uk"] == "Чугуїв"
    assert "outside Ukraine" in svidok(cli_env, "geo", "locate", "52.23", "21.01").stdout
    bad = svidok(cli_env, "geo", "locate", "--", "-95", "30", check=False)
    assert bad.returncode == 2 and "coordinates out of range" in bad.stderr
