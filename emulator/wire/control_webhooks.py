"""``/_emulator/webhooks``: a Zep tenant's webhook endpoints and its delivery log.

``POST /webhooks`` ``{"url", "secret"?, "events"?, "retry_delays"?}`` registers an endpoint
(201; a ``whsec_`` secret is generated when none is given, and returned); ``GET /webhooks``
lists them; ``DELETE /webhooks/{uuid}`` removes one; ``GET /webhooks/deliveries``
(``?state=``, ``?endpoint=``) is the delivery log, every attempt included. Endpoints belong to
a tenant, so these calls need the tenant's key (Zep's ``Authorization: Api-Key``).
"""

from __future__ import annotations

from typing import Any, Optional, cast

from aiohttp import web
from pydantic import Field, StrictFloat
from typing_extensions import TypedDict

from ..core.errors import InvalidInput
from ..core.tenants import Service, Tenant
from ..core.webhooks import Delivery, DeliveryState, Endpoint, Outbox
from .control_common import ControlBody, settings_targets, world_of
from .http import Route, Timestamp, json_response, read_model, str_param
from .zep_webhooks import outbox_of


class EndpointRequest(ControlBody):
    url: str = Field(min_length=1, max_length=2048)
    secret: Optional[str] = None
    events: Optional[list[str]] = None
    retry_delays: Optional[list[StrictFloat]] = Field(default=None, max_length=20)


class EndpointRecord(TypedDict):
    """A registered endpoint, as core/webhooks.py ``Endpoint.to_json`` writes it: its secret
    included (tests verify signatures with it); ``url`` null for an in-process callback;
    ``events`` null for every event."""

    uuid: str
    url: Optional[str]
    in_process: bool
    secret: str
    events: Optional[list[str]]
    retry_delays: list[float]
    created_at: Timestamp


def endpoint_json(endpoint: Endpoint) -> EndpointRecord:
    return cast(EndpointRecord, endpoint.to_json())


class DeliveryFault(TypedDict):
    """A webhook fault's effect on a delivery (core/webhooks.py ``DeliveryFault.to_json``)."""

    drop: bool
    delay_seconds: float
    duplicate: bool


class Attempt(TypedDict):
    """One send (``Attempt.to_json``): ``status_code`` null without an HTTP answer, ``error``
    null without an error, ``timestamp`` the unix second it was signed with."""

    number: int
    at: Timestamp
    status_code: Optional[int]
    error: Optional[str]
    duration_ms: float
    timestamp: int
    duplicate: bool


class DeliveryRecord(TypedDict):
    """One event to one endpoint and every attempt at it (``Delivery.to_json``); ``payload``
    is the event as sent."""

    uuid: str
    endpoint_uuid: str
    msg_id: str
    event_name: str
    payload: dict[str, Any]
    state: DeliveryState
    fault: Optional[DeliveryFault]
    attempts: list[Attempt]
    created_at: Timestamp


def delivery_json(delivery: Delivery) -> DeliveryRecord:
    return cast(DeliveryRecord, delivery.to_json())


class EndpointList(TypedDict):
    endpoints: list[EndpointRecord]


class DeliveryList(TypedDict):
    deliveries: list[DeliveryRecord]


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
    return json_response(endpoint_json(endpoint), status=201)


async def list_endpoints(request: web.Request) -> web.Response:
    body: EndpointList = {"endpoints": [endpoint_json(e) for e in _outbox(request).endpoints()]}
    return json_response(body)


async def remove_endpoint(request: web.Request) -> web.Response:
    return json_response(endpoint_json(_outbox(request).remove(request.match_info["endpoint_id"])))


async def list_deliveries(request: web.Request) -> web.Response:
    raw_state = request.query.get("state")
    try:
        state = DeliveryState(raw_state) if raw_state else None
    except ValueError:
        choices = ", ".join(s.value for s in DeliveryState)
        raise InvalidInput("invalid_parameter", f"state must be one of {choices}", param="state") from None
    deliveries = _outbox(request).deliveries(endpoint_uuid=request.query.get("endpoint") or None, state=state)
    body: DeliveryList = {"deliveries": [delivery_json(d) for d in deliveries]}
    return json_response(body)


ROUTES = [
    Route("POST", "/webhooks", add_endpoint, "webhooks.add", EndpointRequest, 201, EndpointRecord),
    # 400 (here and on delete): without the tenant's Authorization header (tenant_required).
    Route("GET", "/webhooks", list_endpoints, "webhooks.list", response=EndpointList, errors=(400,)),
    Route("GET", "/webhooks/deliveries", list_deliveries, "webhooks.deliveries", response=DeliveryList,
          query=(str_param("state", "only deliveries in this state", tuple(s.value for s in DeliveryState)),
                 str_param("endpoint", "only deliveries to this endpoint (uuid)"))),
    Route("DELETE", "/webhooks/{endpoint_id}", remove_endpoint, "webhooks.delete", response=EndpointRecord, errors=(400,)),
]
