"""The control plane under ``/_emulator``: what a test uses to make things happen.

So far: ``health``; ``reset``; ``processing/step`` (``{"items": N}``) and
``processing/run-until-idle``; ``processing`` (PUT ``{"mode": ...}``) to switch the processing
mode; ``batches/{batch_id}/cancel`` — the only way to reach the ``canceled`` statuses,
since the real service exposes no cancel call (decisions.md "Status flow"); and ``clock``
(GET reads it; PUT ``{"frozen_at": RFC 3339 | null, "tick_seconds": N}`` freezes it at an
instant or lets it run, and sets how far it moves per processed item; POST ``clock/advance``
``{"seconds": N}``). The clock is the server's, shared by every tenant. ``synap/isolation``
(PUT ``{"isolation": "strict" | "equals_customer"}``) sets Synap's user-context isolation;
``rate-limit`` (PUT ``{"per_second": r, "burst": b}``, null to turn off) the rate-limit mode.

A control call that carries a Zep ``Authorization`` header acts on that tenant only; without
one it acts on every tenant (and, for the mode, on tenants created later).
"""

from __future__ import annotations

from typing import Annotated, Literal, Optional, Union

from aiohttp import web
from pydantic import Field, StrictFloat, StrictInt
from typing_extensions import TypedDict

from .. import __version__
from ..core.batches import BatchStatus
from ..core.clock import MAX_CLOCK_STEP, EmulatorClock
from ..core.memories import Isolation
from ..core.processor import ProcessingMode, WorkQueue
from ..core.tenants import Service
from ..core.timestamps import format_rfc3339, parse_rfc3339
from . import control_faults, control_journal, control_state, control_webhooks, openapi
from .control_common import (
    ControlBody,
    ControlError,
    Scope,
    error_body,
    key_tenants,
    require_tenant,
    scope_name,
    settings_targets,
    world_of,
)
from .http import API_KEY, Dialect, Route, Timestamp, json_response, read_model
from .zep_common import check_uuid

PREFIX = "/_emulator"


class StepRequest(ControlBody):
    items: StrictInt = Field(default=1, ge=1)


class ClockRequest(ControlBody):
    frozen_at: Optional[str] = None
    tick_seconds: StrictFloat = Field(default=0.0, ge=0, le=MAX_CLOCK_STEP, allow_inf_nan=False)


class AdvanceRequest(ControlBody):
    seconds: StrictFloat = Field(ge=0, le=MAX_CLOCK_STEP, allow_inf_nan=False)


class IsolationRequest(ControlBody):
    isolation: Isolation


class RateLimitRequest(ControlBody):
    per_second: Optional[StrictFloat] = Field(gt=0, allow_inf_nan=False)
    burst: StrictInt = Field(default=1, ge=1)


class SeedRequest(ControlBody):
    seed: Union[StrictInt, Annotated[str, Field(min_length=1, max_length=200)]]


class ModeRequest(ControlBody):
    mode: ProcessingMode


class Apis(TypedDict):
    """The base URL of each API this server speaks."""

    zep_v2: str
    zep_v4: str
    synap: str


class Health(TypedDict):
    """The server is up: its version, where each API is, and the processing defaults."""

    status: Literal["ok"]
    version: str
    apis: Apis
    processing: ProcessingMode
    item_seconds: float


async def health(request: web.Request) -> web.Response:
    world = world_of(request)
    base = f"{request.scheme}://{request.host}"
    body: Health = {
        "status": "ok",
        "version": __version__,
        "apis": {"zep_v2": f"{base}/api/v2", "zep_v4": f"{base}/api/v4", "synap": base},
        "processing": world.processor.default_mode.value,
        "item_seconds": world.processor.item_seconds,
    }
    return json_response(body)


class Processed(TypedDict):
    """What a step did: items processed now, and items still waiting in the queues it read."""

    processed: int
    pending: int


async def step(request: web.Request) -> web.Response:
    body: StepRequest = await read_model(request, StepRequest)
    queues = _queues(request)
    processor = world_of(request).processor
    done = processor.step(body.items, queues)
    answer: Processed = {"processed": done, "pending": processor.pending(queues)}
    return json_response(answer)


async def run_until_idle(request: web.Request) -> web.Response:
    queues = _queues(request)
    processor = world_of(request).processor
    done = processor.run_until_idle(queues)
    answer: Processed = {"processed": done, "pending": processor.pending(queues)}
    return json_response(answer)


def _queues(request: web.Request) -> Optional[list[WorkQueue]]:
    """The work queues a step acts on: the key's tenants', or (no key) every tenant's."""
    tenants = key_tenants(request)
    return None if tenants is None else [t.work for t in tenants]


class ModeSet(TypedDict):
    mode: ProcessingMode
    scope: Scope


async def set_mode(request: web.Request) -> web.Response:
    """With a key, the mode of that key's tenants, both services, so Zep and Synap calls alike
    obey; without, the server's."""
    body: ModeRequest = await read_model(request, ModeRequest)
    tenants, keyed = settings_targets(request, tuple(Service))
    if not keyed:
        world_of(request).processor.default_mode = body.mode
    for tenant in tenants:
        tenant.set_mode(body.mode)
    answer: ModeSet = {"mode": body.mode.value, "scope": scope_name(keyed)}
    return json_response(answer)


class ResetDone(TypedDict):
    """What a reset forgot: one key (``tenant``) or everything (``all``), and how many tenants."""

    reset: Literal["tenant", "all"]
    tenants: int


async def reset(request: web.Request) -> web.Response:
    """Forget one key (the one the Authorization header names; :meth:`World.forget`) or,
    without a header, everything, with every server-wide setting put back (:meth:`World.reset`)."""
    world = world_of(request)
    key = request.get(API_KEY)
    answer: ResetDone
    if key is not None:
        answer = {"reset": "tenant", "tenants": world.forget(key)}
    else:
        answer = {"reset": "all", "tenants": world.reset()}
    return json_response(answer)


class Canceled(TypedDict):
    batch_id: str
    status: BatchStatus


async def cancel_batch(request: web.Request) -> web.Response:
    tenant = require_tenant(request)
    batch = tenant.batch(check_uuid(request.match_info["batch_id"], "batch_id"))
    tenant.cancel_batch(batch)
    answer: Canceled = {"batch_id": batch.uuid, "status": batch.status.value}
    return json_response(answer)


def _clock(request: web.Request) -> tuple[EmulatorClock, bool]:
    """The clock a clock call reads or sets: with a key, that key's own (split off the
    server's on first use, so a test's setting stays its own); without, the server's."""
    tenants, keyed = settings_targets(request, tuple(Service))
    if keyed:
        return tenants[0].clock.own(), True
    return world_of(request).clock, False


class ClockState(TypedDict):
    """A clock as it stands: its time, whether it is frozen, its per-item tick, and whose it is."""

    now: Timestamp
    frozen: bool
    tick_seconds: float
    scope: Scope


def _clock_json(clock: EmulatorClock, keyed: bool) -> ClockState:
    return {"now": format_rfc3339(clock.now()), "frozen": clock.frozen, "tick_seconds": clock.tick, "scope": scope_name(keyed)}


async def get_clock(request: web.Request) -> web.Response:
    """The server's clock, or (with a key) what that key reads: its own clock if it has one."""
    tenants = key_tenants(request)
    if tenants is None:
        return json_response(_clock_json(world_of(request).clock, False))
    key_clock = tenants[0].clock
    return json_response(_clock_json(key_clock.current, key_clock.independent))


async def set_clock(request: web.Request) -> web.Response:
    """Freeze at ``frozen_at`` (or, with null, let the clock run on from where it stands) and set
    the per-item tick; both fields are applied, so the answer is the whole new state."""
    body: ClockRequest = await read_model(request, ClockRequest)
    at = None if body.frozen_at is None else parse_rfc3339(body.frozen_at, "frozen_at")
    clock, keyed = _clock(request)
    if at is not None:
        clock.freeze(at)
    else:
        clock.unfreeze()
    clock.tick = body.tick_seconds
    return json_response(_clock_json(clock, keyed))


async def advance_clock(request: web.Request) -> web.Response:
    body: AdvanceRequest = await read_model(request, AdvanceRequest)
    clock, keyed = _clock(request)
    clock.advance(body.seconds)
    return json_response(_clock_json(clock, keyed))


class IsolationSet(TypedDict):
    isolation: Isolation
    scope: Scope


async def set_isolation(request: web.Request) -> web.Response:
    """Synap's ``user_context_isolation``: with a key, that key's Synap tenant; without, the
    server's default for new Synap tenants and every existing one."""
    body: IsolationRequest = await read_model(request, IsolationRequest)
    tenants, keyed = settings_targets(request, (Service.SYNAP,))
    if not keyed:
        world_of(request).tenants.isolation = body.isolation
    for tenant in tenants:
        assert tenant.memories is not None
        tenant.memories.isolation = body.isolation
    answer: IsolationSet = {"isolation": body.isolation.value, "scope": scope_name(keyed)}
    return json_response(answer)


class RateLimitSet(TypedDict):
    """The rate-limit mode as set: ``per_second`` null when it is off."""

    per_second: Optional[float]
    burst: int
    scope: Scope


async def set_rate_limit(request: web.Request) -> web.Response:
    """The rate-limit mode: ``{"per_second": r, "burst": b}`` gives each tenant a full token bucket
    (core/ratelimit.py; a request that finds it empty is a 429 with ``Retry-After``);
    ``{"per_second": null}`` turns it off. With a key, that key's tenants (both services);
    without, every tenant, and the ones made later."""
    body: RateLimitRequest = await read_model(request, RateLimitRequest)
    tenants, keyed = settings_targets(request, tuple(Service))
    if not keyed:
        world_of(request).tenants.rate_limit = None if body.per_second is None else (body.per_second, body.burst)
    for tenant in tenants:
        tenant.limit_rate(body.per_second, body.burst)
    answer: RateLimitSet = {"per_second": body.per_second, "burst": body.burst, "scope": scope_name(keyed)}
    return json_response(answer)


class SeedSet(TypedDict):
    seed: Union[int, str]
    scope: Scope


async def set_seed(request: web.Request) -> web.Response:
    """Seed the ids: with a key, that key's tenants mint from ``seed`` from now on (so the same
    calls give the same ids in every run, whatever the key); without, every tenant's stream
    is re-derived from the new server seed and the key, as ``--seed`` does at start."""
    body: SeedRequest = await read_model(request, SeedRequest)
    tenants, keyed = settings_targets(request, tuple(Service))
    if keyed:
        for tenant in tenants:
            tenant.seed(body.seed)
    else:
        world_of(request).reseed(body.seed)
    answer: SeedSet = {"seed": body.seed, "scope": scope_name(keyed)}
    return json_response(answer)


# 404 on the calls that read the key's existing tenants (key_tenants): a key no tenant has.
ROUTES = [
    Route("GET", "/health", health, "health", response=Health),
    openapi.ROUTE,
    Route("POST", "/processing/step", step, "processing.step", StepRequest, response=Processed, errors=(404,)),
    Route("POST", "/processing/run-until-idle", run_until_idle, "processing.run_until_idle", response=Processed,
          errors=(404,)),
    Route("PUT", "/processing", set_mode, "processing.set_mode", ModeRequest, response=ModeSet),
    Route("POST", "/reset", reset, "reset", response=ResetDone),
    # 409: the batch has already ended.
    Route("POST", "/batches/{batch_id}/cancel", cancel_batch, "batch.cancel", response=Canceled, errors=(409,)),
    Route("PUT", "/synap/isolation", set_isolation, "synap.set_isolation", IsolationRequest, response=IsolationSet),
    Route("PUT", "/rate-limit", set_rate_limit, "rate_limit.set", RateLimitRequest, response=RateLimitSet),
    Route("PUT", "/seed", set_seed, "seed.set", SeedRequest, response=SeedSet),
    Route("GET", "/clock", get_clock, "clock.get", response=ClockState, errors=(404,)),
    Route("PUT", "/clock", set_clock, "clock.set", ClockRequest, response=ClockState),
    Route("POST", "/clock/advance", advance_clock, "clock.advance", AdvanceRequest, response=ClockState),
]

DIALECT = Dialect(
    name="control",
    prefix=PREFIX,
    service=None,
    auth_schemes=("Api-Key", "Bearer"),
    error_body=error_body,
    routes=ROUTES + control_faults.ROUTES + control_journal.ROUTES + control_webhooks.ROUTES + control_state.ROUTES,
    error_schema=ControlError,
    uuid_params=frozenset({"batch_id"}),  # cancel_batch: check_uuid
)
