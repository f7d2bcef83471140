"""``/_emulator/faults``: the fault rules of core/faults.py over HTTP.

``POST /faults`` adds a rule (the JSON of :class:`~emulator.core.faults.RequestFault`,
``ItemFault`` or ``WebhookFault``, picked by ``kind``) and answers 201 with its id; ``GET``
lists the rules with their hits; ``DELETE /faults`` clears them, ``DELETE /faults/{id}`` one;
``POST /faults/{id}/release`` ends the hold of a ``hold`` rule on the items it keeps (the rule
stays for items still to come). Clearing a rule releases what it held, so nothing stays stuck.
With a key, a call sees and makes only that key's rules (which apply to its tenants alone);
without, every rule, and new rules apply to every tenant.
"""

from __future__ import annotations

from typing import Optional, cast

from aiohttp import web
from pydantic import ValidationError
from typing_extensions import TypedDict

from ..core.faults import FAULT_SPEC, ActiveFault, FaultSpec
from .control_common import Cleared, Scope, world_of
from .http import API_KEY, Route, json_response, read_object, validation_failure


class FaultRecord(TypedDict):
    """A rule in force, as core/faults.py ``ActiveFault.to_json`` writes it: the rule as given
    (its ``kind`` and the fields that differ from their defaults), whom it applies to, how
    often it fired, how many firings are left (null: no limit) and the items a ``hold`` rule
    keeps."""

    id: str
    scope: Scope
    rule: FaultSpec
    hits: int
    remaining: Optional[int]
    held: list[str]


def fault_json(fault: ActiveFault) -> FaultRecord:
    return cast(FaultRecord, fault.to_json())


class FaultList(TypedDict):
    faults: list[FaultRecord]


async def list_faults(request: web.Request) -> web.Response:
    faults = world_of(request).faults.listed(request.get(API_KEY))
    body: FaultList = {"faults": [fault_json(f) for f in faults]}
    return json_response(body)


async def add_fault(request: web.Request) -> web.Response:
    try:
        spec = FAULT_SPEC.validate_python(await read_object(request))
    except ValidationError as exc:
        raise validation_failure(exc) from None
    fault = world_of(request).faults.add(spec, request.get(API_KEY))
    return json_response(fault_json(fault), status=201)


async def clear_faults(request: web.Request) -> web.Response:
    body: Cleared = {"cleared": world_of(request).faults.clear(request.get(API_KEY))}
    return json_response(body)


def _fault(request: web.Request) -> ActiveFault:
    return world_of(request).faults.get(request.match_info["fault_id"], request.get(API_KEY))


async def delete_fault(request: web.Request) -> web.Response:
    fault = _fault(request)
    world_of(request).faults.remove(fault)
    return json_response(fault_json(fault))


class Released(TypedDict):
    """The items a release let go (their uuids), and the rule, which stays."""

    released: list[str]
    fault: FaultRecord


async def release_fault(request: web.Request) -> web.Response:
    fault = _fault(request)
    released = world_of(request).faults.release(fault)
    body: Released = {"released": released, "fault": fault_json(fault)}
    return json_response(body)


ROUTES = [
    Route("GET", "/faults", list_faults, "faults.list", response=FaultList),
    Route("POST", "/faults", add_fault, "faults.add", FAULT_SPEC, 201, FaultRecord),
    Route("DELETE", "/faults", clear_faults, "faults.clear", response=Cleared),
    Route("DELETE", "/faults/{fault_id}", delete_fault, "faults.delete", response=FaultRecord),
    Route("POST", "/faults/{fault_id}/release", release_fault, "faults.release", response=Released),
]
