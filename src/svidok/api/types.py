"""Field types the API reads strictly: dates and times only as ISO 8601 text.

Pydantic's lax mode would read ``0`` as 1 January 1970 where the schema says
``format: date``: a number is refused here, and a time must say its time zone so
that it is unambiguous. Whole numbers follow JSON Schema: 2.0 is one, true is not.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, Strict


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


def _whole_number(value: Any) -> Any:
    # JSON Schema's integer includes 2.0 and excludes true: pydantic's lax int is the
    # other way round.
    if isinstance(value, bool):
        raise ValueError(f"expected a whole number, found {value!r}")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


IsoDate = Annotated[date, BeforeValidator(_date_text)]
WholeNumber = Annotated[int, BeforeValidator(_whole_number), Strict()]
IsoDateTime = Annotated[datetime, BeforeValidator(_datetime_text)]
