"""zep-ingest 0.4.0's Batch API path, end to end against the emulator.

zep-ingest drives zep-cloud 4.0.1 (reference/zep-wire-contract.md §7): ``batch.create``
(the probe), ``add_items`` in pages of at most 350, ``process``, then ``wait()`` polls
``batch.get`` and ``failed_items()`` pages through ``list_items`` keeping the failed ones.
These tests run that code unchanged and check both what it reports and what the emulator
holds afterwards (through the SDK). The session server is instant, so ``wait()`` ends on its
first poll; one test uses manual mode to see it time out while the batch is queued.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from zep_cloud.client import Zep
from zep_cloud.types import BatchItem
from zep_ingest import (
    AddError,
    IngestFailedError,
    IngestTimeoutError,
    Pipeline,
    ThreadMessage,
    ingest,
    ingest_thread_messages,
)
from zep_ingest.types import Episode

from emulator.server import BackgroundServer

BASE_TIME = datetime(2024, 6, 15, 10, 30, tzinfo=timezone.utc)
POLL = 0.01  # seconds; instant mode makes a single poll enough anyway


class ListLoader:
    """A zep-ingest Loader over an in-memory list of episodes."""

    def __init__(self, episodes: list[Episode]) -> None:
        self.episodes = episodes

    def load(self) -> Iterator[Episode]:
        return iter(self.episodes)


class Recorder:
    """Records (method, path, number of items sent) for every request the SDK makes."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, int | None]] = []

    def __call__(self, request: httpx.Request) -> None:
        count = None
        if request.method == "POST" and request.url.path.endswith("/items"):
            count = len(json.loads(request.content)["items"])
        self.calls.append((request.method, request.url.path, count))


def recording_client(server: BackgroundServer, api_key: str) -> tuple[Zep, Recorder]:
    recorder = Recorder()
    http = httpx.Client(timeout=30, event_hooks={"request": [recorder]})
    return Zep(api_key=api_key, base_url=server.zep_v4_url, max_retries=0, httpx_client=http), recorder


def stamp(i: int) -> str:
    return (BASE_TIME + timedelta(hours=i)).strftime("%Y-%m-%dT%H:%M:%SZ")


def episodes(count: int, bad_json_at: frozenset[int] = frozenset()) -> list[Episode]:
    """*count* episodes; those at *bad_json_at* are json episodes whose data does not parse
    (zep-ingest does not parse JSON client-side, so they reach the server)."""
    made: list[Episode] = []
    for i in range(count):
        if i in bad_json_at:
            made.append(Episode(data='{"sku": ' + str(i), data_type="json", created_at=stamp(i)))
        elif i % 2:
            record = json.dumps({"sku": i, "name": f"item {i}"})
            made.append(Episode(data=record, data_type="json", created_at=stamp(i)))
        else:
            metadata = {"row": i, "source_type": "test"}
            made.append(Episode(data=f"Record {i}: Ann met Bob.", created_at=stamp(i), metadata=metadata))
    return made


# -- episodes ------------------------------------------------------------------------------------


def test_ingest_400_episodes_with_two_bad_ones(server: BackgroundServer, api_key: str, zep: Zep) -> None:
    """400 episodes go out as one batch: create, add_items 350 + 50, process. wait() ends in
    partial; failed_items() returns exactly the two unparsable json episodes (by sequence
    index, error.code invalid_json); the emulator holds 400 items, 398 succeeded."""
    graph = zep.graph.create(name="catalog")
    client, recorder = recording_client(server, api_key)
    bad = frozenset({17, 372})  # one on each add page

    result = Pipeline(ListLoader(episodes(400, bad))).run(client, graph_uuid=graph.uuid_)
    assert result.method == "batch"
    assert result.items_submitted == 400
    assert result.add_errors == []
    assert len(result.batch_ids) == 1
    batch_uuid = result.batch_ids[0]
    assert recorder.calls == [
        ("POST", "/api/v4/batches", None),
        ("POST", f"/api/v4/batches/{batch_uuid}/items", 350),
        ("POST", f"/api/v4/batches/{batch_uuid}/items", 50),
        ("POST", f"/api/v4/batches/{batch_uuid}/process", None),
    ]

    assert result.wait(poll_interval=POLL, timeout=30) is result
    assert result.status == "partial"
    failed = result.failed_items()
    assert all(isinstance(it, BatchItem) for it in failed)
    assert sorted(it.sequence_index for it in failed) == sorted(bad)  # type: ignore[union-attr]
    assert {it.error["code"] for it in failed} == {"invalid_json"}  # type: ignore[union-attr]
    assert {it.episode_uuid for it in failed} == {None}  # type: ignore[union-attr]
    with pytest.raises(IngestFailedError):
        result.raise_for_status()

    summary = zep.batch.get(batch_uuid)
    assert summary.status == "partial"
    assert summary.item_count == 400  # type: ignore[attr-defined]
    assert summary.progress is not None
    progress = summary.progress
    assert (progress.total_items, progress.succeeded_items, progress.failed_items) == (400, 398, 2)
    items = list(zep.batch.list_items(batch_uuid, page_size=200))
    assert [it.sequence_index for it in items] == list(range(400))
    assert {it.graph_uuid for it in items} == {graph.uuid_}
    assert [it.status for it in items] == ["failed" if i in bad else "succeeded" for i in range(400)]


def test_clean_ingest_succeeds_with_no_failed_items(zep: Zep) -> None:
    """Every episode valid: wait() ends succeeded, failed_items() is empty, raise_for_status
    passes, and the batch in the emulator is succeeded with all items done."""
    graph = zep.graph.create(name="clean")
    result = ingest(zep, ListLoader(episodes(120)), graph_uuid=graph.uuid_).wait(poll_interval=POLL, timeout=30)
    assert (result.status, result.items_submitted, result.failed_items()) == ("succeeded", 120, [])
    result.raise_for_status()
    summary = zep.batch.get(result.batch_ids[0])
    assert summary.status == "succeeded"
    assert summary.progress is not None and summary.progress.succeeded_items == 120


def test_wait_times_out_while_queued_then_finishes(zep: Zep, control: Any) -> None:
    """In manual mode the batch stays queued: wait(timeout=0) raises IngestTimeoutError with
    status "queued"; once the emulator runs the work, wait() returns succeeded."""
    graph = zep.graph.create(name="slow")
    control.set_mode("manual")
    result = ingest(zep, ListLoader(episodes(5)), graph_uuid=graph.uuid_)
    with pytest.raises(IngestTimeoutError):
        result.wait(poll_interval=0, timeout=0)
    assert result.status == "queued"
    assert zep.batch.get(result.batch_ids[0]).status == "queued"
    assert control.run_until_idle() == {"processed": 5, "pending": 0}
    assert result.wait(poll_interval=POLL, timeout=30).status == "succeeded"


def test_episode_into_missing_graph_is_an_add_error(zep: Zep) -> None:
    """Episodes for a graph that does not exist come back in rejected_items, which
    zep-ingest records as an AddError for the page and does not count as submitted; its
    closing process then meets an empty batch (400 empty_batch), which it records as a
    batch-level AddError and pins as failed. The batch stays an empty draft."""
    ghost = str(uuid.uuid4())
    result = ingest(zep, ListLoader(episodes(3)), graph_uuid=ghost)
    batch_uuid = result.batch_ids[0]
    assert result.items_submitted == 0
    rejected, unprocessed = result.add_errors
    assert isinstance(rejected, AddError) and isinstance(unprocessed, AddError)
    assert (rejected.index, rejected.item_count, rejected.batch_id) == (0, 3, batch_uuid)
    assert rejected.error.startswith("batch.add_items rejected 3 item(s)") and ghost in rejected.error
    assert (unprocessed.index, unprocessed.batch_id) == (-1, batch_uuid)
    assert "status=400" in unprocessed.error and "empty_batch" in unprocessed.error
    assert result.wait(poll_interval=POLL, timeout=30).status == "failed"
    summary = zep.batch.get(batch_uuid)
    assert (summary.status, summary.item_count) == ("draft", 0)  # type: ignore[attr-defined]


# -- thread messages -----------------------------------------------------------------------------


def test_ingest_thread_messages_with_ignore_roles(zep: Zep) -> None:
    """ingest_thread_messages sends 400 messages as one batch with ignore_roles: every
    message lands in the thread in order with its reference time, and only the ignored
    role's items carry no episode."""
    user = zep.user.create(user_id=f"u-{uuid.uuid4()}")
    thread = zep.thread.create(user_uuid=user.uuid_)
    roles = ["user", "assistant", "norole"]
    sent = [
        ThreadMessage(
            thread_uuid=thread.uuid_,
            content=f"turn {i}",
            role=roles[i % 3],
            name=roles[i % 3].title(),
            created_at=stamp(i),
        )
        for i in range(400)
    ]
    result = ingest_thread_messages(zep, sent, ignore_roles=["assistant"]).wait(poll_interval=POLL, timeout=30)
    assert (result.method, result.items_submitted, result.status, result.add_errors) == ("batch", 400, "succeeded", [])
    batch_uuid = result.batch_ids[0]
    assert zep.batch.get(batch_uuid).ignore_roles == ["assistant"]  # type: ignore[attr-defined]

    stored = list(zep.thread.list_messages(thread.uuid_, page_size=200))
    assert [(m.content, m.role, m.name) for m in stored] == [(m.content, m.role, m.name) for m in sent]
    assert [m.reference_time for m in stored] == [m.created_at for m in sent]

    items = list(zep.batch.list_items(batch_uuid, page_size=200))
    assert [it.thread_uuid for it in items] == [thread.uuid_] * 400
    assert [it.episode_uuid is None for it in items] == [i % 3 == 1 for i in range(400)]
