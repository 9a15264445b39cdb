"""First-level units are found by code and by the names the datasets use."""

from __future__ import annotations

import pytest

from svidok.core.geo.regions import REGIONS, region_by_code, region_by_name


def test_twenty_seven_units_with_unique_codes():
    assert len(REGIONS) == 27
    assert len({r.pcode for r in REGIONS}) == len({r.iso for r in REGIONS}) == 27


@pytest.mark.parametrize(("code", "name"), [
    ("UA63", "Kharkiv Oblast"), ("UA-63", "Kharkiv Oblast"), ("UA-09", "Luhansk Oblast"),
    ("UA44", "Luhansk Oblast"), ("UA-43", "Autonomous Republic of Crimea"), ("ua-30", "Kyiv"),
])
def test_by_code(code, name):
    region = region_by_code(code)
    assert region is not None and region.name_en == name


@pytest.mark.parametrize(("name", "pcode"), [
    ("Kharkivska oblast", "UA63"),  # the official alert dataset
    ("Kharkiv Oblast", "UA63"),
    ("Kharkov Oblast", "UA63"),
    ("Харківська область", "UA63"),
    ("Харьковская область", "UA63"),
    ("Kyiv City", "UA80"),
    ("Kyiv", "UA80"),
    ("Kyiv Oblast", "UA32"),
    ("Kyivska oblast", "UA32"),
    ("Kiyv Oblast", "UA32"),  # misspelt, still the oblast
    ("Khersons'ka Oblast", "UA65"),
    ("Donestk oblast", "UA14"),  # misspelt
    ("Odessa", "UA51"),
    ("Crimea", "UA01"),
])
def test_by_name(name, pcode):
    region = region_by_name(name)
    assert region is not None and region.pcode == pcode


@pytest.mark.parametrize("name", ["", "Kursk Oblast", "Bryansk Oblast", "Black Sea", "Ukraine"])
def test_names_outside_the_list_are_none(name):
    assert region_by_name(name) is None
