"""The Centre for Information Resilience's "Eyes on Russia" monitor CSV.

Columns: entry, date, event_group, title, brief description, lat, lon,
country, province, district, town/city, arms/munition, violence level, link,
geolocation. ``link`` and ``geolocation`` cite sources (a cell may hold several
addresses, or words such as "Access can be requested, hidden for privacy
reasons"). Rows outside Ukraine (Russia, Belarus, Moldova…) are incidents
too; their country stays in the attributes with every other unmapped column,
including the original arms/munition text and event_group.

The importer is the generic one (:mod:`.mapped`) with the mapping below; the
same mapping, written in TOML, is the worked example in
``docs/examples/cir-mapping.toml`` (a test keeps the two equal).

Event type: only "Bombing or Explosion …" groups say what happened
(Explosions/Remote violence); the other groups — infrastructure damage,
casualties, mass graves, military presence — describe a consequence or a
sighting, not the kind of violence, and are left untyped. The sub-type comes
from the weapon when the weapon implies one.
"""

from __future__ import annotations

from pathlib import Path

from svidok.core.incidents.importers import mapped
from svidok.core.incidents.importers._classify import ValueTable
from svidok.core.incidents.records import ParsedDataset
from svidok.core.incidents.vocab import EventType, TimePrecision, Weapon

DATASET = "cir"

ROCKET = Weapon.HE_ROCKET_ARTILLERY
TUBE = Weapon.HE_TUBE_ARTILLERY
BALLISTIC = Weapon.BALLISTIC_MISSILE
CRUISE = Weapon.CRUISE_MISSILE
AIR = Weapon.AIR_STRIKE
AIR_DEFENCE = Weapon.ANTI_AIR_MISSILE
VEHICLE = Weapon.VEHICLE_MOUNTED_WEAPON
SMALL_ARMS = Weapon.SMALL_ARMS
CLUSTER = Weapon.CLUSTER_MUNITIONS

# The arms/munition column is free text naming the system seen, often a vehicle
# in a sighting rather than a weapon used (105 distinct values in the 2024 file,
# 6,506 rows empty). Keys match where they start a word, case-insensitively,
# and every matching key adds its weapons. Not mapped on purpose: trucks (Ural,
# KamAZ, GAZ), radars and electronic warfare (Nebo-M, Krasukha, R-330, Zoopark),
# command and signals vehicles (1V13, R-166), transloaders (9T452, 9T250),
# transport helicopters (Mi-8), ships, and notes such as "missing link".
ARMS_KEYWORDS: dict[str, tuple[Weapon, ...]] = {
    # Rocket artillery. A "K" after 9M55/9M27 marks the cargo (cluster) rocket.
    "9m55k": (ROCKET, CLUSTER),
    "9m27k": (ROCKET, CLUSTER),
    "9m27-k": (ROCKET, CLUSTER),
    "smerch": (ROCKET,),
    "bm-30": (ROCKET,),
    "uragan": (ROCKET,),
    "bm-27": (ROCKET,),
    "bm-21": (ROCKET,),
    "grad": (ROCKET,),
    "mlrs": (ROCKET,),
    "multiple rocket": (ROCKET,),
    "multiple launch rocket": (ROCKET,),
    # Thermobaric: the TOS-1 family and RShG-1 rocket grenades.
    "tos-1": (Weapon.THERMOBARIC,),
    "thermobaric": (Weapon.THERMOBARIC,),
    "rshg": (Weapon.THERMOBARIC,),
    # Tube artillery (self-propelled guns and howitzers; "2s1" also finds 2S19).
    "2s1": (TUBE,),
    "gvozdika": (TUBE,),
    "2s3": (TUBE,),
    "akatsiya": (TUBE,),
    "msta": (TUBE,),
    "howitzer": (TUBE,),
    "mortar": (Weapon.HE_ARTILLERY,),
    # Ballistic missiles: Tochka-U (9M79, OTR-21, and the misspelling "Tocha") and Iskander.
    "9m79": (BALLISTIC,),
    "tochka": (BALLISTIC,),
    "tocha": (BALLISTIC,),
    "otr-21": (BALLISTIC,),
    "iskander": (BALLISTIC,),
    "iskender": (BALLISTIC,),
    "9k720": (BALLISTIC,),
    "ballistic": (BALLISTIC,),
    # Cruise missiles: Kalibr (3M54) and the Kh-101/555 air-launched ones.
    "3m54": (CRUISE,),
    "kalibr": (CRUISE,),
    "kh-101": (CRUISE,),
    "kh-555": (CRUISE,),
    "cruise": (CRUISE,),
    # Delivered from the air: attack helicopters, strike drones, the Kh-31P missile.
    "ka-52": (AIR,),
    "mi-28": (AIR,),
    "attack helicopter": (AIR,),
    "kh-31": (AIR,),
    "forpost": (AIR,),
    "bayraktar": (AIR,),
    "drone": (AIR,),
    "shahed": (Weapon.LOITERING_MUNITION,),
    "lancet": (Weapon.LOITERING_MUNITION,),
    # Air defence: S-200/300/400, Buk, Tor, Osa, Pantsir, Tunguska.
    "s-200": (AIR_DEFENCE,),
    "s-300": (AIR_DEFENCE,),
    "s-400": (AIR_DEFENCE,),
    "sam": (AIR_DEFENCE,),
    "buk": (AIR_DEFENCE,),
    "telar": (AIR_DEFENCE,),
    "tlar": (AIR_DEFENCE,),
    "tor-": (AIR_DEFENCE,),
    "9k330": (AIR_DEFENCE,),
    "osa": (AIR_DEFENCE,),
    "pantsir": (AIR_DEFENCE,),
    "tunguska": (AIR_DEFENCE,),
    # Armoured vehicles with guns: tanks, infantry fighting vehicles, carriers, ATGM carriers.
    "t-64": (VEHICLE,),
    "t-72": (VEHICLE,),
    "t72": (VEHICLE,),
    "t-80": (VEHICLE,),
    "t-90": (VEHICLE,),
    "tank": (VEHICLE,),
    "bmp": (VEHICLE,),
    "bmd": (VEHICLE,),
    "btr": (VEHICLE,),
    "brt-": (VEHICLE,),
    "mt-lb": (VEHICLE,),
    "tigr": (VEHICLE,),
    "bushmaster": (VEHICLE,),
    "9p149": (VEHICLE,),
    "shturm": (VEHICLE,),
    "kornet": (VEHICLE,),
    # Small arms and light weapons. Not "akm", which would find "Osa-AKM".
    "ak-": (SMALL_ARMS,),
    "ak's": (SMALL_ARMS,),
    "small arms": (SMALL_ARMS,),
    "svd": (SMALL_ARMS,),
    "rpg": (SMALL_ARMS,),
    "rifle": (SMALL_ARMS,),
    "riffle": (SMALL_ARMS,),
    "machine gun": (SMALL_ARMS,),
    # Others named by their kind.
    "cluster": (CLUSTER,),
    "submunition": (CLUSTER,),
    "incendiary": (Weapon.INCENDIARY,),
    "landmine": (Weapon.LAND_MINES,),
    "land mine": (Weapon.LAND_MINES,),
}

EVENT_GROUPS: dict[str, tuple[EventType, ...]] = {
    "bombing or explosion": (EventType.EXPLOSIONS_REMOTE_VIOLENCE,),
}

MAPPING = mapped.Mapping(
    dataset=DATASET,
    id="entry",
    title="title",
    description="brief description",
    date="date",
    date_format="%Y-%m-%d",
    latitude="lat",
    longitude="lon",
    location=("town/city", "district", "province", "country"),
    sources=("link", "geolocation"),
    time_precision=TimePrecision.DAY,
    tables=(
        ("event_type", ValueTable.build("event_group", EVENT_GROUPS, match="keyword",
                                        unknown="ignore")),
        ("weapons", ValueTable.build("arms/munition", ARMS_KEYWORDS, match="keyword",
                                     unknown="ignore")),
    ),
    infer_from_weapons="sub_type",
)


def parse(path: Path) -> ParsedDataset:
    """Parse CIR's monitor CSV. Raises InvalidInput if the file is unreadable or
    lacks one of the columns the mapping reads."""
    return mapped.parse_csv(path, MAPPING)
