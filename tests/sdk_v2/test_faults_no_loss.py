"""A lost answer, retried by zep-cloud 3.30.0 itself: what happens to every mutating call of
the v2 route table (emulator/app.py ``DIALECTS``, wire zep-v2) — batch create / add / process /
delete, user add / delete, graph create / delete, thread create / delete, graph.add,
graph.add_batch, thread.add_messages and thread.add_messages_batch. (The POST edge, node and
episode list routes only read.)

The fault: an ``after_commit`` request fault, once — the call runs and its change is kept, then
its answer is replaced by a 503 with ``Retry-After: 0`` (emulator/core/faults.py).

What the SDK does (zep-cloud 3.30.0 source, ``zep_cloud/core/http_client.py``):

- it sends **no** ``Idempotency-Key`` (reference/zep-wire-contract.md §0: "v3 never sends
  one"), and retries nothing unless the call passes ``request_options={"max_retries": N}``
  (line 249). The retry counter starts at 2 (``retries: int = 2``, line 191) and a retry
  happens while ``max_retries > retries`` (line 251), so ``RETRIES = {"max_retries": 4}``
  below means 2 retries, 3 attempts;
- it retries a 408, 409, 429 or 5xx (``_should_retry``, line 87) — a 409 too — never a 404 and
  never a dropped connection (only the response path retries);
- it waits ``Retry-After`` when it is at most 30 s, 0 included (``_retry_timeout``, line 76),
  else 0.5 s × 2^retries (so 4 s before the retry of a 409). The ``fast_backoff`` fixture sets
  ``INITIAL_RETRY_DELAY_SECONDS`` to 0.001 s so the 409 retries take no time; whether and what
  to retry is still the SDK's own decision.

So each retry is a second, independent call, and the state is what a real service would have
after executing the request twice. Per call, as each test documents and asserts:

- a plain POST that creates (batch create / add, graph.add, graph.add_batch, thread.add_messages,
  thread.add_messages_batch) runs twice: two batches, items, episodes or messages twice — the
  answer the SDK returns describes the second copy;
- a POST keyed by the client's own id (user add, graph create, thread create) is refused the
  second time — the id is taken — with a 409 (``user_exists`` / ``graph_exists`` /
  ``thread_exists``), which 3.30.0 retries like any 409 and then raises (as a plain
  ``core.api_error.ApiError``: these three calls map no 409 to ``ConflictError``): one record,
  but the caller is told it failed;
- ``batch.process`` is refused the second time (409 ``batch_already_processed``: the 3.30.0
  docstring "Repeated calls return a conflict"), retried, then raised: the batch ran once;
- a DELETE finds nothing the second time: 404, not retried, raised as ``NotFoundError``;
  the record is gone.
"""

from __future__ import annotations

import os
from typing import Any

import httpx
import pytest
from zep_cloud import BatchAddItem
from zep_cloud.client import Zep
from zep_cloud.core.api_error import ApiError
from zep_cloud.errors import ConflictError, NotFoundError
from zep_cloud.types import EpisodeData, Message

from emulator import Emulator
from emulator.handle import Fault

pytestmark = pytest.mark.zep_v2

os.environ.pop("ZEP_API_URL", None)  # zep-cloud 3.x would let it override base_url (wire contract §6)

#: zep-cloud 3.30.0's per-call retry setting: 2 retries (its counter starts at 2).
RETRIES: Any = {"max_retries": 4}


@pytest.fixture
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """3.30.0 waits 0.5 s × 2^retries (2 s, then 4 s) before retrying an answer without
    ``Retry-After`` — the 409s here; make the base 0.001 s (only the wait changes)."""
    monkeypatch.setattr("zep_cloud.core.http_client.INITIAL_RETRY_DELAY_SECONDS", 0.001)


@pytest.fixture
def zep(zep_v2_client: Zep, fast_backoff: None) -> Zep:
    return zep_v2_client


def lose_answer(emulator: Emulator, method: str, path: str) -> Fault:
    """The next *method* *path* call runs and is kept, then answers 503 ``Retry-After: 0``."""
    return emulator.faults.request(method=method, path=path, after_commit=True, times=1, status=503, retry_after=0)


def assert_attempts(emulator: Emulator, fault: Fault, method: str, path: str, statuses: list[int]) -> None:
    """The SDK's attempts, as the journal saw them: the first lost to the fault, then *statuses*;
    none carried an ``Idempotency-Key`` and none was a replay."""
    calls = emulator.requests.find(method=method, path=path)
    assert [c.status for c in calls] == [503, *statuses]
    assert [c.fault for c in calls] == [fault.id] + [None] * len(statuses) and fault.hits == 1
    assert {(c.idempotency_key, c.replayed) for c in calls} == {(None, None)}


def zep_records(emulator: Emulator, kind: str) -> list[dict[str, Any]]:
    """The tenant's live users, graphs or threads, from its snapshot (v2 here lists none)."""
    (zep,) = [t for t in emulator.snapshot()["tenants"] if t["service"] == "zep"]
    return [r for r in zep[kind] if not r["deleted"]]


def episode_contents(zep: Zep, graph_id: str) -> list[str | None]:
    return [e.content for e in zep.graph.episode.get_by_graph_id(graph_id).episodes or []]


# -- batches -----------------------------------------------------------------------------------


def test_batch_create_retried_makes_two_batches(emulator: Emulator, zep: Zep) -> None:
    """``batch.create`` is not idempotent and carries no key: the retry makes a second draft
    batch (a real service would too); the SDK returns the second."""
    fault = lose_answer(emulator, "POST", "/api/v2/batches")
    answer = zep.batch.create(metadata={"run": "r1"}, request_options=RETRIES)
    listed = zep.batch.list().batches or []
    assert len(listed) == 2 and [b.batch_id for b in listed][1] == answer.batch_id
    assert {(b.status, str(b.metadata)) for b in listed} == {("draft", "{'run': 'r1'}")}
    assert_attempts(emulator, fault, "POST", "/api/v2/batches", [200])


def test_batch_add_retried_appends_the_items_twice(emulator: Emulator, zep: Zep) -> None:
    """``batch.add`` runs twice: the batch holds the three items twice (sequence 0..5); the SDK
    returns the second copy (3..5)."""
    zep.graph.create(graph_id="g")
    batch = zep.batch.create()
    assert batch.batch_id is not None
    path = f"/api/v2/batches/{batch.batch_id}/items"
    fault = lose_answer(emulator, "POST", path)
    items = [BatchAddItem(type="graph_episode", graph_id="g", data=f"Alice met Bob on day {i}.") for i in range(3)]
    answer = zep.batch.add(batch.batch_id, items=items, request_options=RETRIES)
    assert [i.sequence_index for i in answer] == [3, 4, 5]
    assert [i.sequence_index for i in zep.batch.list_items(batch.batch_id).items or []] == list(range(6))
    zep.batch.process(batch.batch_id)
    assert episode_contents(zep, "g") == [f"Alice met Bob on day {i}." for i in range(3)] * 2
    assert_attempts(emulator, fault, "POST", path, [200])


def test_batch_process_retried_runs_once_and_the_caller_gets_a_conflict(emulator: Emulator, zep: Zep) -> None:
    """``batch.process``: the retries find the batch already processed — 409
    ``batch_already_processed``, retried (3.x retries 409) and raised as ``ConflictError`` —
    while the batch ran exactly once: three items, three episodes."""
    zep.graph.create(graph_id="g")
    batch = zep.batch.create()
    assert batch.batch_id is not None
    zep.batch.add(batch.batch_id, items=[BatchAddItem(type="graph_episode", graph_id="g", data=f"day {i}")
                                         for i in range(3)])
    path = f"/api/v2/batches/{batch.batch_id}/process"
    fault = lose_answer(emulator, "POST", path)
    with pytest.raises(ConflictError) as refused:
        zep.batch.process(batch.batch_id, request_options=RETRIES)
    assert refused.value.status_code == 409 and getattr(refused.value.body, "code", None) == "batch_already_processed"
    done = zep.batch.get(batch.batch_id)
    assert done.status == "succeeded" and done.progress is not None and done.progress.succeeded_items == 3
    assert episode_contents(zep, "g") == [f"day {i}" for i in range(3)]
    assert_attempts(emulator, fault, "POST", path, [409, 409])


def test_batch_delete_retried_gets_a_404_and_the_batch_is_gone(emulator: Emulator, zep: Zep) -> None:
    """``batch.delete``: the retry finds no batch — 404, not retried, raised as
    ``NotFoundError`` — and the batch is gone."""
    batch = zep.batch.create()
    assert batch.batch_id is not None
    path = f"/api/v2/batches/{batch.batch_id}"
    fault = lose_answer(emulator, "DELETE", path)
    with pytest.raises(NotFoundError):
        zep.batch.delete(batch.batch_id, request_options=RETRIES)
    assert zep.batch.list().batches in (None, [])
    assert_attempts(emulator, fault, "DELETE", path, [404])


# -- users, graphs, threads (keyed by the client's id) -------------------------------------------


def test_user_add_retried_keeps_one_user_and_the_caller_gets_a_conflict(emulator: Emulator, zep: Zep) -> None:
    """``user.add(user_id=...)``: the id is taken on the retry — 409 ``user_exists``, retried,
    raised (a plain ``ApiError``: 3.30.0's ``user.add`` maps no 409) — and there is exactly one
    user ``alice``."""
    fault = lose_answer(emulator, "POST", "/api/v2/users")
    with pytest.raises(ApiError) as refused:
        zep.user.add(user_id="alice", first_name="Alice", request_options=RETRIES)
    assert (refused.value.status_code, refused.value.body["code"]) == (409, "user_exists")
    assert [u["user_id"] for u in zep_records(emulator, "users")] == ["alice"]
    assert zep.user.get("alice").first_name == "Alice"
    assert_attempts(emulator, fault, "POST", "/api/v2/users", [409, 409])


def test_user_delete_retried_gets_a_404_and_the_user_is_gone(emulator: Emulator, zep: Zep) -> None:
    zep.user.add(user_id="bob")
    fault = lose_answer(emulator, "DELETE", "/api/v2/users/bob")
    with pytest.raises(NotFoundError):
        zep.user.delete("bob", request_options=RETRIES)
    assert zep_records(emulator, "users") == []
    assert_attempts(emulator, fault, "DELETE", "/api/v2/users/bob", [404])


def test_graph_create_retried_keeps_one_graph_and_the_caller_gets_a_conflict(emulator: Emulator, zep: Zep) -> None:
    """``graph.create(graph_id=...)``: 409 ``graph_exists`` on the retries (raised as a plain
    ``ApiError``), one graph ``crm``."""
    fault = lose_answer(emulator, "POST", "/api/v2/graph/create")
    with pytest.raises(ApiError) as refused:
        zep.graph.create(graph_id="crm", name="CRM", request_options=RETRIES)
    assert (refused.value.status_code, refused.value.body["code"]) == (409, "graph_exists")
    assert [g["graph_id"] for g in zep_records(emulator, "graphs")] == ["crm"]
    assert zep.graph.get("crm").name == "CRM"
    assert_attempts(emulator, fault, "POST", "/api/v2/graph/create", [409, 409])


def test_graph_delete_retried_gets_a_404_and_the_graph_is_gone(emulator: Emulator, zep: Zep) -> None:
    zep.graph.create(graph_id="doomed")
    fault = lose_answer(emulator, "DELETE", "/api/v2/graph/doomed")
    with pytest.raises(NotFoundError):
        zep.graph.delete("doomed", request_options=RETRIES)
    assert zep_records(emulator, "graphs") == []
    assert_attempts(emulator, fault, "DELETE", "/api/v2/graph/doomed", [404])


def test_thread_create_retried_keeps_one_thread_and_the_caller_gets_a_conflict(emulator: Emulator, zep: Zep) -> None:
    """``thread.create(thread_id=..., user_id=...)``: 409 ``thread_exists`` on the retries
    (raised as a plain ``ApiError``), one thread."""
    zep.user.add(user_id="carol")
    fault = lose_answer(emulator, "POST", "/api/v2/threads")
    with pytest.raises(ApiError) as refused:
        zep.thread.create(thread_id="t1", user_id="carol", request_options=RETRIES)
    assert (refused.value.status_code, refused.value.body["code"]) == (409, "thread_exists")
    assert [t["thread_id"] for t in zep_records(emulator, "threads")] == ["t1"]
    assert zep.thread.get("t1").user_id == "carol"
    assert_attempts(emulator, fault, "POST", "/api/v2/threads", [409, 409])


def test_thread_delete_retried_gets_a_404_and_the_thread_is_gone(emulator: Emulator, zep: Zep) -> None:
    zep.user.add(user_id="dan")
    zep.thread.create(thread_id="t2", user_id="dan")
    fault = lose_answer(emulator, "DELETE", "/api/v2/threads/t2")
    with pytest.raises(NotFoundError):
        zep.thread.delete("t2", request_options=RETRIES)
    assert zep_records(emulator, "threads") == []
    assert_attempts(emulator, fault, "DELETE", "/api/v2/threads/t2", [404])


# -- live adds ---------------------------------------------------------------------------------


def test_graph_add_retried_writes_the_episode_twice(emulator: Emulator, zep: Zep) -> None:
    """``graph.add`` runs twice: two episodes of the same content (their fact is re-asserted,
    not doubled: one edge naming both episodes); the SDK returns the second."""
    zep.graph.create(graph_id="g")
    fault = lose_answer(emulator, "POST", "/api/v2/graph")
    answer = zep.graph.add(graph_id="g", type="text", data="Erin lives in Oslo.", request_options=RETRIES)
    listed = zep.graph.episode.get_by_graph_id("g").episodes or []
    assert [e.content for e in listed] == ["Erin lives in Oslo."] * 2 and listed[1].uuid_ == answer.uuid_
    (edge,) = zep.graph.edge.get_by_graph_id("g")
    assert edge.fact == "Erin lives in Oslo" and sorted(edge.episodes or []) == sorted(e.uuid_ for e in listed)
    assert_attempts(emulator, fault, "POST", "/api/v2/graph", [200])


def test_graph_add_batch_retried_writes_the_episodes_twice(emulator: Emulator, zep: Zep) -> None:
    """The deprecated ``graph.add_batch`` runs twice: the episodes twice, and two listed
    batches (each call "now creates a Batch API batch", v3 changelog 2026-10-04)."""
    zep.graph.create(graph_id="g")
    fault = lose_answer(emulator, "POST", "/api/v2/graph-batch")
    answer = zep.graph.add_batch(graph_id="g", episodes=[EpisodeData(data=f"note {i}", type="text") for i in range(2)],
                                 request_options=RETRIES)
    assert [e.content for e in answer] == ["note 0", "note 1"]
    assert episode_contents(zep, "g") == ["note 0", "note 1"] * 2
    assert len(zep.batch.list().batches or []) == 2
    assert_attempts(emulator, fault, "POST", "/api/v2/graph-batch", [200])


def test_thread_add_messages_retried_stores_the_messages_twice(emulator: Emulator, zep: Zep) -> None:
    """``thread.add_messages`` runs twice: the thread holds the two messages twice."""
    zep.user.add(user_id="fay")
    zep.thread.create(thread_id="t3", user_id="fay")
    fault = lose_answer(emulator, "POST", "/api/v2/threads/t3/messages")
    zep.thread.add_messages("t3", messages=[Message(content="I work at Acme.", role="user"),
                                             Message(content="Noted.", role="assistant")], request_options=RETRIES)
    assert [m.content for m in zep.thread.get("t3").messages or []] == ["I work at Acme.", "Noted."] * 2
    assert_attempts(emulator, fault, "POST", "/api/v2/threads/t3/messages", [200])


def test_thread_add_messages_batch_retried_stores_the_messages_twice(emulator: Emulator, zep: Zep) -> None:
    """The deprecated ``thread.add_messages_batch`` runs twice: the messages twice, two listed
    batches."""
    zep.user.add(user_id="gus")
    zep.thread.create(thread_id="t4", user_id="gus")
    fault = lose_answer(emulator, "POST", "/api/v2/threads/t4/messages-batch")
    zep.thread.add_messages_batch("t4", messages=[Message(content="I moved to Rome.", role="user")], request_options=RETRIES)
    assert [m.content for m in zep.thread.get("t4").messages or []] == ["I moved to Rome."] * 2
    assert len(zep.batch.list().batches or []) == 2
    assert_attempts(emulator, fault, "POST", "/api/v2/threads/t4/messages-batch", [200])


# -- what 3.x does not retry -------------------------------------------------------------------


def test_a_dropped_connection_is_not_retried_and_the_change_is_kept(emulator: Emulator, zep: Zep) -> None:
    """3.30.0 retries only answered calls: a connection dropped after the commit reaches the
    caller as an httpx error (even with retries on), and the batch it made exists."""
    emulator.faults.request(method="POST", path="/api/v2/batches", after_commit=True, times=1, drop_connection=True)
    with pytest.raises(httpx.RemoteProtocolError):
        zep.batch.create(request_options=RETRIES)
    assert [c.status for c in emulator.requests.find(method="POST", path="/api/v2/batches")] == [None]
    assert len(zep.batch.list().batches or []) == 1


def test_without_retries_the_caller_sees_the_503_and_the_change_is_kept(emulator: Emulator, zep: Zep) -> None:
    """The control case: 3.30.0's default (no retries) surfaces the 503 although the batch exists."""
    lose_answer(emulator, "POST", "/api/v2/batches")
    with pytest.raises(ApiError) as lost:
        zep.batch.create()
    assert lost.value.status_code == 503
    assert len(zep.batch.list().batches or []) == 1
