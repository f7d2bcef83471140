"""The plugin's ``synap_sdk`` (maximem-synap 0.6.9) on the ``emulator`` tenant, with document
faults: one document failed by ``document_id`` while the rest complete, one held in
``processing`` until released, and a 429 with ``Retry-After`` that the SDK waits out."""

from __future__ import annotations

from typing import Any

import pytest
from maximem_synap.memories.models import CreateMemoryRequest

from emulator import Emulator


def doc(text: str, document_id: str) -> CreateMemoryRequest:
    return CreateMemoryRequest(document=text, user_id="u1", customer_id="c1", document_id=document_id)


async def test_a_document_fault_fails_that_document_only(emulator: Emulator, synap_sdk: Any) -> None:
    fault = emulator.faults.item(document_id="d2", code="extraction_failed", message="the model gave up")
    batch = await synap_sdk.memories.batch_create([doc("User: I live in Paris.", "d1"), doc("User: I work at Acme.", "d2")])
    outcomes = [await synap_sdk.memories.wait_for_completion(str(r.ingestion_id), poll_interval_seconds=0.02)
                for r in batch.results]
    assert [o.status for o in outcomes] == ["completed", "failed"]
    assert outcomes[1].error_message == "the model gave up" and outcomes[1].memories_created == 0
    assert fault.hits == 1


@pytest.mark.emulator(processing="manual")
async def test_a_held_document_stays_processing_until_released(emulator: Emulator, synap_sdk: Any) -> None:
    fault = emulator.faults.item(index=0, action="hold")
    batch = await synap_sdk.memories.batch_create([doc("User: I live in Rome.", "held")])
    ingestion = str(batch.results[0].ingestion_id)
    assert (await synap_sdk.memories.status(ingestion)).status == "queued"
    assert emulator.step() == 1 and emulator.run_until_idle() == 0
    assert (await synap_sdk.memories.status(ingestion)).status == "processing" and len(fault.held) == 1
    emulator.set_processing("instant")
    fault.release()
    done = await synap_sdk.memories.wait_for_completion(ingestion, poll_interval_seconds=0.02)
    assert done.status == "completed" and done.memories_created == 1


async def test_a_429_is_waited_out_by_the_synap_sdk(emulator: Emulator, synap_sdk: Any) -> None:
    emulator.faults.request(method="POST", path="/api/v1/memories/batch", status=429, retry_after=1, times=1)
    batch = await synap_sdk.memories.batch_create([doc("User: I own a bike.", "b1")])
    assert batch.succeeded == 1
    calls = emulator.requests.find(method="POST", path="/api/v1/memories/batch")
    assert [c.status for c in calls] == [429, 200] and calls[0].fault is not None
