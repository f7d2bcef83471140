"""The Batch API lifecycle through zep-cloud 4.0.1 (wire v4), as Zep's batch guide describes it.

create (draft) → add_items (≤500 per call, appended in request order) → process (queued,
then processing) → a terminal status (succeeded / partial / failed), plus the side roads the
decisions name: invalid, skipped, canceled, per-graph ordering and Idempotency-Key replay.
Every test talks to the emulator through the real SDK over HTTP; only the control plane
(processing mode, step, cancel) and the v2 cross-read go around it.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import httpx
import pytest
from zep_cloud.client import Zep
from zep_cloud.core.api_error import ApiError
from zep_cloud.errors import BadRequestError, ConflictError, NotFoundError
from zep_cloud.types import BatchItem, BatchItemInput, Graph, Thread, User

from emulator.server import BackgroundServer

BASE_TIME = datetime(2024, 6, 15, 10, 30, tzinfo=timezone.utc)
PLUS_TWO = timezone(timedelta(hours=2))


# -- helpers -------------------------------------------------------------------------------------


def code_of(exc: ApiError) -> str | None:
    """The v4 error body's ``error.code`` (the SDK parses it into ``types.ApiError``)."""
    return exc.body.error.code  # type: ignore[no-any-return]


def utc_z(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def episode(graph_uuid: str, data: str, **extra: Any) -> BatchItemInput:
    return BatchItemInput(type="graph_episode", graph_uuid=graph_uuid, data=data, **extra)


def message(thread_uuid: str, content: str, role: str = "user", **extra: Any) -> BatchItemInput:
    return BatchItemInput(type="thread_message", thread_uuid=thread_uuid, content=content, role=role, **extra)


def all_items(zep: Zep, batch_uuid: str, page_size: int = 200) -> list[BatchItem]:
    """Every item of a batch, through the SDK's pager (which follows ``next_cursor``)."""
    return list(zep.batch.list_items(batch_uuid, page_size=page_size))


def make_world(zep: Zep) -> tuple[Graph, User, Thread]:
    graph = zep.graph.create(name="backfill")
    user = zep.user.create(user_id=f"user-{uuid.uuid4()}", first_name="Ann")
    thread = zep.thread.create(user_uuid=user.uuid_)
    return graph, user, thread


def mixed_items(graph: Graph, user: User, thread: Thread, count: int) -> list[BatchItemInput]:
    """Item i: i % 3 == 0 an episode into the standalone graph, 1 an episode into the user's
    graph, 2 a message in the user's thread; each with its own reference time."""
    items: list[BatchItemInput] = []
    for i in range(count):
        when = BASE_TIME + timedelta(minutes=i)
        if i % 3 == 0:
            items.append(episode(graph.uuid_, f"graph fact {i}", data_type="text", reference_time=utc_z(when)))
        elif i % 3 == 1:
            items.append(
                BatchItemInput(
                    type="graph_episode", user_uuid=user.uuid_, data=f"user fact {i}", reference_time=utc_z(when)
                )
            )
        else:
            # An offset other than Z: the emulator normalises it to UTC.
            items.append(
                message(
                    thread.uuid_,
                    f"message {i}",
                    role="user" if i % 2 == 0 else "assistant",
                    name="Ann" if i % 2 == 0 else "Bot",
                    reference_time=when.astimezone(PLUS_TWO).isoformat(),
                )
            )
    return items


# -- the whole lifecycle -----------------------------------------------------------------------------


def test_full_lifecycle_600_mixed_items(zep: Zep, control: Any) -> None:
    """create → 201 draft without progress; two add calls (500 + 100) get contiguous
    sequence indexes 0..599 in request order; process → 202 {batch queued, task pending};
    step(3) → processing with 3 succeeded; run_until_idle → succeeded; the task follows;
    list_items pages all 600 in order with episode uuids; the thread holds the messages with
    their reference times."""
    graph, user, thread = make_world(zep)

    created = zep.batch.with_raw_response.create(metadata={"source": "archive"})
    assert created.status_code == 201
    batch = created.data
    assert batch.status == "draft"
    assert batch.progress is None
    assert batch.metadata == {"source": "archive"}

    items = mixed_items(graph, user, thread, 600)
    first = zep.batch.add_items(batch.uuid_, items=items[:500])
    second = zep.batch.add_items(batch.uuid_, items=items[500:])
    added = (first.items or []) + (second.items or [])
    assert first.rejected_items == [] and second.rejected_items == []
    assert [it.sequence_index for it in added] == list(range(600))
    assert [it.type for it in added] == [it.type for it in items]
    assert {it.status for it in added} == {"pending"}
    assert {it.episode_uuid for it in added} == {None}  # its records are made when it is queued
    assert len({it.uuid_ for it in added}) == 600
    # Destinations are resolved for display while draft: a user's episode lands in the user's
    # graph, and so does a thread message (the thread belongs to the user).
    for item in added:
        i = item.sequence_index
        assert i is not None
        if i % 3 == 0:
            assert (item.graph_uuid, item.user_uuid, item.thread_uuid) == (graph.uuid_, None, None)
        elif i % 3 == 1:
            assert (item.graph_uuid, item.user_uuid, item.thread_uuid) == (user.graph_uuid, user.uuid_, None)
        else:
            assert (item.graph_uuid, item.user_uuid, item.thread_uuid) == (user.graph_uuid, user.uuid_, thread.uuid_)
    draft = zep.batch.get(batch.uuid_)
    assert draft.status == "draft" and draft.progress is None
    assert draft.item_count == 600  # type: ignore[attr-defined]

    control.set_mode("manual")
    processed = zep.batch.with_raw_response.process(batch.uuid_)
    assert processed.status_code == 202
    result = processed.data
    assert result.batch is not None and result.task is not None
    assert result.batch.uuid_ == batch.uuid_
    assert result.batch.status == "queued"
    assert result.batch.progress is not None
    assert (result.batch.progress.stage, result.batch.progress.total_items) == ("queued", 600)
    assert result.batch.progress.succeeded_items == 0
    assert result.task.status == "pending"
    task_uuid = result.task.uuid_
    assert task_uuid

    stepped = control.step(3)
    assert stepped == {"processed": 3, "pending": 597}
    running = zep.batch.get(batch.uuid_)
    assert running.status == "processing"
    assert running.progress is not None
    assert running.progress.stage == "processing"
    assert (running.progress.succeeded_items, running.progress.failed_items) == (3, 0)
    assert running.progress.processing_items == 0
    assert zep.task.get(task_uuid).status == "processing"
    # A queued item already names the episode it will write (3.30.0: "will be (or has been)
    # created"), and that episode is there, unprocessed.
    running_items = all_items(zep, batch.uuid_)
    assert sorted(it.status for it in running_items) == ["queued"] * 597 + ["succeeded"] * 3
    assert all(it.episode_uuid and it.episode_uuid == it.source_uuid for it in running_items)
    waiting = next(it for it in reversed(running_items) if it.sequence_index % 3 == 0)  # type: ignore[operator]
    assert waiting.status == "queued"
    queued_episode = zep.graph.episode.get(graph.uuid_, waiting.episode_uuid)  # type: ignore[arg-type]
    assert (queued_episode.content, queued_episode.processed) == (items[waiting.sequence_index].data, False)  # type: ignore[index]

    assert control.run_until_idle() == {"processed": 597, "pending": 0}
    done = zep.batch.get(batch.uuid_)
    assert done.status == "succeeded"
    assert done.progress is not None
    assert done.progress.stage == "completed"
    assert (done.progress.total_items, done.progress.succeeded_items, done.progress.failed_items) == (600, 600, 0)
    task = zep.task.get(task_uuid)
    assert task.status == "succeeded"
    assert task.progress is not None and task.progress.stage == "completed"

    listed = all_items(zep, batch.uuid_, page_size=200)
    assert [it.sequence_index for it in listed] == list(range(600))
    assert [it.uuid_ for it in listed] == [it.uuid_ for it in added]
    assert {it.status for it in listed} == {"succeeded"}
    assert all(it.episode_uuid and it.episode_uuid == it.source_uuid for it in listed)
    assert len({it.episode_uuid for it in listed}) == 600
    assert [it.episode_uuid for it in listed] == [it.episode_uuid for it in running_items]

    messages = list(zep.thread.list_messages(thread.uuid_, page_size=50))
    expected = [items[i] for i in range(600) if i % 3 == 2]
    assert len(messages) == len(expected) == 200
    assert [m.content for m in messages] == [e.content for e in expected]
    assert [(m.role, m.name) for m in messages] == [(e.role, e.name) for e in expected]
    for m, e in zip(messages, expected):
        assert m.reference_time is not None and m.reference_time.endswith("Z")
        assert e.reference_time is not None
        assert datetime.fromisoformat(m.reference_time) == datetime.fromisoformat(e.reference_time)
        assert m.thread_uuid == thread.uuid_


def test_batch_list_filters_by_status(zep: Zep) -> None:
    """batch.list(status=...) returns only batches in that status; total_size counts them."""
    graph = zep.graph.create(name="g")
    finished = zep.batch.create()
    zep.batch.add_items(finished.uuid_, items=[episode(graph.uuid_, "one")])
    zep.batch.process(finished.uuid_)  # instant mode: terminal before the call answers
    drafts = [zep.batch.create(), zep.batch.create()]

    succeeded = zep.batch.list(status="succeeded")
    assert [b.uuid_ for b in succeeded] == [finished.uuid_]
    assert succeeded.response.total_size == 1
    draft_page = zep.batch.list(status="draft")
    assert [b.uuid_ for b in draft_page] == [b.uuid_ for b in drafts]
    assert draft_page.response.total_size == 2
    assert [b.uuid_ for b in zep.batch.list(page_size=1)] == [finished.uuid_] + [b.uuid_ for b in drafts]
    assert list(zep.batch.list(status="partial")) == []


def test_task_list_pages_and_filters_by_status_and_type(zep: Zep, control: Any) -> None:
    """task.list (GET /tasks) lists the tenant's tasks oldest first, page by page, with
    total_size the number matching; status follows each task's batch; type matches exactly;
    a status outside TaskStatus is a 400 invalid_parameter."""
    graph, doomed = zep.graph.create(name="g"), zep.graph.create(name="doomed")
    control.set_mode("manual")
    made = []
    for n in range(3):
        batch = zep.batch.create()
        zep.batch.add_items(batch.uuid_, items=[episode(graph.uuid_, f"item {n}")])
        task = zep.batch.process(batch.uuid_).task
        assert task is not None
        made.append(task.uuid_)
    deleted = zep.graph.delete(doomed.uuid_).task
    assert deleted is not None
    made.append(deleted.uuid_)

    first = zep.task.list(page_size=3)
    assert first.response.total_size == 4 and first.response.next_cursor
    assert [t.uuid_ for t in first.items or []] == made[:3]
    assert [t.uuid_ for t in zep.task.list(page_size=3)] == made  # the pager follows next_cursor
    pending = zep.task.list(status="pending")
    assert [(t.uuid_, t.type) for t in pending] == [(u, "batch.process") for u in made[:3]]
    assert pending.response.total_size == 3
    assert [t.uuid_ for t in zep.task.list(type="graph.delete")] == [made[3]]
    assert list(zep.task.list(type="graph.clone")) == []

    assert control.run_until_idle() == {"processed": 3, "pending": 0}
    assert [t.uuid_ for t in zep.task.list(status="succeeded", page_size=1)] == made
    assert list(zep.task.list(status="pending")) == []
    with pytest.raises(BadRequestError) as bad:
        zep.task.list(status="done")  # type: ignore[arg-type]
    assert code_of(bad.value) == "invalid_parameter"


def test_delete_draft_then_processed(zep: Zep) -> None:
    """A draft batch deletes with 204 and is gone (404 batch_not_found); a processed batch
    cannot be deleted (409 batch_not_deletable) and is still there afterwards."""
    graph = zep.graph.create(name="g")
    draft = zep.batch.create()
    zep.batch.add_items(draft.uuid_, items=[episode(graph.uuid_, "x")])
    deleted = zep.batch.with_raw_response.delete(draft.uuid_)
    assert deleted.status_code == 204
    with pytest.raises(NotFoundError) as missing:
        zep.batch.get(draft.uuid_)
    assert code_of(missing.value) == "batch_not_found"
    assert list(zep.batch.list()) == []

    done = zep.batch.create()
    zep.batch.add_items(done.uuid_, items=[episode(graph.uuid_, "y")])
    zep.batch.process(done.uuid_)
    with pytest.raises(ConflictError) as conflict:
        zep.batch.delete(done.uuid_)
    assert conflict.value.status_code == 409
    assert code_of(conflict.value) == "batch_not_deletable"
    assert zep.batch.get(done.uuid_).status == "succeeded"


# -- outcomes ------------------------------------------------------------------------------------


def test_invalid_json_item_fails_and_batch_is_partial(zep: Zep) -> None:
    """A json item whose data does not parse ends failed with error.code invalid_json; the
    other items still succeed, so the batch is partial and the task says so."""
    graph = zep.graph.create(name="g")
    batch = zep.batch.create()
    zep.batch.add_items(
        batch.uuid_,
        items=[
            episode(graph.uuid_, '{"sku": 1}', data_type="json"),
            episode(graph.uuid_, "{not json", data_type="json"),
            episode(graph.uuid_, "plain text"),
        ],
    )
    result = zep.batch.process(batch.uuid_)
    summary = zep.batch.get(batch.uuid_)
    assert summary.status == "partial"
    assert summary.progress is not None
    assert (summary.progress.succeeded_items, summary.progress.failed_items) == (2, 1)
    assert result.task is not None and zep.task.get(result.task.uuid_).status == "partial"
    items = all_items(zep, batch.uuid_)
    assert [it.status for it in items] == ["succeeded", "failed", "succeeded"]
    failed = items[1]
    assert failed.episode_uuid is None
    assert failed.error["code"] == "invalid_json"  # type: ignore[attr-defined]
    assert failed.error["message"]  # type: ignore[attr-defined]
    assert not hasattr(items[0], "error") or items[0].error is None  # type: ignore[attr-defined]


def test_all_items_failing_makes_batch_failed(zep: Zep) -> None:
    """When every item fails the batch is failed (not partial) and its task too."""
    graph = zep.graph.create(name="g")
    batch = zep.batch.create()
    zep.batch.add_items(
        batch.uuid_,
        items=[episode(graph.uuid_, "[1, 2", data_type="json"), episode(graph.uuid_, "nope", data_type="json")],
    )
    result = zep.batch.process(batch.uuid_)
    summary = zep.batch.get(batch.uuid_)
    assert summary.status == "failed"
    assert summary.progress is not None
    assert (summary.progress.succeeded_items, summary.progress.failed_items) == (0, 2)
    assert result.task is not None and zep.task.get(result.task.uuid_).status == "failed"
    codes = [it.error["code"] for it in all_items(zep, batch.uuid_)]  # type: ignore[attr-defined]
    assert codes == ["invalid_json", "invalid_json"]


def test_item_whose_graph_was_deleted_is_skipped(zep: Zep, control: Any) -> None:
    """Deleting a destination graph after process (manual mode) skips its queued items,
    writes nothing for them, and leaves the batch succeeded (skipped is not failed)."""
    doomed, kept = zep.graph.create(name="doomed"), zep.graph.create(name="kept")
    batch = zep.batch.create()
    zep.batch.add_items(
        batch.uuid_, items=[episode(doomed.uuid_, "a"), episode(kept.uuid_, "b"), episode(doomed.uuid_, "c")]
    )
    control.set_mode("manual")
    zep.batch.process(batch.uuid_)
    deleted = zep.graph.delete(doomed.uuid_)
    assert deleted.task is not None and deleted.task.status == "succeeded"
    assert control.run_until_idle() == {"processed": 3, "pending": 0}

    summary = zep.batch.get(batch.uuid_)
    assert summary.status == "succeeded"
    assert summary.progress is not None
    assert (summary.progress.succeeded_items, summary.progress.failed_items) == (1, 0)
    items = all_items(zep, batch.uuid_)
    assert [it.status for it in items] == ["skipped", "succeeded", "skipped"]
    assert [it.episode_uuid is None for it in items] == [True, False, True]


def test_supporting_deletes_parse_through_the_sdk(zep: Zep) -> None:
    """zep-cloud 4.0.1 parses a JSON body (ThreadDeleteResult / GraphDeleteResult /
    UserDeleteResult, "Accepted") from thread.delete, graph.delete and user.delete: each
    answers 202 with a task, and afterwards the record is 404 with the matching code."""
    graph, user, thread = make_world(zep)
    for delete in (
        lambda: zep.thread.with_raw_response.delete(thread.uuid_),
        lambda: zep.graph.with_raw_response.delete(graph.uuid_),
        lambda: zep.user.with_raw_response.delete(user.uuid_),
    ):
        response = delete()
        assert response.status_code == 202
        assert response.data.task is not None and response.data.task.uuid_
    reads: list[tuple[Callable[[], Any], str]] = [
        (lambda: zep.thread.get(thread.uuid_), "thread_not_found"),
        (lambda: zep.graph.get(graph.uuid_), "graph_not_found"),
        (lambda: zep.user.get(user.uuid_), "user_not_found"),
    ]
    for read, code in reads:
        with pytest.raises(NotFoundError) as missing:
            read()
        assert code_of(missing.value) == code


def test_cancel_through_control_plane(zep: Zep, control: Any) -> None:
    """control cancel: items already done keep their status, the rest become canceled, the
    batch is canceled and the processor has nothing left to do for it."""
    graph = zep.graph.create(name="g")
    batch = zep.batch.create()
    zep.batch.add_items(batch.uuid_, items=[episode(graph.uuid_, f"e{i}") for i in range(5)])
    control.set_mode("manual")
    zep.batch.process(batch.uuid_)
    assert control.step(2) == {"processed": 2, "pending": 3}
    assert control.cancel(batch.uuid_) == {"batch_id": batch.uuid_, "status": "canceled"}
    assert control.run_until_idle()["processed"] == 0

    summary = zep.batch.get(batch.uuid_)
    assert summary.status == "canceled"
    assert summary.progress is not None and summary.progress.succeeded_items == 2
    assert [it.status for it in all_items(zep, batch.uuid_)] == ["succeeded"] * 2 + ["canceled"] * 3


def test_missing_user_or_thread_makes_batch_invalid(zep: Zep) -> None:
    """Users and threads are checked at process: a dangling one answers 400
    invalid_references naming the item indexes, the batch turns invalid, stays invalid, and
    can then be deleted."""
    graph = zep.graph.create(name="g")
    batch = zep.batch.create()
    ghost_user, ghost_thread = str(uuid.uuid4()), str(uuid.uuid4())
    added = zep.batch.add_items(
        batch.uuid_,
        items=[
            episode(graph.uuid_, "fine"),
            BatchItemInput(type="graph_episode", user_uuid=ghost_user, data="who?"),
            message(ghost_thread, "hello?"),
        ],
    )
    assert added.rejected_items == []  # only missing graphs are turned away at add time
    assert len(added.items or []) == 3
    # Each item names what it was sent with, even a reference that does not resolve (found
    # by the contract suite: they used to come back without user_uuid / thread_uuid).
    named = [(i.graph_uuid, i.user_uuid, i.thread_uuid) for i in all_items(zep, batch.uuid_)]
    assert named == [(graph.uuid_, None, None), (None, ghost_user, None), (None, None, ghost_thread)]

    with pytest.raises(BadRequestError) as bad:
        zep.batch.process(batch.uuid_)
    assert code_of(bad.value) == "invalid_references"
    assert bad.value.body.error.details == {"invalid_items": [1, 2]}
    summary = zep.batch.get(batch.uuid_)
    assert summary.status == "invalid"
    assert summary.progress is None  # it never started processing
    assert {it.status for it in all_items(zep, batch.uuid_)} == {"pending"}
    assert zep.batch.with_raw_response.delete(batch.uuid_).status_code == 204
    with pytest.raises(NotFoundError):
        zep.batch.get(batch.uuid_)


def test_unknown_graph_is_rejected_at_add(zep: Zep) -> None:
    """A graph_episode naming a graph that does not exist comes back in rejected_items with
    its request index (200); the others are stored with contiguous sequence indexes."""
    graph = zep.graph.create(name="g")
    ghost = str(uuid.uuid4())
    batch = zep.batch.create()
    response = zep.batch.with_raw_response.add_items(
        batch.uuid_, items=[episode(graph.uuid_, "a"), episode(ghost, "b"), episode(graph.uuid_, "c")]
    )
    assert response.status_code == 200
    body = response.data
    assert [(r.index, ghost in (r.reason or "")) for r in body.rejected_items or []] == [(1, True)]
    assert [(it.sequence_index, it.graph_uuid) for it in body.items or []] == [(0, graph.uuid_), (1, graph.uuid_)]
    assert zep.batch.get(batch.uuid_).item_count == 2  # type: ignore[attr-defined]


def test_ignore_roles_stores_message_without_episode(zep: Zep) -> None:
    """With ignore_roles=[assistant] an assistant message is stored in the thread but writes
    no episode (episode_uuid null), while a user message writes both."""
    _, user, thread = make_world(zep)
    batch = zep.batch.create(ignore_roles=["assistant"])
    assert batch.ignore_roles == ["assistant"]  # type: ignore[attr-defined]
    zep.batch.add_items(
        batch.uuid_, items=[message(thread.uuid_, "hi", role="user"), message(thread.uuid_, "hello!", role="assistant")]
    )
    zep.batch.process(batch.uuid_)
    assert zep.batch.get(batch.uuid_).status == "succeeded"
    user_item, assistant_item = all_items(zep, batch.uuid_)
    assert (user_item.status, assistant_item.status) == ("succeeded", "succeeded")
    assert user_item.episode_uuid is not None
    assert assistant_item.episode_uuid is None
    assert assistant_item.graph_uuid == user.graph_uuid
    stored = [(m.role, m.content) for m in zep.thread.list_messages(thread.uuid_)]
    assert stored == [("user", "hi"), ("assistant", "hello!")]


def test_items_of_one_graph_complete_in_sequence_order(zep: Zep, control: Any) -> None:
    """Per destination graph, items finish strictly in sequence_index order, whatever the
    interleaving across graphs: after every single step, each graph's finished items are a
    prefix of its items in sequence order."""
    a, b = zep.graph.create(name="a"), zep.graph.create(name="b")
    pattern = [a, a, b, a, b, b, a, b, b, a]
    batch = zep.batch.create()
    zep.batch.add_items(batch.uuid_, items=[episode(g.uuid_, f"{g.name}-{i}") for i, g in enumerate(pattern)])
    control.set_mode("manual")
    zep.batch.process(batch.uuid_)

    per_graph = {g.uuid_: [i for i, x in enumerate(pattern) if x is g] for g in (a, b)}
    for step in range(1, len(pattern) + 1):
        assert control.step(1)["processed"] == 1
        items = all_items(zep, batch.uuid_)
        done = {it.sequence_index for it in items if it.status == "succeeded"}
        assert len(done) == step
        for order in per_graph.values():
            finished = [i for i in order if i in done]
            assert finished == order[: len(finished)], f"after step {step}: {finished} is not a prefix of {order}"
    assert zep.batch.get(batch.uuid_).status == "succeeded"


# -- Idempotency-Key ---------------------------------------------------------------------------------


def test_process_replays_for_same_idempotency_key(zep: Zep, control: Any) -> None:
    """A second process with the first one's Idempotency-Key replays the first answer (202,
    same body — even though the batch has moved on); a new key is a 409
    batch_already_processed."""
    graph = zep.graph.create(name="g")
    batch = zep.batch.create()
    zep.batch.add_items(batch.uuid_, items=[episode(graph.uuid_, "x"), episode(graph.uuid_, "y")])
    control.set_mode("manual")
    first = zep.batch.with_raw_response.process(batch.uuid_, idempotency_key="process-once")
    control.run_until_idle()
    again = zep.batch.with_raw_response.process(batch.uuid_, idempotency_key="process-once")
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.response.json() == first.response.json()
    assert again.data.batch is not None and again.data.batch.status == "queued"  # the stored answer
    assert zep.batch.get(batch.uuid_).status == "succeeded"  # the batch itself did not re-run
    assert zep.batch.get(batch.uuid_).progress.succeeded_items == 2  # type: ignore[union-attr]

    with pytest.raises(ConflictError) as conflict:
        zep.batch.process(batch.uuid_, idempotency_key="another-key")
    assert code_of(conflict.value) == "batch_already_processed"


def test_add_items_replays_for_same_idempotency_key(zep: Zep) -> None:
    """add_items twice with one key and the same items stores one set (the replay returns the
    same item uuids); the same key with a different body is 400 idempotency_key_reused and
    stores nothing."""
    graph = zep.graph.create(name="g")
    batch = zep.batch.create()
    items = [episode(graph.uuid_, f"fact {i}") for i in range(3)]
    first = zep.batch.add_items(batch.uuid_, items=items, idempotency_key="add-1")
    second = zep.batch.add_items(batch.uuid_, items=items, idempotency_key="add-1")
    assert [it.uuid_ for it in second.items or []] == [it.uuid_ for it in first.items or []]
    assert zep.batch.get(batch.uuid_).item_count == 3  # type: ignore[attr-defined]

    with pytest.raises(BadRequestError) as reused:
        zep.batch.add_items(batch.uuid_, items=items[:1], idempotency_key="add-1")
    assert code_of(reused.value) == "idempotency_key_reused"
    assert zep.batch.get(batch.uuid_).item_count == 3  # type: ignore[attr-defined]
    assert len(all_items(zep, batch.uuid_)) == 3


def test_a_refused_call_is_replayed_too(zep: Zep, raw: httpx.Client, api_key: str) -> None:
    """Every answer below 500 is what the request did: a retry with its key gets the same
    answer back, marked as a replay, even if the world changed in between."""
    batch = zep.batch.create()
    with pytest.raises(BadRequestError) as first:
        zep.batch.process(batch.uuid_, idempotency_key="process-empty")  # type: ignore[arg-type]
    assert code_of(first.value) == "empty_batch"
    graph = zep.graph.create(name="g")
    zep.batch.add_items(batch.uuid_, items=[episode(graph.uuid_, "now it has one")])  # type: ignore[arg-type]
    retry = raw.post(
        f"/api/v4/batches/{batch.uuid_}/process",
        headers={"Authorization": f"Api-Key {api_key}", "Idempotency-Key": "process-empty"},
    )
    assert (retry.status_code, retry.json()["error"]["code"]) == (400, "empty_batch")
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert zep.batch.get(batch.uuid_).status == "draft"  # type: ignore[arg-type]


# -- one tenant, two wire versions -------------------------------------------------------------------


def test_v2_reads_the_same_batch(zep: Zep, raw: httpx.Client, api_key: str) -> None:
    """The same tenant's batch reads the same through /api/v2 (batch_id, status, item_count,
    progress counts)."""
    graph = zep.graph.create(name="g")
    batch = zep.batch.create()
    zep.batch.add_items(
        batch.uuid_, items=[episode(graph.uuid_, "ok"), episode(graph.uuid_, "{", data_type="json")]
    )
    zep.batch.process(batch.uuid_)
    v4 = zep.batch.get(batch.uuid_)

    response = raw.get(f"/api/v2/batches/{batch.uuid_}", headers={"Authorization": f"Api-Key {api_key}"})
    assert response.status_code == 200
    v2 = response.json()
    assert (v2["batch_id"], v2["status"], v2["item_count"]) == (batch.uuid_, v4.status, 2)
    assert v4.status == "partial"
    assert v4.progress is not None
    assert (v2["progress"]["succeeded_items"], v2["progress"]["failed_items"]) == (
        v4.progress.succeeded_items,
        v4.progress.failed_items,
    )

    other = raw.get(f"/api/v2/batches/{batch.uuid_}", headers={"Authorization": f"Api-Key {api_key}-other"})
    assert other.status_code == 404
    assert "message" in other.json()


def test_session_server_is_instant_by_default(server: BackgroundServer, zep: Zep) -> None:
    """Without a mode switch, the session server is instant: process answers with the batch
    already terminal (the other tests rely on this)."""
    graph = zep.graph.create(name="g")
    batch = zep.batch.create()
    zep.batch.add_items(batch.uuid_, items=[episode(graph.uuid_, "x")])
    result = zep.batch.process(batch.uuid_)
    assert result.batch is not None and result.batch.status == "succeeded"
    assert result.task is not None and result.task.status == "succeeded"
    assert server.zep_v4_url.endswith("/api/v4")
