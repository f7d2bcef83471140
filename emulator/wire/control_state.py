"""``/_emulator/state``: snapshots (core/snapshot) over HTTP.

``GET /state`` answers the whole world as versioned JSON, or — with a key — that key's tenants
(Zep and Synap); ``PUT /state`` restores such a document: a world snapshot replaces the whole
world, a tenant snapshot replaces the tenants it holds (with a key: under that key, so one
test's snapshot can be loaded into another test's tenant). A snapshot that does not validate
is a 400 that has changed nothing. Bodies are bounded by the server's request limit
(32 MiB); ``--state-file`` has no such bound.
"""

from __future__ import annotations

from aiohttp import web

from ..core.errors import InvalidInput
from ..core.snapshot import dump_key, dump_world, load_tenant, load_world
from .control_common import world_of
from .http import API_KEY, Route, json_response, read_object


async def get_state(request: web.Request) -> web.Response:
    world, key = world_of(request), request.get(API_KEY)
    return json_response(dump_world(world) if key is None else dump_key(world, key))


async def put_state(request: web.Request) -> web.Response:
    world, key = world_of(request), request.get(API_KEY)
    data = await read_object(request)
    if data.get("scope") == "world":
        if key is not None:
            raise InvalidInput("invalid_state", "a world snapshot replaces every tenant: send it without a key",
                               param="scope")
        load_world(world, data)
        return json_response({"restored": "world", "tenants": len(world.tenants.all())})
    restored = load_tenant(world, data, key)
    return json_response({"restored": "tenant", "tenants": len(restored)})


ROUTES = [
    Route("GET", "/state", get_state, "state.get"),
    Route("PUT", "/state", put_state, "state.put"),
]
