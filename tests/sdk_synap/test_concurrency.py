"""Concurrent document submissions through maximem-synap 0.6.9 (one SDK per caller, all on one
tenant) that name the same ``document_id``: exactly one document is stored and makes exactly
one set of memories; every other caller is told so.

What "told so" is (reference/decisions.md "Synap", synap-wire-contract.md §2.1/§2.2,
emulator/core/memories.py ``MemoryDesk.problem``): in ``memories.batch_create`` a document whose
``document_id`` is already stored comes back in place as ``failed`` with ``error_message``
"document_id '<id>' already exists" (the call itself is a 200); ``memories.create`` answers the
same case 409, which the SDK raises as ``ConflictError`` (permanent: not retried).

The calls truly overlap: a ``latency_ms`` request fault holds each call in the server before its
handler runs, and the journal shows every call was in flight at once. The ``connect`` fixture's
SDKs have fast retries and fail the test if the SDK logs a warning (no retry happened here).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from maximem_synap import ConflictError, MaximemSynapSDK
from maximem_synap.memories.models import CreateMemoryRequest

from emulator import Emulator
from emulator.core.journal import Entry

from .conftest import Connect
from .state import episodes_of_user, stored_documents

CALLERS = 8
HOLD_MS = 250
SHARED = "shared-doc"


def all_in_flight_together(calls: list[Entry]) -> bool:
    arrivals = [c.at - timedelta(milliseconds=c.duration_ms) for c in calls]
    return max(arrivals) < min(c.at for c in calls)


async def sdks(connect: Connect, emulator: Emulator, count: int) -> list[MaximemSynapSDK]:
    return [await connect(key=emulator.api_key, base_url=emulator.synap_url) for _ in range(count)]


async def test_concurrent_batch_creates_of_one_document_id_store_it_once(emulator: Emulator, connect: Connect) -> None:
    """8 ``batch_create`` calls at once, each with the shared ``document_id`` (each caller's own
    text: "I work at Company<k>") and a document of its own → each call is a 200 whose own
    document is queued; the shared id is queued for exactly one caller and ``failed`` ("already
    exists") for the seven others; one document is stored under it, and the memories are that
    caller's fact alone."""
    clients = await sdks(connect, emulator, CALLERS)
    emulator.faults.request(method="POST", path="/api/v1/memories/batch", latency_ms=HOLD_MS)
    answers = await asyncio.gather(*(
        sdk.memories.batch_create([
            CreateMemoryRequest(document=f"User: I work at Company{k}.", user_id="u1", customer_id="c1",
                                document_id=SHARED),
            CreateMemoryRequest(document=f"User: I live in City{k}.", user_id=f"own{k}", customer_id="c1",
                                document_id=f"own-{k}"),
        ])
        for k, sdk in enumerate(clients)
    ))

    calls = emulator.requests.find(method="POST", path="/api/v1/memories/batch")
    assert [c.status for c in calls] == [200] * CALLERS
    assert all_in_flight_together(calls)
    assert all(a.total == 2 and a.results[1].status == "queued" and a.results[1].document_id == f"own-{k}"
               for k, a in enumerate(answers))
    shared = [a.results[0] for a in answers]
    winners = [k for k, r in enumerate(shared) if r.status == "queued"]
    assert len(winners) == 1
    (winner,) = winners
    losers = [r for k, r in enumerate(shared) if k != winner]
    assert {(r.status, r.document_id, r.error_message) for r in losers} == {
        ("failed", SHARED, f"document_id {SHARED!r} already exists")
    }
    assert sorted((a.succeeded, a.failed) for a in answers) == [(1, 1)] * (CALLERS - 1) + [(2, 0)]

    sdk = clients[0]
    done = await sdk.memories.wait_for_completion(str(shared[winner].ingestion_id), poll_interval_seconds=0.02)
    assert done.status == "completed" and done.memories_created == 1
    memory = await sdk.memories.get(done.memory_ids[0])
    assert memory.content == f"u1 works at Company{winner}"
    for loser in losers:
        refused = await sdk.memories.status(str(loser.ingestion_id))
        assert (refused.status, refused.memories_created, refused.memory_ids) == ("failed", 0, [])
    assert [d["document_id"] for d in stored_documents(emulator)].count(SHARED) == 1
    assert episodes_of_user(emulator, "c1", "u1") == [f"User: I work at Company{winner}."]


@pytest.mark.emulator(processing="manual")
async def test_concurrent_creates_of_one_document_id_store_it_once(emulator: Emulator, connect: Connect) -> None:
    """8 ``memories.create`` calls at once with the same ``document_id`` → one 200 (queued), seven
    409s raised as ``ConflictError`` (never retried: the SDK treats 409 as permanent,
    synap-wire-contract.md §3.1), one stored document, one memory — here with manual processing,
    so the refusals happen while the winner is still queued (a stored id counts from the moment
    it is accepted, not from when it is processed)."""
    clients = await sdks(connect, emulator, CALLERS)
    emulator.faults.request(method="POST", path="/api/v1/memories/create", latency_ms=HOLD_MS)
    outcomes: list[Any] = await asyncio.gather(*(
        sdk.memories.create(document=f"User: I work at Company{k}.", user_id="u1", customer_id="c1", document_id=SHARED)
        for k, sdk in enumerate(clients)
    ), return_exceptions=True)

    calls = emulator.requests.find(method="POST", path="/api/v1/memories/create")
    assert sorted(c.status for c in calls) == [200] + [409] * (CALLERS - 1)  # type: ignore[type-var]
    assert all_in_flight_together(calls)
    refused = [o for o in outcomes if isinstance(o, ConflictError)]
    accepted = [(k, o) for k, o in enumerate(outcomes) if not isinstance(o, BaseException)]
    assert len(refused) == CALLERS - 1 and len(accepted) == 1, outcomes
    assert {str(e) for e in refused} == {f"document_id {SHARED!r} already exists"}
    winner, answer = accepted[0]
    assert (answer.status, answer.document_id) == ("queued", SHARED)

    assert emulator.pending() == 1
    emulator.run_until_idle()
    done = await clients[0].memories.status(str(answer.ingestion_id))
    assert done.status == "completed" and done.memories_created == 1
    assert (await clients[0].memories.get(done.memory_ids[0])).content == f"u1 works at Company{winner}"
    assert [d["document_id"] for d in stored_documents(emulator)] == [SHARED]
    assert episodes_of_user(emulator, "c1", "u1") == [f"User: I work at Company{winner}."]
