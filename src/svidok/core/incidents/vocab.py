"""Controlled vocabularies for incidents, sources and evidence links.

Each vocabulary is a :class:`~enum.StrEnum`: the value is a stable lowercase
snake_case code (what databases, APIs and files store) and ``.label`` is the
English label shown to people. Codes never change once published; labels may.

Sources of the terms: ACLED and UCDP (time precision, event types and
sub-types), Bellingcat's "Civilian Harm in Ukraine" TimeMap (weapon systems,
types of area affected) and HURIDOCS Events Standard Formats (reliability,
connection to the information).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self


class Vocabulary(StrEnum):
    """A StrEnum whose members are declared as ``CODE = "code", "English label"``."""

    label: str

    def __new__(cls, code: str, label: str = "") -> Self:
        # The default only lets type checkers accept ``Vocabulary("code")`` lookups,
        # which never reach __new__; every declared member must carry a label.
        if not label:
            raise ValueError(f"vocabulary member {code!r} has no label")
        member = str.__new__(cls, code)
        member._value_ = code
        member.label = label
        return member


class TimePrecision(Vocabulary):
    """How precisely the time of an incident is known (ACLED/UCDP style).

    The incident's ``start``/``end`` span the whole window: a day-precision
    incident runs from local midnight to the next local midnight.
    """

    EXACT = "exact", "Exact (to the minute)"
    HOUR = "hour", "Within the hour"
    DAY = "day", "Within the day"
    WEEK = "week", "Within the week"
    MONTH = "month", "Within the month"


class LocationPrecision(Vocabulary):
    """How precisely the place of an incident is known, from a point to an oblast."""

    EXACT = "exact", "Exact (within 150 m)"
    NEAR = "near", "Near the given point"
    SETTLEMENT = "settlement", "Settlement"
    HROMADA = "hromada", "Hromada (territorial community)"
    RAION = "raion", "Raion (district)"
    OBLAST = "oblast", "Oblast (region)"


class EventType(Vocabulary):
    """ACLED event types relevant to harm to civilians."""

    EXPLOSIONS_REMOTE_VIOLENCE = "explosions_remote_violence", "Explosions/Remote violence"
    VIOLENCE_AGAINST_CIVILIANS = "violence_against_civilians", "Violence against civilians"


class SubType(Vocabulary):
    """ACLED sub-event types of the event types in :class:`EventType`."""

    SHELLING_ARTILLERY_MISSILE_ATTACK = (
        "shelling_artillery_missile_attack", "Shelling/artillery/missile attack")
    AIR_DRONE_STRIKE = "air_drone_strike", "Air/drone strike"
    REMOTE_EXPLOSIVE_LANDMINE_IED = "remote_explosive_landmine_ied", "Remote explosive/landmine/IED"
    GRENADE = "grenade", "Grenade"
    SUICIDE_BOMB = "suicide_bomb", "Suicide bomb"
    CHEMICAL_WEAPON = "chemical_weapon", "Chemical weapon"
    ATTACK = "attack", "Attack"
    ABDUCTION_FORCED_DISAPPEARANCE = (
        "abduction_forced_disappearance", "Abduction/forced disappearance")
    SEXUAL_VIOLENCE = "sexual_violence", "Sexual violence"


SUBTYPES_OF: dict[EventType, tuple[SubType, ...]] = {
    EventType.EXPLOSIONS_REMOTE_VIOLENCE: (
        SubType.SHELLING_ARTILLERY_MISSILE_ATTACK,
        SubType.AIR_DRONE_STRIKE,
        SubType.REMOTE_EXPLOSIVE_LANDMINE_IED,
        SubType.GRENADE,
        SubType.SUICIDE_BOMB,
        SubType.CHEMICAL_WEAPON,
    ),
    EventType.VIOLENCE_AGAINST_CIVILIANS: (
        SubType.ATTACK,
        SubType.ABDUCTION_FORCED_DISAPPEARANCE,
        SubType.SEXUAL_VIOLENCE,
    ),
}

EVENT_TYPE_OF: dict[SubType, EventType] = {
    sub_type: event_type for event_type, sub_types in SUBTYPES_OF.items() for sub_type in sub_types
}


class Weapon(Vocabulary):
    """Weapon systems, after Bellingcat's "Weapon System" filter."""

    HE_ROCKET_ARTILLERY = "he_rocket_artillery", "HE rocket artillery"
    HE_ARTILLERY = "he_artillery", "HE artillery (incl. mortars)"
    HE_TUBE_ARTILLERY = "he_tube_artillery", "HE tube artillery"
    CLUSTER_MUNITIONS = "cluster_munitions", "Cluster munitions"
    INCENDIARY = "incendiary", "Incendiary munitions"
    CRUISE_MISSILE = "cruise_missile", "Cruise missile"
    BALLISTIC_MISSILE = "ballistic_missile", "Ballistic missile"
    THERMOBARIC = "thermobaric", "Thermobaric munition"
    VEHICLE_MOUNTED_WEAPON = "vehicle_mounted_weapon", "Vehicle-mounted weapon"
    SMALL_ARMS = "small_arms", "Small arms"
    AIR_STRIKE = "air_strike", "Air strike"
    LAND_MINES = "land_mines", "Land mines"
    ANTI_AIR_MISSILE = "anti_air_missile", "Anti-air missile"
    LOITERING_MUNITION = "loitering_munition", "Loitering munition"
    UNKNOWN = "unknown", "Unknown"


class ObjectType(Vocabulary):
    """What was hit: Bellingcat's "Type of area affected", plus objects protected
    under international humanitarian law that deserve their own code."""

    RESIDENTIAL = "residential", "Residential"
    INDUSTRIAL = "industrial", "Industrial"
    ADMINISTRATIVE = "administrative", "Administrative"
    HEALTHCARE = "healthcare", "Healthcare"
    SCHOOL_OR_CHILDCARE = "school_or_childcare", "School or childcare"
    MILITARY = "military", "Military"
    UNDEFINED = "undefined", "Undefined"
    COMMERCIAL = "commercial", "Commercial"
    RELIGIOUS = "religious", "Religious"
    CULTURAL = "cultural", "Cultural"
    TRANSPORT = "transport", "Roads/Highways/Transport"
    HUMANITARIAN = "humanitarian", "Humanitarian"
    FOOD = "food", "Food/Food Infrastructure"
    HOSPITAL = "hospital", "Hospital"
    SCHOOL = "school", "School"
    KINDERGARTEN = "kindergarten", "Kindergarten"
    ENERGY = "energy", "Energy infrastructure"
    WATER = "water", "Water infrastructure"


class Status(Vocabulary):
    """Where an incident stands in verification."""

    REPORTED = "reported", "Reported"
    UNDER_VERIFICATION = "under_verification", "Under verification"
    VERIFIED = "verified", "Verified"
    DISPUTED = "disputed", "Disputed"
    REJECTED = "rejected", "Rejected"


class Reliability(Vocabulary):
    """How reliable a source is (HURIDOCS)."""

    HIGHLY_RELIABLE = "highly_reliable", "Highly reliable"
    LIKELY_RELIABLE = "likely_reliable", "Likely reliable"
    UNSURE = "unsure", "Unsure"
    LIKELY_UNRELIABLE = "likely_unreliable", "Likely unreliable"
    HIGHLY_UNRELIABLE = "highly_unreliable", "Highly unreliable"


class Connection(Vocabulary):
    """A source's connection to the information it gives (HURIDOCS)."""

    VICTIM = "victim", "Victim"
    WITNESS = "witness", "Witness"
    PERPETRATOR = "perpetrator", "Perpetrator"
    RELATIVE = "relative", "Relative of a victim"
    THIRD_PARTY = "third_party", "Third party"
    SERVICE_PROVIDER = "service_provider", "Service provider"


class SourceKind(Vocabulary):
    """What a source is."""

    URL = "url", "Web address"
    PERSON = "person", "Person"
    ORGANISATION = "organisation", "Organisation"
    DOCUMENT = "document", "Document"


class Fact(Vocabulary):
    """Which fact of an incident a piece of evidence supports."""

    LOCATION = "location", "Location"
    TIME = "time", "Time"
    WEAPON = "weapon", "Weapon"
    DAMAGE = "damage", "Damage"
    CASUALTIES = "casualties", "Casualties"
    PERPETRATOR = "perpetrator", "Perpetrator"


VOCABULARIES: tuple[type[Vocabulary], ...] = (
    TimePrecision, LocationPrecision, EventType, SubType, Weapon, ObjectType,
    Status, Reliability, Connection, SourceKind, Fact,
)
