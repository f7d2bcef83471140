"""The request journal: every call the server answered, newest last, in a bounded ring.

What a test asks of it (issue 5): what was called, by whom, with what answer and how long it
took; whether a retry was answered from an earlier call's ``Idempotency-Key`` (``replayed``
names that call's request id); which fault, if any, shaped the answer. The ring keeps the last
``capacity`` entries (default 10,000), so a server that runs for days stays bounded; bodies are
kept up to ``BODY_PREVIEW_BYTES`` each, enough to read what a small call sent, while a
500-item add costs the journal a few KiB, not its payload.
"""

from __future__ import annotations

import fnmatch
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .timestamps import format_rfc3339

DEFAULT_CAPACITY = 10_000
BODY_PREVIEW_BYTES = 4096


@dataclass(slots=True, eq=False)
class Entry:
    #: The request id the server answered with (``X-Request-Id``); ids grow with arrival.
    id: str
    serial: int
    at: datetime
    method: str
    path: str
    query: str
    #: The API (``zep-v2``, ``zep-v4``, ``synap``, ``control``, or ``root`` for unknown paths).
    api: str
    #: The API key the call carried, if any.
    tenant: str | None
    #: The answer's status; None when the connection was dropped without one.
    status: int | None
    duration_ms: float
    idempotency_key: str | None = None
    #: The request id of the earlier call whose stored answer this one replayed.
    replayed: str | None = None
    #: The id of the fault rule that shaped the answer.
    fault: str | None = None
    request_body: bytes = b""
    response_body: bytes = b""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "serial": self.serial,
            "at": format_rfc3339(self.at),
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "api": self.api,
            "tenant": self.tenant,
            "status": self.status,
            "duration_ms": round(self.duration_ms, 3),
            "idempotency_key": self.idempotency_key,
            "replayed": self.replayed,
            "fault": self.fault,
            "request_body": _text(self.request_body),
            "response_body": _text(self.response_body),
        }


def _text(body: bytes) -> str:
    return body[:BODY_PREVIEW_BYTES].decode("utf-8", "replace")


def preview(body: bytes) -> bytes:
    """What the journal keeps of a body."""
    return body if len(body) <= BODY_PREVIEW_BYTES else body[:BODY_PREVIEW_BYTES]


@dataclass(frozen=True, slots=True)
class Query:
    """A filter on entries; every field that is set must match."""

    method: str | None = None
    #: A shell-style glob on the path (``*`` crosses ``/``).
    path: str | None = None
    api: str | None = None
    tenant: str | None = None
    status: int | None = None
    #: Only entries after the one with this serial.
    after: int | None = None

    def matches(self, entry: Entry) -> bool:
        return (
            (self.method is None or entry.method == self.method.upper())
            and (self.api is None or entry.api == self.api)
            and (self.tenant is None or entry.tenant == self.tenant)
            and (self.status is None or entry.status == self.status)
            and (self.after is None or entry.serial > self.after)
            and (self.path is None or fnmatch.fnmatchcase(entry.path, self.path))
        )


class Journal:
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.entries: deque[Entry] = deque(maxlen=capacity)
        self.serial = 0

    @property
    def capacity(self) -> int:
        return self.entries.maxlen or 0

    def next_serial(self) -> int:
        self.serial += 1
        return self.serial

    def record(self, entry: Entry) -> None:
        self.entries.append(entry)

    def find(self, query: Query = Query(), limit: int | None = None) -> list[Entry]:
        """Matching entries, oldest first; with *limit*, the newest *limit* of them."""
        found = [e for e in self.entries if query.matches(e)]
        return found if limit is None else found[-limit:] if limit else []

    def clear(self, tenant: str | None = None) -> int:
        """Forget every entry (None) or a tenant's; returns how many."""
        before = len(self.entries)
        if tenant is None:
            self.entries.clear()
        else:
            kept = [e for e in self.entries if e.tenant != tenant]
            self.entries.clear()
            self.entries.extend(kept)
        return before - len(self.entries)
