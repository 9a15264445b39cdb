"""Field types the API reads strictly: dates and times only as ISO 8601 text.

Pydantic's lax mode would read ``0`` as 1 January 1970 where the schema says
``format: date``: a number is refused here, and a time must say its time zone so
that it is unambiguous.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator


def _date_text(value: Any) -> Any:
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected a date as YYYY-MM-DD text, found {value!r}")
    return date.fromisoformat(value)


def _datetime_text(value: Any) -> Any:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    else:
        raise ValueError(f"expected an ISO 8601 time as text, found {value!r}")
    if moment.tzinfo is None:
        raise ValueError(f"expected a time zone (e.g. Z or +03:00) in {value!r}")
    return moment


IsoDate = Annotated[date, BeforeValidator(_date_text)]
IsoDateTime = Annotated[datetime, BeforeValidator(_datetime_text)]
