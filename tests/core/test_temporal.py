"""The temporal engine (core/temporal.py): rules R1-R3 of reference/temporal-invalidation.md
§2.3 with §5.7's differences, re-assertion (§5.6), terminators (§5.5), the worked scenarios of
§5.9 (fixtures/temporal/), and order-independence as a Hypothesis property."""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.core.facts import Cardinality, ExtractedFact
from emulator.core.facts import normalise_name
from emulator.core.temporal import AppliedEpisode, Edge, FactGraph, fact_text

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "temporal"
CLOCK0 = datetime(2030, 1, 1, tzinfo=timezone.utc)
UTC = timezone.utc


def d(text: str) -> datetime:
    """An instant: a date (midnight UTC) or a full timestamp."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def clock(k: int) -> datetime:
    """The processing clock of §5.9: item k at 2030-01-01T00:0kZ."""
    return CLOCK0 + timedelta(minutes=k)


def counter_ids() -> Any:
    numbers = itertools.count(1)
    return lambda: f"id{next(numbers)}"


def F(source: str, relation: str, target: str, **kw: Any) -> ExtractedFact:
    return ExtractedFact(source, relation, target, **kw)


class Run:
    """One graph, fed one item at a time on the §5.9 clock; episode k is "ep{k}"."""

    def __init__(self, **options: Any) -> None:
        self.graph = FactGraph(counter_ids(), **options)
        self.k = 0

    def item(self, ref: str | datetime, *facts: ExtractedFact) -> AppliedEpisode:
        when = d(ref) if isinstance(ref, str) else ref
        applied = self.graph.apply(list(facts), f"ep{self.k}", when, clock(self.k))
        self.k += 1
        return applied

    def edge(self, target: str, relation: str | None = None, nth: int = 0) -> Edge:
        found = [e for e in self.graph.edges() if e.target.name == target and (relation is None or e.name == relation)]
        return found[nth]

    def row(self, target: str, relation: str | None = None, nth: int = 0) -> tuple[Any, ...]:
        """(valid_at, invalid_at, expired_at, created_at, episodes) of one edge."""
        e = self.edge(target, relation, nth)
        return (e.valid_at, e.invalid_at, e.expired_at, e.created_at, e.episodes)


def lives(city: str, **kw: Any) -> ExtractedFact:
    return F("Alice", "LIVES_IN", city, **kw)


# -- dating ------------------------------------------------------------------------------------


def test_valid_at_defaults_to_the_reference_time_and_is_never_null() -> None:
    run = Run()
    run.item("2024-01-01", lives("Paris"))
    run.item("2024-02-01T12:30:00+02:00", lives("Rome", valid_at=d("2023-05-01")))
    paris, rome = run.graph.edges()
    assert paris.valid_at == d("2024-01-01") and paris.invalid_at is None and paris.expired_at is None
    assert paris.created_at == clock(0)
    assert rome.valid_at == d("2023-05-01")  # explicit start beats the reference time


def test_reference_time_and_explicit_dates_are_normalised_to_utc() -> None:
    run = Run()
    run.item(datetime(2024, 3, 1, 10, 0, tzinfo=timezone(timedelta(hours=1))), lives("Paris"))
    run.item("2024-01-01", lives("Rome", valid_at=datetime(2023, 1, 1, 6, 0)))  # naive counts as UTC
    assert run.edge("Paris").valid_at == datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
    assert run.edge("Paris").valid_at.tzinfo is UTC
    assert run.edge("Rome").valid_at == datetime(2023, 1, 1, 6, 0, tzinfo=UTC)


def test_entities_key_on_the_normalised_name_and_keep_the_first_spelling() -> None:
    run = Run()
    first = run.item("2024-01-01", F("Alice  Smith", "LIKES", "Jazz", cardinality=Cardinality.MULTI, source_type="Person"))
    run.item("2024-02-01", F(" alice smith ", "LIKES", "Rock", cardinality=Cardinality.MULTI))
    alice = run.graph.find_entity("ALICE\tSMITH")
    assert alice is not None and alice.name == "Alice  Smith" and alice.key == "alice smith"
    assert alice.labels == ["Person"]
    assert [e.name for e in run.graph.entities()] == ["Alice  Smith", "Jazz", "Rock"]
    assert run.graph.entity_episodes(alice.uuid) == ["ep0", "ep1"]
    assert run.graph.entity(alice.uuid) is alice
    assert first.entities == [alice.uuid, run.graph.entities()[1].uuid]
    assert normalise_name("  Foo \n BAR ") == "foo bar"


def test_default_fact_text_and_fields_of_a_new_edge() -> None:
    run = Run()
    applied = run.item("2024-01-01", F("Alice", "FAVORITE_COLOR", "Blue", attributes={"k": 1}),
                       F("Alice", "LIVES_IN", "Paris", fact="Alice has lived in Paris for years"))
    colour, paris = run.graph.edges()
    assert colour.fact == "Alice favorite color Blue" == fact_text("Alice", "FAVORITE_COLOR", "Blue")
    assert colour.attributes == {"k": 1} and colour.name == "FAVORITE_COLOR"
    assert colour.source.name == "Alice" and colour.target.name == "Blue"
    assert colour.cardinality is Cardinality.SINGLE and colour.terminates is None
    assert paris.fact == "Alice has lived in Paris for years"
    assert applied.new == applied.edges == applied.entity_edges == [colour.uuid, paris.uuid]
    assert run.graph.edge(paris.uuid) is paris


def test_duplicate_facts_within_one_item_keep_the_first() -> None:
    run = Run()
    applied = run.item("2024-01-01", lives("Paris", attributes={"n": 1}), F("alice", "LIVES_IN", "PARIS", attributes={"n": 2}))
    assert len(run.graph.edges()) == 1
    assert run.edge("Paris").attributes == {"n": 1}
    assert len(applied.edges) == 1


def test_a_fact_without_a_source_is_refused_before_anything_changes() -> None:
    run = Run()
    with pytest.raises(ValueError):
        run.graph.apply([lives("Paris"), F("  ", "LIVES_IN", "Rome")], "ep0", d("2024-01-01"), clock(0))
    assert run.graph.edges() == [] and run.graph.entities() == []


# -- R1 ----------------------------------------------------------------------------------------


def test_r1_an_edge_arriving_ended_is_expired_even_with_no_candidates() -> None:
    run = Run()
    run.item("2024-06-01", lives("Paris", valid_at=d("2020-01-01"), invalid_at=d("2021-01-01")))
    assert run.row("Paris") == (d("2020-01-01"), d("2021-01-01"), clock(0), clock(0), ["ep0"])


def test_r1_a_future_end_also_expires_at_once() -> None:  # the S12 quirk
    run = Run()
    run.item("2024-01-01", F("Alice", "WORKS_AT", "Acme", invalid_at=d("2031-01-01")))
    assert run.row("Acme") == (d("2024-01-01"), d("2031-01-01"), clock(0), clock(0), ["ep0"])


def test_r1_blocks_r2_so_an_explicit_end_is_kept_past_a_later_contradiction() -> None:
    run = Run()
    run.item("2024-06-01", lives("Berlin"))
    applied = run.item("2024-07-01", lives("Paris", valid_at=d("2024-01-01"), invalid_at=d("2024-09-01")))
    assert run.row("Paris") == (d("2024-01-01"), d("2024-09-01"), clock(1), clock(1), ["ep1"])
    # R3: Berlin starts after Paris, so it is not retired either; both hold during June-August
    assert run.row("Berlin") == (d("2024-06-01"), None, None, clock(0), ["ep0"])
    assert applied.invalidated == []


# -- R2 ----------------------------------------------------------------------------------------


def test_r2_born_invalid_at_the_earliest_later_start() -> None:
    run = Run()
    run.item("2024-12-01", lives("Tokyo"))
    run.item("2024-06-01", lives("Berlin"))
    applied = run.item("2024-01-01", lives("Paris"))
    assert run.row("Paris") == (d("2024-01-01"), d("2024-06-01"), clock(2), clock(2), ["ep2"])
    assert run.row("Berlin") == (d("2024-06-01"), d("2024-12-01"), clock(1), clock(1), ["ep1"])
    assert run.row("Tokyo") == (d("2024-12-01"), None, None, clock(0), ["ep0"])
    assert applied.entity_edges == [run.edge("Paris").uuid]


def test_r2_counts_retired_candidates_too() -> None:
    run = Run()
    run.item("2024-06-01", lives("Berlin"))
    run.item("2024-09-01", lives("Rome"))  # retires Berlin
    run.item("2024-01-01", lives("Paris"))
    assert run.edge("Berlin").invalid_at == d("2024-09-01")
    assert run.row("Paris") == (d("2024-01-01"), d("2024-06-01"), clock(2), clock(2), ["ep2"])


def test_r2_ignores_later_edges_that_do_not_contradict() -> None:
    run = Run()
    run.item("2024-06-01", F("Alice", "LIKES", "Jazz", cardinality=Cardinality.MULTI))
    run.item("2024-06-01", F("Bob", "LIVES_IN", "Berlin"))  # another subject
    run.item("2024-06-01", F("Alice", "WORKS_AT", "Berlin"))  # another relation
    run.item("2024-01-01", lives("Paris"))
    assert run.row("Paris", "LIVES_IN") == (d("2024-01-01"), None, None, clock(3), ["ep3"])


# -- R3 ----------------------------------------------------------------------------------------


def test_r3_retires_an_older_current_edge_at_the_new_start() -> None:
    run = Run()
    run.item("2024-01-01", lives("Paris"))
    applied = run.item("2024-06-01", lives("Berlin"))
    paris = run.edge("Paris")
    assert run.row("Paris") == (d("2024-01-01"), d("2024-06-01"), clock(1), clock(0), ["ep0"])
    assert run.row("Berlin") == (d("2024-06-01"), None, None, clock(1), ["ep1"])
    assert applied.invalidated == [paris.uuid]
    assert applied.invalidated_by == {paris.uuid: [run.edge("Berlin").uuid]}
    assert applied.entity_edges == [run.edge("Berlin").uuid, paris.uuid]


def test_r3_skips_an_edge_that_had_ended_by_the_new_start() -> None:
    run = Run()
    run.item("2023-01-01", lives("Paris", invalid_at=d("2024-01-01")))
    applied = run.item("2024-01-01", lives("Berlin"))  # Paris ended exactly when Berlin began
    assert run.row("Paris") == (d("2023-01-01"), d("2024-01-01"), clock(0), clock(0), ["ep0"])
    assert applied.invalidated == []


def test_r3_skips_a_newer_edge_that_starts_after_the_new_edge_ended() -> None:  # S2's skip
    run = Run()
    run.item("2024-06-01", lives("Berlin"))
    applied = run.item("2024-01-01", lives("Paris"))
    assert run.row("Berlin") == (d("2024-06-01"), None, None, clock(0), ["ep0"])
    assert applied.invalidated == []


def test_r3_skips_a_terminated_edge_that_had_already_ended_at_the_terminator() -> None:
    run = Run()
    run.item("2020-01-01", F("Alice", "WORKS_AT", "Acme", invalid_at=d("2022-01-01")))
    applied = run.item("2022-01-01", F("Alice", "NO_LONGER_WORKS_AT", "Acme"))
    assert run.row("Acme", "WORKS_AT") == (d("2020-01-01"), d("2022-01-01"), clock(0), clock(0), ["ep0"])
    assert applied.invalidated == []


def test_an_end_before_the_start_is_kept_and_r3_skips_edges_starting_at_that_end() -> None:
    # Open question 9: an explicit invalid_at <= valid_at is kept as given.
    run = Run()
    run.item("2024-03-01", lives("Berlin"))
    applied = run.item("2024-06-01", lives("Paris", invalid_at=d("2024-03-01")))
    assert run.row("Paris") == (d("2024-06-01"), d("2024-03-01"), clock(1), clock(1), ["ep1"])
    assert run.row("Berlin") == (d("2024-03-01"), None, None, clock(0), ["ep0"])  # N ended by Berlin's start
    assert applied.invalidated == []


def test_r3_moves_a_later_end_earlier_and_keeps_the_first_expiry() -> None:
    run = Run()
    run.item("2024-01-01", F("Alice", "WORKS_AT", "Acme", invalid_at=d("2031-01-01")))  # R1: expired at clock(0)
    applied = run.item("2025-03-01", F("Alice", "WORKS_AT", "Globex"))
    assert run.row("Acme") == (d("2024-01-01"), d("2025-03-01"), clock(0), clock(0), ["ep0"])
    assert applied.invalidated == [run.edge("Acme").uuid]


def test_r3_never_moves_an_end_later() -> None:
    run = Run()
    run.item("2024-01-01", lives("Paris"))
    run.item("2024-03-01", lives("Rome"))
    run.item("2024-06-01", lives("Berlin"))  # Paris ended 2024-03-01, before Berlin
    assert run.row("Paris") == (d("2024-01-01"), d("2024-03-01"), clock(1), clock(0), ["ep0"])
    assert run.row("Rome") == (d("2024-03-01"), d("2024-06-01"), clock(2), clock(1), ["ep1"])


def test_r3_leaves_a_multi_valued_relation_alone() -> None:
    run = Run()
    run.item("2024-01-01", F("Alice", "LIKES", "Jazz", cardinality=Cardinality.MULTI))
    run.item("2024-06-01", F("Alice", "LIKES", "Rock", cardinality=Cardinality.MULTI))
    assert run.row("Jazz") == (d("2024-01-01"), None, None, clock(0), ["ep0"])
    assert run.row("Rock") == (d("2024-06-01"), None, None, clock(1), ["ep1"])


def test_replacement_needs_both_edges_single_valued() -> None:
    run = Run()
    run.item("2024-01-01", F("Alice", "LIKES", "Jazz", cardinality=Cardinality.MULTI))
    run.item("2024-06-01", F("Alice", "LIKES", "Rock", cardinality=Cardinality.SINGLE))
    run.item("2024-09-01", F("Alice", "LIKES", "Pop", cardinality=Cardinality.SINGLE))
    assert run.edge("Jazz").invalid_at is None
    assert run.edge("Rock").invalid_at == d("2024-09-01")


def test_cardinality_registry_is_consulted_with_the_hint() -> None:
    seen: list[tuple[str, Cardinality | None]] = []

    def registry(relation: str, hint: Cardinality | None) -> Cardinality:
        seen.append((relation, hint))
        return Cardinality.MULTI if relation == "LIKES" else Cardinality.SINGLE

    run = Run(cardinality=registry)
    run.item("2024-01-01", F("Alice", "LIKES", "Jazz"))
    run.item("2024-06-01", F("Alice", "LIKES", "Rock", cardinality=Cardinality.SINGLE))
    assert seen == [("LIKES", None), ("LIKES", Cardinality.SINGLE)]
    assert run.edge("Jazz").invalid_at is None and run.edge("Rock").cardinality is Cardinality.MULTI


# -- ties ----------------------------------------------------------------------------------------


def test_a_tie_leaves_both_current_whatever_the_offset() -> None:
    run = Run()
    run.item("2024-03-01T09:00:00Z", lives("Paris"))
    applied = run.item("2024-03-01T10:00:00+01:00", lives("Berlin"))
    assert run.row("Paris") == (d("2024-03-01T09:00:00Z"), None, None, clock(0), ["ep0"])
    assert run.row("Berlin") == (d("2024-03-01T09:00:00Z"), None, None, clock(1), ["ep1"])
    assert applied.invalidated == []


def test_a_tie_with_a_later_edge_does_not_make_the_new_edge_born_invalid() -> None:
    run = Run()
    run.item("2024-06-01", lives("Berlin"))
    run.item("2024-09-01", lives("Rome"))
    run.item("2024-06-01", lives("Paris"))  # ties Berlin, ends at Rome
    assert run.row("Paris") == (d("2024-06-01"), d("2024-09-01"), clock(2), clock(2), ["ep2"])
    assert run.row("Berlin") == (d("2024-06-01"), d("2024-09-01"), clock(1), clock(0), ["ep0"])


def test_microseconds_break_a_tie() -> None:
    run = Run()
    run.item(datetime(2024, 1, 1, tzinfo=UTC), lives("Paris"))
    run.item(datetime(2024, 1, 1, 0, 0, 0, 1, tzinfo=UTC), lives("Berlin"))
    assert run.edge("Paris").invalid_at == datetime(2024, 1, 1, 0, 0, 0, 1, tzinfo=UTC)


# -- terminators -----------------------------------------------------------------------------------


def test_a_terminator_retires_the_relation_it_ends_for_the_same_target_only() -> None:
    run = Run()
    run.item("2020-01-01", F("Alice", "WORKS_AT", "Acme"))
    run.item("2020-01-01", F("Bob", "WORKS_AT", "Globex"))
    applied = run.item("2023-05-01", F("Alice", "NO_LONGER_WORKS_AT", "Acme"), F("Alice", "NO_LONGER_WORKS_AT", "Globex"))
    assert run.row("Acme", "WORKS_AT") == (d("2020-01-01"), d("2023-05-01"), clock(2), clock(0), ["ep0"])
    assert run.row("Globex", "WORKS_AT") == (d("2020-01-01"), None, None, clock(1), ["ep1"])
    assert run.edge("Acme", "NO_LONGER_WORKS_AT").terminates == "WORKS_AT"
    assert run.row("Acme", "NO_LONGER_WORKS_AT") == (d("2023-05-01"), None, None, clock(2), ["ep2"])
    assert applied.invalidated == [run.edge("Acme", "WORKS_AT").uuid]


def test_moved_out_of_terminates_lives_in() -> None:
    run = Run()
    run.item("2020-01-01", lives("Paris"))
    run.item("2022-01-01", F("Alice", "MOVED_OUT_OF", "Paris"))
    assert run.row("Paris", "LIVES_IN") == (d("2020-01-01"), d("2022-01-01"), clock(1), clock(0), ["ep0"])


def test_a_fact_can_declare_what_it_terminates_and_custom_registries_apply() -> None:
    run = Run(terminators={"QUIT": "PLAYS_FOR"})
    run.item("2020-01-01", F("Alice", "PLAYS_FOR", "Reds"))
    run.item("2021-01-01", F("Alice", "MEMBER_OF", "Club"))
    run.item("2022-01-01", F("Alice", "QUIT", "Reds"))
    run.item("2023-01-01", F("Alice", "RESIGNED_FROM", "Club", terminates="MEMBER_OF"))
    run.item("2023-01-01", F("Alice", "WORKS_AT", "Acme"))
    run.item("2024-01-01", F("Alice", "NO_LONGER_WORKS_AT", "Acme"))  # not in this registry
    assert run.edge("Reds", "PLAYS_FOR").invalid_at == d("2022-01-01")
    assert run.edge("Club", "MEMBER_OF").invalid_at == d("2023-01-01")
    assert run.edge("Acme", "WORKS_AT").invalid_at is None


def test_a_backfilled_start_before_a_stored_terminator_is_born_invalid() -> None:
    run = Run()
    run.item("2023-05-01", F("Alice", "NO_LONGER_WORKS_AT", "Acme"))
    run.item("2020-01-01", F("Alice", "WORKS_AT", "Acme"))
    assert run.row("Acme", "WORKS_AT") == (d("2020-01-01"), d("2023-05-01"), clock(1), clock(1), ["ep1"])
    assert run.row("Acme", "NO_LONGER_WORKS_AT") == (d("2023-05-01"), None, None, clock(0), ["ep0"])


def test_rejoining_after_a_terminator_retires_the_terminator() -> None:
    run = Run()
    run.item("2020-01-01", F("Alice", "WORKS_AT", "Acme"))
    run.item("2022-01-01", F("Alice", "NO_LONGER_WORKS_AT", "Acme"))
    applied = run.item("2024-01-01", F("Alice", "WORKS_AT", "Acme"))  # revive: a new WORKS_AT edge
    assert run.row("Acme", "WORKS_AT", 0) == (d("2020-01-01"), d("2022-01-01"), clock(1), clock(0), ["ep0"])
    assert run.row("Acme", "NO_LONGER_WORKS_AT") == (d("2022-01-01"), d("2024-01-01"), clock(2), clock(1), ["ep1"])
    assert run.row("Acme", "WORKS_AT", 1) == (d("2024-01-01"), None, None, clock(2), ["ep2"])
    assert applied.invalidated == [run.edge("Acme", "NO_LONGER_WORKS_AT").uuid]


# -- re-assertion ----------------------------------------------------------------------------------


def test_a_to_b_to_a_revive_makes_a_third_interval() -> None:
    run = Run()
    run.item("2024-01-01", lives("Paris"))
    run.item("2024-06-01", lives("Berlin"))
    applied = run.item("2024-12-01", lives("Paris"))
    assert run.row("Paris", nth=0) == (d("2024-01-01"), d("2024-06-01"), clock(1), clock(0), ["ep0"])
    assert run.row("Berlin") == (d("2024-06-01"), d("2024-12-01"), clock(2), clock(1), ["ep1"])
    assert run.row("Paris", nth=1) == (d("2024-12-01"), None, None, clock(2), ["ep2"])
    assert applied.new == [run.edge("Paris", nth=1).uuid] and applied.merged == []
    assert applied.invalidated == [run.edge("Berlin").uuid]


def test_a_to_b_to_a_graphiti_fastpath_merges_into_the_retired_edge() -> None:
    run = Run(reassert="graphiti_fastpath")
    run.item("2024-01-01", lives("Paris"))
    run.item("2024-06-01", lives("Berlin"))
    applied = run.item("2024-12-01", lives("Paris"))
    assert len(run.graph.edges()) == 2
    assert run.row("Paris") == (d("2024-01-01"), d("2024-06-01"), clock(1), clock(0), ["ep0", "ep2"])
    assert run.row("Berlin") == (d("2024-06-01"), None, None, clock(1), ["ep1"])
    assert applied.merged == applied.entity_edges == [run.edge("Paris").uuid]
    assert applied.new == [] and applied.invalidated == []


def test_revive_merges_into_a_current_edge_without_moving_its_dates() -> None:  # S13
    run = Run()
    run.item("2024-06-01", lives("Paris"))
    applied = run.item("2024-01-01", lives("Paris", invalid_at=d("2024-03-01"), attributes={"x": 1}))
    assert len(run.graph.edges()) == 1
    assert run.row("Paris") == (d("2024-06-01"), None, None, clock(0), ["ep0", "ep1"])
    assert run.edge("Paris").attributes == {}
    assert applied.merged == [run.edge("Paris").uuid] and applied.new == []


def test_a_merge_decision_uses_the_graph_as_it_was_before_the_item() -> None:
    run = Run()
    run.item("2024-01-01", lives("Paris"))
    applied = run.item("2024-06-01", lives("Berlin"), lives("Paris"))  # Berlin retires Paris, Paris re-asserted
    paris, berlin = run.edge("Paris"), run.edge("Berlin")
    assert len(run.graph.edges()) == 2
    assert run.row("Paris") == (d("2024-01-01"), d("2024-06-01"), clock(1), clock(0), ["ep0", "ep1"])
    assert applied.edges == [berlin.uuid, paris.uuid] and applied.merged == [paris.uuid]
    assert applied.invalidated == [paris.uuid]
    assert applied.entity_edges == [berlin.uuid, paris.uuid]


def test_unknown_reassert_mode_is_refused() -> None:
    with pytest.raises(ValueError):
        FactGraph(counter_ids(), reassert="merge")  # type: ignore[arg-type]


# -- one item ------------------------------------------------------------------------------------


@pytest.mark.parametrize("order", [("Globex", "Initech"), ("Initech", "Globex")])
def test_the_earliest_invalid_at_wins_within_one_item(order: tuple[str, str]) -> None:
    starts = {"Globex": d("2023-01-01"), "Initech": d("2022-01-01")}
    run = Run()
    run.item("2020-01-01", F("Alice", "WORKS_AT", "Acme"))
    applied = run.item("2024-01-01", *(F("Alice", "WORKS_AT", c, valid_at=starts[c]) for c in order))
    acme = run.edge("Acme")
    assert run.row("Acme") == (d("2020-01-01"), d("2022-01-01"), clock(1), clock(0), ["ep0"])
    # the two new edges do not see each other: both stay current
    assert run.row("Globex") == (d("2023-01-01"), None, None, clock(1), ["ep1"])
    assert run.row("Initech") == (d("2022-01-01"), None, None, clock(1), ["ep1"])
    assert applied.invalidated == [acme.uuid]
    retirers = [run.edge(c).uuid for c in order]
    assert applied.invalidated_by[acme.uuid] == (retirers if order[0] == "Globex" else retirers[:1])


def test_expired_at_first_wins_across_items() -> None:
    run = Run()
    run.item("2024-01-01", lives("Paris"))
    run.item("2024-12-01", lives("Tokyo"))  # Paris ends 12-01, expired at clock(1)
    run.item("2024-06-01", lives("Berlin"))  # Paris's end moves to 06-01; its expiry stays
    assert run.row("Paris") == (d("2024-01-01"), d("2024-06-01"), clock(1), clock(0), ["ep0"])


# -- user predicates -------------------------------------------------------------------------------


def test_an_extra_predicate_adds_contradictions_among_the_same_source() -> None:
    def spouse_vs_single(new: Edge, old: Edge) -> bool:
        return new.name == "MARRIED_TO" and old.name == "IS" and old.target.key == "single"

    run = Run(contradicts=[spouse_vs_single])
    run.item("2020-01-01", F("Alice", "IS", "Single"))
    run.item("2020-01-01", F("Bob", "IS", "Single"))
    applied = run.item("2022-01-01", F("Alice", "MARRIED_TO", "Bob"))
    assert run.row("Single", nth=0) == (d("2020-01-01"), d("2022-01-01"), clock(2), clock(0), ["ep0"])
    assert run.row("Single", nth=1) == (d("2020-01-01"), None, None, clock(1), ["ep1"])
    assert applied.invalidated == [run.edge("Single").uuid]


def test_a_contradiction_filter_narrows_the_built_in_candidates() -> None:
    run = Run(contradiction_filter=lambda new, old: old.target.key != "paris")
    run.item("2024-01-01", lives("Paris"))
    run.item("2024-03-01", lives("Rome"))
    run.item("2024-06-01", lives("Berlin"))
    run.item("2023-01-01", lives("Oslo"))  # the filter hides Paris: Oslo ends at Rome instead
    assert run.edge("Paris").invalid_at is None
    assert run.edge("Rome").invalid_at == d("2024-06-01")
    assert run.edge("Oslo").invalid_at == d("2024-03-01")


# -- the worked scenarios of §5.9 ----------------------------------------------------------------


def _when(text: str | None) -> datetime | None:
    return None if text is None else d(text)


def _fixture_fact(raw: dict[str, Any]) -> ExtractedFact:
    return ExtractedFact(
        raw["source"], raw["relation"], raw["target"],
        valid_at=_when(raw.get("valid_at")), invalid_at=_when(raw.get("invalid_at")),
        cardinality=Cardinality(raw["cardinality"]) if raw.get("cardinality") else None,
        terminates=raw.get("terminates"),
    )


SCENARIOS = sorted(FIXTURES.glob("*.json"))


def test_every_scenario_of_the_reference_is_a_fixture() -> None:
    assert [p.stem for p in SCENARIOS] == sorted(
        ["S1", "S2", "S3a", "S3b", "S3c", "S4", "S5", "S6", "S7a", "S7b", "S8_revive", "S8_graphiti_fastpath",
         "S9", "S10", "S12"])


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario(path: Path) -> None:
    data = json.loads(path.read_text())
    assert data["settings"]["tie_policy"] == "graphiti"
    start, step = d(data["clock"]["start"]), timedelta(seconds=data["clock"]["step_seconds"])
    graphs: dict[str, FactGraph] = {}
    ids = counter_ids()
    applied: dict[str, AppliedEpisode] = {}
    for k, episode in enumerate(data["episodes"]):
        now = start + k * step
        graph = graphs.get(episode["graph"])
        if graph is None:
            graph = graphs[episode["graph"]] = FactGraph(ids, reassert=data["settings"]["reassert"])
        ref = _when(episode["reference_time"]) or now  # absent: the processing clock (§5.1 step 1)
        applied[episode["id"]] = graph.apply([_fixture_fact(f) for f in episode["facts"]], episode["id"], ref, now)

    expected = data["expected"]["edges"]
    labels: dict[str, str] = {}
    for name, graph in graphs.items():
        want = [e for e in expected if e["graph"] == name]
        got = graph.edges()
        assert len(got) == len(want)
        for edge, row in zip(got, want):  # creation order is the reference's table order
            assert {
                "source": edge.source.name, "relation": edge.name, "target": edge.target.name, "fact": edge.fact,
                "valid_at": edge.valid_at, "invalid_at": edge.invalid_at, "expired_at": edge.expired_at,
                "created_at": edge.created_at, "episodes": edge.episodes,
            } == {
                "source": row["source"], "relation": row["relation"], "target": row["target"], "fact": row["fact"],
                "valid_at": d(row["valid_at"]), "invalid_at": _when(row["invalid_at"]),
                "expired_at": _when(row["expired_at"]), "created_at": d(row["created_at"]),
                "episodes": row["episodes"],
            }
            labels[edge.uuid] = row["label"]
    assert sum(len(g.edges()) for g in graphs.values()) == len(expected)
    for episode_id, want_labels in data["expected"]["entity_edges"].items():
        assert [labels[u] for u in applied[episode_id].entity_edges] == want_labels


# -- properties ------------------------------------------------------------------------------------

BASE = datetime(2020, 1, 1, tzinfo=UTC)


@st.composite
def dated_histories(draw: st.DrawFn) -> tuple[list[tuple[int, bool]], list[int]]:
    """Distinct day offsets, each a fact with its own target, dated either by an explicit
    valid_at or by the item's reference time; and an arrival order."""
    days = draw(st.lists(st.integers(0, 3650), min_size=1, max_size=8, unique=True))
    explicit = draw(st.lists(st.booleans(), min_size=len(days), max_size=len(days)))
    order = draw(st.permutations(range(len(days))))
    return list(zip(days, explicit)), order


@given(dated_histories())
def test_any_arrival_order_gives_the_same_intervals_and_one_current_edge(history: Any) -> None:
    facts, order = history
    run = Run()
    for i in order:
        day, explicit = facts[i]
        start = BASE + timedelta(days=day)
        if explicit:
            run.item(BASE + timedelta(days=9999), lives(f"City {i}", valid_at=start))
        else:
            run.item(start, lives(f"City {i}"))

    # Whatever the order: the timeline is partitioned, each value ending where the next begins.
    ranked = sorted(range(len(facts)), key=lambda i: facts[i][0])
    starts = [BASE + timedelta(days=facts[i][0]) for i in ranked]
    want = {(f"City {i}", starts[r], starts[r + 1] if r + 1 < len(ranked) else None) for r, i in enumerate(ranked)}
    got = {(e.target.name, e.valid_at, e.invalid_at) for e in run.graph.edges()}
    assert got == want
    for e in run.graph.edges():
        assert (e.expired_at is None) == (e.invalid_at is None)
    # At any instant (each boundary, and just before it) at most one edge is current.
    for at in starts + [s - timedelta(microseconds=1) for s in starts]:
        assert sum(e.valid_on(at) for e in run.graph.edges()) == (1 if at >= starts[0] else 0)


# A brute-force model of §5.1 steps 4-7 (a full scan of the graph for every fact, R1-R3 as in
# §2.3) against which the indexed engine is checked on random histories, re-assertions, ties,
# explicit ends, multi-valued facts and terminators included.

_CITIES = ["Paris", "Berlin", "Rome"]
_RELATIONS = ["LIVES_IN", "MOVED_OUT_OF", "LIKES"]


def _model(items: list[tuple[datetime, list[ExtractedFact]]], reassert: str) -> list[tuple[Any, ...]]:
    edges: list[dict[str, Any]] = []
    terminators = {"NO_LONGER_WORKS_AT": "WORKS_AT", "MOVED_OUT_OF": "LIVES_IN"}

    def contradicts(n: dict[str, Any], c: dict[str, Any]) -> bool:
        if n["s"] != c["s"]:
            return False
        if n["rel"] == c["rel"] and n["card"] == c["card"] == "single" and n["t"] != c["t"]:
            return True
        return n["t"] == c["t"] and (n["term"] == c["rel"] or c["term"] == n["rel"])

    for k, (ref, facts) in enumerate(items):
        now = clock(k)
        snapshot = list(edges)
        seen = set()
        for f in facts:
            triple = (normalise_name(f.source), f.relation, normalise_name(f.target))
            if triple in seen:
                continue
            seen.add(triple)
            same = [e for e in snapshot if (e["s"], e["rel"], e["t"]) == triple]
            if reassert == "revive":
                same = [e for e in same if e["inv_snapshot"] is None]
            if same:
                same[0]["eps"].append(k)
                continue
            n = {"s": triple[0], "rel": f.relation, "t": triple[2], "valid": f.valid_at or ref, "inv": f.invalid_at,
                 "exp": None, "created": now, "eps": [k], "card": (f.cardinality or Cardinality.SINGLE).value,
                 "term": terminators.get(f.relation), "inv_snapshot": None}
            edges.append(n)
            cands = sorted((c for c in snapshot if contradicts(n, c)), key=lambda c: c["valid"])
            if n["inv"] is not None and n["exp"] is None:
                n["exp"] = now
            if n["exp"] is None:
                for c in cands:
                    if c["valid"] > n["valid"]:
                        n["inv"], n["exp"] = c["valid"], now
                        break
            for c in cands:
                if c["inv"] is not None and c["inv"] <= n["valid"]:
                    continue
                if n["inv"] is not None and n["inv"] <= c["valid"]:
                    continue
                if c["valid"] < n["valid"]:
                    c["inv"] = n["valid"]
                    c["exp"] = c["exp"] or now
        for e in edges:
            e["inv_snapshot"] = e["inv"]
    return [(e["s"], e["rel"], e["t"], e["valid"], e["inv"], e["exp"], e["created"], e["eps"]) for e in edges]


_facts = st.builds(
    lambda rel, city, day, end, explicit: ExtractedFact(
        "Alice", rel, city,
        valid_at=BASE + timedelta(days=day) if explicit else None,
        invalid_at=BASE + timedelta(days=day + end) if end is not None else None,
        cardinality=Cardinality.MULTI if rel == "LIKES" else None,
    ),
    st.sampled_from(_RELATIONS), st.sampled_from(_CITIES), st.integers(0, 8),
    st.none() | st.integers(-2, 6), st.booleans(),
)
_items = st.lists(st.tuples(st.integers(0, 8), st.lists(_facts, min_size=1, max_size=3)), min_size=1, max_size=10)


@given(_items, st.sampled_from(["revive", "graphiti_fastpath"]))
def test_the_indexed_engine_matches_a_full_scan_of_the_rules(raw_items: Any, reassert: str) -> None:
    items = [(BASE + timedelta(days=day), facts) for day, facts in raw_items]
    graph = FactGraph(counter_ids(), reassert=reassert)  # type: ignore[arg-type]
    for k, (ref, facts) in enumerate(items):
        graph.apply(facts, str(k), ref, clock(k))
    got = [(e.source.key, e.name, e.target.key, e.valid_at, e.invalid_at, e.expired_at, e.created_at,
            [int(x) for x in e.episodes]) for e in graph.edges()]
    assert got == _model(items, reassert)


# -- the index -------------------------------------------------------------------------------------


def test_candidate_lookup_does_not_walk_the_history() -> None:
    considered: list[str] = []

    def count(new: Edge, old: Edge) -> bool:
        considered.append(old.target.name)
        return True

    run = Run(contradiction_filter=count)
    for i in range(200):
        run.item(BASE + timedelta(days=i), lives(f"City {i}"))
    considered.clear()
    run.item(BASE + timedelta(days=99, hours=12), lives("Oslo"))  # a backfill in the middle of 200 values
    assert considered == ["City 100", "City 99"]  # R2's next start and R3's spanning edge, nothing else
    assert run.row("Oslo")[:2] == (BASE + timedelta(days=99, hours=12), BASE + timedelta(days=100))
    assert run.edge("City 99").invalid_at == BASE + timedelta(days=99, hours=12)


def test_the_timeline_keeps_only_edges_that_reach_past_their_successor() -> None:
    # White box: the set R3's lookup scans stays as small as the overlaps in the data.
    run = Run()
    for i in (5, 1, 9, 3, 7, 0, 8, 2, 6, 4):
        run.item(BASE + timedelta(days=i), lives(f"City {i}"))
    timeline = run.graph._timelines[("alice", "LIVES_IN")]
    assert [e.target.name for e in timeline.reaching] == ["City 9"]
    assert [e.target.name for e in timeline.edges] == [f"City {i}" for i in range(10)]
    run.item("2020-01-01", F("Alice", "WORKS_AT", "Acme"))
    run.item("2021-01-01", F("Alice", "NO_LONGER_WORKS_AT", "Acme"))  # ends an edge of another timeline
    assert list(run.graph._timelines[("alice", "WORKS_AT")].reaching) == []


def test_extraction_registry_and_engine_fit_together() -> None:
    """What the ingest path will do: the registry's relation rules and registered contradiction
    rules drive the engine, and a rule reads the engine's own edges (source_key, relation,
    target_key). LIKES is multi-valued by the registry, so a second like does not retire the
    first; the registered MOOD rule retires an older mood."""
    from emulator.core.extract import EpisodeView, ExtractionContext, ExtractorRegistry

    registry = ExtractorRegistry()
    registry.register_contradiction(
        lambda new, old: new.relation == old.relation == "MOOD" and new.source_key == old.source_key
    )
    ids = iter(f"id-{n}" for n in range(100))
    graph = FactGraph(
        lambda: next(ids),
        cardinality=registry.relations.cardinality_of,
        terminators=registry.relations.terminators,
        contradicts=[r.rule.contradicts for r in registry.contradiction_rules],
    )
    day1, day2 = datetime(2024, 1, 1, tzinfo=timezone.utc), datetime(2024, 2, 1, tzinfo=timezone.utc)
    now = datetime(2030, 1, 1, tzinfo=timezone.utc)
    for n, (text, ref) in enumerate([("Alice likes jazz.", day1), ("Alice likes rock.", day2)]):
        facts = registry.extract(EpisodeView(kind="text", content=text, reference_time=ref), ExtractionContext())
        graph.apply(facts, f"ep-{n}", ref, now)
    graph.apply([ExtractedFact("Alice", "MOOD", "calm", cardinality=Cardinality.MULTI)], "ep-2", day1, now)
    graph.apply([ExtractedFact("Alice", "MOOD", "tense", cardinality=Cardinality.MULTI)], "ep-3", day2, now)
    ends = {(e.name, e.target.name): e.invalid_at for e in graph.edges()}
    assert ends == {("LIKES", "jazz"): None, ("LIKES", "rock"): None, ("MOOD", "calm"): day2, ("MOOD", "tense"): None}
