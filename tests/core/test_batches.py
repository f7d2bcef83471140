"""The batch state machine, counters, outcomes and limits (core/batches.py, core/tenants.py)."""

from __future__ import annotations

import pytest

from emulator.core.batches import BATCH_TRANSITIONS, BatchStatus, IllegalTransition, ItemStatus
from emulator.core.errors import Conflict, InvalidInput, NotFound
from emulator.core.limits import MAX_ITEMS_PER_ADD, MAX_ITEMS_PER_BATCH

from .conftest import Setup, episode, message


def test_new_batch_is_draft_with_no_items(setup: Setup) -> None:
    batch = setup.tenant.create_batch(metadata={"source": "crm"})
    assert batch.status is BatchStatus.DRAFT
    assert batch.item_count == 0
    assert batch.processed_at is None and batch.completed_at is None
    assert setup.tenant.batch(batch.uuid) is batch


def test_items_are_appended_in_request_order_with_contiguous_indexes(setup: Setup) -> None:
    batch = setup.tenant.create_batch()
    first, _ = setup.tenant.add_items(batch, [episode(data=f"a{i}") for i in range(3)])
    second, _ = setup.tenant.add_items(batch, [episode(data=f"b{i}") for i in range(2)])
    assert [i.sequence_index for i in first + second] == [0, 1, 2, 3, 4]
    assert [i.input.data for i in batch.items] == ["a0", "a1", "a2", "b0", "b1"]
    assert batch.counts[ItemStatus.PENDING] == 5


def test_missing_graphs_can_be_turned_away_at_add(setup: Setup) -> None:
    """v4's reading (decisions.md): the rest of the call is appended, in request order."""
    batch = setup.tenant.create_batch()
    items, rejected = setup.tenant.add_items(
        batch, [episode(data="a"), episode("nope"), message(), episode("nope")], reject_missing_graphs=True
    )
    assert rejected == [1, 3]
    assert [(i.sequence_index, i.input.data) for i in items] == [(0, "a"), (1, "hi")]
    assert items[0].graph is setup.graph and items[1].thread is setup.thread


@pytest.mark.parametrize("count, code", [(0, "no_items"), (MAX_ITEMS_PER_ADD + 1, "too_many_items")])
def test_add_call_size_limits(setup: Setup, count: int, code: str) -> None:
    batch = setup.tenant.create_batch()
    with pytest.raises(InvalidInput) as err:
        setup.tenant.add_items(batch, [episode()] * count)
    assert err.value.code == code
    assert batch.item_count == 0


def test_add_exactly_500_is_accepted(setup: Setup) -> None:
    batch = setup.tenant.create_batch()
    items, rejected = setup.tenant.add_items(batch, [episode()] * MAX_ITEMS_PER_ADD)
    assert (len(items), rejected) == (MAX_ITEMS_PER_ADD, [])


def test_batch_capacity_limit_changes_nothing(setup: Setup) -> None:
    batch = setup.tenant.create_batch()
    for _ in range(MAX_ITEMS_PER_BATCH // MAX_ITEMS_PER_ADD):
        setup.tenant.add_items(batch, [episode()] * MAX_ITEMS_PER_ADD)
    with pytest.raises(InvalidInput) as err:
        setup.tenant.add_items(batch, [episode()])
    assert err.value.code == "batch_too_large"
    assert batch.item_count == MAX_ITEMS_PER_BATCH


def test_process_empty_batch_is_refused_and_stays_draft(setup: Setup) -> None:
    batch = setup.tenant.create_batch()
    with pytest.raises(InvalidInput) as err:
        setup.tenant.process(batch)
    assert err.value.code == "empty_batch"
    assert batch.status is BatchStatus.DRAFT


def test_process_queues_every_item_and_returns_a_pending_task(setup: Setup) -> None:
    frozen = setup.world.clock.freeze()
    batch = setup.tenant.create_batch()
    setup.tenant.add_items(batch, [episode(), message()])
    task = setup.tenant.process(batch)
    assert batch.status is BatchStatus.QUEUED
    assert batch.counts[ItemStatus.QUEUED] == 2 and batch.counts[ItemStatus.PENDING] == 0
    assert task.status == "pending" and task.type == "batch.process"
    assert batch.processed_at == frozen and batch.completed_at is None


def test_second_process_is_a_conflict(setup: Setup) -> None:
    batch = setup.tenant.create_batch()
    setup.tenant.add_items(batch, [episode()])
    setup.tenant.process(batch)
    with pytest.raises(Conflict) as err:
        setup.tenant.process(batch)
    assert err.value.code == "batch_already_processed"


def test_add_after_process_is_a_conflict_and_adds_nothing(setup: Setup) -> None:
    batch = setup.tenant.create_batch()
    setup.tenant.add_items(batch, [episode()])
    setup.tenant.process(batch)
    with pytest.raises(Conflict) as err:
        setup.tenant.add_items(batch, [episode()])
    assert err.value.code == "batch_not_draft"
    assert batch.item_count == 1


def test_dangling_references_make_the_batch_invalid(setup: Setup) -> None:
    batch = setup.tenant.create_batch()
    setup.tenant.add_items(batch, [episode(), episode("nope"), message("no-thread")])
    with pytest.raises(InvalidInput) as err:
        setup.tenant.process(batch)
    assert err.value.code == "invalid_references"
    assert err.value.details == {"invalid_items": [1, 2]}
    assert batch.status is BatchStatus.INVALID
    assert batch.invalid_items == [1, 2]
    with pytest.raises(Conflict):
        setup.tenant.process(batch)
    setup.tenant.delete_batch(batch)  # invalid batches can be deleted
    with pytest.raises(NotFound):
        setup.tenant.batch(batch.uuid)


@pytest.mark.parametrize("status_after", ["queued", "succeeded"])
def test_only_draft_or_invalid_batches_can_be_deleted(setup: Setup, status_after: str) -> None:
    batch = setup.tenant.create_batch()
    setup.tenant.add_items(batch, [episode()])
    setup.tenant.process(batch)
    if status_after == "succeeded":
        setup.world.processor.run_until_idle()
    assert batch.status.value == status_after
    with pytest.raises(Conflict) as err:
        setup.tenant.delete_batch(batch)
    assert err.value.code == "batch_not_deletable"
    assert setup.tenant.batch(batch.uuid) is batch


def test_outcomes(setup: Setup) -> None:
    """decisions.md: no failed item → succeeded; all failed → failed; else partial."""
    outcomes = {}
    for name, inputs in {
        "ok": [episode(), episode()],
        "some": [episode(), episode(data="{", data_type="json")],
        "all": [episode(data="{", data_type="json"), episode(data="x" * 10_001)],
    }.items():
        batch = setup.tenant.create_batch()
        setup.tenant.add_items(batch, inputs)
        setup.tenant.process(batch)
        setup.world.processor.run_until_idle()
        outcomes[name] = batch.status
    assert outcomes == {"ok": BatchStatus.SUCCEEDED, "some": BatchStatus.PARTIAL, "all": BatchStatus.FAILED}


def test_failed_items_carry_code_and_message(setup: Setup) -> None:
    batch = setup.tenant.create_batch()
    setup.tenant.add_items(batch, [episode(data="[1,", data_type="json"), message(content="x" * 4097)])
    setup.tenant.process(batch)
    setup.world.processor.run_until_idle()
    assert [i.error["code"] for i in batch.items] == ["invalid_json", "content_too_large"]  # type: ignore[index]
    assert "4096" in batch.items[1].error["message"]  # type: ignore[index]


def test_skipped_items_do_not_fail_the_batch(setup: Setup) -> None:
    batch = setup.tenant.create_batch()
    setup.tenant.add_items(batch, [episode("g2"), episode("g1")])
    setup.tenant.process(batch)
    setup.tenant.store.delete_graph(setup.other_graph)
    setup.world.processor.run_until_idle()
    assert [i.status for i in batch.items] == [ItemStatus.SKIPPED, ItemStatus.SUCCEEDED]
    assert batch.status is BatchStatus.SUCCEEDED
    assert setup.other_graph.live_episodes() == []


def test_cancel_cancels_every_waiting_item(setup: Setup) -> None:
    batch = setup.tenant.create_batch()
    setup.tenant.add_items(batch, [episode() for _ in range(4)])
    setup.tenant.process(batch)
    setup.world.processor.step(1)
    setup.tenant.cancel_batch(batch)
    assert batch.status is BatchStatus.CANCELED
    assert batch.counts[ItemStatus.SUCCEEDED] == 1 and batch.counts[ItemStatus.CANCELED] == 3
    assert setup.world.processor.run_until_idle() == 0
    with pytest.raises(Conflict):
        setup.tenant.cancel_batch(batch)


def test_counters_always_match_the_items(setup: Setup) -> None:
    batch = setup.tenant.create_batch()
    setup.tenant.add_items(batch, [episode(), episode(data="{", data_type="json"), message()])
    setup.tenant.process(batch)
    for _ in range(3):
        setup.world.processor.step(1)
        actual = {s: sum(1 for i in batch.items if i.status is s) for s in ItemStatus}
        assert batch.counts == actual


def test_illegal_transitions_raise(setup: Setup) -> None:
    batch = setup.tenant.create_batch()
    with pytest.raises(IllegalTransition):
        batch.set_status(BatchStatus.SUCCEEDED, setup.world.clock.now())
    assert BatchStatus.SUCCEEDED not in BATCH_TRANSITIONS[BatchStatus.DRAFT]


def test_task_follows_the_batch(setup: Setup) -> None:
    batch = setup.tenant.create_batch()
    setup.tenant.add_items(batch, [episode(), episode()])
    task = setup.tenant.process(batch)
    seen = [(task.status, task.stage)]
    setup.world.processor.step(1)
    seen.append((task.status, task.stage))
    setup.world.processor.step(1)
    seen.append((task.status, task.stage))
    assert seen == [("pending", "queued"), ("processing", "processing"), ("succeeded", "completed")]
    assert setup.tenant.task(task.uuid) is task


def test_list_batches_pages_by_serial_and_survives_deletes(setup: Setup) -> None:
    batches = [setup.tenant.create_batch() for _ in range(5)]
    page, nxt = setup.tenant.list_batches(None, 0, 2)
    assert page == batches[:2] and nxt == 2
    setup.tenant.delete_batch(batches[1])  # deleting an earlier batch must not shift the next page
    page, nxt = setup.tenant.list_batches(None, nxt, 2)
    assert page == batches[2:4] and nxt == 4
    page, nxt = setup.tenant.list_batches(None, nxt, 2)
    assert page == [batches[4]] and nxt is None


def test_list_items_with_status_filter(setup: Setup) -> None:
    batch = setup.tenant.create_batch()
    setup.tenant.add_items(batch, [episode(data="{", data_type="json") if i % 3 == 0 else episode() for i in range(9)])
    setup.tenant.process(batch)
    setup.world.processor.run_until_idle()
    page, nxt = setup.tenant.list_items(batch, ItemStatus.FAILED, 0, 2)
    assert [i.sequence_index for i in page] == [0, 3] and nxt == 6
    page, nxt = setup.tenant.list_items(batch, ItemStatus.FAILED, nxt, 2)
    assert [i.sequence_index for i in page] == [6] and nxt is None
