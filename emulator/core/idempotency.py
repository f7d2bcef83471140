"""Idempotency-Key replay (Zep v4).

zep-cloud 4.x sends an ``Idempotency-Key`` on every mutating call and resends the *same* key
on its own retries (reference/zep-wire-contract.md §0 and §5). decisions.md fixes what the
service is silent on:

- keyed by tenant + method + path + key, kept 24 h on the emulator's clock;
- same key, same body: the stored status and body are replayed, nothing runs twice;
- same key, different body: 400 ``idempotency_key_reused``;
- same key while the first request is still running: 409 ``idempotency_key_in_use``.

Only successful (2xx) answers are stored: a 4xx changed nothing, so answering a retry afresh
is both safe and what a client fixing its state between attempts needs.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from .errors import Conflict, InvalidInput
from .limits import IDEMPOTENCY_TTL_SECONDS


@dataclass(slots=True)
class StoredResponse:
    fingerprint: str
    stored_at: datetime
    status: int | None = None  # None while the first request is still running
    body: bytes = b""
    content_type: str | None = None
    request_id: str | None = None


class IdempotencyStore:
    def __init__(self) -> None:
        self._entries: OrderedDict[tuple[str, str, str], StoredResponse] = OrderedDict()

    @staticmethod
    def fingerprint(body: bytes) -> str:
        return hashlib.sha256(body).hexdigest()

    def begin(self, key: tuple[str, str, str], body: bytes, now: datetime) -> StoredResponse | None:
        """Return the stored answer to replay, or None after reserving *key* for this request.

        Raises on a reused key with another body, or on a key whose first use is running."""
        self._expire(now)
        fingerprint = self.fingerprint(body)
        entry = self._entries.get(key)
        if entry is not None:
            if entry.fingerprint != fingerprint:
                raise InvalidInput(
                    "idempotency_key_reused",
                    "this Idempotency-Key was already used with a different request body",
                    param="Idempotency-Key",
                )
            if entry.status is None:
                raise Conflict(
                    "idempotency_key_in_use",
                    "a request with this Idempotency-Key is still being processed",
                    param="Idempotency-Key",
                )
            return entry
        self._entries[key] = StoredResponse(fingerprint=fingerprint, stored_at=now)
        return None

    def finish(
        self, key: tuple[str, str, str], status: int, body: bytes, content_type: str | None, request_id: str
    ) -> None:
        entry = self._entries.get(key)
        if entry is None:
            return
        if 200 <= status < 300:
            entry.status, entry.body, entry.content_type, entry.request_id = status, body, content_type, request_id
        else:
            del self._entries[key]

    def abandon(self, key: tuple[str, str, str]) -> None:
        entry = self._entries.get(key)
        if entry is not None and entry.status is None:
            del self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)

    def _expire(self, now: datetime) -> None:
        horizon = now - timedelta(seconds=IDEMPOTENCY_TTL_SECONDS)
        while self._entries:
            key, entry = next(iter(self._entries.items()))
            if entry.stored_at >= horizon:
                break
            del self._entries[key]
