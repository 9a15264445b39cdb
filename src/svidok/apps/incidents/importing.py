"""Importing public incident datasets into a collection.

1. The file is parsed by the framework-free importers (:mod:`svidok.core.incidents.importers`):
   incidents, and the records refused with their row and reason.
2. In one transaction: each incident is matched to the collection's incident with
   the same dataset and upstream id. New ones are created; known ones whose
   upstream record changed are updated in place (upstream fields only: the team's
   status, links, assessments and relations stay) and the change is recorded;
   identical ones are left alone. Incidents of the dataset missing from the file are
   flagged ``gone_upstream``, never deleted.
3. One custody event records the run: dataset, the file's SHA-256, the counts and a
   digest of every change, so the change rows can be checked against the log.

With ``strict``, any refused record stops the import and nothing lands.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from svidok.apps.custody.services import EventDraft, custody_append
from svidok.apps.evidence.models import Collection
from svidok.apps.incidents.models import (
    ImportRun,
    Incident,
    IncidentChange,
    IncidentSource,
    IncidentTag,
    Source,
)
from svidok.core.canonical import canonical_json
from svidok.core.errors import InvalidInput
from svidok.core.geo.lookup import gazetteer
from svidok.core.incidents.records import (
    ImportedIncident,
    ParsedDataset,
    RowError,
    canonical_content,
    fingerprint,
)
from svidok.core.incidents.urls import url_key
from svidok.core.incidents.vocab import SourceKind

IMPORTED = "incidents.imported"
BATCH = 500


@dataclass
class ImportSummary:
    """What an import did (``--json`` prints :meth:`to_json`)."""

    dataset: str
    collection: str
    file_sha256: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    flagged: int = 0  # gone upstream since the last import
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    landed: bool = True
    run_id: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset, "collection": self.collection,
            "file_sha256": self.file_sha256, "created": self.created, "updated": self.updated,
            "unchanged": self.unchanged, "flagged": self.flagged, "rejected": self.rejected,
            "landed": self.landed, "run": self.run_id,
            "errors": [{"row": e.row, "upstream_id": e.upstream_id, "reason": e.reason}
                       for e in self.errors],
        }


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, or of a folder's files in name order (Bellingcat's export)."""
    digest = hashlib.sha256()
    files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    for member in files:
        if path.is_dir():
            digest.update(member.name.encode() + b"\0")
        with member.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def incidents_import(*, parsed: ParsedDataset, collection_name: str, actor: str,
                     file_name: str, file_digest: str, strict: bool = False) -> ImportSummary:
    """Land a parsed dataset in a collection (created if needed); see the module docstring."""
    summary = ImportSummary(parsed.dataset, collection_name, file_digest,
                            rejected=len(parsed.errors), errors=list(parsed.errors))
    if strict and parsed.errors:
        summary.landed = False
        return summary
    if not collection_name.strip():
        raise InvalidInput("an import needs a collection name; got an empty one")
    with transaction.atomic():
        collection, _ = Collection.objects.get_or_create(name=collection_name)
        run = ImportRun.objects.create(collection=collection, dataset=parsed.dataset,
                                       file_name=file_name, file_sha256=file_digest,
                                       actor=actor)
        changes = _apply(parsed, collection, run, summary, actor)
        run.counts = {key: value for key, value in summary.to_json().items()
                      if key in ("created", "updated", "unchanged", "flagged", "rejected")}
        run.rejected = summary.to_json()["errors"]
        run.save(update_fields=["counts", "rejected"])
        summary.run_id = str(run.id)
        custody_append(drafts=[EventDraft(IMPORTED, {
            "run": str(run.id), "collection": collection.name, "dataset": parsed.dataset,
            "file": file_name, "file_sha256": file_digest, "counts": run.counts,
            "changes_sha256": hashlib.sha256(canonical_json(changes)).hexdigest(),
        })], actor=actor)
    return summary


def _apply(parsed: ParsedDataset, collection: Collection, run: ImportRun,
           summary: ImportSummary, actor: str) -> list[dict[str, Any]]:
    existing = {incident.upstream_id: incident for incident in
                Incident.objects.filter(collection=collection, dataset=parsed.dataset)}
    places = gazetteer()
    now = timezone.now()
    new: list[tuple[Incident, ImportedIncident]] = []
    change_rows: list[IncidentChange] = []
    # A record refused this time (a bad date, say) is still upstream: never "gone".
    seen: set[str] = {e.upstream_id for e in parsed.errors if e.upstream_id}
    for imported in parsed.incidents:
        seen.add(imported.upstream_id)
        digest = fingerprint(imported)
        incident = existing.get(imported.upstream_id)
        if incident is None:
            incident = Incident(collection=collection, dataset=parsed.dataset,
                                upstream_id=imported.upstream_id, created_at=now)
            _fill(incident, imported, digest, places, now)
            new.append((incident, imported))
            continue
        back = incident.gone_upstream
        if incident.fingerprint == digest and not back:
            summary.unchanged += 1
            continue
        difference = _content_changes(incident.upstream, canonical_content(imported))
        _fill(incident, imported, digest, places, now)
        incident.gone_upstream = False
        incident.save()
        _replace_tags(incident, imported)
        _replace_sources(incident, imported, collection)
        kind = IncidentChange.BACK_UPSTREAM if back and not difference else IncidentChange.UPDATED
        change_rows.append(IncidentChange(incident=incident, run=run, kind=kind,
                                          changes=difference, actor=actor))
        summary.updated += 1
    for batch in _batches(new):
        Incident.objects.bulk_create([incident for incident, _ in batch])
        IncidentTag.objects.bulk_create([tag for incident, imported in batch
                                         for tag in _tags(incident, imported)])
        _create_sources(batch, collection)
        change_rows += [IncidentChange(incident=incident, run=run, kind=IncidentChange.CREATED,
                                       actor=actor) for incident, _ in batch]
    summary.created = len(new)
    gone = [incident for upstream_id, incident in existing.items()
            if upstream_id not in seen and not incident.gone_upstream]
    for incident in gone:
        incident.gone_upstream = True
        incident.updated_at = now
        change_rows.append(IncidentChange(incident=incident, run=run,
                                          kind=IncidentChange.GONE_UPSTREAM, actor=actor))
    Incident.objects.bulk_update(gone, ["gone_upstream", "updated_at"], batch_size=BATCH)
    summary.flagged = len(gone)
    IncidentChange.objects.bulk_create(change_rows, batch_size=BATCH)
    return [{"incident": str(row.incident_id), "kind": row.kind, "changes": row.changes}
            for row in change_rows]


def _batches(rows: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(rows), BATCH):
        yield rows[start:start + BATCH]


def _fill(incident: Incident, imported: ImportedIncident, digest: str, places: Any,
          now: Any) -> None:
    incident.title = imported.title or imported.upstream_id
    incident.description = imported.description
    incident.start, incident.end = imported.start, imported.end
    incident.time_precision = imported.time_precision.value
    incident.latitude, incident.longitude = imported.latitude, imported.longitude
    incident.location_precision = (imported.location_precision.value
                                   if imported.location_precision else "")
    incident.location_text = imported.location_text
    incident.oblast = incident.raion = incident.hromada = incident.settlement = ""
    if imported.latitude is not None and imported.longitude is not None:
        found = places.locate(imported.latitude, imported.longitude)
        incident.oblast = found.oblast.code if found.oblast else ""
        incident.raion = found.raion.code if found.raion else ""
        incident.hromada = found.hromada.code if found.hromada else ""
        incident.settlement = found.settlement.code if found.settlement else ""
    incident.event_type = imported.event_type.value if imported.event_type else ""
    incident.sub_type = imported.sub_type.value if imported.sub_type else ""
    incident.weapons = [w.value for w in imported.weapons]
    incident.objects_hit = [o.value for o in imported.objects]
    incident.attributes = dict(imported.attributes)
    incident.upstream = canonical_content(imported)
    incident.fingerprint = digest
    incident.updated_at = now


def _tags(incident: Incident, imported: ImportedIncident) -> list[IncidentTag]:
    codes = {(IncidentTag.WEAPON, w.value) for w in imported.weapons}
    codes |= {(IncidentTag.OBJECT, o.value) for o in imported.objects}
    return [IncidentTag(incident=incident, vocabulary=v, code=c) for v, c in sorted(codes)]


def _replace_tags(incident: Incident, imported: ImportedIncident) -> None:
    IncidentTag.objects.filter(incident=incident).delete()
    IncidentTag.objects.bulk_create(_tags(incident, imported))


def _source_rows(imported: ImportedIncident, collection: Collection) -> list[Source]:
    rows = []
    for ref in imported.sources:
        rows.append(Source(
            collection=collection, kind=SourceKind.URL.value if ref.url else
            SourceKind.DOCUMENT.value, url=ref.url or "",
            url_key=(url_key(ref.url) or "") if ref.url else "", title=ref.title,
            description=ref.description, hidden=ref.hidden, dataset=imported.dataset,
            upstream_id=ref.upstream_id or ""))
    return rows


def _create_sources(batch: list[tuple[Incident, ImportedIncident]],
                    collection: Collection) -> None:
    sources: list[Source] = []
    citations: list[IncidentSource] = []
    for incident, imported in batch:
        for source in _source_rows(imported, collection):
            sources.append(source)
            citations.append(IncidentSource(incident=incident, source=source))
    Source.objects.bulk_create(sources, batch_size=BATCH)
    IncidentSource.objects.bulk_create(citations, batch_size=BATCH, ignore_conflicts=False)


def _replace_sources(incident: Incident, imported: ImportedIncident,
                     collection: Collection) -> None:
    """The upstream sources as now published; sources the team added stay cited. Sources
    upstream no longer cites stay in the collection, uncited (the change row says so)."""
    IncidentSource.objects.filter(incident=incident, source__dataset=incident.dataset).delete()
    _create_sources([(incident, imported)], collection)


def _content_changes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """``{field: [old, new]}`` between two upstream records (attributes key by key)."""
    changed: dict[str, Any] = {}
    for key in sorted(old.keys() | new.keys()):
        if key == "attributes":
            continue
        if old.get(key) != new.get(key):
            changed[key] = [old.get(key), new.get(key)]
    old_attributes, new_attributes = old.get("attributes") or {}, new.get("attributes") or {}
    for key in sorted(old_attributes.keys() | new_attributes.keys()):
        if old_attributes.get(key) != new_attributes.get(key):
            changed[f"attributes.{key}"] = [old_attributes.get(key), new_attributes.get(key)]
    return changed
