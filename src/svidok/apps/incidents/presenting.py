"""Incidents as plain JSON-ready dicts, for the API and the exports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from svidok.apps.incidents.alerts import incident_alerts
from svidok.apps.incidents.models import (
    Assessment,
    Incident,
    IncidentChange,
    IncidentRelation,
)
from svidok.apps.incidents.protected import person_masked
from svidok.core.geo.regions import region_by_code


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def incident_json(incident: Incident) -> dict[str, Any]:
    """The incident's own fields (no sources, evidence or history)."""
    region = region_by_code(incident.oblast) if incident.oblast else None
    return {
        "id": str(incident.id), "collection": incident.collection_id,
        "title": incident.title, "description": incident.description,
        "language": incident.language, "translations": incident.translations,
        "start": _time(incident.start), "end": _time(incident.end),
        "time_precision": incident.time_precision,
        "latitude": incident.latitude, "longitude": incident.longitude,
        "location_precision": incident.location_precision,
        "location_text": incident.location_text,
        "oblast": incident.oblast, "oblast_name": region.name_en if region else "",
        "raion": incident.raion, "hromada": incident.hromada,
        "settlement": incident.settlement,
        "event_type": incident.event_type, "sub_type": incident.sub_type,
        "weapons": incident.weapons, "objects_hit": incident.objects_hit,
        "harm": incident.harm, "killed": incident.killed, "injured": incident.injured,
        "children_harmed": incident.children_harmed,
        "status": incident.status, "perpetrator": incident.perpetrator,
        "dataset": incident.dataset, "upstream_id": incident.upstream_id,
        "gone_upstream": incident.gone_upstream,
        "merged_into": str(incident.merged_into_id) if incident.merged_into_id else None,
        "updated_at": _time(incident.updated_at),
    }


def assessment_json(assessment: Assessment) -> dict[str, Any]:
    return {
        "id": str(assessment.id), "kind": assessment.kind, "verdict": assessment.verdict,
        "confidence": assessment.confidence, "notes": assessment.notes,
        "latitude": assessment.latitude, "longitude": assessment.longitude,
        "reference_items": assessment.reference_items,
        "time_from": _time(assessment.time_from), "time_to": _time(assessment.time_to),
        "method": assessment.method, "verifier": assessment.verifier,
        "created_at": _time(assessment.created_at),
    }


def change_json(change: IncidentChange) -> dict[str, Any]:
    return {"kind": change.kind, "changes": change.changes, "actor": change.actor,
            "run": str(change.run_id) if change.run_id else None,
            "at": _time(change.created_at)}


def incident_detail_json(incident: Incident, *, user: Any = None) -> dict[str, Any]:
    """The incident with its sources, evidence links, assessments and change history.
    A person source's identity is masked (``person``: present, can_reveal for ``user``)."""
    citations = incident.citations.select_related("source__collection").order_by(
        "source__created_at")
    return {
        **incident_json(incident),
        "attributes": incident.attributes,
        "sources": [{"id": str(c.source.id), "kind": c.source.kind, "url": c.source.url,
                     "title": c.source.title, "description": c.source.description,
                     "reliability": c.source.reliability, "connection": c.source.connection,
                     "hidden": c.source.hidden, "note": c.note,
                     "person": person_masked(user=user, source=c.source)
                     if c.source.person_sealed else None} for c in citations],
        "evidence": [{"item": str(link.item_id), "name": link.item.original_name,
                      "fact": link.fact, "note": link.note}
                     for link in incident.links.select_related("item").order_by("created_at")],
        "assessments": [assessment_json(a) for a in incident.assessments.all()],
        "related": [{"incident": str(r.target_id), "kind": r.kind, "note": r.note}
                    for r in incident.relations.all()]
                   + [{"incident": str(r.source_id), "kind": r.kind, "note": r.note}
                      for r in IncidentRelation.objects.filter(target=incident)],
        "changes": [change_json(c) for c in incident.changes.all()],
        "air_raid_alerts": incident_alerts(incident).to_json(),
    }
