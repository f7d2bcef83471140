"""The emulator's clock.

Every timestamp the emulator writes (``created_at``, ``processed_at``, ``expired_at``, the
reference time of an item that carries none, idempotency-key expiry) is read from one
:class:`Clock`, so that a test can freeze time or jump it forward and get the same answers on
every run.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Protocol

from .errors import InvalidInput

#: The longest step (a tick or an advance) one call may ask for: a century.
MAX_CLOCK_STEP = 100 * 365 * 86400


class Clock(Protocol):
    """What the core needs of a clock: the current time, timezone-aware, in UTC, and word
    that the processor finished an item."""

    def now(self) -> datetime: ...

    def item_done(self) -> bool: ...


class EmulatorClock:
    """Wall-clock time plus an offset, or a frozen instant.

    ``advance`` moves the clock forward whether or not it is frozen; ``freeze`` pins it
    (at *at*, or at the current reading); ``unfreeze`` lets it run again from where it stands.
    ``tick`` (seconds, default 0) is how far the clock moves each time the processor finishes
    an item: with a frozen clock, item k of a run is processed at start + k x tick, the test
    clock of reference/temporal-invalidation.md §5.1 ("a fixed start plus a fixed step per
    processed item"), so every ``created_at`` and ``expired_at`` a test reads is known.
    """

    def __init__(self, frozen_at: datetime | None = None, tick: float = 0.0) -> None:
        self._offset = timedelta(0)
        self._frozen: datetime | None = _utc(frozen_at) if frozen_at else None
        self.tick = tick

    @property
    def tick(self) -> float:
        return self._tick.total_seconds()

    @tick.setter
    def tick(self, seconds: float) -> None:
        if not 0 <= seconds <= MAX_CLOCK_STEP:
            raise ValueError(f"a tick is 0 to {MAX_CLOCK_STEP:g} seconds")
        self._tick = timedelta(seconds=seconds)

    def reset(self) -> None:
        """Back to the wall clock: not frozen, no offset, no tick."""
        self._offset, self._frozen, self._tick = timedelta(0), None, timedelta(0)

    def item_done(self) -> bool:
        """Move on by the tick; True if the clock moved (the next item starts later)."""
        if not self._tick:
            return False
        try:
            if self._frozen is not None:
                self._frozen += self._tick
            else:
                self._offset += self._tick
        except OverflowError:  # at year 9999 the clock stops rather than fail the item
            return False
        return True

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
        """Move on by *seconds*; past what a datetime holds (year 9999) is an
        :class:`InvalidInput` and the clock stays where it was."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        try:
            step = timedelta(seconds=seconds)
            if self._frozen is not None:
                self._frozen = self._frozen + step
            else:
                datetime.now(timezone.utc) + self._offset + step  # raises before anything changes
                self._offset += step
        except OverflowError:
            raise InvalidInput("clock_overflow", f"advancing the clock by {seconds:g} s would take it past year 9999",
                               param="seconds") from None
        return self.now()

    @property
    def offset(self) -> timedelta:
        """How far a running clock reads ahead of the wall clock (kept, unused, while frozen)."""
        return self._offset

    def restore(self, frozen_at: datetime | None, offset: timedelta, tick: float) -> None:
        """Set the whole state at once (a snapshot's restore)."""
        self.tick = tick
        self._offset = offset
        self._frozen = _utc(frozen_at) if frozen_at is not None else None

    def copy(self) -> "EmulatorClock":
        """An independent clock that reads what this one reads now and moves the same way."""
        twin = EmulatorClock()
        twin._offset, twin._frozen, twin._tick = self._offset, self._frozen, self._tick
        return twin


class KeyClock:
    """One API key's clock: it reads the server's clock until a control call sets this key's
    own (:meth:`own`), from then on it is an independent :class:`EmulatorClock` that started
    where the server's stood. So a test that freezes or advances time for its own tenant
    (the pytest plugin gives each test one) changes nothing for any other test sharing the
    server, while a server-wide setting still reaches every key that has none of its own."""

    def __init__(self, server: EmulatorClock) -> None:
        self.server = server
        self._own: EmulatorClock | None = None

    @property
    def current(self) -> EmulatorClock:
        """The clock this key reads: its own, or the server's."""
        return self._own if self._own is not None else self.server

    @property
    def independent(self) -> bool:
        return self._own is not None

    def own(self) -> EmulatorClock:
        """This key's own clock, split off the server's on first use."""
        if self._own is None:
            self._own = self.server.copy()
        return self._own

    def follow_server(self) -> None:
        """Drop this key's own setting: read the server's clock again."""
        self._own = None

    def now(self) -> datetime:
        return (self._own or self.server).now()

    def item_done(self) -> bool:
        return (self._own or self.server).item_done()


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("a clock instant needs a timezone")
    return value.astimezone(timezone.utc)
