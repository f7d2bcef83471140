"""The temporal engine's scaling benchmark: does the cost of adding a fact stay flat as a
graph's history grows?

One graph, 1,000 subjects, one single-valued relation (``LIVES_IN``): every subject gets the
same number of updates, at distinct random instants over ten years, to a target drawn from 1,000
cities, and all updates are shuffled together, so most arrive out of time order (backfills,
born-invalid edges, retirements and re-assertions all happen). Each fact is one item:
``FactGraph.apply([fact], episode, reference_time, now)`` with the fact dated by its reference
time and the clock one minute further per item, as §5.1 of the reference has it. The facts,
ids and instants are built before the clock starts; a fresh graph is used for every run.

Figure with a target (the issue's): **cost per fact at 100,000 facts / cost per fact at
10,000 facts ≤ 1.5**, each the median over rounds of one full ingestion's seconds divided by
its fact count (the two sizes alternate, small first in odd rounds, large first in even ones),
measured under the garbage-collector settings of the standalone server that runs the engine
(``emulator.__main__.tune_gc``: start-up objects frozen, first-generation threshold 10,000).
The harness's prebuilt inputs are frozen with the start-up objects: in the server, extracted
facts live only while their item is processed.

The same target is checked **through extraction**: the same updates as text episodes ("Person
0042 lives in City 123.") queued through the core API the wire uses, then the first read of the
graph's facts, which extracts and applies every episode (:func:`derive`), timed alone.

Printed for context: the per-fact costs, the marginal cost of the last 10% of the big run, what
the big run made (edges, merges, retirements), and the same ratio under CPython's default
collector thresholds (700, 10, 10) and with the collector off. The engine's own work per fact
grows a little with the history (a backfill lands in the middle of a subject's timeline more
often at 100 updates per subject than at 10, and does R2 and R3 instead of R3 alone; the
working set outgrows the caches); under the default thresholds the big run also pays a few
full collections over the whole heap that the small run never reaches, which can put that
ratio near 1.5.

Run from the repository root: ``python benchmarks/temporal.py`` (``--quick``: 100 subjects,
1,000 and 10,000 facts, one round; ``--rounds N``). :func:`run` returns the figures.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Sequence

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` and ``emulator`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import Figure, median, report
from emulator.__main__ import tune_gc
from emulator.core.facts import ExtractedFact
from emulator.core.batches import ItemInput, ItemKind, KeySpace, Ref, TargetKind
from emulator.core.ids import IdFactory
from emulator.core.limits import MAX_ITEMS_PER_ADD, MAX_ITEMS_PER_BATCH
from emulator.core.processor import ProcessingMode
from emulator.core.temporal import FactGraph
from emulator.core.tenants import Service
from emulator.core.world import World, WorldConfig

Log = Callable[[str], None]
TARGET = 1.5
SEED = 20240601
EPOCH = datetime(2015, 1, 1, tzinfo=timezone.utc)
CLOCK0 = datetime(2030, 1, 1, tzinfo=timezone.utc)
SPAN_MINUTES = 10 * 365 * 24 * 60
CITIES = 1_000


@dataclass(frozen=True)
class Sizes:
    subjects: int
    small: int  # facts in the small run
    large: int  # facts in the large run
    rounds: int


FULL = Sizes(subjects=1_000, small=10_000, large=100_000, rounds=3)
QUICK = Sizes(subjects=100, small=1_000, large=10_000, rounds=1)


@dataclass(frozen=True)
class Workload:
    """What one ingestion feeds the engine, built before timing."""

    facts: list[ExtractedFact]
    refs: list[datetime]
    nows: list[datetime]
    episodes: list[str]


def workload(facts: int, subjects: int, seed: int = SEED) -> Workload:
    """*facts* updates, *facts / subjects* per subject at distinct instants, shuffled."""
    rng = random.Random(seed)
    per_subject = facts // subjects
    rows: list[tuple[ExtractedFact, datetime]] = []
    for s in range(subjects):
        for minute in rng.sample(range(SPAN_MINUTES), per_subject):
            fact = ExtractedFact(f"Person {s:04d}", "LIVES_IN", f"City {rng.randrange(CITIES):03d}")
            rows.append((fact, EPOCH + timedelta(minutes=minute)))
    rng.shuffle(rows)
    ids = IdFactory(seed)
    return Workload(
        facts=[fact for fact, _ in rows],
        refs=[ref for _, ref in rows],
        nows=[CLOCK0 + timedelta(minutes=i) for i in range(len(rows))],
        episodes=[ids.uuid() for _ in rows],
    )


@dataclass(frozen=True)
class Result:
    seconds: float
    last_tenth_seconds: float  # the last 10% of the facts
    edges: int
    merged: int
    invalidated: int


GC_MODES = ("server", "default", "off")


def ingest(work: Workload, gc_mode: str = "server", seed: int = SEED) -> Result:
    """Feed *work* to a fresh graph, one fact per item; wall seconds in all and for the last
    10%. *gc_mode*: ``server`` (``tune_gc``), ``default`` (the harness's objects frozen, CPython's
    default thresholds) or ``off``."""
    graph = FactGraph(IdFactory(seed + 1).uuid)
    apply = graph.apply
    n = len(work.facts)
    tenth = n - n // 10
    merged = invalidated = 0
    thresholds = gc.get_threshold()
    tune_gc() if gc_mode == "server" else (gc.collect(), gc.freeze())
    if gc_mode == "off":
        gc.disable()
    try:
        start = time.perf_counter()
        mark = start
        for i in range(n):
            if i == tenth:
                mark = time.perf_counter()
            applied = apply([work.facts[i]], work.episodes[i], work.refs[i], work.nows[i])
            merged += len(applied.merged)
            invalidated += len(applied.invalidated)
        end = time.perf_counter()
    finally:
        gc.enable()
        gc.set_threshold(*thresholds)
        gc.unfreeze()
    return Result(end - start, end - mark, len(graph.edges()), merged, invalidated)


def derive(work: Workload, seed: int = SEED) -> float:
    """The same updates as text episodes ("Person 0042 lives in City 123.", dated by their
    reference time) through the core API the wire uses - batches of 500-item adds, processed
    in instant mode with the clock ticking a minute per item - and then the seconds of the
    first read of the graph's facts, which extracts and applies every episode
    (core/knowledge.py), under the server's collector settings."""
    world = World(WorldConfig(processing=ProcessingMode.INSTANT, seed=seed))
    world.clock.freeze(CLOCK0)
    world.clock.tick = 60
    tenant = world.tenants.get(Service.ZEP, "bench")
    graph = tenant.store.create_graph("g", world.clock.now())
    ref = Ref(TargetKind.GRAPH, KeySpace.CLIENT_ID, "g")
    inputs = [ItemInput(ItemKind.GRAPH_EPISODE, ref, f"{f.source} lives in {f.target}.", "text", reference_time=when)
              for f, when in zip(work.facts, work.refs)]
    for start in range(0, len(inputs), MAX_ITEMS_PER_BATCH):
        batch = tenant.create_batch()
        for offset in range(start, min(start + MAX_ITEMS_PER_BATCH, len(inputs)), MAX_ITEMS_PER_ADD):
            tenant.add_items(batch, inputs[offset:offset + MAX_ITEMS_PER_ADD])
        tenant.process(batch)
    thresholds = gc.get_threshold()
    tune_gc()
    try:
        started = time.perf_counter()
        edges = len(tenant.knowledge(graph).edges())
        seconds = time.perf_counter() - started
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
    assert edges >= len(work.facts) * 0.9, edges  # the sentences were understood
    return seconds


def measure(sizes: Sizes, rounds: int, gc_mode: str, log: Log) -> tuple[list[Result], list[Result]]:
    """*rounds* ingestions of each size, alternating, each on a freshly built workload."""
    small: list[Result] = []
    large: list[Result] = []
    for r in range(1, rounds + 1):
        order = [(small, sizes.small), (large, sizes.large)]
        for results, n in order if r % 2 else order[::-1]:
            results.append(ingest(workload(n, sizes.subjects), gc_mode))
        log(f"  [gc: {gc_mode}] round {r}: {sizes.small:,} facts {small[-1].seconds:.3f} s, "
            f"{sizes.large:,} facts {large[-1].seconds:.3f} s")
    return small, large


def run(quick: bool = False, rounds: int | None = None, log: Log = print) -> list[Figure]:
    sizes = QUICK if quick else FULL
    rounds = rounds or sizes.rounds
    log(f"temporal engine: {sizes.subjects:,} subjects, one single-valued relation, shuffled time order; "
        f"{sizes.small:,} vs {sizes.large:,} facts, {rounds} round(s) per collector setting")
    figures: list[Figure] = []
    for gc_mode in GC_MODES:
        small, large = measure(sizes, rounds, gc_mode, log)
        per_small = median(x.seconds for x in small) / sizes.small
        per_large = median(x.seconds for x in large) / sizes.large
        ratio = per_large / per_small
        name = f"per-fact cost @ {sizes.large:,} / @ {sizes.small:,} facts"
        if gc_mode == "server":
            last_tenth = median(x.last_tenth_seconds for x in large) / (sizes.large // 10)
            big = large[-1]
            log(f"  {sizes.large:,} facts made {big.edges:,} edges; {big.merged:,} re-assertions merged, "
                f"{big.invalidated:,} retirements")
            figures += [
                Figure.at_most(f"{name} (server gc)", ratio, "x", TARGET),
                Figure.info(f"  per fact @ {sizes.small:,} facts", per_small * 1e6, "µs"),
                Figure.info(f"  per fact @ {sizes.large:,} facts", per_large * 1e6, "µs"),
                Figure.info(f"  per fact, last {sizes.large // 10:,} of {sizes.large:,}", last_tenth * 1e6, "µs"),
            ]
        else:
            label = "gc off" if gc_mode == "off" else f"{gc_mode} gc"
            figures += [
                Figure.info(f"{name} ({label})", ratio, "x"),
                Figure.info(f"  per fact @ {sizes.small:,} facts", per_small * 1e6, "µs"),
                Figure.info(f"  per fact @ {sizes.large:,} facts", per_large * 1e6, "µs"),
            ]
    small_s: list[float] = []
    large_s: list[float] = []
    for r in range(1, rounds + 1):
        order = [(small_s, sizes.small), (large_s, sizes.large)]
        for results, n in order if r % 2 else order[::-1]:
            results.append(derive(workload(n, sizes.subjects)))
        log(f"  [pipeline] round {r}: {sizes.small:,} episodes {small_s[-1]:.3f} s, {sizes.large:,} episodes {large_s[-1]:.3f} s")
    per_small, per_large = median(small_s) / sizes.small, median(large_s) / sizes.large
    figures += [
        Figure.at_most(f"through extraction: per-episode cost @ {sizes.large:,} / @ {sizes.small:,}", per_large / per_small,
                       "x", TARGET),
        Figure.info(f"  per episode @ {sizes.small:,}", per_small * 1e6, "µs"),
        Figure.info(f"  per episode @ {sizes.large:,}", per_large * 1e6, "µs"),
    ]
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; returns 1 when the target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small smoke run (about a second)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds of each size per collector setting (default 3; 1 with --quick)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    figures = run(quick=args.quick, rounds=args.rounds)
    return report(figures, time.perf_counter() - started)


if __name__ == "__main__":
    sys.exit(main())
