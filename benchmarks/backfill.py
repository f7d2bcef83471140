"""The backfill benchmark: what the emulator costs a client that backfills through the real
zep-cloud 4.x SDK, as ratios against a floor measured in the same run.

Three figures with targets:

1. **Backfill ratio** (target ≤ 1.3): 20,000 ``graph_episode`` items through
   ``Zep(api_key=..., base_url=..., max_retries=0)`` - ``batch.create``, ``batch.add_items`` of
   500 items x 40, ``batch.process``, then ``batch.get`` until the batch is terminal - against
   the emulator in instant mode and against the stateless floor app (benchmarks/floor_app.py),
   alternating emulator, floor, emulator, floor ... for N rounds. Both servers run in
   processes of their own (``python -m emulator --processing instant`` and
   ``python -m benchmarks.floor_app``), in ABBA order. Reported: each round's seconds, and the median over
   rounds of ``emulator / floor`` within a round — each pair runs back to back, so a slow
   spell of this shared machine weighs on both sides of the ratio it lands in — and each
   side's server CPU. Each emulator round uses
   a fresh tenant (a new API key) with one graph created before the clock starts; the tenant
   is reset after the round (``POST /_emulator/reset``), outside the timing, as a per-test
   reset would.
2. **batch.get ratio** (target ≤ 1.2): median latency of ``batch.get`` on a processed
   50,000-item batch over the same on a processed 1-item batch, same tenant, through the SDK,
   interleaved in blocks.
3. **Memory per item** (target ≤ 2 KB): in a separate Python process, a ``World`` in instant
   mode is fed 100,000 items (two batches of 50,000) through the core API the wire uses
   (``tenant.create_batch``, ``tenant.add_items`` with 500 ``ItemInput`` per call, each with
   its own ``Ref``, ``str`` and parsed ``datetime`` as the v4 wire builds them,
   ``tenant.process``); RSS after minus RSS before, minus
   ``sum(len(data))`` (the content's bytes: ASCII, one byte per character, held once because
   ``Episode.content`` is the same ``str`` object as ``Item.input.data`` - checked), divided by the
   item count. The 49-byte header of each content ``str`` is counted as overhead.

Also printed, without targets: the two medians behind the ratio and each server's CPU.

Run from the repository root: ``python benchmarks/backfill.py`` (``--quick`` for a smoke run,
``--rounds N``, ``--profile`` to print where an in-process emulator's thread spends its time
during one extra backfill). :func:`run` returns the figures for a caller.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import pstats
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` and ``emulator`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from zep_cloud.client import Zep
from zep_cloud.types import Batch as SdkBatch
from zep_cloud.types import BatchItemInput

from benchmarks.common import REPO_ROOT, Figure, ServerProcess, median, report
from emulator.core.processor import ProcessingMode
from emulator.core.tenants import Service
from emulator.core.world import World, WorldConfig
from emulator.server import BackgroundServer

TERMINAL = frozenset({"succeeded", "partial", "failed", "canceled", "invalid"})
Log = Callable[[str], None]


@dataclass(frozen=True)
class Sizes:
    """How big each part of the benchmark is."""

    items: int  # items per backfill
    chunk: int  # items per add_items call
    rounds: int  # emulator/floor round pairs
    get_items: int  # items in the big batch for the batch.get figure
    get_calls: int  # batch.get calls on each batch
    get_block: int  # consecutive calls on one batch before switching (small: load on the box moves latency)
    memory_items: int  # items stored in the memory subprocess
    memory_batch: int  # items per batch there


FULL = Sizes(items=20_000, chunk=500, rounds=9, get_items=50_000, get_calls=2_000, get_block=10,
             memory_items=100_000, memory_batch=50_000)
QUICK = Sizes(items=2_000, chunk=500, rounds=2, get_items=5_000, get_calls=200, get_block=10,
              memory_items=10_000, memory_batch=10_000)

BACKFILL_TARGET = 1.3
GET_TARGET = 1.2
MEMORY_TARGET = 2048.0

_FILLER = (
    "The customer called about a delayed shipment, asked for a refund of the express fee, "
    "and mentioned moving to a new address next month; the agent promised a follow-up call."
)


# -- the workload ------------------------------------------------------------------------------


def episode_text(i: int) -> str:
    """The ``data`` of item *i*: about 200 ASCII characters, different for every item."""
    return f"Episode {i:06d} (account {i % 997:03d}): {_FILLER}"


def reference_time(i: int) -> str:
    """An RFC 3339 reference time for item *i* (a backfill carries historical times)."""
    return f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:{(7 * i) % 60:02d}Z"


def item_dict(i: int, graph_uuid: str) -> dict[str, Any]:
    """Item *i* as v4 JSON."""
    return {
        "type": "graph_episode",
        "graph_uuid": graph_uuid,
        "data": episode_text(i),
        "data_type": "text",
        "reference_time": reference_time(i),
    }


def sdk_items(n: int, graph_uuid: str) -> list[BatchItemInput]:
    """*n* items as the SDK's input models (built before the clock starts)."""
    return [BatchItemInput(**item_dict(i, graph_uuid)) for i in range(n)]


def new_client(base_url: str, api_key: str) -> tuple[Zep, httpx.Client]:
    """A v4 SDK client (retries off) on an httpx client equal to the SDK's default one, which we
    keep so we can close it."""
    http = httpx.Client(timeout=60, follow_redirects=True)
    return Zep(api_key=api_key, base_url=base_url, max_retries=0, httpx_client=http), http


def backfill(client: Zep, items: Sequence[BatchItemInput], chunk: int) -> tuple[float, SdkBatch]:
    """Create a batch, add *items* in *chunk*-sized calls, process, and poll ``batch.get``
    until terminal. Returns the wall-clock seconds and the last ``batch.get`` answer."""
    start = time.perf_counter()
    batch_uuid = client.batch.create().uuid_
    assert batch_uuid is not None
    for offset in range(0, len(items), chunk):
        part = items[offset : offset + chunk]
        added = client.batch.add_items(batch_uuid, items=part)
        if len(added.items or ()) != len(part):
            raise RuntimeError(f"add_items echoed {len(added.items or ())} of {len(part)} items: {added.rejected_items}")
    client.batch.process(batch_uuid)
    while True:
        got = client.batch.get(batch_uuid)
        if got.status in TERMINAL:
            break
        time.sleep(0.002)
    return time.perf_counter() - start, got


# -- 1. backfill ratio ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Round:
    """One timed backfill: wall seconds, and the CPU seconds of the client process and of the
    server process."""

    seconds: float
    client_cpu: float
    server_cpu: float


def _timed_backfill(server: ServerProcess, client: Zep, items: Sequence[BatchItemInput], chunk: int) -> tuple[Round, SdkBatch]:
    gc.collect()
    server0, client0 = server.cpu_seconds(), time.process_time()
    seconds, got = backfill(client, items, chunk)
    return Round(seconds, time.process_time() - client0, server.cpu_seconds() - server0), got


def _emulator_round(server: ServerProcess, sizes: Sizes) -> Round:
    """One backfill on a fresh tenant, reset afterwards (outside the timing), as a per-test
    reset would."""
    key = f"bench-{uuid.uuid4()}"
    client, http = new_client(f"{server.base_url}/api/v4", key)
    try:
        graph_uuid = client.graph.create(name="backfill").uuid_
        assert graph_uuid is not None
        timed, got = _timed_backfill(server, client, sdk_items(sizes.items, graph_uuid), sizes.chunk)
        http.post(f"{server.base_url}/_emulator/reset", headers={"Authorization": f"Api-Key {key}"}).raise_for_status()
    finally:
        http.close()
    done = got.progress.succeeded_items if got.progress is not None else None
    if got.status != "succeeded" or done != sizes.items:
        raise RuntimeError(f"emulator backfill ended {got.status} with {done} of {sizes.items} items succeeded")
    return timed


def _floor_round(floor: ServerProcess, sizes: Sizes) -> Round:
    """The same backfill against the floor app."""
    client, http = new_client(f"{floor.base_url}/api/v4", f"bench-{uuid.uuid4()}")
    try:
        timed, got = _timed_backfill(floor, client, sdk_items(sizes.items, str(uuid.uuid4())), sizes.chunk)
    finally:
        http.close()
    if got.status != "succeeded":
        raise RuntimeError(f"floor backfill ended {got.status}")
    return timed


def measure_backfill(
    server: ServerProcess, floor: ServerProcess, sizes: Sizes, log: Log = print
) -> tuple[list[Round], list[Round]]:
    """One unrecorded warm-up each, then *sizes.rounds* rounds of one backfill on each side,
    the emulator first in odd rounds and the floor first in even ones (ABBA), so neither side
    always runs in the other's wake."""
    warm = Sizes(**{**sizes.__dict__, "items": min(sizes.items, 1_000)})
    _emulator_round(server, warm)
    _floor_round(floor, warm)
    emulator: list[Round] = []
    floor_rounds: list[Round] = []
    for r in range(1, sizes.rounds + 1):
        if r % 2:
            e = _emulator_round(server, sizes)
            f = _floor_round(floor, sizes)
        else:
            f = _floor_round(floor, sizes)
            e = _emulator_round(server, sizes)
        emulator.append(e)
        floor_rounds.append(f)
        log(f"  round {r}: emulator {e.seconds:.3f} s   floor {f.seconds:.3f} s   ratio {e.seconds / f.seconds:.2f}"
            f"   (server CPU {e.server_cpu:.2f} / {f.server_cpu:.2f} s; client CPU {e.client_cpu:.2f} / {f.client_cpu:.2f} s)")
    return emulator, floor_rounds


# -- 2. batch.get on a big batch over a small one -----------------------------------------------


def _raw_batch(http: httpx.Client, graph_uuid: str, n: int, chunk: int) -> str:
    """A processed n-item batch made with bare HTTP posts (faster to build than via the SDK)."""
    r = http.post("/batches", json={})
    r.raise_for_status()
    batch_uuid: str = r.json()["uuid"]
    for offset in range(0, n, chunk):
        body = {"items": [item_dict(i, graph_uuid) for i in range(offset, min(n, offset + chunk))]}
        r = http.post(f"/batches/{batch_uuid}/items", json=body)
        r.raise_for_status()
    http.post(f"/batches/{batch_uuid}/process").raise_for_status()
    status = http.get(f"/batches/{batch_uuid}").json()["status"]
    if status != "succeeded":
        raise RuntimeError(f"the {n}-item batch is {status}, not succeeded")
    return batch_uuid


def measure_get(server: ServerProcess, sizes: Sizes) -> tuple[float, float]:
    """Median ``batch.get`` seconds on a *sizes.get_items*-item batch and on a 1-item batch."""
    key = f"bench-{uuid.uuid4()}"
    headers = {"Authorization": f"Api-Key {key}"}
    with httpx.Client(base_url=f"{server.base_url}/api/v4", headers=headers, timeout=120) as http:
        r = http.post("/graphs", json={"name": "get-latency"})
        r.raise_for_status()
        graph_uuid = r.json()["uuid"]
        big = _raw_batch(http, graph_uuid, sizes.get_items, sizes.chunk)
        small = _raw_batch(http, graph_uuid, 1, sizes.chunk)
    client, http2 = new_client(f"{server.base_url}/api/v4", key)
    times: dict[str, list[float]] = {big: [], small: []}
    try:
        for target in (big, small):  # warm both paths
            for _ in range(20):
                client.batch.get(target)
        gc.collect()
        for block in range(sizes.get_calls // sizes.get_block):
            order = (big, small) if block % 2 == 0 else (small, big)
            for target in order:
                bucket = times[target]
                for _ in range(sizes.get_block):
                    t0 = time.perf_counter()
                    client.batch.get(target)
                    bucket.append(time.perf_counter() - t0)
        http2.post(f"{server.base_url}/_emulator/reset", headers=headers).raise_for_status()
    finally:
        http2.close()
    return median(times[big]), median(times[small])


# -- 3. resident memory per item (separate process) ---------------------------------------------


def _rss_bytes() -> int:
    """This process's resident set size, from /proc/self/statm."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def memory_child(n: int, per_batch: int, per_call: int = 500) -> dict[str, Any]:
    """Runs in the subprocess: store *n* items through the core API and measure RSS growth."""
    from emulator.core.batches import ItemInput, ItemKind, ItemStatus, KeySpace, Ref, TargetKind
    from emulator.core.timestamps import parse_rfc3339

    world = World(WorldConfig(processing=ProcessingMode.INSTANT))
    tenant = world.tenants.get(Service.ZEP, "memory")
    graph = tenant.store.create_graph(None, world.clock.now(), name="memory")

    def inputs(start: int, stop: int) -> list[ItemInput]:
        """What the v4 wire hands the core for items start..stop-1: a fresh Ref, str and
        datetime per item, as parsing a request body yields."""
        out = []
        for i in range(start, stop):
            raw = item_dict(i, graph.uuid)
            out.append(
                ItemInput(
                    kind=ItemKind.GRAPH_EPISODE,
                    target=Ref(TargetKind.GRAPH, KeySpace.UUID, raw["graph_uuid"]),
                    data=raw["data"],
                    data_type=raw["data_type"],
                    reference_time=parse_rfc3339(raw["reference_time"], f"items[{i - start}].reference_time"),
                )
            )
        return out

    # Warm every code path once, so lazy imports and caches land in the baseline.
    warm = tenant.create_batch()
    tenant.add_items(warm, inputs(-1, 0))
    tenant.process(warm)
    del warm
    gc.collect()
    before = _rss_bytes()

    content = 0
    batches = []
    for first in range(0, n, per_batch):
        batch = tenant.create_batch()
        for offset in range(first, min(n, first + per_batch), per_call):
            chunk = inputs(offset, min(n, first + per_batch, offset + per_call))
            content += sum(len(inp.data) for inp in chunk)
            tenant.add_items(batch, chunk)
            del chunk
        tenant.process(batch)
        batches.append(batch)
    gc.collect()
    after = _rss_bytes()

    items = [item for b in batches for item in b.items]
    episodes = tenant.store.episodes_by_uuid
    ok = all(item.status is ItemStatus.SUCCEEDED for item in items) and len(items) == n
    shared = all(episodes[item.episode_uuid].content is item.input.data for item in items)  # type: ignore[index]
    ascii_only = all(item.input.data.isascii() for item in items)
    return {
        "items": n,
        "rss_before": before,
        "rss_after": after,
        "content_bytes": content,
        "all_succeeded": ok,
        "episodes": len(episodes) - 1,  # minus the warm-up item's
        "content_shared": shared,
        "ascii": ascii_only,
        "str_header_bytes": sys.getsizeof(items[0].input.data) - len(items[0].input.data),
    }


def measure_memory(sizes: Sizes) -> dict[str, Any]:
    """Run :func:`memory_child` in a fresh interpreter and return its report."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--memory-child", str(sizes.memory_items), str(sizes.memory_batch)]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO_ROOT, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"memory subprocess failed:\n{done.stderr}")
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if not (report["all_succeeded"] and report["content_shared"] and report["ascii"] and report["episodes"] == report["items"]):
        raise RuntimeError(f"memory subprocess did not store what it should: {report}")
    return report


# -- the whole benchmark ------------------------------------------------------------------------


def run(quick: bool = False, rounds: int | None = None, log: Log = print) -> list[Figure]:
    """Run every part and return the figures (progress goes to *log*)."""
    sizes = QUICK if quick else FULL
    if rounds is not None:
        sizes = Sizes(**{**sizes.__dict__, "rounds": rounds})
    figures: list[Figure] = []
    log("load average at start: {:.2f} {:.2f} {:.2f} ({} CPUs)".format(*os.getloadavg(), os.cpu_count()))

    with ServerProcess("emulator", "--processing", "instant", "--log-level", "WARNING") as server, \
            ServerProcess("benchmarks.floor_app") as floor:
        log(f"backfill: {sizes.items:,} graph_episode items, add_items x{sizes.items // sizes.chunk} of "
            f"{sizes.chunk}, {sizes.rounds} alternating rounds (emulator instant mode vs floor)")
        emulator, floor_rounds = measure_backfill(server, floor, sizes, log)
        e_med = median(r.seconds for r in emulator)
        f_med = median(r.seconds for r in floor_rounds)
        e_cpu = median(r.server_cpu for r in emulator)
        f_cpu = median(r.server_cpu for r in floor_rounds)
        ratio = median(e.seconds / f.seconds for e, f in zip(emulator, floor_rounds))
        log(f"  medians: emulator {e_med:.3f} s, floor {f_med:.3f} s; median ratio within a round {ratio:.3f}")
        figures.append(Figure.at_most(f"backfill {sizes.items:,} items: emulator / floor (median of {sizes.rounds} rounds)",
                                      ratio, "x", BACKFILL_TARGET))
        figures.append(Figure.info("  emulator median wall", e_med, "s"))
        figures.append(Figure.info("  floor median wall", f_med, "s"))
        figures.append(Figure.info("  emulator server CPU (median)", e_cpu, "s"))
        figures.append(Figure.info("  floor server CPU (median)", f_cpu, "s"))

        log(f"batch.get: {sizes.get_items:,}-item batch vs 1-item batch, {sizes.get_calls:,} SDK calls each, "
            f"interleaved in blocks of {sizes.get_block}")
        big, small = measure_get(server, sizes)
        log(f"  median: {sizes.get_items:,} items {big * 1e6:.0f} µs, 1 item {small * 1e6:.0f} µs, ratio {big / small:.3f}")
        figures.append(Figure.at_most(f"batch.get {sizes.get_items:,}-item / 1-item batch (median latency)",
                                      big / small, "x", GET_TARGET))

    log(f"memory: {sizes.memory_items:,} items in batches of {sizes.memory_batch:,} through the core API, separate process")
    mem = measure_memory(sizes)
    grown = mem["rss_after"] - mem["rss_before"]
    per_item = (grown - mem["content_bytes"]) / mem["items"]
    log(f"  RSS {mem['rss_before'] / 2**20:.1f} MiB -> {mem['rss_after'] / 2**20:.1f} MiB (+{grown / 2**20:.1f} MiB); "
        f"subtracted content = sum(len(data)) = {mem['content_bytes']:,} B "
        f"(ASCII; Episode.content is Item.input.data, the same str, counted once; "
        f"each str's {mem['str_header_bytes']}-byte header is counted as overhead)")
    log(f"  {per_item:,.0f} B per item beyond its content")
    figures.append(Figure.at_most(f"resident memory per item beyond content @ {sizes.memory_items:,}",
                                  per_item, "B/item", MEMORY_TARGET))
    log("load average at end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    return figures


def profile_backfill(quick: bool = False, log: Log = print, top: int = 30) -> str:
    """One backfill against an in-process emulator with cProfile on the server's thread;
    returns the stats, by cumulative and by own time."""
    sizes = QUICK if quick else FULL
    prof = cProfile.Profile()
    with BackgroundServer(WorldConfig(processing=ProcessingMode.INSTANT)) as server:
        client, http = new_client(server.zep_v4_url, f"bench-{uuid.uuid4()}")
        try:
            graph_uuid = client.graph.create(name="profile").uuid_
            assert graph_uuid is not None
            items = sdk_items(sizes.items, graph_uuid)
            server.run(prof.enable)
            backfill(client, items, sizes.chunk)
            server.run(prof.disable)
        finally:
            http.close()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out).sort_stats("cumulative")
    stats.print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; returns 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a small smoke run (a few seconds)")
    parser.add_argument("--rounds", type=int, default=None, help="emulator/floor round pairs (default 9; 2 with --quick)")
    parser.add_argument("--profile", action="store_true", help="also profile the emulator's thread during one backfill")
    parser.add_argument("--memory-child", nargs=2, type=int, metavar=("ITEMS", "PER_BATCH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        print(json.dumps(memory_child(*args.memory_child)))
        return 0
    started = time.perf_counter()
    figures = run(quick=args.quick, rounds=args.rounds)
    if args.profile:
        print(profile_backfill(quick=args.quick))
    return report(figures, time.perf_counter() - started)


if __name__ == "__main__":
    sys.exit(main())
