"""Per-graph FIFO processing and the three modes (core/processor.py, core/ingest.py)."""

from __future__ import annotations

import asyncio

from emulator.core.batches import BatchStatus, ItemStatus
from emulator.core.processor import ProcessingMode

from .conftest import Setup, episode, message


def test_items_of_one_graph_run_in_sequence_order_and_graphs_interleave(setup: Setup) -> None:
    batch = setup.tenant.create_batch()
    setup.tenant.add_items(batch, [episode("g1" if i % 3 else "g2", data=f"e{i}") for i in range(9)])
    setup.tenant.process(batch)
    order: list[int] = []
    setup.tenant.observe(
        lambda what, obj, old, new: order.append(obj.sequence_index)
        if what == "item" and new is ItemStatus.SUCCEEDED
        else None
    )
    while setup.world.processor.step(1):
        pass
    g1 = [i for i in order if i % 3]
    g2 = [i for i in order if not i % 3]
    assert g1 == sorted(g1) and g2 == sorted(g2)
    assert order[:2] == [0, 1]  # round robin: g2's first item, then g1's first
    assert [e.content for e in setup.graph.live_episodes()] == [f"e{i}" for i in range(9) if i % 3]


def test_later_batch_to_the_same_graph_waits_for_the_earlier(setup: Setup) -> None:
    first, second = setup.tenant.create_batch(), setup.tenant.create_batch()
    setup.tenant.add_items(first, [episode(data="first")] * 3)
    setup.tenant.add_items(second, [episode(data="second")])
    setup.tenant.process(first)
    setup.tenant.process(second)
    setup.world.processor.step(3)
    assert first.status is BatchStatus.SUCCEEDED and second.status is BatchStatus.QUEUED
    setup.world.processor.step(1)
    assert [e.content for e in setup.graph.live_episodes()] == ["first"] * 3 + ["second"]


def test_step_is_scoped_to_one_tenant(setup: Setup) -> None:
    other = setup.world.tenants.get(setup.tenant.service, "other-key")
    graph = other.store.create_graph("g1", setup.world.clock.now())
    mine, theirs = setup.tenant.create_batch(), other.create_batch()
    setup.tenant.add_items(mine, [episode()])
    other.add_items(theirs, [episode()])
    setup.tenant.process(mine)
    other.process(theirs)
    assert setup.world.processor.step(5, [other.work]) == 1
    assert theirs.status is BatchStatus.SUCCEEDED and mine.status is BatchStatus.QUEUED
    assert len(graph.live_episodes()) == 1


def test_instant_mode_finishes_before_process_returns(setup: Setup) -> None:
    setup.tenant.set_mode(ProcessingMode.INSTANT)
    batch = setup.tenant.create_batch()
    setup.tenant.add_items(batch, [episode(), message()])
    setup.tenant.process(batch)
    assert batch.status is BatchStatus.SUCCEEDED
    assert setup.world.processor.pending() == 0


def test_switching_to_instant_drains_queued_work(setup: Setup) -> None:
    batch = setup.tenant.create_batch()
    setup.tenant.add_items(batch, [episode()] * 3)
    setup.tenant.process(batch)
    assert setup.world.processor.pending([setup.tenant.work]) == 3
    setup.tenant.set_mode(ProcessingMode.INSTANT)
    assert batch.status is BatchStatus.SUCCEEDED


def test_thread_message_writes_message_and_user_graph_episode(setup: Setup) -> None:
    batch = setup.tenant.create_batch(ignore_roles=["assistant"])
    setup.tenant.add_items(batch, [message(content="hello", role="user"), message(content="hi!", role="assistant")])
    setup.tenant.process(batch)
    setup.world.processor.run_until_idle()
    assert [(m.role, m.content) for m in setup.thread.live_messages()] == [("user", "hello"), ("assistant", "hi!")]
    episodes = setup.user.graph.live_episodes()
    assert len(episodes) == 1 and episodes[0].thread is setup.thread and episodes[0].role == "user"
    assert batch.items[0].episode_uuid == episodes[0].uuid and batch.items[1].episode_uuid is None


def test_reference_time_defaults_to_the_clock_at_processing(setup: Setup) -> None:
    setup.world.clock.freeze()
    batch = setup.tenant.create_batch()
    setup.tenant.add_items(batch, [episode()])
    setup.tenant.process(batch)
    processed_at = setup.world.clock.advance(3600)
    setup.world.processor.run_until_idle()
    assert setup.graph.live_episodes()[0].reference_time == processed_at


async def test_realtime_mode_spends_item_seconds_per_item(setup: Setup) -> None:
    setup.world.processor.item_seconds = 0.02
    setup.tenant.set_mode(ProcessingMode.REALTIME)
    batch = setup.tenant.create_batch()
    setup.tenant.add_items(batch, [episode("g1"), episode("g1"), episode("g2")])
    setup.tenant.process(batch)
    await asyncio.sleep(0)
    assert batch.counts[ItemStatus.PROCESSING] == 2  # one per graph, concurrently
    assert batch.status is BatchStatus.PROCESSING
    for _ in range(100):
        if batch.terminal:
            break
        await asyncio.sleep(0.01)
    assert batch.status is BatchStatus.SUCCEEDED
    assert [e.content for e in setup.graph.live_episodes()] == ["hello", "hello"]


async def _until(predicate, seconds: float = 2.0) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(seconds / 0.005)):
        if predicate():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition not reached in time")


async def test_switching_from_realtime_to_instant_finishes_the_rest(setup: Setup) -> None:
    """The worker that owned the graph hands it over when the mode changes under it."""
    setup.world.processor.item_seconds = 0.05
    setup.tenant.set_mode(ProcessingMode.REALTIME)
    batch = setup.tenant.create_batch()
    setup.tenant.add_items(batch, [episode(data=f"e{i}") for i in range(5)])
    setup.tenant.process(batch)
    await asyncio.sleep(0)
    assert batch.counts[ItemStatus.PROCESSING] == 1
    setup.tenant.set_mode(ProcessingMode.INSTANT)
    await _until(lambda: batch.terminal)
    assert batch.status is BatchStatus.SUCCEEDED
    assert [e.content for e in setup.graph.live_episodes()] == [f"e{i}" for i in range(5)]  # still in order


async def test_cancel_during_realtime_processing_writes_nothing_more(setup: Setup) -> None:
    setup.world.processor.item_seconds = 0.05
    setup.tenant.set_mode(ProcessingMode.REALTIME)
    batch = setup.tenant.create_batch()
    setup.tenant.add_items(batch, [episode(data=f"e{i}") for i in range(3)])
    setup.tenant.process(batch)
    await asyncio.sleep(0)
    assert batch.counts[ItemStatus.PROCESSING] == 1
    setup.tenant.cancel_batch(batch)
    assert batch.counts[ItemStatus.CANCELED] == 3 and batch.counts[ItemStatus.PROCESSING] == 0
    completed_at = batch.completed_at
    await asyncio.sleep(0.15)  # past the in-flight item's processing time
    assert setup.graph.live_episodes() == []
    assert batch.status is BatchStatus.CANCELED and batch.completed_at == completed_at
    assert batch.counts[ItemStatus.CANCELED] == 3


def test_deep_or_non_standard_json_fails_the_item(setup: Setup) -> None:
    """Item JSON is parsed strictly: NaN is not JSON, and deep nesting is refused rather than
    crashing the parser's recursion."""
    batch = setup.tenant.create_batch()
    setup.tenant.add_items(batch, [episode(data="[" * 5000, data_type="json"), episode(data='{"a": NaN}', data_type="json")])
    setup.tenant.process(batch)
    setup.world.processor.run_until_idle()
    assert [(i.status, i.error["code"]) for i in batch.items] == [(ItemStatus.FAILED, "invalid_json")] * 2  # type: ignore[index]
