"""From upstream words to Svidok's vocabularies: value tables, and the event
type a weapon implies.

A value table maps upstream values to codes. ``exact`` tables match the whole
(trimmed, case-folded) cell; ``keyword`` tables match every key that starts a
word anywhere in the cell, for free text such as "2S19 Msta-S howitzers +
T72B3m". An exact table refuses values it does not know unless told to ignore
them, so a new upstream value is noticed instead of silently dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from svidok.core.incidents.importers._fields import RowProblem, shown
from svidok.core.incidents.vocab import EventType, SubType, Weapon

MatchMode = Literal["exact", "keyword"]
UnknownPolicy = Literal["error", "ignore"]

ERV = EventType.EXPLOSIONS_REMOTE_VIOLENCE
VAC = EventType.VIOLENCE_AGAINST_CIVILIANS

# What a weapon says about the event (ACLED types). Absent weapons say nothing:
# a vehicle-mounted weapon may fire point-blank or from kilometres away, and
# cluster, incendiary and thermobaric munitions come from the ground or the air.
EVENT_OF_WEAPON: dict[Weapon, tuple[EventType, SubType | None]] = {
    Weapon.AIR_STRIKE: (ERV, SubType.AIR_DRONE_STRIKE),
    Weapon.LOITERING_MUNITION: (ERV, SubType.AIR_DRONE_STRIKE),
    Weapon.LAND_MINES: (ERV, SubType.REMOTE_EXPLOSIVE_LANDMINE_IED),
    Weapon.HE_ROCKET_ARTILLERY: (ERV, SubType.SHELLING_ARTILLERY_MISSILE_ATTACK),
    Weapon.HE_ARTILLERY: (ERV, SubType.SHELLING_ARTILLERY_MISSILE_ATTACK),
    Weapon.HE_TUBE_ARTILLERY: (ERV, SubType.SHELLING_ARTILLERY_MISSILE_ATTACK),
    Weapon.CRUISE_MISSILE: (ERV, SubType.SHELLING_ARTILLERY_MISSILE_ATTACK),
    Weapon.BALLISTIC_MISSILE: (ERV, SubType.SHELLING_ARTILLERY_MISSILE_ATTACK),
    Weapon.ANTI_AIR_MISSILE: (ERV, SubType.SHELLING_ARTILLERY_MISSILE_ATTACK),
    Weapon.CLUSTER_MUNITIONS: (ERV, None),
    Weapon.INCENDIARY: (ERV, None),
    Weapon.THERMOBARIC: (ERV, None),
    Weapon.SMALL_ARMS: (VAC, SubType.ATTACK),
}


def event_from_weapons(weapons: Iterable[Weapon]) -> tuple[EventType | None, SubType | None]:
    """The event type (and sub-type) the weapons agree on; ``None`` where they do not."""
    implied = {EVENT_OF_WEAPON[weapon] for weapon in weapons if weapon in EVENT_OF_WEAPON}
    event_types = {event_type for event_type, _ in implied}
    if len(event_types) != 1:
        return None, None
    # A weapon with no sub-type of its own (cluster munitions) does not contradict
    # one that has one (the rocket that carried them).
    sub_types = {sub_type for _, sub_type in implied if sub_type is not None}
    return event_types.pop(), sub_types.pop() if len(sub_types) == 1 else None


@dataclass(frozen=True, slots=True)
class ValueTable:
    """Upstream values of one column mapped to vocabulary codes."""

    column: str
    entries: tuple[tuple[str, tuple[str, ...]], ...]  # (case-folded key, codes)
    match: MatchMode = "exact"
    unknown: UnknownPolicy = "error"
    split: str | None = None  # exact tables: the cell holds several values
    _patterns: tuple[re.Pattern[str], ...] = ()

    @classmethod
    def build(cls, column: str, values: Mapping[str, Iterable[str]], *,
              match: MatchMode = "exact", unknown: UnknownPolicy = "error",
              split: str | None = None) -> ValueTable:
        entries = tuple((key.strip().casefold(), tuple(codes)) for key, codes in values.items())
        # A keyword must start a word: "tor-" finds "TOR-M2" but not "motor-".
        patterns = tuple(re.compile(r"(?<![0-9a-z])" + re.escape(key)) for key, _ in entries)
        return cls(column, entries, match, unknown, split, patterns)

    def codes(self, cell: str) -> tuple[str, ...]:
        """The codes for one cell, in table order for keywords, cell order otherwise,
        without repeats; raises :class:`RowProblem` for an unknown value when strict."""
        text = cell.strip().casefold()
        if not text:
            return ()
        found: list[str] = []
        if self.match == "keyword":
            for (_, codes), pattern in zip(self.entries, self._patterns, strict=True):
                if pattern.search(text):
                    found.extend(codes)
            if not found and self.unknown == "error":
                raise RowProblem(f"{self.column}: expected a value containing one of "
                                 f"{self._known()}, found {shown(cell)}")
        else:
            table = dict(self.entries)
            parts = text.split(self.split) if self.split else [text]
            for part in filter(None, (part.strip() for part in parts)):
                if part in table:
                    found.extend(table[part])
                elif self.unknown == "error":
                    raise RowProblem(f"{self.column}: expected one of {self._known()}, "
                                     f"found {shown(part)}")
        return tuple(dict.fromkeys(found))

    def _known(self) -> str:
        keys = [repr(key) for key, _ in self.entries]
        return ", ".join(keys[:8]) + (f" (or {len(keys) - 8} more)" if len(keys) > 8 else "")
