"""The plugin's ``zep_v2_client`` (zep-cloud 3.30.0, wire v2) on the ``emulator`` tenant, with
the handle's controls: a manual step, an item fault and a frozen clock, read through v2."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from zep_cloud.client import Zep

from emulator import Emulator


@pytest.mark.emulator(processing="manual")
def test_v2_client_with_steps_faults_and_clock(emulator: Emulator, zep_v2_client: Zep) -> None:
    emulator.clock.freeze(datetime(2030, 1, 1, tzinfo=timezone.utc))
    emulator.faults.item(sequence_index=2, code="boom", message="third item broke")
    zep_v2_client.graph.create(graph_id="crm")
    batch = zep_v2_client.batch.create()
    zep_v2_client.batch.add(batch.batch_id, items=[{"type": "graph_episode", "graph_id": "crm", "data": f"e{i}"}
                                                    for i in range(4)])
    zep_v2_client.batch.process(batch.batch_id)
    assert emulator.step(2) == 2
    assert zep_v2_client.batch.get(batch.batch_id).status == "processing"
    emulator.run_until_idle()
    summary = zep_v2_client.batch.get(batch.batch_id)
    assert summary.status == "partial" and summary.created_at == "2030-01-01T00:00:00Z"
    items = zep_v2_client.batch.list_items(batch.batch_id).items or []
    assert [(i.sequence_index, i.status, i.error) for i in items if i.status != "succeeded"] == [
        (2, "failed", {"code": "boom", "message": "third item broke"})]
    assert [e.status for e in emulator.requests.find(path="/api/v2/batches/*/process")] == [200]
