"""What a driver reads back from an SDK, in one shape for both Zep wire versions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ..model.answers import Refusal


class Refused(Exception):
    """The target refused a call; the driver's reading of the SDK's exception."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(str(refusal))
        self.refusal = refusal


@dataclass(frozen=True)
class BatchView:
    id: str
    status: str
    #: The item counters the dialect reports (v2: every count; v4: the documented progress
    #: counts), or None where the dialect leaves them out (a draft batch).
    counts: dict[str, int] | None
    total: int | None


@dataclass(frozen=True)
class ItemView:
    id: str
    index: int
    kind: str
    status: str
    #: The destination id the item names (graph, user or thread), as the dialect spells it.
    destination: str | None
    error_code: str | None
    episode: str | None


@dataclass(frozen=True)
class Listing:
    """Every element of a paginated list, page by page."""

    pages: list[list[Any]]
    #: What each page said the whole list holds (v4 ``total_size``), where the dialect says.
    totals: list[int | None]

    @property
    def elements(self) -> list[Any]:
        return [element for page in self.pages for element in page]


@dataclass(frozen=True)
class EdgeView:
    fact: str
    valid_at: datetime | None
    invalid_at: datetime | None


def instant(value: Any) -> datetime | None:
    """An SDK timestamp (a datetime or an RFC 3339 string) as an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)  # type: ignore[no-any-return]
    return value.astimezone(timezone.utc)  # type: ignore[no-any-return]
