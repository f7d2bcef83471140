"""The v2 batch lifecycle through zep-cloud 3.30.0 over real HTTP.

Every test drives the emulator with the unmodified SDK and checks what Zep's batch guide
(seed 000_*.txt), the wire contract (reference/zep-wire-contract.md §1a, §2) and
reference/decisions.md promise: statuses and progress counts, paging, per-graph ordering, what
lands in threads, and each item and batch outcome. Processing is driven deterministically with
the control plane (manual mode + ``step`` / ``run_until_idle``) or happens inside ``process``
(instant mode, the session default); nothing here sleeps.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Optional

import httpx
import pytest
from zep_cloud import BatchAddItem, BatchItemDetail
from zep_cloud.client import Zep
from zep_cloud.errors import BadRequestError, ConflictError, NotFoundError

pytestmark = pytest.mark.zep_v2

GRAPH = "graph-main"
USER = "user-main"
THREAD = "thread-main"
BASE_TIME = datetime(2024, 6, 15, 10, 30, tzinfo=timezone.utc)
MESSAGE_ROLES = ("user", "assistant", "norole", "system", "tool", "function")


# -- helpers -----------------------------------------------------------------------------------


def stamp(i: int) -> str:
    """The RFC 3339 ``created_at`` given to item *i* (whole seconds, UTC ``Z``)."""
    return (BASE_TIME + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ")


def episode(
    data: str,
    *,
    graph_id: Optional[str] = None,
    user_id: Optional[str] = None,
    data_type: str = "text",
    created_at: Optional[str] = None,
) -> BatchAddItem:
    return BatchAddItem(
        type="graph_episode",
        graph_id=graph_id,
        user_id=user_id,
        data=data,
        data_type=data_type,
        created_at=created_at,
    )


def message(content: str, *, thread_id: str = THREAD, role: str = "user", created_at: Optional[str] = None) -> BatchAddItem:
    return BatchAddItem(type="thread_message", thread_id=thread_id, content=content, role=role, created_at=created_at)


def setup_targets(zep: Zep) -> None:
    """The graph, user and thread the seed's example writes to."""
    zep.graph.create(graph_id=GRAPH)
    zep.user.add(user_id=USER)
    zep.thread.create(thread_id=THREAD, user_id=USER)


def mixed_items(count: int) -> list[BatchAddItem]:
    """*count* items cycling through: episode → graph, episode → user graph, thread message
    (with a rotating role). Each carries ``created_at = stamp(i)``."""
    items: list[BatchAddItem] = []
    for i in range(count):
        if i % 3 == 0:
            items.append(episode(f"graph episode {i}", graph_id=GRAPH, created_at=stamp(i)))
        elif i % 3 == 1:
            items.append(episode(f"user episode {i}", user_id=USER, created_at=stamp(i)))
        else:
            role = MESSAGE_ROLES[(i // 3) % len(MESSAGE_ROLES)]
            items.append(message(f"message {i}", role=role, created_at=stamp(i)))
    return items


def all_items(zep: Zep, batch_id: str, *, limit: int = 200, status: Optional[str] = None) -> list[BatchItemDetail]:
    """Every item of a batch, following ``next_cursor`` until it is null."""
    out: list[BatchItemDetail] = []
    cursor: Optional[int] = None
    while True:
        page = zep.batch.list_items(batch_id, limit=limit, cursor=cursor, status=status)
        assert page.items is not None
        out.extend(page.items)
        if page.next_cursor is None:
            return out
        cursor = page.next_cursor


def v4_get(raw: httpx.Client, api_key: str, batch_id: str) -> dict[str, Any]:
    response = raw.get(f"/api/v4/batches/{batch_id}", headers={"Authorization": f"Api-Key {api_key}"})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# -- the whole lifecycle -----------------------------------------------------------------------


def test_lifecycle_600_mixed_items_from_draft_to_succeeded(zep: Zep, control: Any) -> None:
    """Seed + §1a: create (empty body) → draft with unpopulated progress; two adds (500 + 100)
    return bare lists with contiguous sequence indexes, all pending; process → queued with
    queued_items 600; step(3) → processing, 3 succeeded, 0.5 %; run_until_idle → succeeded,
    100 %, processed_at/completed_at set."""
    control.set_mode("manual")
    setup_targets(zep)

    created = zep.batch.create()
    assert created.status == "draft"
    assert created.progress is None
    assert created.item_count == 0
    assert created.processed_at is None and created.completed_at is None
    batch_id = created.batch_id
    assert batch_id is not None and str(uuid.UUID(batch_id)) == batch_id

    items = mixed_items(600)
    first = zep.batch.add(batch_id, items=items[:500])
    second = zep.batch.add(batch_id, items=items[500:])
    assert isinstance(first, list) and isinstance(second, list)
    assert [d.sequence_index for d in first] == list(range(500))
    assert [d.sequence_index for d in second] == list(range(500, 600))
    added = first + second
    assert {d.status for d in added} == {"pending"}
    assert [d.kind for d in added] == [it.type for it in items]
    assert len({d.item_id for d in added}) == 600
    assert added[0].graph_id == GRAPH and added[0].user_id is None
    assert added[1].user_id == USER and added[1].graph_id is None
    assert added[2].thread_id == THREAD
    assert all(d.episode_uuid is None for d in added)

    draft = zep.batch.get(batch_id)
    assert (draft.status, draft.item_count, draft.progress) == ("draft", 600, None)

    queued = zep.batch.process(batch_id)
    assert queued.status == "queued"
    assert queued.item_count == 600
    assert queued.processed_at is not None and queued.completed_at is None
    assert queued.progress is not None
    assert queued.progress.total_items == 600
    assert queued.progress.queued_items == 600
    assert queued.progress.succeeded_items == 0
    assert queued.progress.percent_complete == 0.0

    assert control.step(3) == {"processed": 3, "pending": 597}
    running = zep.batch.get(batch_id)
    assert running.status == "processing"
    assert running.progress is not None
    assert running.progress.succeeded_items == 3
    assert running.progress.queued_items == 597
    assert running.progress.processing_items == 0
    assert running.progress.percent_complete == 0.5
    assert running.completed_at is None
    # A queued item already names the episode it will write (3.30.0 BatchItemDetail: "will be
    # (or has been) created").
    running_items = all_items(zep, batch_id, limit=200)
    assert sorted(d.status for d in running_items) == ["queued"] * 597 + ["succeeded"] * 3
    assert all(d.episode_uuid is not None and d.source_uuid == d.episode_uuid for d in running_items)

    assert control.run_until_idle() == {"processed": 597, "pending": 0}
    done = zep.batch.get(batch_id)
    assert done.status == "succeeded"
    assert done.progress is not None
    assert done.progress.succeeded_items == 600
    assert done.progress.queued_items == 0
    assert done.progress.failed_items == 0
    assert done.progress.skipped_items == 0
    assert done.progress.canceled_items == 0
    assert done.progress.percent_complete == 100.0
    assert done.processed_at == queued.processed_at
    assert done.completed_at is not None and done.completed_at >= done.processed_at

    listed = all_items(zep, batch_id, limit=128)
    assert [d.sequence_index for d in listed] == list(range(600))
    assert [d.item_id for d in listed] == [d.item_id for d in added]
    assert {d.status for d in listed} == {"succeeded"}
    assert [d.episode_uuid for d in listed] == [d.episode_uuid for d in running_items]
    assert all(d.error is None for d in listed)

    thread = zep.thread.get(THREAD)
    assert thread.total_count == 200
    expected = [(f"message {i}", items[i].role, stamp(i)) for i in range(2, 600, 3)]
    assert [(m.content, m.role, m.created_at) for m in thread.messages or []] == expected


def test_create_with_empty_body_and_json_content_type(raw: httpx.Client, api_key: str, zep: Zep) -> None:
    """Wire contract §0: zep-cloud 3.x sends ``batch.create()`` with Content-Length 0 but a JSON
    content type; the emulator reads that as ``{}`` and makes a draft batch."""
    response = raw.post(
        "/api/v2/batches", headers={"Authorization": f"Api-Key {api_key}", "Content-Type": "application/json"}, content=b""
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["item_count"], body["progress"]) == ("draft", 0, None)
    assert [b.batch_id for b in zep.batch.list().batches or []] == [body["batch_id"]]


def test_list_items_pages_with_integer_cursor(zep: Zep) -> None:
    """§2 / decisions "Pagination": ``limit`` + integer ``cursor`` (an offset); ``next_cursor``
    is the next page's start and null on the last page; pages come in sequence order."""
    zep.graph.create(graph_id=GRAPH)
    batch_id = zep.batch.create().batch_id
    assert batch_id is not None
    zep.batch.add(batch_id, items=[episode(f"e{i}", graph_id=GRAPH) for i in range(450)])

    cursors: list[Optional[int]] = []
    seen: list[int] = []
    cursor: Optional[int] = None
    while True:
        page = zep.batch.list_items(batch_id, limit=200, cursor=cursor)
        assert page.items is not None
        seen.extend(d.sequence_index for d in page.items)  # type: ignore[misc]
        cursors.append(page.next_cursor)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert cursors == [200, 400, None]
    assert seen == list(range(450))

    default_page = zep.batch.list_items(batch_id)
    assert default_page.items is not None
    assert [d.sequence_index for d in default_page.items] == list(range(50))
    assert default_page.next_cursor == 50

    tail = zep.batch.list_items(batch_id, cursor=445, limit=10)
    assert tail.items is not None
    assert [d.sequence_index for d in tail.items] == [445, 446, 447, 448, 449]
    assert tail.next_cursor is None


def test_list_items_status_filter(zep: Zep, control: Any) -> None:
    """§1a: ``list_items(status=...)`` returns only items in that status, in sequence order,
    and its paging still ends with a null ``next_cursor``."""
    control.set_mode("manual")
    zep.graph.create(graph_id=GRAPH)
    batch_id = zep.batch.create().batch_id
    assert batch_id is not None
    zep.batch.add(batch_id, items=[episode(f"e{i}", graph_id=GRAPH) for i in range(10)])
    zep.batch.process(batch_id)
    control.step(4)

    succeeded = all_items(zep, batch_id, limit=3, status="succeeded")
    queued = all_items(zep, batch_id, limit=3, status="queued")
    assert [d.sequence_index for d in succeeded] == [0, 1, 2, 3]
    assert {d.status for d in succeeded} == {"succeeded"}
    assert [d.sequence_index for d in queued] == [4, 5, 6, 7, 8, 9]
    assert {d.status for d in queued} == {"queued"}
    empty = zep.batch.list_items(batch_id, status="failed")
    assert (empty.items, empty.next_cursor) == ([], None)


def test_batch_list_status_filter_and_paging(zep: Zep) -> None:
    """§1a ``batch.list(limit, cursor, status)``: batches in creation order, filtered by
    status; ``next_cursor`` null on the last page."""
    zep.graph.create(graph_id=GRAPH)
    draft_a = zep.batch.create().batch_id
    done = zep.batch.create().batch_id
    assert done is not None
    zep.batch.add(done, items=[episode("x", graph_id=GRAPH)])
    assert zep.batch.process(done).status == "succeeded"  # instant mode
    draft_b = zep.batch.create(metadata={"source": "backfill"}).batch_id

    everything = zep.batch.list()
    assert [b.batch_id for b in everything.batches or []] == [draft_a, done, draft_b]
    assert everything.next_cursor is None

    drafts = zep.batch.list(status="draft")
    assert [b.batch_id for b in drafts.batches or []] == [draft_a, draft_b]
    assert {b.status for b in drafts.batches or []} == {"draft"}
    assert drafts.batches is not None and drafts.batches[1].metadata == {"source": "backfill"}

    succeeded = zep.batch.list(status="succeeded")
    assert [(b.batch_id, b.item_count) for b in succeeded.batches or []] == [(done, 1)]
    assert zep.batch.list(status="invalid").batches == []

    first = zep.batch.list(limit=2)
    assert [b.batch_id for b in first.batches or []] == [draft_a, done]
    assert isinstance(first.next_cursor, int)
    rest = zep.batch.list(limit=2, cursor=first.next_cursor)
    assert [b.batch_id for b in rest.batches or []] == [draft_b]
    assert rest.next_cursor is None


def test_base_url_with_trailing_slash_works(server: Any, api_key: str) -> None:
    """Wire contract §0: zep-cloud 3.x joins with ``urljoin(base + "/", path)``; a base URL
    that already ends in ``/`` reaches the same endpoints and the same tenant."""
    slashed = Zep(api_key=api_key, base_url=server.zep_v2_url + "/")
    plain = Zep(api_key=api_key, base_url=server.zep_v2_url)
    created = slashed.batch.create(metadata={"via": "slash"})
    assert created.status == "draft"
    assert [(b.batch_id, b.metadata) for b in plain.batch.list().batches or []] == [(created.batch_id, {"via": "slash"})]


# -- delete ------------------------------------------------------------------------------------


def test_delete_draft_then_not_found(zep: Zep) -> None:
    """§1a / decisions "Delete": a draft batch deletes with 200
    ``{"message": "Batch <id> successfully deleted."}``; afterwards it is a 404 everywhere."""
    batch_id = zep.batch.create().batch_id
    assert batch_id is not None
    zep.batch.add(batch_id, items=[episode("x", graph_id=GRAPH)])

    deleted = zep.batch.delete(batch_id)
    assert deleted.message == f"Batch {batch_id} successfully deleted."

    with pytest.raises(NotFoundError) as got:
        zep.batch.get(batch_id)
    assert got.value.status_code == 404
    assert got.value.body.message == f"batch {batch_id} not found"
    with pytest.raises(NotFoundError) as again:
        zep.batch.delete(batch_id)
    assert again.value.body.message == f"batch {batch_id} not found"
    assert zep.batch.list().batches == []


def test_delete_processed_batch_conflicts(zep: Zep) -> None:
    """SDK docstring "Processed batches cannot be deleted": delete of a succeeded batch is a
    409 ConflictError and the batch stays."""
    zep.graph.create(graph_id=GRAPH)
    batch_id = zep.batch.create().batch_id
    assert batch_id is not None
    zep.batch.add(batch_id, items=[episode("x", graph_id=GRAPH)])
    zep.batch.process(batch_id)

    with pytest.raises(ConflictError) as got:
        zep.batch.delete(batch_id)
    assert got.value.status_code == 409
    assert got.value.body.message == (
        f"batch {batch_id} is succeeded; only draft or invalid batches can be deleted"
    )
    assert got.value.body.code == "batch_not_deletable"  # type: ignore[attr-defined]
    after = zep.batch.get(batch_id)
    assert (after.status, after.item_count) == ("succeeded", 1)


# -- what lands in the thread ------------------------------------------------------------------


def test_thread_messages_keep_supplied_created_at(zep: Zep) -> None:
    """Seed "Pass created_at on each item": processed thread_message items appear in
    ``thread.get`` in order, with role, content and ``created_at`` equal to the supplied
    timestamp (UTC ``Z``)."""
    setup_targets(zep)
    batch_id = zep.batch.create().batch_id
    assert batch_id is not None
    items = [message(f"m{i}", role=MESSAGE_ROLES[i], created_at=stamp(i * 60)) for i in range(6)]
    zep.batch.add(batch_id, items=items)
    assert zep.batch.process(batch_id).status == "succeeded"

    thread = zep.thread.get(THREAD)
    assert thread.total_count == 6
    assert thread.user_id == USER
    got = [(m.content, m.role, m.created_at) for m in thread.messages or []]
    assert got == [(f"m{i}", MESSAGE_ROLES[i], stamp(i * 60)) for i in range(6)]


@pytest.mark.parametrize(
    ("supplied", "normalised"),
    [
        ("2024-06-15T10:30:00Z", "2024-06-15T10:30:00Z"),
        ("2024-06-15T12:30:00+02:00", "2024-06-15T10:30:00Z"),
        ("2024-06-15T05:30:00.250-05:00", "2024-06-15T10:30:00.250000Z"),
        ("2024-06-15t10:30:00z", "2024-06-15T10:30:00Z"),
    ],
)
def test_created_at_with_offset_is_normalised_to_utc(zep: Zep, supplied: str, normalised: str) -> None:
    """decisions "Timestamps on the wire": input with an offset is accepted and read back as
    UTC with ``Z``, microseconds kept when not zero."""
    setup_targets(zep)
    batch_id = zep.batch.create().batch_id
    assert batch_id is not None
    zep.batch.add(batch_id, items=[message("hello", created_at=supplied)])
    assert zep.batch.process(batch_id).status == "succeeded"
    messages = zep.thread.get(THREAD).messages or []
    assert [(m.content, m.created_at) for m in messages] == [("hello", normalised)]


def test_ignore_roles_stores_message_without_episode(zep: Zep) -> None:
    """``create(ignore_roles=["assistant"])``: assistant messages are stored in the thread but
    make no episode (item ``episode_uuid`` None); user messages get one."""
    setup_targets(zep)
    created = zep.batch.create(ignore_roles=["assistant"])
    assert created.ignore_roles == ["assistant"]
    batch_id = created.batch_id
    assert batch_id is not None
    zep.batch.add(
        batch_id,
        items=[
            message("question", role="user", created_at=stamp(0)),
            message("answer", role="assistant", created_at=stamp(1)),
            message("follow-up", role="user", created_at=stamp(2)),
        ],
    )
    assert zep.batch.process(batch_id).status == "succeeded"

    items = all_items(zep, batch_id)
    assert [d.status for d in items] == ["succeeded"] * 3
    assert items[0].episode_uuid is not None
    assert items[1].episode_uuid is None and items[1].source_uuid is None
    assert items[2].episode_uuid is not None
    thread = zep.thread.get(THREAD)
    assert [(m.content, m.role) for m in thread.messages or []] == [
        ("question", "user"),
        ("answer", "assistant"),
        ("follow-up", "user"),
    ]


# -- item outcomes -----------------------------------------------------------------------------


def test_invalid_json_item_fails_and_batch_is_partial(zep: Zep) -> None:
    """decisions "When an item fails on its own" / "Batch outcome": ``data_type: json`` with
    data that does not parse fails with ``error.code == "invalid_json"``; the other items
    succeed and the batch is ``partial``."""
    zep.graph.create(graph_id=GRAPH)
    batch_id = zep.batch.create().batch_id
    assert batch_id is not None
    zep.batch.add(
        batch_id,
        items=[
            episode('{"ok": true}', graph_id=GRAPH, data_type="json"),
            episode("{not json", graph_id=GRAPH, data_type="json"),
            episode("plain text", graph_id=GRAPH),
        ],
    )
    summary = zep.batch.process(batch_id)
    assert summary.status == "partial"
    assert summary.progress is not None
    assert (summary.progress.succeeded_items, summary.progress.failed_items) == (2, 1)
    assert summary.progress.percent_complete == 100.0
    assert summary.completed_at is not None

    items = all_items(zep, batch_id)
    assert [d.status for d in items] == ["succeeded", "failed", "succeeded"]
    error = items[1].error
    assert error is not None and error["code"] == "invalid_json"
    assert str(error["message"]).startswith("data_type is json but data does not parse")
    assert items[1].episode_uuid is None
    failed_only = zep.batch.list_items(batch_id, status="failed")
    assert [d.sequence_index for d in failed_only.items or []] == [1]


def test_all_items_failing_makes_batch_failed(zep: Zep) -> None:
    """decisions "Batch outcome": every item failed → batch ``failed``."""
    zep.graph.create(graph_id=GRAPH)
    batch_id = zep.batch.create().batch_id
    assert batch_id is not None
    zep.batch.add(batch_id, items=[episode("[1, 2", graph_id=GRAPH, data_type="json") for _ in range(3)])
    summary = zep.batch.process(batch_id)
    assert summary.status == "failed"
    assert summary.progress is not None
    assert (summary.progress.failed_items, summary.progress.succeeded_items) == (3, 0)
    items = all_items(zep, batch_id)
    assert [(d.status, (d.error or {}).get("code")) for d in items] == [("failed", "invalid_json")] * 3


def test_items_whose_destination_is_deleted_after_process_are_skipped(zep: Zep, control: Any) -> None:
    """decisions "When an item is skipped": a graph or thread deleted after process (while its
    items wait in manual mode) makes those items ``skipped`` and writes nothing; skipped is not
    failed, so the batch ``succeeded``."""
    control.set_mode("manual")
    setup_targets(zep)
    zep.graph.create(graph_id="graph-doomed")
    zep.thread.create(thread_id="thread-doomed", user_id=USER)
    batch_id = zep.batch.create().batch_id
    assert batch_id is not None
    zep.batch.add(
        batch_id,
        items=[
            episode("kept", graph_id=GRAPH),
            episode("lost 1", graph_id="graph-doomed"),
            message("kept message", role="user"),
            episode("lost 2", graph_id="graph-doomed"),
            message("lost message", thread_id="thread-doomed", role="user"),
        ],
    )
    assert zep.batch.process(batch_id).status == "queued"
    zep.graph.delete("graph-doomed")
    zep.thread.delete("thread-doomed")
    assert control.run_until_idle() == {"processed": 5, "pending": 0}

    summary = zep.batch.get(batch_id)
    assert summary.status == "succeeded"
    assert summary.progress is not None
    assert (summary.progress.succeeded_items, summary.progress.skipped_items, summary.progress.failed_items) == (2, 3, 0)
    assert summary.progress.percent_complete == 100.0
    items = all_items(zep, batch_id)
    assert [d.status for d in items] == ["succeeded", "skipped", "succeeded", "skipped", "skipped"]
    assert [d.episode_uuid is None for d in items] == [False, True, False, True, True]
    assert all(d.error is None for d in items)
    assert [m.content for m in zep.thread.get(THREAD).messages or []] == ["kept message"]


def test_cancel_through_control_plane(zep: Zep, control: Any) -> None:
    """decisions "Status flow": cancel exists only on the control API; items not yet started
    become ``canceled``, those already done keep their status, and nothing runs afterwards."""
    control.set_mode("manual")
    zep.graph.create(graph_id=GRAPH)
    batch_id = zep.batch.create().batch_id
    assert batch_id is not None
    zep.batch.add(batch_id, items=[episode(f"e{i}", graph_id=GRAPH) for i in range(5)])
    zep.batch.process(batch_id)
    assert control.step(2)["processed"] == 2

    assert control.cancel(batch_id) == {"batch_id": batch_id, "status": "canceled"}
    assert control.run_until_idle() == {"processed": 0, "pending": 0}

    summary = zep.batch.get(batch_id)
    assert summary.status == "canceled"
    assert summary.completed_at is not None
    assert summary.progress is not None
    assert (summary.progress.succeeded_items, summary.progress.canceled_items, summary.progress.queued_items) == (2, 3, 0)
    items = all_items(zep, batch_id)
    assert [d.status for d in items] == ["succeeded", "succeeded", "canceled", "canceled", "canceled"]
    assert [d.sequence_index for d in all_items(zep, batch_id, status="canceled")] == [2, 3, 4]


def test_missing_references_make_the_batch_invalid(zep: Zep) -> None:
    """decisions "Process a batch with references that do not exist": process answers 400 with
    code ``invalid_references`` and ``details.invalid_items`` naming the indexes; the batch is
    then ``invalid`` (never progresses, can't be processed again) and can be deleted."""
    setup_targets(zep)
    batch_id = zep.batch.create().batch_id
    assert batch_id is not None
    zep.batch.add(
        batch_id,
        items=[
            episode("fine", graph_id=GRAPH),
            episode("no graph", graph_id="graph-missing"),
            message("fine", role="user"),
            episode("no user", user_id="user-missing"),
            message("no thread", thread_id="thread-missing"),
            episode("fine", user_id=USER),
        ],
    )

    with pytest.raises(BadRequestError) as got:
        zep.batch.process(batch_id)
    assert got.value.status_code == 400
    body = got.value.body
    assert body["code"] == "invalid_references"
    assert body["details"] == {"invalid_items": [1, 3, 4]}
    assert body["message"] == (
        "batch contains invalid references: items 1, 3, 4 name a graph, user or thread that does not exist"
    )

    # Each item names what it was sent with, even a reference that does not resolve.
    named = [(d.graph_id, d.user_id, d.thread_id) for d in all_items(zep, batch_id)]
    assert named == [(GRAPH, None, None), ("graph-missing", None, None), (None, USER, THREAD),
                     (None, "user-missing", None), (None, None, "thread-missing"), (None, USER, None)]
    invalid = zep.batch.get(batch_id)
    assert (invalid.status, invalid.item_count, invalid.progress) == ("invalid", 6, None)
    assert [b.batch_id for b in zep.batch.list(status="invalid").batches or []] == [batch_id]
    assert {d.status for d in all_items(zep, batch_id)} == {"pending"}

    with pytest.raises(ConflictError) as again:
        zep.batch.process(batch_id)
    assert again.value.body.code == "batch_invalid"  # type: ignore[attr-defined]
    assert zep.batch.get(batch_id).status == "invalid"

    assert zep.batch.delete(batch_id).message == f"Batch {batch_id} successfully deleted."
    with pytest.raises(NotFoundError):
        zep.batch.get(batch_id)


def test_items_of_one_graph_finish_in_sequence_order(zep: Zep, control: Any) -> None:
    """Seed: "Items in a batch are grouped by destination graph and processed in the order they
    were added." Two graphs interleaved, one step at a time: each graph's items reach
    ``succeeded`` in ``sequence_index`` order."""
    control.set_mode("manual")
    zep.graph.create(graph_id="graph-a")
    zep.graph.create(graph_id="graph-b")
    targets = ["graph-a", "graph-b", "graph-b", "graph-a", "graph-b", "graph-a", "graph-a", "graph-b", "graph-b", "graph-a"]
    batch_id = zep.batch.create().batch_id
    assert batch_id is not None
    zep.batch.add(batch_id, items=[episode(f"e{i}", graph_id=g) for i, g in enumerate(targets)])
    zep.batch.process(batch_id)

    finished: list[int] = []
    for _ in targets:
        assert control.step(1)["processed"] == 1
        now_done = [d.sequence_index for d in all_items(zep, batch_id, status="succeeded")]
        new = [i for i in now_done if i not in finished]
        assert len(new) == 1
        finished.extend(new)  # type: ignore[arg-type]
    assert control.step(1)["processed"] == 0

    for graph in ("graph-a", "graph-b"):
        expected = [i for i, g in enumerate(targets) if g == graph]
        assert [i for i in finished if targets[i] == graph] == expected
    assert sorted(finished) == list(range(len(targets)))
    assert zep.batch.get(batch_id).status == "succeeded"


# -- one world, two wire versions --------------------------------------------------------------


def test_v4_reads_the_same_batch(zep: Zep, raw: httpx.Client, api_key: str, control: Any) -> None:
    """tenants.py / design "one world": a batch made through v2 reads the same through
    ``GET /api/v4/batches/{uuid}`` with the same key — uuid, status and item_count agree at
    draft, queued and succeeded."""
    control.set_mode("manual")
    setup_targets(zep)
    batch_id = zep.batch.create().batch_id
    assert batch_id is not None
    zep.batch.add(batch_id, items=mixed_items(7))

    def same() -> dict[str, Any]:
        v2 = zep.batch.get(batch_id)
        v4 = v4_get(raw, api_key, batch_id)
        assert (v4["uuid"], v4["status"], v4["item_count"]) == (v2.batch_id, v2.status, v2.item_count)
        return v4

    assert same()["status"] == "draft"
    zep.batch.process(batch_id)
    assert same()["status"] == "queued"
    control.run_until_idle()
    v4 = same()
    assert (v4["status"], v4["item_count"]) == ("succeeded", 7)
    assert v4["progress"]["succeeded_items"] == 7

    other = raw.get(f"/api/v4/batches/{batch_id}", headers={"Authorization": f"Api-Key other-{api_key}"})
    assert other.status_code == 404
