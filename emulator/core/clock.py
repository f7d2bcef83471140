"""The emulator's clock.

Every timestamp the emulator writes (``created_at``, ``processed_at``, ``expired_at``, the
reference time of an item that carries none, idempotency-key expiry) is read from one
:class:`Clock`, so that a test can freeze time or jump it forward and get the same answers on
every run.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Protocol


class Clock(Protocol):
    """What the core needs of a clock: the current time, timezone-aware, in UTC."""

    def now(self) -> datetime: ...


class EmulatorClock:
    """Wall-clock time plus an offset, or a frozen instant.

    ``advance`` moves the clock forward whether or not it is frozen; ``freeze`` pins it
    (at *at*, or at the current reading); ``unfreeze`` lets it run again from where it stands.
    """

    def __init__(self, frozen_at: datetime | None = None) -> None:
        self._offset = timedelta(0)
        self._frozen: datetime | None = _utc(frozen_at) if frozen_at else None

    def now(self) -> datetime:
        if self._frozen is not None:
            return self._frozen
        return datetime.now(timezone.utc) + self._offset

    @property
    def frozen(self) -> bool:
        return self._frozen is not None

    def freeze(self, at: datetime | None = None) -> datetime:
        self._frozen = _utc(at) if at is not None else self.now()
        return self._frozen

    def unfreeze(self) -> None:
        if self._frozen is not None:
            self._offset = self._frozen - datetime.now(timezone.utc)
            self._frozen = None

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        step = timedelta(seconds=seconds)
        if self._frozen is not None:
            self._frozen += step
        else:
            self._offset += step
        return self.now()


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("a clock instant needs a timezone")
    return value.astimezone(timezone.utc)
