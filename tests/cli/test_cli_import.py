"""`svidok import`: datasets from the command line, counts in JSON, refused rows listed."""

from __future__ import annotations

import json

import pytest

from tests.cli.test_cli_locker import instance, svidok  # noqa: F401 — fixture

MAPPING = """
dataset = "field-team"

[fields]
id = "ref"
description = "what"
date = "day"
date_format = "%d.%m.%Y"
latitude = "lat"
longitude = "lon"
location = ["place"]
sources = ["link"]

[defaults]
time_precision = "day"
"""


def test_csv_with_mapping_then_reimport(instance, tmp_path):  # noqa: F811
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(MAPPING)
    data = tmp_path / "team.csv"
    data.write_text("ref,what,day,lat,lon,place,link\n"
                    "T-1,Strike on a school,08.07.2024,50.45,30.52,Kyiv,https://t.me/s/x/1\n"
                    "T-2,Shelling,31.02.2024,49.98,36.25,Kharkiv,\n"
                    "T-3,Shelling,09.07.2024,49.98,36.25,Kharkiv,https://x.com/a/status/9\n")
    first = json.loads(svidok(instance, "import", "csv", str(data), "--mapping", str(mapping),
                              "--collection", "Team", "--json").stdout)
    assert (first["created"], first["rejected"], first["landed"]) == (2, 1, True)
    assert first["errors"][0]["row"] == 3 and "31.02.2024" in first["errors"][0]["reason"]

    data.write_text("ref,what,day,lat,lon,place,link\n"
                    "T-1,Strike on a school: 3 injured,08.07.2024,50.45,30.52,Kyiv,\n")
    second = json.loads(svidok(instance, "import", "csv", str(data), "--mapping", str(mapping),
                               "--collection", "Team", "--json").stdout)
    assert (second["created"], second["updated"], second["flagged"]) == (0, 1, 1)


def test_strict_exits_non_zero_and_lands_nothing(instance, tmp_path):  # noqa: F811
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(MAPPING)
    data = tmp_path / "team.csv"
    data.write_text("ref,what,day,lat,lon,place,link\n"
                    "T-1,Strike,08.07.2024,50.45,30.52,Kyiv,\n"
                    "T-2,Strike,08.07.2024,95,30.52,Kyiv,\n")
    result = svidok(instance, "import", "csv", str(data), "--mapping", str(mapping),
                    "--collection", "Team", "--strict", check=False)
    assert result.returncode == 1 and "NOT imported" in result.stdout
    assert "row 3 (T-2)" in result.stderr


def test_unreadable_files_are_clear_errors(instance, tmp_path):  # noqa: F811
    bad = tmp_path / "events.csv"
    bad.write_bytes(b"\xff\xfe\x00garbage")
    result = svidok(instance, "import", "cir", str(bad), "--collection", "X", check=False)
    assert result.returncode == 2
    assert "error: events.csv: expected utf-8 text, found byte 0xff" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.sqlite_only
def test_an_older_database_asks_for_svidok_init(instance, tmp_path):  # noqa: F811
    import sqlite3
    from pathlib import Path

    from tests.conftest import make_jpeg

    if instance.get("SVIDOK_DATABASE_URL"):
        pytest.skip("SQLite only")
    svidok(instance, "ingest", str(make_jpeg(tmp_path / "a.jpg")), "--collection", "Team")
    database = Path(instance["SVIDOK_HOME"]) / "svidok.sqlite3"
    with sqlite3.connect(database) as connection:
        connection.execute("DROP TABLE incidents_duplicatecandidate")
    svidok(instance, "import", "csv", "--help")  # the command itself is fine
    result = svidok(instance, "incidents", "duplicates", "--collection", "Team", check=False)
    assert result.returncode == 2 and "run `svidok init` to upgrade it" in result.stderr
    assert "Traceback" not in result.stderr
