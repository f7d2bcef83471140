"""The control plane under ``/_emulator``: what a test uses to make things happen.

This issue's part: ``health``; ``reset``; ``processing/step`` (``{"items": N}``) and
``processing/run-until-idle``; ``processing`` (PUT ``{"mode": ...}``) to switch the processing
mode; and ``batches/{batch_id}/cancel`` — the only way to reach the ``canceled`` statuses,
since the real service exposes no cancel call (decisions.md "Status flow").

A control call that carries a Zep ``Authorization`` header acts on that tenant only; without
one it acts on every tenant (and, for the mode, on tenants created later).
"""

from __future__ import annotations

from typing import Any, Optional

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from .. import __version__
from ..core.errors import NotFound, Unauthorized
from ..core.processor import ProcessingMode
from ..core.tenants import Service, Tenant
from ..core.world import World
from .http import API_KEY, WORLD, Dialect, ErrorInfo, Route, json_response, read_model
from .zep_common import check_uuid

PREFIX = "/_emulator"


class StepRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: int = Field(default=1, ge=1)


class ModeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: ProcessingMode


def _world(request: web.Request) -> World:
    return request.app[WORLD]


def _tenant_or_none(request: web.Request) -> Optional[Tenant]:
    """The existing Zep tenant named by the request's Authorization header, or None without a
    header. A key no tenant has is a 404: a mistyped key must not look like an idle tenant."""
    key = request.get(API_KEY)
    if key is None:
        return None
    tenant = _world(request).tenants.find(Service.ZEP, key)
    if tenant is None:
        raise NotFound("tenant_not_found", "no tenant has used this API key yet")
    return tenant


def _require_tenant(request: web.Request) -> Tenant:
    tenant = _tenant_or_none(request)
    if tenant is None:
        raise Unauthorized("unauthorized", "this control call needs the tenant's Authorization header")
    return tenant


async def health(request: web.Request) -> web.Response:
    world = _world(request)
    base = f"{request.scheme}://{request.host}"
    return json_response(
        {
            "status": "ok",
            "version": __version__,
            "apis": {"zep_v2": f"{base}/api/v2", "zep_v4": f"{base}/api/v4"},
            "processing": world.processor.default_mode.value,
            "item_seconds": world.processor.item_seconds,
        }
    )


async def step(request: web.Request) -> web.Response:
    body: StepRequest = await read_model(request, StepRequest)
    tenant = _tenant_or_none(request)
    processor = _world(request).processor
    done = processor.step(body.items, tenant.work if tenant else None)
    return json_response({"processed": done, "pending": processor.pending(tenant.work if tenant else None)})


async def run_until_idle(request: web.Request) -> web.Response:
    tenant = _tenant_or_none(request)
    processor = _world(request).processor
    done = processor.run_until_idle(tenant.work if tenant else None)
    return json_response({"processed": done, "pending": processor.pending(tenant.work if tenant else None)})


async def set_mode(request: web.Request) -> web.Response:
    """With a key, that tenant's mode (the tenant is made if it is new, so a test can choose
    its mode before its first call); without, the server's."""
    body: ModeRequest = await read_model(request, ModeRequest)
    world = _world(request)
    key = request.get(API_KEY)
    tenant = world.tenants.get(Service.ZEP, key) if key is not None else None
    if tenant is not None:
        tenant.set_mode(body.mode)
    else:
        world.processor.default_mode = body.mode
        for each in world.tenants.all():
            each.set_mode(body.mode)
    return json_response({"mode": body.mode.value, "scope": "tenant" if tenant else "server"})


async def reset(request: web.Request) -> web.Response:
    """Forget one tenant (the one the Authorization header names) or, without a header,
    every tenant (their data, queued work and idempotency keys) and any server-wide mode
    change, back to the mode the server started with."""
    world = _world(request)
    key = request.get(API_KEY)
    if key is not None:
        dropped = [t for t in world.tenants.all() if t.key == key]
        for tenant in dropped:
            world.tenants.drop(tenant)
        return json_response({"reset": "tenant", "tenants": len(dropped)})
    count = len(world.tenants.all())
    world.tenants.drop_all()
    world.processor.default_mode = world.config.processing
    return json_response({"reset": "all", "tenants": count})


async def cancel_batch(request: web.Request) -> web.Response:
    tenant = _require_tenant(request)
    batch = tenant.batch(check_uuid(request.match_info["batch_id"], "batch_id"))
    tenant.cancel_batch(batch)
    return json_response({"batch_id": batch.uuid, "status": batch.status.value})


def error_body(info: ErrorInfo) -> dict[str, Any]:
    return {"error": {"code": info.code, "message": info.message, "param": info.param, "details": info.details}}


ROUTES = [
    Route("GET", "/health", health, "health"),
    Route("POST", "/processing/step", step, "processing.step", StepRequest),
    Route("POST", "/processing/run-until-idle", run_until_idle, "processing.run_until_idle"),
    Route("PUT", "/processing", set_mode, "processing.set_mode", ModeRequest),
    Route("POST", "/reset", reset, "reset"),
    Route("POST", "/batches/{batch_id}/cancel", cancel_batch, "batch.cancel"),
]

DIALECT = Dialect(
    name="control",
    prefix=PREFIX,
    service=None,
    auth_schemes=("Api-Key", "Bearer"),
    error_body=error_body,
    routes=ROUTES,
)
