"""Concurrent calls through zep-cloud 4.0.1 (``AsyncZep``, one client per caller) against one
batch: nothing lost, nothing doubled, each caller's order kept, and a batch processed once.

Why it holds: the emulator's world is single-threaded and a handler never suspends between
reading state and changing it (emulator/app.py reads the whole body first), so each HTTP call
is one atomic step. These tests make the calls truly overlap — a ``latency_ms`` request
fault holds every call in the server before its handler runs — and check from the journal
that they did; a handler that suspended between a look-up and a write (an index handed out
twice, items lost or interleaved, two process calls both accepted) would fail them.

Every client has ``max_retries=0``: zep-cloud 4.x retries 408, 409, 429 and 5xx
(``zep_cloud/core/http_client.py`` ``_should_retry``), and a retried 409 would hide how many
refusals the server gave.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from zep_cloud.client import AsyncZep, Zep
from zep_cloud.errors import ConflictError
from zep_cloud.types import BatchItemInput, ProcessBatchResult

from emulator import Emulator
from emulator.core.journal import Entry

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
    return [AsyncZep(api_key=emulator.api_key, base_url=emulator.zep_v4_url, max_retries=0) for _ in range(count)]


def all_in_flight_together(calls: list[Entry]) -> bool:
    """Whether there was an instant at which every call had arrived and none had been answered
    (journal ``at`` is when the answer was recorded; ``duration_ms`` goes back to arrival)."""
    arrivals = [c.at - timedelta(milliseconds=c.duration_ms) for c in calls]
    return max(arrivals) < min(c.at for c in calls)


def content(client: int, index: int) -> str:
    return f"client {client:02d} item {index:03d}"


@pytest.mark.emulator(processing="manual")
async def test_sixteen_clients_adding_500_items_each_to_one_batch_lose_nothing(
    emulator: Emulator, zep_client: Zep
) -> None:
    """16 ``batch.add_items`` calls of 500 items each, in flight at the same time on one batch
    → the batch holds exactly 8,000 items, and each sent content is stored exactly once.

    ``sequence_index`` is per batch: the item's position in its batch, 0-based, in the order
    the items were appended (zep-cloud 4.0.1 ``BatchItem.sequence_index``: "position within the
    batch, in the order it was appended"; emulator/core/batches.py ``Batch.append`` gives
    ``len(batch.items) + offset``). So the 8,000 indexes are exactly 0..7999, whoever sent them.

    Each call's items keep their sent order (Zep: "Items are appended in request order"), and
    — an add call being one atomic step here — a call's 500 items are one contiguous run of
    indexes, the very ones its own answer reported. v4 items carry no content, so contents are
    read back through the episodes the items write (process, then run to the end)."""
    graph = zep_client.graph.create(name="shared")
    batch = zep_client.batch.create()
    sent = [
        [BatchItemInput(type="graph_episode", graph_uuid=graph.uuid_, data=content(c, i)) for i in range(ITEMS_PER_CLIENT)]
        for c in range(CLIENTS)
    ]
    emulator.faults.request(method="POST", path="/api/v4/batches/*/items", latency_ms=ADD_HOLD_MS)
    answers = await asyncio.gather(
        *(client.batch.add_items(batch.uuid_, items=items)
          for client, items in zip(async_clients(emulator, CLIENTS), sent))
    )

    calls = emulator.requests.find(method="POST", path=f"/api/v4/batches/{batch.uuid_}/items")
    assert [c.status for c in calls] == [200] * CLIENTS
    assert all_in_flight_together(calls)
    total = CLIENTS * ITEMS_PER_CLIENT
    assert zep_client.batch.get(batch.uuid_).item_count == total

    zep_client.batch.process(batch.uuid_)
    assert emulator.run_until_idle() == total
    listed = list(zep_client.batch.list_items(batch.uuid_, page_size=200))
    assert [i.sequence_index for i in listed] == list(range(total))  # unique and contiguous, per batch
    assert len({i.uuid_ for i in listed}) == total
    episodes = {e.uuid_: e.content for e in zep_client.graph.episode.list(graph.uuid_, page_size=200)}
    stored = [episodes[i.episode_uuid] for i in listed if i.episode_uuid is not None]
    assert sorted(stored) == sorted(content(c, i) for c in range(CLIENTS) for i in range(ITEMS_PER_CLIENT))  # each once
    for c in range(CLIENTS):
        mine = [text for text in stored if text is not None and text.startswith(f"client {c:02d} ")]
        assert mine == [content(c, i) for i in range(ITEMS_PER_CLIENT)]  # in sent order

    for c, answer in enumerate(answers):
        assert answer.rejected_items in (None, [])
        indexes = [item.sequence_index for item in answer.items or []]
        assert len(indexes) == ITEMS_PER_CLIENT and indexes[0] is not None
        assert indexes == list(range(indexes[0], indexes[0] + ITEMS_PER_CLIENT))  # one run
        assert [listed[i].uuid_ for i in indexes] == [item.uuid_ for item in answer.items or []]  # type: ignore[index]
        assert stored[indexes[0] : indexes[0] + ITEMS_PER_CLIENT] == [content(c, i) for i in range(ITEMS_PER_CLIENT)]
    runs = sorted(answer.items[0].sequence_index for answer in answers if answer.items)  # type: ignore[misc]
    assert runs == list(range(0, total, ITEMS_PER_CLIENT))  # the 16 runs tile 0..7999


@pytest.mark.emulator(processing="manual")
async def test_ten_concurrent_process_calls_accept_one_and_refuse_nine(emulator: Emulator, zep_client: Zep) -> None:
    """10 ``batch.process`` calls on one filled draft batch, in flight at the same time →
    exactly one 202 (``{batch, task}``), nine 409 ``batch_already_processed`` (decisions.md
    "Process twice"; v4 error body ``{"error": {"code", ...}}``), and the batch is queued once:
    its items are queued once, processed once, and write one episode each."""
    graph = zep_client.graph.create(name="g")
    batch = zep_client.batch.create()
    zep_client.batch.add_items(batch.uuid_, items=[
        BatchItemInput(type="graph_episode", graph_uuid=graph.uuid_, data=f"Alice met Bob on day {i}.") for i in range(20)
    ])
    emulator.faults.request(method="POST", path="/api/v4/batches/*/process", latency_ms=PROCESS_HOLD_MS)
    outcomes: list[Any] = await asyncio.gather(
        *(client.batch.process(batch.uuid_) for client in async_clients(emulator, PROCESS_CALLS)),
        return_exceptions=True,
    )

    accepted = [o for o in outcomes if isinstance(o, ProcessBatchResult)]
    refused = [o for o in outcomes if isinstance(o, ConflictError)]
    assert (len(accepted), len(refused)) == (1, PROCESS_CALLS - 1), outcomes
    assert {(e.status_code, e.body.error.code) for e in refused} == {(409, "batch_already_processed")}
    assert accepted[0].batch is not None and accepted[0].batch.status == "queued"
    calls = emulator.requests.find(method="POST", path=f"/api/v4/batches/{batch.uuid_}/process")
    assert sorted(c.status for c in calls) == [202] + [409] * (PROCESS_CALLS - 1)  # type: ignore[type-var]
    assert all_in_flight_together(calls)

    assert emulator.pending() == 20  # queued once, not ten times
    assert emulator.run_until_idle() == 20
    done = zep_client.batch.get(batch.uuid_)
    assert done.status == "succeeded" and done.progress is not None and done.progress.succeeded_items == 20
    assert accepted[0].task is not None and zep_client.task.get(accepted[0].task.uuid_).status == "succeeded"
    episodes = [e.content for e in zep_client.graph.episode.list(graph.uuid_, page_size=100)]
    assert sorted(episodes) == sorted(f"Alice met Bob on day {i}." for i in range(20))  # one each
