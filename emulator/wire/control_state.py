"""``/_emulator/state``: snapshots (core/snapshot) over HTTP.

``GET /state`` answers the whole world as versioned JSON, or — with a key — that key's tenants
(Zep and Synap); ``PUT /state`` restores such a document: a world snapshot replaces the whole
world, a tenant snapshot replaces the tenants it holds (with a key: under that key, so one
test's snapshot can be loaded into another test's tenant). A snapshot that does not validate
is a 400 that has changed nothing. Bodies are bounded by the server's request limit
(32 MiB); ``--state-file`` has no such bound.
"""

from __future__ import annotations

from typing import Any, Literal

from aiohttp import web
from typing_extensions import NotRequired, TypedDict

from ..core.errors import InvalidInput
from ..core.snapshot import dump_key, dump_world, load_tenant, load_world
from .control_common import world_of
from .http import API_KEY, Route, json_response, read_object


class Snapshot(TypedDict):
    """A snapshot as core/snapshot's ``dump_world`` / ``dump_key`` write it (the layout is in
    core/snapshot/__init__.py; its models, in schema.py, check what ``PUT /state`` loads):
    the header, the tenants, and for a world snapshot the server-wide settings. The tenants
    and settings are left free-form here."""

    format: str
    version: int
    scope: Literal["world", "tenant"]
    tenants: list[dict[str, Any]]
    clock: NotRequired[dict[str, Any]]
    seed: NotRequired[Any]
    processing: NotRequired[str]
    isolation: NotRequired[str]
    rate_limit: NotRequired[Any]


async def get_state(request: web.Request) -> web.Response:
    world, key = world_of(request), request.get(API_KEY)
    return json_response(dump_world(world) if key is None else dump_key(world, key))


class Restored(TypedDict):
    """What a restore replaced: the whole world, or the tenants of a tenant snapshot; and how
    many tenants there now are (world) or were restored (tenant)."""

    restored: Literal["world", "tenant"]
    tenants: int


async def put_state(request: web.Request) -> web.Response:
    world, key = world_of(request), request.get(API_KEY)
    data = await read_object(request)
    if data.get("scope") == "world":
        if key is not None:
            raise InvalidInput("invalid_state", "a world snapshot replaces every tenant: send it without a key",
                               param="scope")
        load_world(world, data)
        answer: Restored = {"restored": "world", "tenants": len(world.tenants.all())}
        return json_response(answer)
    restored = load_tenant(world, data, key)
    answer = {"restored": "tenant", "tenants": len(restored)}
    return json_response(answer)


ROUTES = [
    # 404: with a key no tenant has.
    Route("GET", "/state", get_state, "state.get", response=Snapshot, errors=(404,)),
    # The body is a snapshot (any JSON object here; core/snapshot's models check it: 400).
    Route("PUT", "/state", put_state, "state.put", dict[str, Any], response=Restored),
]
