"""Air-raid alerts: importing the public dataset, and what it says about an incident.

The alerts are reference data (no collection): an import of ``official_data_en.csv``
or ``volunteer_data_en.csv`` replaces that source's periods in one transaction,
adds the README's two permanent alerts once, and is one custody event. The index
(:class:`svidok.core.geo.alerts.AlertIndex`) is built from the table once per
process and rebuilt when the table changes.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Count, Max

from svidok.apps.custody.services import EventDraft, custody_append
from svidok.apps.incidents.importing import file_sha256
from svidok.apps.incidents.models import AirRaidAlert, Incident
from svidok.core.errors import InvalidInput
from svidok.core.geo.alerts import (
    AlertIndex,
    AlertParse,
    AlertPeriod,
    parse_official,
    parse_volunteer,
    permanent_periods,
)
from svidok.core.incidents.vocab import TimePrecision

ALERTS_IMPORTED = "alerts.imported"
OFFICIAL_COLUMNS = "oblast,raion,hromada,level,started_at,finished_at"
VOLUNTEER_COLUMNS = "region,started_at,finished_at,naive"


@dataclass
class AlertImport:
    source: str
    periods: int
    replaced: int
    errors: list[dict[str, Any]] = field(default_factory=list)
    unresolved: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "periods": self.periods, "replaced": self.replaced,
                "rejected": len(self.errors), "errors": self.errors,
                "unresolved": self.unresolved}


def _source_of(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            header = handle.readline(4096).decode("utf-8-sig", "replace").strip().lower()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from exc
    if header.startswith(OFFICIAL_COLUMNS):
        return "official"
    if header.startswith(VOLUNTEER_COLUMNS):
        return "volunteer"
    raise InvalidInput(f"{path.name}: expected the air-raid alert dataset's official "
                       f"({OFFICIAL_COLUMNS},…) or volunteer ({VOLUNTEER_COLUMNS}) columns, "
                       f"found {header[:200]!r}")


def _row(period: AlertPeriod) -> AirRaidAlert:
    return AirRaidAlert(source=period.source, level=period.level, oblast=period.oblast,
                        raion=period.raion, hromada=period.hromada, name=period.name,
                        started_at=period.started_at, finished_at=period.finished_at,
                        naive_end=period.naive_end, permanent=period.permanent,
                        row=period.row)


def alerts_import(*, path: Path, actor: str) -> AlertImport:
    """Replace the alerts of the file's source (told by its columns) with the file's."""
    source = _source_of(path)
    parsed: AlertParse = parse_official(path) if source == "official" else parse_volunteer(path)
    digest = file_sha256(path)
    with transaction.atomic():
        replaced, _ = AirRaidAlert.objects.filter(source=source).delete()
        AirRaidAlert.objects.bulk_create([_row(p) for p in parsed.periods], batch_size=2000)
        if not AirRaidAlert.objects.filter(source="readme").exists():
            AirRaidAlert.objects.bulk_create([_row(p) for p in permanent_periods()])
        summary = AlertImport(source, len(parsed.periods), replaced,
                              [{"row": e.row, "reason": e.reason} for e in parsed.errors],
                              dict(parsed.unresolved))
        custody_append(drafts=[EventDraft(ALERTS_IMPORTED, {
            "source": source, "file": path.name, "file_sha256": digest,
            "periods": summary.periods, "replaced": replaced,
            "rejected": len(parsed.errors)})], actor=actor)
    forget_alert_index()  # this process rebuilds at once; others see the table's new stamp
    return summary


# --------------------------------------------------------------------------- the index

_lock = threading.Lock()
_cached: tuple[tuple[int, Any], AlertIndex] | None = None


def _period(row: AirRaidAlert) -> AlertPeriod:
    return AlertPeriod(row.source, row.level, row.oblast, row.raion, row.hromada,
                       row.started_at, row.finished_at, row.naive_end, row.permanent,
                       row.row, row.name)


def forget_alert_index() -> None:
    global _cached
    with _lock:
        _cached = None


def alert_index() -> AlertIndex:
    """The index of every stored alert; rebuilt when the table has changed."""
    global _cached
    stamp = tuple(AirRaidAlert.objects.aggregate(n=Count("id"), last=Max("id")).values())
    with _lock:
        if _cached is None or _cached[0] != stamp:
            rows = AirRaidAlert.objects.all().iterator(chunk_size=5000)
            _cached = (stamp, AlertIndex(_period(row) for row in rows))  # type: ignore[arg-type]
        return _cached[1]


@dataclass(frozen=True)
class Corroboration:
    """Alerts covering an incident's place during its time window."""

    checked: bool  # False: no oblast or no time to check against
    window: tuple[str, str] | None
    alerts: list[AlertPeriod]
    note: str

    def to_json(self) -> dict[str, Any]:
        return {
            "checked": self.checked, "window": list(self.window) if self.window else None,
            "note": self.note,
            "alerts": [{"source": a.source, "level": a.level, "unit": a.unit, "name": a.name,
                        "started_at": a.started_at.isoformat(),
                        "finished_at": a.finished_at.isoformat() if a.finished_at else None,
                        "naive_end": a.naive_end, "permanent": a.permanent}
                       for a in self.alerts],
        }


def incident_alerts(incident: Incident) -> Corroboration:
    """Whether an alert was active in the incident's oblast, raion or hromada while it
    happened: at its exact time, or during its window (hour, day…)."""
    if not incident.oblast or incident.start is None:
        return Corroboration(False, None, [], "no place in Ukraine or no time to check")
    if not AirRaidAlert.objects.exists():
        return Corroboration(False, None, [], "no alerts imported (svidok import alerts)")
    start = incident.start
    end = incident.end or start
    if incident.time_precision == TimePrecision.EXACT.value:
        end = start
    elif end <= start:
        end = start + timedelta(seconds=1)
    found = alert_index().around(start, end, oblast=incident.oblast, raion=incident.raion,
                                 hromada=incident.hromada)
    note = ("an alert makes an air or missile strike consistent with the record; it is not "
            "proof of one, and its absence says little about shelling")
    return Corroboration(True, (start.isoformat(), end.isoformat()), found, note)
