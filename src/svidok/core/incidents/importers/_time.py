"""Turning an upstream date (and perhaps a time) into a UTC window.

An incident's time is a window, not an instant: ``start`` is when the window
opens and ``end`` when it closes (exclusive), both in UTC. A date known to the
day in Kyiv runs from local midnight to the next local midnight, so the window
is 23, 24 or 25 hours long across daylight-saving changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from svidok.core.errors import InvalidInput
from svidok.core.incidents.importers._fields import RowProblem, shown
from svidok.core.incidents.vocab import TimePrecision

KYIV = "Europe/Kyiv"
# A date later than this after the moment of import is a typo, not a report.
FUTURE_TOLERANCE = timedelta(days=1)


@cache
def zone(name: str) -> ZoneInfo:
    """The named IANA time zone; on systems without a zone database, install ``tzdata``."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"expected an IANA time zone such as {KYIV!r}, found {name!r} "
                           "(or the tzdata package is missing)") from exc


def window(
    day: date, at: time | None, precision: TimePrecision, tz: ZoneInfo
) -> tuple[datetime, datetime]:
    """The UTC window of a local date and time at the given precision.

    ``at`` is used for exact and hour precision; for day, week and month the
    window starts at local midnight of ``day`` (weeks start on the given day,
    months on the first). A local time skipped or repeated by a daylight-saving
    change is read as zoneinfo does (fold=0).
    """
    if precision in (TimePrecision.EXACT, TimePrecision.HOUR):
        moment = at or time(0, 0)
        if precision is TimePrecision.HOUR:
            moment = moment.replace(minute=0)
        start_local = datetime.combine(day, moment.replace(second=0, microsecond=0), tzinfo=tz)
        length = timedelta(minutes=1) if precision is TimePrecision.EXACT else timedelta(hours=1)
        # Add in UTC: a wall-clock hour can be skipped or repeated locally.
        start = start_local.astimezone(UTC)
        return start, start + length
    if precision is TimePrecision.DAY:
        first, after = day, day + timedelta(days=1)
    elif precision is TimePrecision.WEEK:
        first, after = day, day + timedelta(days=7)
    else:
        first = day.replace(day=1)
        after = (first + timedelta(days=32)).replace(day=1)
    return _local_midnight(first, tz), _local_midnight(after, tz)


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=tz).astimezone(UTC)


_HUMAN = {"%Y": "YYYY", "%y": "YY", "%m": "MM", "%d": "DD", "%H": "HH", "%I": "hh",
          "%M": "MM", "%S": "SS", "%p": "AM/PM", "%b": "Mon", "%B": "Month", "%z": "+HHMM",
          "%j": "DDD", "%%": "%"}
_TIME_DIRECTIVES = ("%H", "%I", "%M", "%X", "%c", "%T", "%R")


def human_format(pattern: str) -> str:
    """A strptime pattern as people write it: ``%m/%d/%Y`` → ``MM/DD/YYYY``."""
    if pattern == "iso":
        return "an ISO 8601 date such as 2022-02-24 or 2022-02-24T05:30+02:00"
    text = pattern
    for directive, shown_as in _HUMAN.items():
        text = text.replace(directive, shown_as)
    return text


@dataclass(frozen=True, slots=True)
class DateReader:
    """Reads one dataset's date and time cells into a UTC window."""

    date_format: str  # "iso" or a strptime pattern
    time_format: str = "%H:%M"
    midnight_means_unknown: bool = False
    default_precision: TimePrecision = TimePrecision.DAY  # when no time of day is known
    timezone: str = KYIV
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def window(self, date_text: str, time_text: str = "",
               precision: TimePrecision | None = None) -> tuple[datetime, datetime, TimePrecision]:
        """``(start, end, precision)``; ``precision`` overrides what the cells imply.

        Raises :class:`RowProblem` saying which format was expected.
        """
        tz = zone(self.timezone)
        day, at = self._date(date_text.strip(), tz)
        if time_text.strip():
            at = self._time(time_text.strip())
        if at is not None and self.midnight_means_unknown and at == time(0, 0):
            at = None
        chosen = precision or (TimePrecision.EXACT if at is not None else self.default_precision)
        if chosen in (TimePrecision.EXACT, TimePrecision.HOUR) and at is None:
            raise RowProblem(f"time: expected a time of day for precision {chosen.value!r}, "
                             "found none")
        start, end = window(day, at, chosen, tz)
        if start > self.now + FUTURE_TOLERANCE:
            raise RowProblem(f"date: expected a date no later than tomorrow, found "
                             f"{shown(date_text)}")
        return start, end, chosen

    def _date(self, text: str, tz: ZoneInfo) -> tuple[date, time | None]:
        expected = f"date: expected {human_format(self.date_format)}, found {shown(text)}"
        try:
            if self.date_format == "iso":
                try:
                    return date.fromisoformat(text), None
                except ValueError:
                    parsed, has_time = datetime.fromisoformat(text), True
            else:
                parsed = datetime.strptime(text, self.date_format)
                has_time = any(d in self.date_format for d in _TIME_DIRECTIVES)
        except ValueError:
            raise RowProblem(expected) from None
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(tz)
        return parsed.date(), parsed.time() if has_time else None

    def _time(self, text: str) -> time:
        try:
            return datetime.strptime(text, self.time_format).time()
        except ValueError:
            raise RowProblem(f"time: expected {human_format(self.time_format)}, found "
                             f"{shown(text)}") from None
