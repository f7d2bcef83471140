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

from aiohttp import web
from pydantic import ValidationError

from ..core.faults import FAULT_SPEC, ActiveFault
from .control_common import world_of
from .http import API_KEY, Route, json_response, read_object, validation_failure


async def list_faults(request: web.Request) -> web.Response:
    faults = world_of(request).faults.listed(request.get(API_KEY))
    return json_response({"faults": [f.to_json() for f in faults]})


async def add_fault(request: web.Request) -> web.Response:
    try:
        spec = FAULT_SPEC.validate_python(await read_object(request))
    except ValidationError as exc:
        raise validation_failure(exc) from None
    fault = world_of(request).faults.add(spec, request.get(API_KEY))
    return json_response(fault.to_json(), status=201)


async def clear_faults(request: web.Request) -> web.Response:
    return json_response({"cleared": world_of(request).faults.clear(request.get(API_KEY))})


def _fault(request: web.Request) -> ActiveFault:
    return world_of(request).faults.get(request.match_info["fault_id"], request.get(API_KEY))


async def delete_fault(request: web.Request) -> web.Response:
    fault = _fault(request)
    world_of(request).faults.remove(fault)
    return json_response(fault.to_json())


async def release_fault(request: web.Request) -> web.Response:
    fault = _fault(request)
    released = world_of(request).faults.release(fault)
    return json_response({"released": released, "fault": fault.to_json()})


ROUTES = [
    Route("GET", "/faults", list_faults, "faults.list"),
    Route("POST", "/faults", add_fault, "faults.add", status=201),
    Route("DELETE", "/faults", clear_faults, "faults.clear"),
    Route("DELETE", "/faults/{fault_id}", delete_fault, "faults.delete"),
    Route("POST", "/faults/{fault_id}/release", release_fault, "faults.release"),
]
