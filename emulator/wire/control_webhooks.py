"""``/_emulator/webhooks``: a Zep tenant's webhook endpoints and its delivery log.

``POST /webhooks`` ``{"url", "secret"?, "events"?, "retry_delays"?}`` registers an endpoint
(201; a ``whsec_`` secret is generated when none is given, and returned); ``GET /webhooks``
lists them; ``DELETE /webhooks/{uuid}`` removes one; ``GET /webhooks/deliveries``
(``?state=``, ``?endpoint=``) is the delivery log, every attempt included. Endpoints belong to
a tenant, so these calls need the tenant's key (Zep's ``Authorization: Api-Key``).
"""

from __future__ import annotations

from typing import Optional

from aiohttp import web
from pydantic import Field

from ..core.errors import InvalidInput
from ..core.tenants import Service, Tenant
from ..core.webhooks import DeliveryState, Outbox
from .control_common import ControlBody, settings_targets, world_of
from .http import Route, json_response, read_model
from .zep_webhooks import outbox_of


class EndpointRequest(ControlBody):
    url: str = Field(min_length=1, max_length=2048)
    secret: Optional[str] = None
    events: Optional[list[str]] = None
    retry_delays: Optional[list[float]] = Field(default=None, max_length=20)


def _zep_tenant(request: web.Request) -> Tenant:
    tenants, keyed = settings_targets(request, (Service.ZEP,))
    if not keyed:
        raise InvalidInput("tenant_required", "webhook calls need the tenant's Authorization header")
    return tenants[0]


def _outbox(request: web.Request) -> Outbox:
    return outbox_of(_zep_tenant(request), world_of(request).send_webhooks)


async def add_endpoint(request: web.Request) -> web.Response:
    body: EndpointRequest = await read_model(request, EndpointRequest)
    tenant = _zep_tenant(request)
    outbox = outbox_of(tenant, world_of(request).send_webhooks)
    endpoint = outbox.register(url=body.url, secret=body.secret, events=body.events, retry_delays=body.retry_delays,
                               now=tenant.clock.now())
    return json_response(endpoint.to_json(), status=201)


async def list_endpoints(request: web.Request) -> web.Response:
    return json_response({"endpoints": [e.to_json() for e in _outbox(request).endpoints()]})


async def remove_endpoint(request: web.Request) -> web.Response:
    return json_response(_outbox(request).remove(request.match_info["endpoint_id"]).to_json())


async def list_deliveries(request: web.Request) -> web.Response:
    raw_state = request.query.get("state")
    try:
        state = DeliveryState(raw_state) if raw_state else None
    except ValueError:
        choices = ", ".join(s.value for s in DeliveryState)
        raise InvalidInput("invalid_parameter", f"state must be one of {choices}", param="state") from None
    deliveries = _outbox(request).deliveries(endpoint_uuid=request.query.get("endpoint") or None, state=state)
    return json_response({"deliveries": [d.to_json() for d in deliveries]})


ROUTES = [
    Route("POST", "/webhooks", add_endpoint, "webhooks.add", EndpointRequest, 201),
    Route("GET", "/webhooks", list_endpoints, "webhooks.list"),
    Route("GET", "/webhooks/deliveries", list_deliveries, "webhooks.deliveries"),
    Route("DELETE", "/webhooks/{endpoint_id}", remove_endpoint, "webhooks.delete"),
]
