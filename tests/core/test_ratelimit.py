"""The rate-limit mode's token bucket against the emulator clock (core/ratelimit.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from emulator.core.errors import RateLimited
from emulator.core.ratelimit import TokenBucket

T0 = datetime(2030, 1, 1, tzinfo=timezone.utc)


def test_a_burst_then_whole_seconds_until_the_next_token() -> None:
    bucket = TokenBucket.full(per_second=0.5, burst=2, now=T0)
    bucket.take(T0)
    bucket.take(T0)
    with pytest.raises(RateLimited) as refused:
        bucket.take(T0)
    assert refused.value.details == {"retry_after_seconds": 2, "limit": 2, "remaining": 0}
    with pytest.raises(RateLimited) as still:
        bucket.take(T0 + timedelta(seconds=1.5))  # 0.75 of a token: wait 0.5 s, rounded up to 1
    assert still.value.details["retry_after_seconds"] == 1  # type: ignore[index]
    bucket.take(T0 + timedelta(seconds=2))


def test_a_frozen_clock_never_refills_and_the_bucket_never_overfills() -> None:
    bucket = TokenBucket.full(per_second=10, burst=1, now=T0)
    bucket.take(T0)
    for _ in range(3):
        with pytest.raises(RateLimited):
            bucket.take(T0)
    bucket.take(T0 + timedelta(hours=1))
    with pytest.raises(RateLimited):
        bucket.take(T0 + timedelta(hours=1))
    assert bucket.remaining == 0


@pytest.mark.parametrize("per_second, burst", [(0, 1), (-1, 1), (1, 0)])
def test_a_bucket_needs_a_rate_and_a_burst(per_second: float, burst: int) -> None:
    with pytest.raises(ValueError):
        TokenBucket.full(per_second, burst, T0)
