"""Vocabularies: stable snake_case codes, English labels, ACLED's type tree."""

from __future__ import annotations

import json
import re

import pytest

from svidok.core.incidents.importers.bellingcat import OBJECT_OF_AREA, WEAPON_OF_SYSTEM
from svidok.core.incidents.vocab import (
    EVENT_TYPE_OF,
    SUBTYPES_OF,
    VOCABULARIES,
    EventType,
    ObjectType,
    SubType,
    Vocabulary,
    Weapon,
)
from tests.conftest import shared_data

SNAKE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")


@pytest.mark.parametrize("vocabulary", VOCABULARIES, ids=lambda v: v.__name__)
class TestEveryVocabulary:
    def test_codes_are_lowercase_snake_case(self, vocabulary):
        assert all(SNAKE.match(member.value) for member in vocabulary)

    def test_every_member_has_an_english_label(self, vocabulary):
        assert all(member.label and member.label != member.value for member in vocabulary
                   if "_" in member.value)
        assert all(member.label.strip() == member.label for member in vocabulary)

    def test_a_member_is_its_code(self, vocabulary):
        for member in vocabulary:
            assert vocabulary(member.value) is member
            assert member == member.value
            assert json.dumps(member) == json.dumps(member.value)


def test_every_sub_type_belongs_to_exactly_one_event_type():
    listed = [sub_type for sub_types in SUBTYPES_OF.values() for sub_type in sub_types]
    assert sorted(listed) == sorted(SubType)
    assert set(SUBTYPES_OF) == set(EventType)
    assert EVENT_TYPE_OF[SubType.ABDUCTION_FORCED_DISAPPEARANCE] is (
        EventType.VIOLENCE_AGAINST_CIVILIANS)
    assert EVENT_TYPE_OF[SubType.AIR_DRONE_STRIKE] is EventType.EXPLOSIONS_REMOTE_VIOLENCE


def test_acled_labels_are_spelled_as_acled_does():
    assert EventType.EXPLOSIONS_REMOTE_VIOLENCE.label == "Explosions/Remote violence"
    assert SubType.SHELLING_ARTILLERY_MISSILE_ATTACK.label == "Shelling/artillery/missile attack"


def test_bellingcat_weapons_and_protected_objects_are_present():
    assert len(Weapon) == 15 and Weapon.UNKNOWN.label == "Unknown"
    for code in ("hospital", "school", "kindergarten", "cultural", "religious", "energy",
                 "water", "humanitarian"):
        assert ObjectType(code)


def test_a_member_without_a_label_is_refused():
    with pytest.raises(ValueError, match="no label"):
        class Broken(Vocabulary):
            ONLY_A_CODE = "only_a_code"


ASSOCIATIONS = shared_data() / "incidents" / "bellingcat-timemap-2023" / "export_associations.json"


@pytest.mark.skipif(not ASSOCIATIONS.exists(), reason=f"no {ASSOCIATIONS} (SVIDOK_SHARED_DATA)")
def test_every_bellingcat_filter_value_has_a_code():
    filters = [a["filter_paths"] for a in json.loads(ASSOCIATIONS.read_text("utf-8"))]
    areas = [value for key, value in filters if key == "Type of area affected"]
    systems = [value for key, value in filters if key == "Weapon System"]
    assert (len(areas), len(systems)) == (13, 14)
    assert [OBJECT_OF_AREA[area.casefold()].label for area in areas] == areas
    assert all(system.casefold() in WEAPON_OF_SYSTEM for system in systems)
