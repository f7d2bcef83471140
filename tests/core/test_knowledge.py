"""Episodes from queue to processed, the per-item clock tick, and the lazily derived facts of a
graph (core/ingest.py, core/clock.py, core/knowledge.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from emulator.core.batches import ItemStatus
from emulator.core.extract import EpisodeView, ExtractionContext
from emulator.core.facts import ExtractedFact
from emulator.core.processor import ProcessingMode
from emulator.core.tenants import Service
from emulator.core.world import World, WorldConfig

from .conftest import Setup, episode, message

START = datetime(2030, 1, 1, tzinfo=timezone.utc)


def dated(text: str, when: str, graph_id: str = "g1"):  # type: ignore[no-untyped-def]
    item = episode(graph_id, data=text)
    item.reference_time = datetime.fromisoformat(when).replace(tzinfo=timezone.utc)
    return item


def test_queued_episodes_show_unprocessed_until_the_processor_reaches_them(setup: Setup) -> None:
    batch = setup.tenant.create_batch()
    setup.tenant.add_items(batch, [episode(data=f"e{i}") for i in range(3)])
    assert setup.graph.live_episodes() == []  # a draft batch has written nothing
    setup.tenant.process(batch)
    assert [(e.content, e.processed) for e in setup.graph.live_episodes()] == [("e0", False), ("e1", False), ("e2", False)]
    setup.world.processor.step(2)
    assert [e.processed for e in setup.graph.live_episodes()] == [True, True, False]
    assert [i.episode_uuid for i in batch.items] == [e.uuid for e in setup.graph.live_episodes()]  # queued ones too


def test_undated_item_is_dated_when_processed_and_shows_its_arrival_until_then(setup: Setup) -> None:
    setup.world.clock.freeze(START)
    batch = setup.tenant.create_batch()
    setup.tenant.add_items(batch, [episode(), message()])
    setup.tenant.process(batch)
    waiting = setup.graph.live_episodes()[0]
    assert waiting.reference_time is None and waiting.reported_time == START
    setup.world.clock.advance(90)
    setup.world.processor.run_until_idle()
    assert waiting.reference_time == START + timedelta(seconds=90)
    assert setup.thread.live_messages()[0].reference_time == START + timedelta(seconds=90)


def test_failed_skipped_and_canceled_items_write_nothing(setup: Setup) -> None:
    batch = setup.tenant.create_batch()
    setup.tenant.add_items(batch, [episode(data="{broken", data_type="json"), episode("g2"), message(), episode(data="kept")])
    setup.tenant.process(batch)
    assert len(setup.graph.live_episodes()) == 2 and len(setup.thread.live_messages()) == 1
    setup.tenant.store.delete_thread(setup.thread)  # the message item will be skipped
    setup.world.processor.step(3)
    assert [i.status for i in batch.items[:3]] == [ItemStatus.FAILED, ItemStatus.SUCCEEDED, ItemStatus.SKIPPED]
    assert [e.content for e in setup.user.graph.live_episodes()] == []
    setup.tenant.cancel_batch(batch)
    assert batch.items[3].status is ItemStatus.CANCELED
    assert setup.graph.live_episodes() == []
    assert [e.content for e in setup.other_graph.live_episodes()] == ["hello"]


def test_canceled_message_is_gone_from_its_thread(setup: Setup) -> None:
    batch = setup.tenant.create_batch()
    setup.tenant.add_items(batch, [message(content="one"), message(content="two")])
    setup.tenant.process(batch)
    setup.world.processor.step(1)
    setup.tenant.cancel_batch(batch)
    assert [(m.content, m.processed) for m in setup.thread.live_messages()] == [("one", True)]


def test_a_ticking_clock_dates_item_k_at_start_plus_k_ticks(setup: Setup) -> None:
    setup.world.clock.freeze(START)
    setup.world.clock.tick = 60
    batch = setup.tenant.create_batch()
    setup.tenant.add_items(batch, [episode("g1" if i % 2 else "g2") for i in range(4)])
    setup.tenant.process(batch)
    setup.world.processor.run_until_idle()
    processed = sorted(e.processed_at for g in (setup.graph, setup.other_graph) for e in g.live_episodes())
    assert processed == [START + timedelta(minutes=k) for k in range(4)]
    assert setup.world.clock.now() == START + timedelta(minutes=4)


def test_facts_are_derived_in_processing_order_with_processing_time_as_now(setup: Setup) -> None:
    setup.world.clock.freeze(START)
    setup.world.clock.tick = 60
    batch = setup.tenant.create_batch()
    setup.tenant.add_items(batch, [dated("Alice lives in Berlin.", "2024-06-01"), dated("Alice lives in Paris.", "2024-01-01")])
    setup.tenant.process(batch)
    assert setup.tenant.knowledge(setup.graph).edges() == []  # nothing processed yet
    setup.world.processor.step(1)
    assert [e.fact for e in setup.tenant.knowledge(setup.graph).edges()] == ["Alice lives in Berlin"]
    setup.world.clock.advance(3600)  # reading later must not change what was derived
    setup.world.processor.step(1)
    berlin, paris = setup.tenant.knowledge(setup.graph).edges()
    assert (berlin.invalid_at, berlin.expired_at) == (None, None)
    assert paris.valid_at == datetime(2024, 1, 1, tzinfo=timezone.utc)
    assert paris.invalid_at == datetime(2024, 6, 1, tzinfo=timezone.utc)  # born invalid (R2)
    assert paris.created_at == paris.expired_at == START + timedelta(seconds=3660)


def _fact_ids(read_between: bool) -> list[str]:
    world = World(WorldConfig(processing=ProcessingMode.INSTANT, seed=5))
    tenant = world.tenants.get(Service.ZEP, "key")
    tenant.store.create_graph("g1", world.clock.now())
    graph = tenant.store.graph(episode().target.space, "g1")
    for text in ("Alice lives in Paris.", "Bob works at Acme."):
        batch = tenant.create_batch()
        tenant.add_items(batch, [episode(data=text)])
        tenant.process(batch)
        if read_between:
            tenant.knowledge(graph)
    return [e.uuid for e in tenant.knowledge(graph).edges()] + [n.uuid for n in tenant.knowledge(graph).entities()]


def test_seeded_fact_ids_do_not_depend_on_when_facts_are_read() -> None:
    assert _fact_ids(read_between=True) == _fact_ids(read_between=False)
    assert len(set(_fact_ids(read_between=False))) == 6


def test_message_first_person_resolves_to_the_user_and_assistant_says_nothing(setup: Setup) -> None:
    setup.user.first_name, setup.user.last_name = "Alice", "Smith"
    batch = setup.tenant.create_batch()
    setup.tenant.add_items(batch, [message(content="I moved to Berlin."), message(content="You live in Paris.", role="assistant")])
    setup.tenant.process(batch)
    setup.world.processor.run_until_idle()
    edges = setup.tenant.knowledge(setup.user.graph).edges()
    assert [(e.source.name, e.name, e.target.name) for e in edges] == [("Alice Smith", "LIVES_IN", "Berlin")]


def test_a_registered_extractor_and_contradiction_rule_reach_the_engine(setup: Setup) -> None:
    registry = setup.world.knowledge.registry

    def crm(view: EpisodeView, ctx: ExtractionContext) -> list[ExtractedFact]:
        account, stage = view.content.split("=")
        return [ExtractedFact(account, "HAS_STAGE", stage)]

    registry.register("text", crm, match=lambda view: view.source_description == "crm")
    registry.register_contradiction(lambda new, old: new.relation == "CHURNED" and old.relation == "HAS_STAGE")
    crm_item = dated("Acme=trial", "2024-01-01")
    crm_item.source_description = "crm"
    churn = dated("Acme -[CHURNED]-> yes", "2024-03-01")
    batch = setup.tenant.create_batch()
    setup.tenant.add_items(batch, [crm_item, churn])
    setup.tenant.process(batch)
    setup.world.processor.run_until_idle()
    stage, churned = setup.tenant.knowledge(setup.graph).edges()
    assert (stage.name, stage.target.name, churned.name) == ("HAS_STAGE", "trial", "CHURNED")
    assert stage.invalid_at == datetime(2024, 3, 1, tzinfo=timezone.utc)


def test_a_failing_extractor_costs_its_episode_only(setup: Setup) -> None:
    def broken(view: EpisodeView, ctx: ExtractionContext) -> list[ExtractedFact]:
        raise RuntimeError("plug-in bug")

    setup.world.knowledge.registry.register("text", broken, match=lambda view: "broken" in view.content)
    batch = setup.tenant.create_batch()
    setup.tenant.add_items(batch, [episode(data="broken: Eve lives in Oslo."), episode(data="Eve lives in Rome.")])
    setup.tenant.process(batch)
    setup.world.processor.run_until_idle()
    knowledge = setup.tenant.knowledge(setup.graph)
    assert [e.fact for e in knowledge.edges()] == ["Eve lives in Rome"]
    first = setup.graph.live_episodes()[0].uuid
    assert knowledge.warnings[first] == ["no facts: extraction failed with RuntimeError('plug-in bug')"]
