"""Gathering the incidents and refused records of one file.

Upstream identifiers must be unique within a file: a second record with the
same id is refused rather than merged, because which of the two is right is a
question for a person, not for the parser.
"""

from __future__ import annotations

from svidok.core.incidents.importers._fields import RowProblem
from svidok.core.incidents.records import ImportedIncident, ParsedDataset, RowError


class Collector:
    """Incidents and row errors of one dataset, in file order."""

    def __init__(self, dataset: str) -> None:
        self.dataset = dataset
        self._first_seen: dict[str, int] = {}
        self._incidents: list[ImportedIncident] = []
        self._errors: list[RowError] = []

    def claim(self, row: int, upstream_id: str) -> None:
        """Register the id of the record at ``row``; raise if an earlier record had it."""
        first = self._first_seen.setdefault(upstream_id, row)
        if first != row:
            raise RowProblem(f"duplicate upstream id {upstream_id!r}: expected each id once, "
                             f"first seen at row {first}")

    def accept(self, incident: ImportedIncident) -> None:
        self._incidents.append(incident)

    def refuse(self, row: int, upstream_id: str | None, reason: str) -> None:
        self._errors.append(RowError(row=row, upstream_id=upstream_id, reason=reason))

    def result(self) -> ParsedDataset:
        return ParsedDataset(self.dataset, list(self._incidents), list(self._errors))
