"""RFC 3339 timestamps, in and out.

In: Zep items carry their reference time as an RFC 3339 string with an offset (v2
``created_at``, v4 ``reference_time``; zep-ingest refuses naive timestamps and so do we — see
reference/zep-wire-contract.md §3 and decisions.md "Timestamps on the wire"). An offset other
than ``Z`` is accepted and normalised to UTC.

Out: always UTC with a ``Z`` suffix, microseconds kept when they are not zero.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from functools import lru_cache

from .errors import InvalidInput, shown

_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})", re.ASCII)


def parse_rfc3339(value: str, param: str) -> datetime:
    """Parse *value* or raise :class:`InvalidInput` naming *param*."""
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise InvalidInput(
            "invalid_timestamp",
            f"{param}: {shown(value)} is not an RFC 3339 timestamp with a UTC offset "
            "(for example 2024-06-15T10:30:00Z)",
            param=param,
        )
    try:  # Python 3.11's fromisoformat takes "Z" and any number of fraction digits
        parsed = datetime.fromisoformat(value.upper())
        return parsed if parsed.tzinfo is timezone.utc else parsed.astimezone(timezone.utc)
    except (ValueError, OverflowError) as exc:  # e.g. 0001-01-01T00:00:00+01:00 is before year 1 in UTC
        raise InvalidInput(
            "invalid_timestamp", f"{param}: {shown(value)} is not a valid date and time in UTC ({exc})", param=param
        ) from None


@lru_cache(maxsize=1024)
def format_rfc3339(value: datetime | None) -> str | None:
    """Cached: the items of one add call, and of one processing step, share their instants."""
    if value is None:
        return None
    # isoformat pads the year to four digits (strftime's %Y does not below 1000) and writes
    # microseconds only when there are some.
    return value.astimezone(timezone.utc).replace(tzinfo=None).isoformat() + "Z"
