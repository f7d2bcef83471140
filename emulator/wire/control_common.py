"""What every control-plane module shares: the world, whom a call acts on, the error body."""

from __future__ import annotations

from typing import Any, Literal, Optional

from aiohttp import web
from pydantic import BaseModel, ConfigDict
from typing_extensions import TypedDict

from ..core.errors import NotFound, Unauthorized
from ..core.tenants import Service, Tenant
from ..core.world import World
from .http import API_KEY, WORLD, ErrorInfo


class ControlBody(BaseModel):
    """A control call's JSON body: unknown fields are refused. ``defer_build``: the schema is
    made on first use, not at import — most control routes are never called by a given run,
    and start-up time is a target (benchmarks/startup.py)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


def world_of(request: web.Request) -> World:
    return request.app[WORLD]


def key_tenants(request: web.Request) -> Optional[list[Tenant]]:
    """The existing tenants (Zep, Synap, or both) of the request's API key, or None without a
    header. A key no tenant has is a 404: a mistyped key must not look like an idle tenant."""
    key = request.get(API_KEY)
    if key is None:
        return None
    tenants = [t for t in (world_of(request).tenants.find(service, key) for service in Service) if t is not None]
    if not tenants:
        raise NotFound("tenant_not_found", "no tenant has used this API key yet")
    return tenants


def require_tenant(request: web.Request) -> Tenant:
    """The Zep tenant of the request's key: 401 without a header, 404 for a key no Zep tenant
    has (a mistyped key must not look like an idle tenant)."""
    key = request.get(API_KEY)
    if key is None:
        raise Unauthorized("unauthorized", "this control call needs the tenant's Authorization header")
    tenant = world_of(request).tenants.find(Service.ZEP, key)
    if tenant is None:
        raise NotFound("tenant_not_found", "no tenant has used this API key yet")
    return tenant


def settings_targets(request: web.Request, services: tuple[Service, ...]) -> tuple[list[Tenant], bool]:
    """Whom a setting applies to: with a key, that key's tenants of *services*, made if new (so
    a test can choose before its first call); without, every existing tenant of *services* (the
    caller also changes the default for later ones). Returns the tenants and whether a key
    named them."""
    world = world_of(request)
    key = request.get(API_KEY)
    if key is not None:
        return [world.tenants.get(service, key) for service in services], True
    return [t for t in world.tenants.all() if t.service in services], False


#: Whom a setting was applied to: the key's tenants, or the server (every tenant, and later ones).
Scope = Literal["tenant", "server"]


def scope_name(keyed: bool) -> Scope:
    return "tenant" if keyed else "server"


class Cleared(TypedDict):
    """How many records a clear removed."""

    cleared: int


class ErrorDetail(TypedDict):
    code: str
    message: str
    param: Optional[str]
    details: Optional[dict[str, Any]]


class ControlError(TypedDict):
    """The control plane's error body (the emulator's own; no SDK reads it)."""

    error: ErrorDetail


def error_body(info: ErrorInfo) -> ControlError:
    return {"error": {"code": info.code, "message": info.message, "param": info.param, "details": info.details}}


