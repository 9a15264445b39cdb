"""Imported incidents: fingerprints that ignore the row, and the list of changes."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from svidok.core.incidents.records import (
    ImportedIncident,
    SourceRef,
    changes,
    fingerprint,
)
from svidok.core.incidents.vocab import EventType, ObjectType, SubType, TimePrecision, Weapon


def incident(**changed) -> ImportedIncident:
    """A Kharkiv shelling as an importer would produce it."""
    fields = dict(
        dataset="bellingcat", upstream_id="CIV0001", row=2, title="Kharkiv: apartment block hit",
        description="Apartment block hit.", start=datetime(2022, 2, 23, 22, tzinfo=UTC),
        end=datetime(2022, 2, 24, 22, tzinfo=UTC), time_precision=TimePrecision.DAY,
        latitude=49.85005, longitude=36.659031, location_text="Kharkiv",
        event_type=EventType.EXPLOSIONS_REMOTE_VIOLENCE,
        sub_type=SubType.SHELLING_ARTILLERY_MISSILE_ATTACK,
        weapons=(Weapon.HE_ROCKET_ARTILLERY,), objects=(ObjectType.RESIDENTIAL,),
        sources=(SourceRef("src1", "https://t.me/x/1", "CIV0001", "Video", False),),
        attributes={"graphic": "TRUE"},
    )
    fields.update(changed)
    return ImportedIncident(**fields)


class TestFingerprint:
    def test_is_64_hex_and_pinned(self):
        # Pinned: a change here means every stored fingerprint reads as "updated".
        assert fingerprint(incident()) == (
            "d495d49fcdb8372580c15b0830d8fc0596d58fd32e08e05f6f1f13aee79dc14e")

    def test_ignores_the_row(self):
        assert fingerprint(incident(row=2)) == fingerprint(incident(row=900))

    @pytest.mark.parametrize("change", [
        {"title": "Kharkiv: block hit"},
        {"latitude": 49.85006},
        {"start": datetime(2022, 2, 23, 21, tzinfo=UTC)},
        {"weapons": (Weapon.HE_ROCKET_ARTILLERY, Weapon.CLUSTER_MUNITIONS)},
        {"sources": ()},
        {"attributes": {"graphic": "FALSE"}},
        {"event_type": None},
    ], ids=lambda change: next(iter(change)))
    def test_changes_with_any_field(self, change):
        assert fingerprint(incident(**change)) != fingerprint(incident())


class TestChanges:
    def test_none_between_equal_incidents_at_different_rows(self):
        assert changes(incident(row=2), incident(row=7)) == {}

    def test_names_each_changed_field_with_old_and_new(self):
        found = changes(incident(), incident(title="New", weapons=()))
        assert found == {"title": ("Kharkiv: apartment block hit", "New"),
                         "weapons": ((Weapon.HE_ROCKET_ARTILLERY,), ())}

    def test_compares_attributes_key_by_key(self):
        found = changes(incident(), incident(attributes={"graphic": "FALSE", "note": "x"}))
        assert found == {"attributes.graphic": ("TRUE", "FALSE"), "attributes.note": (None, "x")}

    @pytest.mark.parametrize("change", [{}, {"row": 3}, {"description": "Other."},
                                        {"location_precision": None}, {"longitude": 0.5}])
    def test_is_empty_exactly_when_fingerprints_agree(self, change):
        other = incident(**change)
        assert (changes(incident(), other) == {}) == (fingerprint(incident()) == fingerprint(other))


def test_records_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        incident().title = "changed"
