"""``/_emulator/requests``: the request journal (core/journal.py) over HTTP.

``GET /requests`` lists entries oldest first, filtered by ``method``, ``path`` (a glob),
``api``, ``status`` and ``after`` (a serial: only later entries, for polling), the newest
``limit`` of them (default 100, at most the journal's capacity); with a key, only that key's
calls. ``DELETE /requests`` forgets them (with a key, that key's).
"""

from __future__ import annotations

from aiohttp import web

from ..core.journal import Query
from .control_common import world_of
from .http import API_KEY, Route, json_response, query_int


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
    return json_response({"requests": [e.to_json() for e in entries], "last_serial": journal.serial})


async def clear_requests(request: web.Request) -> web.Response:
    return json_response({"cleared": world_of(request).journal.clear(request.get(API_KEY))})


ROUTES = [
    Route("GET", "/requests", list_requests, "requests.list"),
    Route("DELETE", "/requests", clear_requests, "requests.clear"),
]
