"""``/_emulator/requests``: the request journal (core/journal.py) over HTTP.

``GET /requests`` lists entries oldest first, filtered by ``method``, ``path`` (a glob),
``api``, ``status`` and ``after`` (a serial: only later entries, for polling), the newest
``limit`` of them (default 100, at most the journal's capacity); with a key, only that key's
calls. ``DELETE /requests`` forgets them (with a key, that key's).
"""

from __future__ import annotations

from typing import Optional, cast

from aiohttp import web
from typing_extensions import TypedDict

from ..core.journal import DEFAULT_CAPACITY, Entry, Query
from .control_common import Cleared, world_of
from .http import API_KEY, Route, Timestamp, int_param, json_response, query_int, str_param


class JournalEntry(TypedDict):
    """One answered call, as core/journal.py ``Entry.to_json`` writes it (bodies as text, cut
    at ``BODY_PREVIEW_BYTES``; ``status`` null when the connection was dropped unanswered)."""

    id: str
    serial: int
    at: Timestamp
    method: str
    path: str
    query: str
    api: str
    tenant: Optional[str]
    status: Optional[int]
    duration_ms: float
    idempotency_key: Optional[str]
    replayed: Optional[str]
    fault: Optional[str]
    request_body: str
    response_body: str


def entry_json(entry: Entry) -> JournalEntry:
    return cast(JournalEntry, entry.to_json())


class JournalPage(TypedDict):
    """The matching entries, oldest first, and the journal's latest serial (for ``after``)."""

    requests: list[JournalEntry]
    last_serial: int


async def list_requests(request: web.Request) -> web.Response:
    journal = world_of(request).journal
    query = Query(
        method=request.query.get("method") or None,
        path=request.query.get("path") or None,
        api=request.query.get("api") or None,
        tenant=request.get(API_KEY),
        status=query_int(request, "status", None, 100, 599),
        after=query_int(request, "after", None, 0, None),
    )
    limit = query_int(request, "limit", 100, 1, max(journal.capacity, 1))
    entries = journal.find(query, limit)
    body: JournalPage = {"requests": [entry_json(e) for e in entries], "last_serial": journal.serial}
    return json_response(body)


async def clear_requests(request: web.Request) -> web.Response:
    body: Cleared = {"cleared": world_of(request).journal.clear(request.get(API_KEY))}
    return json_response(body)


QUERY = (
    str_param("method", "only calls of this HTTP method"),
    str_param("path", "only calls whose path matches this glob (* crosses /)"),
    str_param("api", "only calls to this API: zep-v2, zep-v4, synap, synap-docs, synap-health, control or root"),
    int_param("status", 100, 599, "only answers with this status"),
    int_param("after", 0, description="only entries with a later serial (for polling)"),
    # The upper bound is the journal's capacity, which the server's configuration sets.
    int_param("limit", 1, description=f"the newest n entries (default 100; at most the journal's capacity, "
                                      f"{DEFAULT_CAPACITY} unless configured)"),
)

ROUTES = [
    Route("GET", "/requests", list_requests, "requests.list", response=JournalPage, query=QUERY),
    Route("DELETE", "/requests", clear_requests, "requests.clear", response=Cleared),
]
