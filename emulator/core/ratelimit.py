"""The rate-limit mode: a token bucket per tenant, read against the emulator clock.

A bucket holds up to ``burst`` tokens and gains ``per_second`` tokens per second of emulator
time; each request takes one. A request that finds less than one token is refused with how
long until one is there — the ``Retry-After`` a 429 carries (whole seconds, rounded up: the
Synap SDK reads ``int(Retry-After)`` and fails on anything else, reference/synap-wire-contract.md
§3.1). Because the clock is the emulator's, a frozen clock never refills a bucket and
``clock/advance`` does: the same calls give the same 429s on every run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from .errors import RateLimited


@dataclass(slots=True)
class TokenBucket:
    per_second: float
    burst: int
    tokens: float
    updated: datetime

    @classmethod
    def full(cls, per_second: float, burst: int, now: datetime) -> "TokenBucket":
        if not per_second > 0 or burst < 1:
            raise ValueError("a bucket needs per_second > 0 and burst >= 1")
        return cls(per_second, burst, float(burst), now)

    def take(self, now: datetime) -> None:
        """Take a token, or raise :class:`RateLimited` with the whole seconds until one is
        there (the bucket is unchanged then, apart from the refill)."""
        elapsed = (now - self.updated).total_seconds()
        if elapsed > 0:
            self.tokens = min(float(self.burst), self.tokens + elapsed * self.per_second)
            self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return
        wait = max(1, math.ceil((1 - self.tokens) / self.per_second))
        raise RateLimited(
            "rate_limited",
            f"rate limit of {self.per_second:g} requests per second (burst {self.burst}) exceeded; retry in {wait} s",
            details={"retry_after_seconds": wait, "limit": self.burst, "remaining": 0},
        )

    @property
    def remaining(self) -> int:
        return int(self.tokens)
