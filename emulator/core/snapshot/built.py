"""What building hands to installing: the tenants of a snapshot, read and cross-checked, their
records made but attached to nothing in the world."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..batches import Batch, Item
from ..graph import Graph, Thread, User
from ..ids import IdFactory
from ..memories import Isolation, Receipt
from ..processor import ProcessingMode
from ..tasks import Task
from ..tenants import Service
from .schema import Clock


@dataclass(frozen=True)
class ClockSetting:
    """An ``EmulatorClock``'s state, as ``EmulatorClock.restore`` takes it."""

    frozen_at: datetime | None
    offset: timedelta
    tick: float

    @classmethod
    def of(cls, clock: Clock) -> "ClockSetting":
        return cls(clock.frozen_at, timedelta(seconds=clock.offset_seconds), clock.tick_seconds)


@dataclass
class Desk:
    """A Synap tenant's memories desk: receipts in order (``by_document`` is rebuilt from
    them), telemetry as dumped."""

    isolation: Isolation
    receipts: list[Receipt]
    telemetry: list[Any]


@dataclass
class Built:
    """One tenant, read and cross-checked, ready to install."""

    service: Service
    key: str
    clock: ClockSetting | None
    ids: IdFactory
    mode: ProcessingMode
    rate_limit: tuple[float, int] | None
    next_serial: int
    users: list[User] = field(default_factory=list)
    graphs: list[Graph] = field(default_factory=list)
    threads: list[Thread] = field(default_factory=list)
    batches: list[Batch] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    queue: list[Item] = field(default_factory=list)
    desk: Desk | None = None
