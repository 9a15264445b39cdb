"""Documentation is tested against the code, so it cannot drift."""

from __future__ import annotations

import re

from svidok.cli.reference import cli_reference
from tests.conftest import REPO


def test_cli_reference_is_current():
    on_disk = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    assert on_disk == cli_reference(), (
        "docs/cli.md is stale: run `python -m svidok.cli.reference > docs/cli.md`"
    )


def test_every_setting_is_documented_in_the_readme():
    settings_source = (REPO / "src" / "svidok" / "settings.py").read_text(encoding="utf-8")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    used = set(re.findall(r"SVIDOK_[A-Z_]+", settings_source))
    used -= {"SVIDOK_PATHS"}  # a computed setting, not an environment variable
    missing = sorted(name for name in used if f"`{name}`" not in readme)
    assert not missing, f"settings missing from the README's table: {missing}"


def test_readme_shows_the_two_commands():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "make run" in readme and "make test" in readme
