"""Replay of keyed requests (Zep v4's ``Idempotency-Key``), as a cache of opaque results.

zep-cloud 4.x sends an ``Idempotency-Key`` on every mutating call and resends the *same* key
on its own retries (reference/zep-wire-contract.md §0 and §5). decisions.md fixes what the
service is silent on:

- keyed by tenant + method + path + key, kept 24 h on the emulator's clock;
- same key, same body: the stored answer is replayed, nothing runs twice;
- same key, different body: 400 ``idempotency_key_reused``;
- same key while the first request is still running: 409 ``idempotency_key_in_use``.

What a key maps to is the caller's business (the HTTP middleware stores status and body), so
this module knows no HTTP. Entries are dropped after 24 h, and, oldest first, whenever a
tenant's stored results pass :data:`MAX_BYTES` — zep-cloud sends a key with every
``add_items``, and a long backfill must not pin every answer it ever got. A retry comes
seconds after its first attempt, long before its entry could be pushed out.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Hashable

from .errors import Conflict, InvalidInput
from .limits import IDEMPOTENCY_TTL_SECONDS

#: Per tenant: the stored results' sizes (as reported by the caller) add up to at most this.
MAX_BYTES = 64 * 1024 * 1024


@dataclass(slots=True)
class _Entry:
    fingerprint: bytes
    stored_at: datetime
    result: Any = None
    size: int = 0
    done: bool = False


class IdempotencyStore:
    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()

    def begin(self, key: Hashable, body: bytes, now: datetime) -> Any | None:
        """The stored result to replay, or None after reserving *key* for this request.

        Raises on a reused key with another body, or on a key whose first use is running."""
        self._expire(now)
        fingerprint = hashlib.sha256(body).digest()
        entry = self._entries.get(key)
        if entry is not None:
            if entry.fingerprint != fingerprint:
                raise InvalidInput(
                    "idempotency_key_reused",
                    "this Idempotency-Key was already used with a different request body",
                    param="Idempotency-Key",
                )
            if not entry.done:
                raise Conflict(
                    "idempotency_key_in_use",
                    "a request with this Idempotency-Key is still being processed",
                    param="Idempotency-Key",
                )
            return entry.result
        self._entries[key] = _Entry(fingerprint=fingerprint, stored_at=now)
        return None

    def finish(self, key: Hashable, result: Any, size: int) -> None:
        """Keep *result* (of *size* bytes) as the answer for *key*."""
        entry = self._entries.get(key)
        if entry is None or entry.done:
            return
        entry.result, entry.size, entry.done = result, size, True
        self.bytes += size
        while self.bytes > self.max_bytes and self._entries:
            self._drop(next(iter(self._entries)))

    def abandon(self, key: Hashable) -> None:
        """Forget a reservation whose request will not be answered from the cache."""
        entry = self._entries.get(key)
        if entry is not None and not entry.done:
            del self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)

    def _drop(self, key: Hashable) -> None:
        self.bytes -= self._entries.pop(key).size

    def _expire(self, now: datetime) -> None:
        horizon = now - timedelta(seconds=IDEMPOTENCY_TTL_SECONDS)
        while self._entries:
            key, entry = next(iter(self._entries.items()))
            if entry.stored_at >= horizon:
                break
            self._drop(key)
