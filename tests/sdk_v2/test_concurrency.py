"""Concurrent calls through zep-cloud 3.30.0 (``AsyncZep``, one client per caller) against one
v2 batch: nothing lost, nothing doubled, each caller's order kept, and a batch processed once.

The v2 analogue of tests/sdk_v4/test_concurrency.py. The emulator answers each HTTP call as one
atomic step (its world is single-threaded and a handler never suspends between a look-up and a
write); a ``latency_ms`` request fault holds every call in the server before its handler
runs, and the journal shows that all of them were in flight together. zep-cloud 3.x retries
nothing unless a call passes ``request_options={"max_retries": N}`` (wire contract §5), so
each answer below is the server's first.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from zep_cloud import BatchAddItem, BatchItemDetail
from zep_cloud.client import AsyncZep, Zep
from zep_cloud.errors import ConflictError
from zep_cloud.types import BatchSummary

from emulator import Emulator
from emulator.core.journal import Entry

pytestmark = pytest.mark.zep_v2

CLIENTS = 16
ITEMS_PER_CLIENT = 500
PROCESS_CALLS = 10
#: How long a latency fault holds each call in the server before its handler runs: long enough
#: that every caller has sent its call before the first is answered (the SDK builds the 16
#: bodies of 500 items one after another; the process calls are small).
ADD_HOLD_MS = 500
PROCESS_HOLD_MS = 250


def async_clients(emulator: Emulator, count: int) -> list[AsyncZep]:
    """*count* separate SDK clients (each its own httpx pool) on the test's tenant."""
    return [AsyncZep(api_key=emulator.api_key, base_url=emulator.zep_v2_url) for _ in range(count)]


def all_in_flight_together(calls: list[Entry]) -> bool:
    """Whether there was an instant at which every call had arrived and none had been answered."""
    arrivals = [c.at - timedelta(milliseconds=c.duration_ms) for c in calls]
    return max(arrivals) < min(c.at for c in calls)


def content(client: int, index: int) -> str:
    return f"client {client:02d} item {index:03d}"


def all_items(zep: Zep, batch_id: str) -> list[BatchItemDetail]:
    """Every item of a batch, paging with v2's integer cursor (``limit`` at most 200)."""
    items: list[BatchItemDetail] = []
    cursor: int | None = None
    while True:
        page = zep.batch.list_items(batch_id, limit=200, cursor=cursor)
        items.extend(page.items or [])
        if page.next_cursor is None:
            return items
        cursor = page.next_cursor


@pytest.mark.emulator(processing="manual")
async def test_sixteen_clients_adding_500_items_each_to_one_batch_lose_nothing(
    emulator: Emulator, zep_v2_client: Zep
) -> None:
    """16 ``batch.add`` calls of 500 items each, in flight at the same time on one batch → the
    batch holds exactly 8,000 items and each sent content is stored exactly once.

    ``sequence_index`` is per batch (zep-cloud 3.30.0 ``BatchItemDetail.sequence_index``;
    emulator/core/batches.py ``Batch.append``: ``len(batch.items) + offset``), so the indexes
    are exactly 0..7999. Each call's items keep their sent order ("Items are appended in request
    order", the 3.30.0 ``add`` docstring) and, an add being one atomic step here, form one
    contiguous run of indexes — the ones the call's own answer (a bare array) reported."""
    zep_v2_client.graph.create(graph_id="shared")
    batch = zep_v2_client.batch.create()
    assert batch.batch_id is not None
    sent = [
        [BatchAddItem(type="graph_episode", graph_id="shared", data=content(c, i)) for i in range(ITEMS_PER_CLIENT)]
        for c in range(CLIENTS)
    ]
    emulator.faults.request(method="POST", path="/api/v2/batches/*/items", latency_ms=ADD_HOLD_MS)
    answers = await asyncio.gather(
        *(client.batch.add(batch.batch_id, items=items)
          for client, items in zip(async_clients(emulator, CLIENTS), sent))
    )

    calls = emulator.requests.find(method="POST", path=f"/api/v2/batches/{batch.batch_id}/items")
    assert [c.status for c in calls] == [200] * CLIENTS
    assert all_in_flight_together(calls)
    total = CLIENTS * ITEMS_PER_CLIENT
    assert zep_v2_client.batch.get(batch.batch_id).item_count == total

    zep_v2_client.batch.process(batch.batch_id)
    assert emulator.run_until_idle() == total
    listed = all_items(zep_v2_client, batch.batch_id)
    assert [i.sequence_index for i in listed] == list(range(total))  # unique and contiguous, per batch
    assert len({i.item_id for i in listed}) == total
    episodes = {e.uuid_: e.content for e in zep_v2_client.graph.episode.get_by_graph_id("shared").episodes or []}
    stored = [episodes[i.episode_uuid] for i in listed if i.episode_uuid is not None]
    assert sorted(stored) == sorted(content(c, i) for c in range(CLIENTS) for i in range(ITEMS_PER_CLIENT))  # each once
    for c in range(CLIENTS):
        mine = [text for text in stored if text is not None and text.startswith(f"client {c:02d} ")]
        assert mine == [content(c, i) for i in range(ITEMS_PER_CLIENT)]  # in sent order

    for c, answer in enumerate(answers):
        indexes = [item.sequence_index for item in answer]
        assert len(indexes) == ITEMS_PER_CLIENT and indexes[0] is not None
        assert indexes == list(range(indexes[0], indexes[0] + ITEMS_PER_CLIENT))  # one run
        assert [listed[i].item_id for i in indexes] == [item.item_id for item in answer]  # type: ignore[index]
        assert stored[indexes[0] : indexes[0] + ITEMS_PER_CLIENT] == [content(c, i) for i in range(ITEMS_PER_CLIENT)]
    runs = sorted(answer[0].sequence_index for answer in answers)  # type: ignore[type-var]
    assert runs == list(range(0, total, ITEMS_PER_CLIENT))  # the 16 runs tile 0..7999


@pytest.mark.emulator(processing="manual")
async def test_ten_concurrent_process_calls_accept_one_and_refuse_nine(emulator: Emulator, zep_v2_client: Zep) -> None:
    """10 ``batch.process`` calls on one filled draft batch, in flight at the same time →
    exactly one 200 (the batch summary, ``queued``), nine 409 — the 3.30.0 docstring: "Repeated
    calls return a conflict"; v2 error body ``{"message"}`` with the emulator's ``code``
    ``batch_already_processed`` beside it — and the batch is queued once: its items are queued
    once, processed once, and write one episode each."""
    zep_v2_client.graph.create(graph_id="g")
    batch = zep_v2_client.batch.create()
    assert batch.batch_id is not None
    zep_v2_client.batch.add(batch.batch_id, items=[
        BatchAddItem(type="graph_episode", graph_id="g", data=f"Alice met Bob on day {i}.") for i in range(20)
    ])
    emulator.faults.request(method="POST", path="/api/v2/batches/*/process", latency_ms=PROCESS_HOLD_MS)
    outcomes: list[Any] = await asyncio.gather(
        *(client.batch.process(batch.batch_id) for client in async_clients(emulator, PROCESS_CALLS)),
        return_exceptions=True,
    )

    accepted = [o for o in outcomes if isinstance(o, BatchSummary)]
    refused = [o for o in outcomes if isinstance(o, ConflictError)]
    assert (len(accepted), len(refused)) == (1, PROCESS_CALLS - 1), outcomes
    assert {(e.status_code, getattr(e.body, "code", None)) for e in refused} == {(409, "batch_already_processed")}
    assert all("only a draft batch can be processed" in (e.body.message or "") for e in refused)
    assert accepted[0].status == "queued"
    calls = emulator.requests.find(method="POST", path=f"/api/v2/batches/{batch.batch_id}/process")
    assert sorted(c.status for c in calls) == [200] + [409] * (PROCESS_CALLS - 1)  # type: ignore[type-var]
    assert all_in_flight_together(calls)

    assert emulator.pending() == 20  # queued once, not ten times
    assert emulator.run_until_idle() == 20
    done = zep_v2_client.batch.get(batch.batch_id)
    assert done.status == "succeeded" and done.progress is not None and done.progress.succeeded_items == 20
    episodes = [e.content for e in zep_v2_client.graph.episode.get_by_graph_id("g").episodes or []]
    assert sorted(episodes) == sorted(f"Alice met Bob on day {i}." for i in range(20))  # one each
