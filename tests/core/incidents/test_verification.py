"""The four-eyes rules: an incident is verified only when two different verifiers have
each confirmed its location and time; disagreement makes it disputed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from svidok.core.incidents.verification import (
    AssessmentKind,
    Verdict,
    Vote,
    incident_status,
    waiting_for,
)
from svidok.core.incidents.vocab import Status

GEO, CHRONO, CONTENT = (AssessmentKind.GEOLOCATION, AssessmentKind.CHRONOLOCATION,
                        AssessmentKind.CONTENT)
YES, NO, MAYBE = Verdict.CONFIRMED, Verdict.REFUTED, Verdict.INCONCLUSIVE
T0 = datetime(2024, 7, 8, tzinfo=UTC)


def votes(*spec):
    return [Vote(who, kind, verdict, T0 + timedelta(minutes=n))
            for n, (who, kind, verdict) in enumerate(spec)]


def status(*spec, current=Status.REPORTED):
    return incident_status(votes(*spec), current=current)


def test_no_assessment_keeps_the_status():
    assert status() == Status.REPORTED
    assert status(current=Status.VERIFIED) == Status.VERIFIED


def test_one_verifier_is_never_enough():
    assert status(("ana", GEO, YES), ("ana", CHRONO, YES)) == Status.UNDER_VERIFICATION
    assert status(("ana", GEO, YES), ("ana", CHRONO, YES), ("ana", GEO, YES),
                  ("ana", CHRONO, YES)) == Status.UNDER_VERIFICATION


def test_two_verifiers_each_confirming_location_and_time():
    assert status(("ana", GEO, YES), ("ana", CHRONO, YES),
                  ("bo", GEO, YES), ("bo", CHRONO, YES)) == Status.VERIFIED


def test_split_confirmations_are_not_four_eyes_on_both():
    # Ana confirmed the place, Bo the time: nobody else checked either.
    assert status(("ana", GEO, YES), ("bo", CHRONO, YES),
                  ("ana", CONTENT, YES)) == Status.UNDER_VERIFICATION
    assert status(("ana", GEO, YES), ("ana", CHRONO, YES), ("bo", GEO, YES),
                  ("cy", CHRONO, YES)) == Status.UNDER_VERIFICATION


def test_disagreement_is_disputed_and_never_outvoted():
    assert status(("ana", GEO, YES), ("ana", CHRONO, YES), ("bo", GEO, YES),
                  ("bo", CHRONO, YES), ("cy", GEO, NO)) == Status.DISPUTED
    assert status(("ana", CHRONO, YES), ("bo", CHRONO, NO)) == Status.DISPUTED


def test_only_the_latest_verdict_of_a_verifier_counts():
    assert status(("ana", GEO, YES), ("ana", CHRONO, YES), ("bo", GEO, NO),
                  ("bo", CHRONO, YES), ("bo", GEO, YES)) == Status.VERIFIED
    assert status(("ana", GEO, YES), ("ana", GEO, NO), ("bo", GEO, NO)) == Status.REJECTED


def test_two_refutations_and_no_confirmation_reject():
    assert status(("ana", GEO, NO), ("bo", CHRONO, NO)) == Status.REJECTED
    assert status(("ana", GEO, NO)) == Status.UNDER_VERIFICATION
    assert status(("ana", GEO, NO), ("bo", GEO, MAYBE)) == Status.UNDER_VERIFICATION


def test_other_kinds_do_not_decide():
    assert status(("ana", CONTENT, YES), ("bo", CONTENT, NO)) == Status.UNDER_VERIFICATION


def test_waiting_for():
    spec = votes(("ana", GEO, YES), ("ana", CHRONO, YES))
    ana = waiting_for(spec, verifier="ana")
    assert ana.needs_another_verifier and ana.confirmations == 1
    assert "second verifier" in ana.describe()
    bo = waiting_for(spec, verifier="bo")
    assert bo.kinds == (GEO, CHRONO) and not bo.needs_another_verifier
    assert bo.describe() == "your geolocation and chronolocation"
