"""Snapshots (core/snapshot/): JSON round trips, restored records read back the same, derived
knowledge comes back identical, work in flight continues, and bad snapshots change nothing."""

from __future__ import annotations

import asyncio
import copy
import json
from datetime import datetime, timezone
from typing import Any, Callable

import pytest

from emulator.core.batches import BatchStatus, ItemInput, ItemStatus, KeySpace
from emulator.core.errors import InvalidInput
from emulator.core.faults import ItemFault
from emulator.core.memories import Document, Isolation, Progress
from emulator.core.processor import ProcessingMode
from emulator.core.snapshot import FORMAT, VERSION, dump_key, dump_tenant, dump_world, load_tenant, load_world
from emulator.core.tenants import Service, Tenant
from emulator.core.world import World, WorldConfig

from .conftest import episode, message

START = datetime(2030, 1, 1, tzinfo=timezone.utc)


def dated(text: str, when: str, graph_id: str = "g1") -> ItemInput:
    item = episode(graph_id, data=text)
    item.reference_time = datetime.fromisoformat(when).replace(tzinfo=timezone.utc)
    return item


def fresh(mode: ProcessingMode = ProcessingMode.MANUAL, seed: int = 99) -> World:
    return World(WorldConfig(processing=mode, seed=seed))


def via_json(data: dict[str, Any]) -> Any:
    return json.loads(json.dumps(data))


def populated() -> World:
    """A world with a bit of everything: finished, half-run, draft, invalid and canceled
    batches, live adds, failed and skipped items, deleted records, swept messages, a Synap desk,
    a rate limit and a key with its own clock."""
    world = World(WorldConfig(processing=ProcessingMode.MANUAL, seed=7))
    world.clock.freeze(START)
    world.clock.tick = 1
    zep = world.tenants.get(Service.ZEP, "key")
    store, now = zep.store, world.clock.now()
    alice = store.create_user("alice", now, first_name="Alice", email="a@example.com", metadata={"tier": "gold"})
    bob = store.create_user("bob", now)
    store.create_graph("g1", now, name="One", description="first")
    store.create_graph("g2", now)
    store.create_thread("t1", alice, now)
    store.create_thread("tb", bob, now)

    done = zep.create_batch(metadata={"run": 1}, ignore_roles=["system"])
    zep.add_items(done, [dated("Alice lives in Berlin.", "2024-06-01"), dated("Alice lives in Paris.", "2024-01-01"),
                         episode(data="{broken", data_type="json"), message(content="I work at Acme.", role="user"),
                         message(content="be nice", role="system"), message(content="x" * 5000)])
    zep.process(done)
    world.processor.run_until_idle()
    store.thread(KeySpace.CLIENT_ID, "t1").live_messages()  # sweeps the failed message out

    running = zep.create_batch(strict_ontology=True)
    zep.add_items(running, [episode("g2", data=f"Carol lives in City{i}.") for i in range(3)]
                  + [message("tb", content="I like tea.")])
    zep.process(running)
    world.processor.step(1)
    store.delete_user(bob)  # the queued message of tb will be skipped

    draft = zep.create_batch()
    zep.add_items(draft, [episode(data="later"), message(content="draft message")])
    invalid = zep.create_batch()
    zep.add_items(invalid, [episode("nowhere")])
    with pytest.raises(InvalidInput):
        zep.process(invalid)
    canceled = zep.create_batch()
    zep.add_items(canceled, [episode(data="never"), message(content="withdrawn")])
    zep.process(canceled)
    zep.cancel_batch(canceled)
    zep.add_live([episode("g1", data="Bob works at Acme.")], "graph.add")
    zep.new_task("graph.delete")
    zep.limit_rate(5, 3)

    other = world.tenants.get(Service.ZEP, "other")
    other.clock.own().advance(3600)
    other.set_mode(ProcessingMode.INSTANT)

    synap = world.tenants.get(Service.SYNAP, "key")
    assert synap.memories is not None
    synap.memories.submit(synap, [Document("User: I live in Oslo.", user_id="ann", customer_id="acme", document_id="d1"),
                                  Document(""), Document({"name": "Zed", "city": "Rome"}, document_id="d3")],
                          fail_fast=False, task_type="memories.batch_create")
    synap.memories.telemetry.append({"event": "started", "n": [1, 2]})
    world.processor.step(1, [synap.work])
    return world


def zep_of(world: World, key: str = "key") -> Tenant:
    tenant = world.tenants.find(Service.ZEP, key)
    assert tenant is not None
    return tenant


def synap_of(world: World, key: str = "key") -> Tenant:
    tenant = world.tenants.find(Service.SYNAP, key)
    assert tenant is not None
    return tenant


def restored(world: World) -> World:
    twin = fresh()
    load_world(twin, via_json(dump_world(world)))
    return twin


# -- what the core API reads ---------------------------------------------------------------------


def batch_view(tenant: Tenant) -> list[Any]:
    batches = tenant.list_batches(None, 0, 100)[0]
    tasks = [t for t in tenant.tasks.values() if t.batch is not None]
    return [
        (b.uuid, b.serial, b.status, dict(b.counts), b.done_items(), b.metadata, b.ignore_roles, b.strict_ontology,
         b.created_at, b.processed_at, b.started_at, b.completed_at, b.invalid_items, b.task_uuid,
         [(i.uuid, i.sequence_index, i.status, i.error, i.episode_uuid, i.created_at, i.started_at, i.updated_at,
           i.input) for i in b.items])
        for b in batches + [t.batch for t in tasks if t.batch.uuid not in tenant.batches]  # type: ignore[union-attr]
    ]


def record_view(tenant: Tenant) -> dict[str, Any]:
    store = tenant.store
    return {
        "users": [(u.uuid, u.user_id, u.email, u.first_name, u.metadata, u.graph.uuid, u.created_at)
                  for u in store.users_by_id.values()],
        "graphs": [(g.uuid, g.graph_id, g.name, g.description, g.type) for g in store.graphs_by_uuid.values()],
        "episodes": [[(e.uuid, e.content, e.source, e.processed, e.processed_at, e.reported_time, e.role,
                       e.role_name, e.metadata, e.document_id, e.source_description, e.thread and e.thread.uuid,
                       e.message and e.message.uuid)
                      for e in g.live_episodes()] for g in store.graphs_by_uuid.values()],
        "threads": [(t.uuid, t.thread_id, t.user.uuid,
                     [(m.uuid, m.content, m.role, m.processed, m.reported_time) for m in t.live_messages()])
                    for t in store.threads_by_uuid.values()],
        "tasks": [(t.uuid, t.type, t.status, t.stage, t.error, t.started_at, t.completed_at, t.updated_at)
                  for t in tenant.tasks.values()],
        "tasks_paged": tasks_paged(tenant),
        "by_episode": {u: e.graph.uuid for u, e in store.episodes_by_uuid.items()},
        "next_serial": tenant.next_serial,
        "mode": tenant.mode,
        "now": tenant.clock.now(),
        "own_clock": tenant.clock.independent,
    }


def edges_of(tenant: Tenant) -> list[Any]:
    return [
        [(e.uuid, e.fact, e.name, e.valid_at, e.invalid_at, e.created_at, e.expired_at, tuple(e.episodes))
         for e in tenant.knowledge(g).edges()]
        + [(n.uuid, n.name) for n in tenant.knowledge(g).entities()]
        for g in list(tenant.store.graphs_by_uuid.values())
    ]


def desk_view(tenant: Tenant) -> list[Any]:
    desk = tenant.memories
    assert desk is not None
    outcomes = [(r.uuid, r.document_id, r.queued_at, r.error, desk.outcome(tenant, r)) for r in desk.receipts.values()]
    return [desk.isolation, list(desk.by_document), list(desk.telemetry),
            [(u, d, q, err, o.progress, o.started_at, o.completed_at, o.error, [(m.uuid, m.fact) for m in o.memories])
             for u, d, q, err, o in outcomes]]


# -- round trips -----------------------------------------------------------------------------------


def tasks_paged(tenant: Tenant) -> list[list[str]]:
    """The tenant's tasks as ``task.list`` pages them, two at a time, following each page's
    next serial."""
    pages: list[list[str]] = []
    start: int | None = 0
    while start is not None:
        page, start, _ = tenant.list_tasks(None, None, start, 2)
        pages.append([t.uuid for t in page])
    return pages


def test_a_world_snapshot_is_json_and_a_restore_dumps_identically() -> None:
    world = populated()
    first = dump_world(world)
    text = json.dumps(first)
    assert json.loads(text) == first  # plain JSON data: nothing lost through json
    assert (first["format"], first["version"], first["scope"]) == (FORMAT, VERSION, "world")
    assert first["clock"] == {"frozen_at": "2030-01-01T00:00:08Z", "offset_seconds": 0.0, "tick_seconds": 1.0}
    assert [(t["service"], t["key"]) for t in first["tenants"]] == [("zep", "key"), ("zep", "other"), ("synap", "key")]
    twin = fresh()
    load_world(twin, json.loads(text))
    assert dump_world(twin) == first


def test_every_record_reads_back_the_same() -> None:
    world = populated()
    twin = restored(world)
    zep, zep2 = zep_of(world), zep_of(twin)
    assert batch_view(zep2) == batch_view(zep)
    assert record_view(zep2) == record_view(zep)
    made_after = zep2.new_task("graph.delete")  # numbered after the restored tasks
    assert len(zep.tasks) >= 3
    assert sum(tasks_paged(zep2), []) == [t.uuid for t in zep.tasks.values()] + [made_after.uuid]
    assert record_view(zep_of(twin, "other")) == record_view(zep_of(world, "other"))
    assert record_view(synap_of(twin)) == record_view(synap_of(world))
    assert desk_view(synap_of(twin)) == desk_view(synap_of(world))
    # what was there, concretely
    statuses = [b.status for b in zep2.list_batches(None, 0, 100)[0]]
    assert statuses == [BatchStatus.PARTIAL, BatchStatus.PROCESSING, BatchStatus.DRAFT, BatchStatus.INVALID,
                        BatchStatus.CANCELED]
    done = zep2.list_batches(None, 0, 1)[0][0]
    assert [i.status for i in done.items] == [ItemStatus.SUCCEEDED, ItemStatus.SUCCEEDED, ItemStatus.FAILED,
                                              ItemStatus.SUCCEEDED, ItemStatus.SUCCEEDED, ItemStatus.FAILED]
    assert done.items[2].error is not None and done.items[2].error["code"] == "invalid_json"
    assert done.counts[ItemStatus.FAILED] == 2 and done.done_items() == 6
    assert zep2.list_batches(None, 0, 100)[0][3].invalid_items == [0]
    alice = zep2.store.user(KeySpace.CLIENT_ID, "alice")
    assert (alice.email, alice.metadata) == ("a@example.com", {"tier": "gold"})
    assert [m.content for m in zep2.store.thread(KeySpace.CLIENT_ID, "t1").live_messages()] == ["I work at Acme.", "be nice"]
    assert "bob" not in zep2.store.users_by_id and "tb" not in zep2.store.threads_by_id
    assert zep2.rate_limit is not None and (zep2.rate_limit.per_second, zep2.rate_limit.burst, zep2.rate_limit.remaining) == (5, 3, 3)
    assert len(zep2.idempotency) == 0  # replays are not kept
    other = zep_of(twin, "other")
    assert other.clock.independent and other.clock.now() == datetime(2030, 1, 1, 1, 0, 7, tzinfo=timezone.utc)
    assert not zep2.clock.independent and zep2.clock.now() == START.replace(second=8)
    assert other.mode is ProcessingMode.INSTANT and zep2.mode is ProcessingMode.MANUAL
    synap = synap_of(twin)
    desk = synap.memories
    assert desk is not None
    assert [desk.outcome(synap, r).progress for r in desk.receipts.values()] == [Progress.COMPLETED, Progress.FAILED,
                                                                                Progress.QUEUED]
    assert list(desk.by_document) == ["d1", "d3"] and list(desk.telemetry) == [{"event": "started", "n": [1, 2]}]
    assert twin.ids.state() == world.ids.state()


def test_edges_read_after_a_restore_equal_those_read_before() -> None:
    world = populated()
    before = edges_of(zep_of(world))
    memories_before = desk_view(synap_of(world))
    twin = restored(world)
    for tenant in (zep_of(twin), synap_of(twin)):
        assert all(g.knowledge is None for g in tenant.store.graphs_by_uuid.values())  # not dumped: re-derived
    after = edges_of(zep_of(twin))
    assert after == before
    facts = [edge[1] for graph in after for edge in graph if len(edge) == 8]
    assert {"Alice lives in Berlin", "Alice lives in Paris", "Carol lives in City0"} <= set(facts)
    assert "Bob works at Acme" not in facts  # the live add still waits in manual mode
    paris = next(edge for graph in after for edge in graph if len(edge) == 8 and edge[1] == "Alice lives in Paris")
    assert paris[4] == datetime(2024, 6, 1, tzinfo=timezone.utc) and paris[6] is not None  # born invalid, expired
    assert desk_view(synap_of(twin)) == memories_before


def test_a_half_processed_batch_completes_after_a_restore_as_the_original_does() -> None:
    world = populated()
    twin = restored(world)
    running = zep_of(twin).list_batches(None, 0, 100)[0][1]
    assert running.status is BatchStatus.PROCESSING and running.counts[ItemStatus.QUEUED] == 3
    assert world.processor.run_until_idle() == twin.processor.run_until_idle() == 5  # 3 + tb's + the live add + a document
    assert running.status is BatchStatus.SUCCEEDED
    assert [i.status for i in running.items] == [ItemStatus.SUCCEEDED] * 3 + [ItemStatus.SKIPPED]  # bob was deleted
    assert dump_world(twin) == dump_world(world)
    assert edges_of(zep_of(twin)) == edges_of(zep_of(world))
    assert desk_view(synap_of(twin)) == desk_view(synap_of(world))
    assert [o[4] for o in desk_view(synap_of(twin))[3]] == [Progress.COMPLETED, Progress.FAILED, Progress.COMPLETED]


def test_the_queue_order_across_batches_is_kept() -> None:
    world = fresh()
    world.clock.freeze(START)
    tenant = world.tenants.get(Service.ZEP, "key")
    tenant.store.create_graph("g1", START)
    first, second = tenant.create_batch(), tenant.create_batch()
    tenant.add_items(second, [episode(data="second")])
    tenant.add_items(first, [episode(data="first")])
    tenant.process(second)
    tenant.process(first)  # processed after the other: its item waits behind
    twin = restored(world)
    twin.processor.step(1)
    assert [e.content for e in zep_of(twin).store.graph(KeySpace.CLIENT_ID, "g1").live_episodes() if e.processed] == ["second"]


def test_a_draft_batch_stays_a_draft_and_can_be_carried_on() -> None:
    world = populated()
    twin = restored(world)
    tenant = zep_of(twin)
    assert tenant.ids.uuid() == zep_of(world).ids.uuid()  # the id stream continues where it stood
    draft = tenant.list_batches(BatchStatus.DRAFT, 0, 10)[0][0]
    assert draft.counts[ItemStatus.PENDING] == 2 and tenant.store.graph(KeySpace.CLIENT_ID, "g1") is draft.items[0].graph
    tenant.add_items(draft, [episode(data="more")])
    tenant.process(draft)
    twin.processor.run_until_idle()
    assert draft.status is BatchStatus.SUCCEEDED and [i.sequence_index for i in draft.items] == [0, 1, 2]
    assert tenant.create_batch().serial == zep_of(world).next_serial == 5  # serials continue


async def test_an_item_processing_at_dump_time_runs_again_after_a_restore() -> None:
    world = World(WorldConfig(processing=ProcessingMode.REALTIME, seed=3, item_seconds=0.05))
    tenant = world.tenants.get(Service.ZEP, "key")
    tenant.store.create_graph("g1", world.clock.now())
    batch = tenant.create_batch()
    tenant.add_items(batch, [episode(data=f"e{i}") for i in range(3)])
    tenant.process(batch)
    await asyncio.sleep(0)
    assert batch.counts[ItemStatus.PROCESSING] == 1
    data = dump_tenant(tenant)
    assert [i["status"] for i in data["tenants"][0]["batches"][0]["items"]] == ["queued"] * 3
    assert data["tenants"][0]["batches"][0]["items"][0]["started_at"] is None
    twin = World(WorldConfig(processing=ProcessingMode.REALTIME, seed=4, item_seconds=0.01))
    (copy_,) = load_tenant(twin, via_json(data))
    again = copy_.batch(batch.uuid)
    for _ in range(200):
        if again.terminal and batch.terminal:
            break
        await asyncio.sleep(0.01)
    assert again.status is BatchStatus.SUCCEEDED and batch.status is BatchStatus.SUCCEEDED
    assert [e.content for e in copy_.store.graph(KeySpace.CLIENT_ID, "g1").live_episodes() if e.processed] == ["e0", "e1", "e2"]


# -- tenants and keys --------------------------------------------------------------------------------


def test_a_tenant_restores_under_a_new_key_and_leaves_others_alone() -> None:
    world = populated()
    data = via_json(dump_tenant(zep_of(world)))
    twin = fresh()
    bystander = twin.tenants.get(Service.ZEP, "key")
    bystander.store.create_graph("mine", twin.clock.now())
    (copy_,) = load_tenant(twin, data, key="new-key")
    assert twin.tenants.find(Service.ZEP, "new-key") is copy_ and copy_.key == "new-key"
    assert twin.tenants.find(Service.ZEP, "key") is bystander and list(bystander.store.graphs_by_id) == ["mine"]
    assert batch_view(copy_) == batch_view(zep_of(world))
    assert edges_of(copy_) == edges_of(zep_of(world))
    assert copy_.work in twin.processor.queues
    copy_.store.create_graph("only-here", twin.clock.now())
    assert "only-here" not in zep_of(world).store.graphs_by_id


def test_restoring_a_tenant_replaces_the_one_of_that_key_and_service() -> None:
    world = populated()
    data = via_json(dump_tenant(zep_of(world)))
    old, synap = zep_of(world), synap_of(world)
    old.store.create_graph("after-the-dump", world.clock.now())
    (new,) = load_tenant(world, data)
    assert zep_of(world) is new and new is not old and old.work not in world.processor.queues
    assert "after-the-dump" not in new.store.graphs_by_id and "g1" in new.store.graphs_by_id
    assert synap_of(world) is synap and synap.clock is new.clock  # the key's clock is still shared


def test_a_key_snapshot_restores_both_services_with_their_shared_clock() -> None:
    world = populated()
    world.tenants.clock_of("key").own().advance(60)
    data = via_json(dump_key(world, "key"))
    assert [t["service"] for t in data["tenants"]] == ["zep", "synap"]
    twin = fresh()
    zep, synap = load_tenant(twin, data, key="k2")
    assert zep.clock is synap.clock and zep.clock.independent
    assert zep.clock.now() == datetime(2030, 1, 1, 0, 1, 8, tzinfo=timezone.utc)
    assert desk_view(synap) == desk_view(synap_of(world))
    assert synap.memories is not None and synap.memories.isolation is Isolation.STRICT


def test_a_ten_thousand_item_batch_dumps_and_loads() -> None:
    world = fresh()
    tenant = world.tenants.get(Service.ZEP, "key")
    tenant.store.create_graph("g1", world.clock.now())
    batch = tenant.create_batch()
    for start in range(0, 10_000, 500):
        tenant.add_items(batch, [episode(data=f"item {start + i}") for i in range(500)])
    data = dump_tenant(tenant)
    items = data["tenants"][0]["batches"][0]["items"]
    assert len(items) == 10_000 and items[-1]["input"]["data"] == "item 9999"
    (copy_,) = load_tenant(fresh(), via_json(data))
    assert copy_.batch(batch.uuid).counts[ItemStatus.PENDING] == 10_000


# -- bad snapshots -------------------------------------------------------------------------------------

Mutation = Callable[[dict[str, Any]], None]


def _first_batch(data: dict[str, Any]) -> dict[str, Any]:
    return data["tenants"][0]["batches"][0]  # type: ignore[no-any-return]


UNKNOWN = "00000000-0000-4000-8000-000000000000"

#: name: (how the snapshot is spoiled, what the refusal must say)
BAD: dict[str, tuple[Mutation, str]] = {
    "wrong format": (lambda d: d.update(format="something/else"), r"\$\.format: not a memory-batch-emulator/state"),
    "wrong version": (lambda d: d.update(version=VERSION + 1), r"\$\.version: version 2 is not supported"),
    "version as a boolean": (lambda d: d.update(version=True), r"\$\.version: version True"),
    "wrong scope": (lambda d: d.update(scope="tenant"), r"\$\.scope: expected a world snapshot"),
    "missing clock": (lambda d: d.pop("clock"), r"\$\.clock: missing"),
    "missing tenant ids": (lambda d: d["tenants"][0].pop("ids"), r"tenants\[0\]\.ids: missing"),
    "missing item field": (lambda d: _first_batch(d)["items"][0].pop("status"), r"items\[0\]\.status: missing"),
    "tenants not a list": (lambda d: d.update(tenants={}), r"\$\.tenants: expected an array"),
    "unknown status": (lambda d: _first_batch(d).update(status="done"), r"batches\[0\]\.status: 'done' is not one of"),
    "bad timestamp": (lambda d: _first_batch(d).update(created_at="yesterday"), r"created_at: 'yesterday' is not an RFC 3339"),
    "unknown graph uuid": (lambda d: _first_batch(d)["items"][0].update(graph=UNKNOWN), r"items\[0\]\.graph: no graph has uuid"),
    "unknown task batch": (lambda d: d["tenants"][0]["tasks"][0].update(batch=UNKNOWN), r"tasks\[0\]\.batch: no batch has uuid"),
    "unknown batch task": (lambda d: _first_batch(d).update(task=UNKNOWN), r"batches\[0\]\.task: no task has uuid"),
    "unknown receipt item": (lambda d: d["tenants"][2]["memories"]["receipts"][0].update(item="nope"),
                             r"receipts\[0\]\.item: no item has uuid 'nope'"),
    "unknown queued item": (lambda d: d["tenants"][0]["queue"].append("nope"), r"queue\[\d+\]: 'nope' is not an item"),
    "unknown episode thread": (lambda d: d["tenants"][0]["graphs"][0]["episodes"].append(
        dict(d["tenants"][0]["graphs"][2]["episodes"][0], uuid=UNKNOWN, thread=UNKNOWN)), r"episodes\[\d+\]\.thread: no thread"),
    "duplicate batch": (lambda d: d["tenants"][0]["batches"].append(copy.deepcopy(_first_batch(d))), r"appears twice"),
    "duplicate tenant": (lambda d: d["tenants"].append(copy.deepcopy(d["tenants"][0])), r"a second zep tenant for key 'key'"),
    "two live graphs, one graph_id": (lambda d: d["tenants"][0]["graphs"][2].update(graph_id="g1"), r"two live records have graph_id 'g1'"),
    "bad id state": (lambda d: d["tenants"][0]["ids"].update(position=[3, [1, 2], None]), r"ids\.position: not an id generator"),
    "queued item in a finished batch": (lambda d: _first_batch(d)["items"][0].update(status="queued"),
                                        r"a queued item in a partial batch"),
    "metadata not JSON": (lambda d: _first_batch(d).update(metadata={"x": float("nan")}), r"metadata\.x: numbers must be finite"),
    "negative tick": (lambda d: d["clock"].update(tick_seconds=-1), r"tick_seconds: the clock only moves forward"),
    "zep tenant with a desk": (lambda d: d["tenants"][0].update(memories=d["tenants"][2]["memories"]),
                               r"a Zep tenant has no memories desk"),
    "key clocks disagree": (lambda d: d["tenants"][2].update(clock=d["clock"]), r"disagree on the key's clock"),
    "unknown field": (lambda d: _first_batch(d)["items"][0].update(colour="red"), r"items\[0\]\.colour: not a field"),
    "wrong type where null is allowed": (lambda d: _first_batch(d)["items"][0].update(started_at=3),
                                         r"items\[0\]\.started_at: expected a string or null"),
    "null enum": (lambda d: _first_batch(d).update(status=None), r"batches\[0\]\.status: None is not one of 'draft', "),
    "deep metadata not JSON": (lambda d: d["tenants"][0]["users"][0].update(metadata={"a": {"list": [1, float("inf")]}}),
                               r"users\[0\]\.metadata\.a\.list\[1\]: numbers must be finite"),
    "error key not a string": (lambda d: _first_batch(d)["items"][2].update(error={1: "x"}),
                               r"items\[2\]\.error: object keys must be strings"),
    "error holds a tuple": (lambda d: _first_batch(d)["items"][2].update(error={"a": [(1,)]}),
                            r"items\[2\]\.error\.a\[0\]: tuple is not JSON data"),
    "telemetry null": (lambda d: d["tenants"][2]["memories"].update(telemetry=None),
                       r"memories\.telemetry: expected an array"),
    "ignore_roles not strings": (lambda d: _first_batch(d).update(ignore_roles=["system", 1]),
                                 r"batches\[0\]\.ignore_roles\[1\]: expected a string"),
}


@pytest.mark.parametrize("name", list(BAD))
def test_a_bad_world_snapshot_is_refused_and_changes_nothing(name: str) -> None:
    world = populated()
    data = via_json(dump_world(world))
    spoil, reason = BAD[name]
    spoil(data)
    tenants, queues, seed = world.tenants.all(), list(world.processor.queues), world.ids
    before = dump_world(world)
    with pytest.raises(InvalidInput, match=reason) as raised:
        load_world(world, data)
    assert raised.value.code == "invalid_state"
    assert world.tenants.all() == tenants and world.processor.queues == queues and world.ids is seed
    assert dump_world(world) == before


@pytest.mark.parametrize("data", [
    None, [], {"format": FORMAT, "version": VERSION, "scope": "world"},
    {"format": FORMAT, "version": VERSION, "scope": "tenant", "tenants": [{"service": "zep"}]},
])
def test_a_bad_tenant_snapshot_is_refused_and_changes_nothing(data: Any) -> None:
    world = populated()
    before, tenants = dump_world(world), world.tenants.all()
    with pytest.raises(InvalidInput, match="invalid snapshot") as raised:
        load_tenant(world, data)
    assert raised.value.code == "invalid_state"
    assert dump_world(world) == before and world.tenants.all() == tenants


def test_a_key_the_server_does_not_accept_is_refused() -> None:
    world = populated()
    data = via_json(dump_tenant(zep_of(world)))
    strict = World(WorldConfig(processing=ProcessingMode.MANUAL, api_keys=["only"]))
    with pytest.raises(InvalidInput, match="not one of the keys"):
        load_tenant(strict, data)
    assert strict.tenants.all() == []
    (tenant,) = load_tenant(strict, data, key="only")
    assert strict.tenants.find(Service.ZEP, "only") is tenant


def test_restored_work_in_an_instant_tenant_is_done_at_once() -> None:
    world = populated()
    data = via_json(dump_tenant(zep_of(world)))
    data["tenants"][0]["processing"] = "instant"
    (tenant,) = load_tenant(fresh(), data)
    running = tenant.list_batches(None, 0, 100)[0][1]
    assert running.status is BatchStatus.SUCCEEDED and tenant.work.pending == 0


def test_restored_work_in_a_realtime_tenant_without_a_loop_waits_for_the_next_kick() -> None:
    world = populated()
    data = via_json(dump_tenant(zep_of(world)))
    data["tenants"][0]["processing"] = "realtime"
    twin = fresh()
    (tenant,) = load_tenant(twin, data)
    assert tenant.work.pending == len(data["tenants"][0]["queue"]) == 6  # 4 to do, 2 canceled holding a turn
    tenant.set_mode(ProcessingMode.MANUAL)
    assert twin.processor.run_until_idle() == 4
    assert tenant.list_batches(None, 0, 100)[0][1].status is BatchStatus.SUCCEEDED


def test_an_item_a_fault_holds_is_dumped_queued_and_runs_after_a_restore() -> None:
    world = fresh()
    tenant = world.tenants.get(Service.ZEP, "key")
    tenant.store.create_graph("g1", world.clock.now())
    world.faults.add(ItemFault(action="hold", sequence_index=1), "key")
    batch = tenant.create_batch()
    tenant.add_items(batch, [episode(data=f"e{i}") for i in range(3)])
    tenant.process(batch)
    assert world.processor.run_until_idle() == 2  # e0 done, e1 held, e2 waits behind it
    assert [i.status for i in batch.items] == [ItemStatus.SUCCEEDED, ItemStatus.PROCESSING, ItemStatus.QUEUED]
    data = via_json(dump_tenant(tenant))
    assert data["tenants"][0]["queue"] == [batch.items[1].uuid, batch.items[2].uuid]
    twin = fresh()
    (copy_,) = load_tenant(twin, data)
    assert twin.processor.run_until_idle() == 2
    assert copy_.batch(batch.uuid).status is BatchStatus.SUCCEEDED
    assert [e.content for e in copy_.store.graph(KeySpace.CLIENT_ID, "g1").live_episodes()] == ["e0", "e1", "e2"]
