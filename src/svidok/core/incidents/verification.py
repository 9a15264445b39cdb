"""The verification rules (Berkeley Protocol, four eyes), free of any framework.

An assessment is one verification step by one verifier: of the source or
provenance, technical (metadata, signs of manipulation), of the content, a
geolocation or a chronolocation. Each has a verdict and a confidence. Only a
verifier's latest assessment of each kind counts: changing one's mind replaces
the earlier verdict, it does not add a vote.

An incident's status follows from its assessments:

1. no assessment: it stays as it is (reported);
2. verifiers disagree on its location or its time (one confirms, another refutes):
   **disputed** — disagreement is never outvoted;
3. two different verifiers have each confirmed both its location and its time:
   **verified** (four eyes; one verifier confirming twice is still one pair of eyes);
4. two different verifiers have refuted its location or its time and nobody
   confirmed them: **rejected**;
5. otherwise: **under verification**.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from svidok.core.incidents.vocab import Status, Vocabulary

__all__ = ["AssessmentKind", "ChronolocationMethod", "Confidence", "Verdict", "Vote", "Waiting",
           "incident_status",
           "waiting_for"]


class AssessmentKind(Vocabulary):
    """What an assessment examined (Berkeley Protocol's verification steps)."""

    PROVENANCE = "provenance", "Source and provenance"
    TECHNICAL = "technical", "Technical (metadata, signs of manipulation)"
    CONTENT = "content", "Content"
    GEOLOCATION = "geolocation", "Geolocation"
    CHRONOLOCATION = "chronolocation", "Chronolocation"


class Verdict(Vocabulary):
    CONFIRMED = "confirmed", "Confirmed"
    REFUTED = "refuted", "Refuted"
    INCONCLUSIVE = "inconclusive", "Inconclusive"


class Confidence(Vocabulary):
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


class ChronolocationMethod(Vocabulary):
    SHADOWS = "shadows", "Shadows (sun position)"
    WEATHER = "weather", "Weather records"
    METADATA = "metadata", "File metadata"
    AIR_RAID_ALERTS = "air_raid_alerts", "Air-raid alerts"
    OTHER = "other", "Other"


@dataclass(frozen=True, slots=True)
class Vote:
    """What the rules need to know of one assessment."""

    verifier: str
    kind: AssessmentKind
    verdict: Verdict
    at: datetime


FOUR_EYES = 2
DECISIVE = (AssessmentKind.GEOLOCATION, AssessmentKind.CHRONOLOCATION)


def _latest(votes: Iterable[Vote]) -> dict[tuple[str, AssessmentKind], Verdict]:
    latest: dict[tuple[str, AssessmentKind], tuple[datetime, Verdict]] = {}
    for vote in votes:
        key = (vote.verifier, vote.kind)
        if key not in latest or vote.at >= latest[key][0]:
            latest[key] = (vote.at, vote.verdict)
    return {key: verdict for key, (_, verdict) in latest.items()}


def incident_status(votes: Iterable[Vote], *, current: Status) -> Status:
    """The status the rules give an incident with these assessments (see the module)."""
    latest = _latest(votes)
    if not latest:
        return current
    verifiers = {verifier for verifier, _ in latest}
    confirmed = {kind: {v for v in verifiers if latest.get((v, kind)) == Verdict.CONFIRMED}
                 for kind in DECISIVE}
    refuted = {kind: {v for v in verifiers if latest.get((v, kind)) == Verdict.REFUTED}
               for kind in DECISIVE}
    if any(confirmed[kind] and refuted[kind] for kind in DECISIVE):
        return Status.DISPUTED
    both = confirmed[AssessmentKind.GEOLOCATION] & confirmed[AssessmentKind.CHRONOLOCATION]
    if len(both) >= FOUR_EYES:
        return Status.VERIFIED
    refuters = refuted[AssessmentKind.GEOLOCATION] | refuted[AssessmentKind.CHRONOLOCATION]
    if len(refuters) >= FOUR_EYES and not any(confirmed.values()):
        return Status.REJECTED
    return Status.UNDER_VERIFICATION


@dataclass(frozen=True, slots=True)
class Waiting:
    """What an incident still needs before it can be verified."""

    kinds: tuple[AssessmentKind, ...]  # kinds this verifier has not confirmed yet
    confirmations: int  # verifiers who confirmed both location and time so far
    needs_another_verifier: bool  # this verifier is done; someone else must look

    def describe(self) -> str:
        if self.needs_another_verifier:
            return "a second verifier (you have confirmed location and time)"
        names = " and ".join(kind.label.lower() for kind in self.kinds)
        return f"your {names}"


def waiting_for(votes: Iterable[Vote], *, verifier: str) -> Waiting:
    """What the incident waits for, seen by ``verifier``."""
    latest = _latest(votes)
    verifiers = {v for v, _ in latest}
    done = [v for v in verifiers
            if all(latest.get((v, kind)) == Verdict.CONFIRMED for kind in DECISIVE)]
    mine = tuple(kind for kind in DECISIVE
                 if latest.get((verifier, kind)) != Verdict.CONFIRMED)
    return Waiting(kinds=mine, confirmations=len(done),
                   needs_another_verifier=not mine and len(done) < FOUR_EYES)
