"""The emulator clock at its edge: a step past what a datetime holds is refused and changes nothing."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from emulator.core.clock import MAX_CLOCK_STEP, EmulatorClock
from emulator.core.errors import InvalidInput


def test_advancing_past_year_9999_is_refused_and_the_clock_stays() -> None:
    start = datetime(9990, 1, 1, tzinfo=timezone.utc)
    clock = EmulatorClock(frozen_at=start)
    with pytest.raises(InvalidInput) as refused:
        clock.advance(MAX_CLOCK_STEP)
    assert refused.value.code == "clock_overflow"
    assert clock.now() == start


def test_a_running_clock_refuses_the_same_and_keeps_its_offset() -> None:
    clock = EmulatorClock()
    clock.advance(MAX_CLOCK_STEP)
    offset = clock.offset
    with pytest.raises(InvalidInput):
        for _ in range(100):  # a century at a time reaches year 9999 within 80 steps
            clock.advance(MAX_CLOCK_STEP)
    assert clock.offset.days % 36_500 == 0 and clock.offset >= offset


def test_a_tick_that_would_pass_year_9999_stops_the_clock_instead_of_failing_the_item() -> None:
    start = datetime(9999, 12, 31, tzinfo=timezone.utc)
    clock = EmulatorClock(frozen_at=start, tick=86_400 * 2)
    assert clock.item_done() is False
    assert clock.now() == start


def test_a_tick_longer_than_a_century_is_refused() -> None:
    with pytest.raises(ValueError):
        EmulatorClock(tick=MAX_CLOCK_STEP + 1)
