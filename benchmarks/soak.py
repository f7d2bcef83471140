"""The soak: a long ingest through the real HTTP API in realtime mode, checked end to end, and
the server's resident memory at start, at its peak and after ``POST /_emulator/reset``.

The server: ``python -m emulator --processing realtime --item-seconds 0.0001`` in a process of
its own (so every item goes through the realtime workers, one per graph, and each spends 0.1 ms
in ``processing``). The client: raw HTTP with httpx and orjson (the SDK would only add client
time; the soak measures the server), sending an ``Idempotency-Key`` with every POST as
zep-cloud 4.0.1 does (its ``graph.edge.list`` and ``graph.episode.list`` included), so the
idempotency store fills as a real client's would.

1. **Warm-up**: one small batch through every route the soak uses (in a tenant of its own),
   then a reset; the **start** RSS is read after that.
2. **Load**: one tenant; 50 graphs; 200,000 ``graph_episode`` items over 20 batches of 10,000,
   item *i* going to graph ``i % 50`` with the text "Person 000123 works at Company 123. ..."
   (about 110 characters, one ``WORKS_AT`` fact per item, a subject of its own). Each batch is
   created, filled with ``add_items`` of 500 and processed at once, so processing runs while
   later batches are added. Then every batch is polled until terminal.
3. **Checks** (any disagreement raises): each batch ``succeeded`` with ``item_count``,
   ``total_items`` and ``succeeded_items`` equal to its size and nothing failed or processing;
   the batch list's ``total_size`` is the batch count; each batch's items, read page by page
   (``GET /batches/{id}/items``, 200 a page), are exactly its sequence indexes, all
   ``succeeded``, each with an episode of its own and the graph its index says; per graph, the
   episode list, read page by page (200 a page), is exactly its items' episodes, and its edges, read page by page
   (``POST /graphs/{id}/edges/list``, 100 a page), are one ``WORKS_AT`` edge per item whose
   ``episode_uuids`` are exactly that item's episode - so items, episodes and edges agree one to
   one per batch and per graph, and the counts add up to the total.
4. **Memory**: RSS (``VmRSS`` in ``/proc/PID/status``) at start, after the load, after the
   checks (the first read of a graph's edges derives its facts, which then stay), the peak
   (``VmHWM``, restarted for each cycle through ``/proc/PID/clear_refs``), and one second after
   ``POST /_emulator/reset`` (no key: everything); the journal is checked to be empty after the
   reset but for the reset call itself.

Steps 2-4 are one cycle; by default a second cycle runs on the same server, so a state that
grew across resets would show in its peak and after-reset RSS.

5. **The store floor** (benchmarks/store_floor_app.py): a bare aiohttp app on the same stack
   that keeps what it is sent and drops it on reset with the emulator's own ``reclaim()``, in a
   process of its own, put through the same warm-up, the same load by the same client code
   (each batch's items read back page by page), the same reset and the same wait. It shows how
   far the stack itself comes back, so the emulator's own share of what a reset leaves can be
   read in the same run.

Figure with a target (issue 7): **RSS after reset / RSS at start ≤ 1.1** (cycle 1). Printed
for context: each RSS reading, the store floor's ratio and peak, what a reset leaves (after -
start) on each side, the emulator's ratio over the floor's, each phase's seconds, items per
second through the load, the server's CPU, how long the reset took, and cycle 2's peak and
after-reset RSS over cycle 1's.

Run from the repository root: ``python benchmarks/soak.py`` (``--quick``: 10,000 items over 4
batches and 5 graphs; ``--cycles N``). :func:`run` returns the figures for a caller.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` and ``emulator`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import orjson

from benchmarks.backfill import TERMINAL, reference_time
from benchmarks.common import Figure, ServerProcess, report

Log = Callable[[str], None]
TARGET = 1.1
MiB = 2**20
ITEM_SECONDS = "0.0001"
CHUNK = 500  # items per add_items call (the API's most)
ITEMS_PAGE = 200  # items per list_items page (the API's most)
EDGES_PAGE = 100  # edges per edge list page (the API's most)
EPISODES_PAGE = 200  # episodes per episode list page (the API's most)


@dataclass(frozen=True)
class Sizes:
    """How big the soak is."""

    items: int
    batches: int
    graphs: int
    timeout: float  # seconds to wait for every batch to end


FULL = Sizes(items=200_000, batches=20, graphs=50, timeout=900)
QUICK = Sizes(items=10_000, batches=4, graphs=5, timeout=120)


def episode_text(i: int) -> str:
    """Item *i*'s data: one ``WORKS_AT`` fact with a subject of its own, and a sentence no
    extractor reads."""
    return f"Person {i:06d} works at Company {i % 997:03d}. Soak record {i:06d} of the memory benchmark, written through the v4 batch API."


class Api:
    """Raw HTTP on one keep-alive connection: JSON in and out with orjson, an
    ``Idempotency-Key`` on every POST (as zep-cloud 4.0.1 sends), any status >= 400 raises."""

    def __init__(self, base_url: str, api_key: str | None) -> None:
        headers = {"Content-Type": "application/json"}
        if api_key is not None:
            headers["Authorization"] = f"Api-Key {api_key}"
        self.http = httpx.Client(base_url=base_url, headers=headers, timeout=120)

    def call(self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None) -> Any:
        """The answer's JSON (None for an empty body)."""
        headers = {"Idempotency-Key": str(uuid.uuid4())} if method != "GET" else None
        content = orjson.dumps(body) if body is not None else (b"{}" if method != "GET" else None)
        r = self.http.request(method, path, content=content, params=params, headers=headers)
        if r.status_code >= 400:
            raise RuntimeError(f"{method} {path} answered {r.status_code}: {r.text[:500]}")
        return orjson.loads(r.content) if r.content else None

    def pages(self, method: str, path: str, size: int) -> tuple[list[dict[str, Any]], int | None]:
        """Every record of a paged list (``page_size`` + ``cursor``) and its ``total_size``
        (None where the list has none: episodes, edges and nodes)."""
        records: list[dict[str, Any]] = []
        params: dict[str, Any] = {"page_size": size}
        while True:
            page = self.call(method, path, {} if method == "POST" else None, params)
            records += page["items"]
            if not page.get("next_cursor"):
                return records, page.get("total_size")
            params["cursor"] = page["next_cursor"]

    def close(self) -> None:
        self.http.close()


@dataclass
class Loaded:
    """What the load made: graph uuids (by index) and batch uuids (in order)."""

    graphs: list[str]
    batches: list[str] = field(default_factory=list)


def load(api: Api, sizes: Sizes, log: Log) -> Loaded:
    """Create the graphs, then each batch: create, add its items 500 at a time, process."""
    loaded = Loaded([api.call("POST", "/api/v4/graphs", {"name": f"soak-{g}"})["uuid"] for g in range(sizes.graphs)])
    per_batch = sizes.items // sizes.batches
    for b in range(sizes.batches):
        batch_uuid = api.call("POST", "/api/v4/batches", {"metadata": {"soak": b}})["uuid"]
        first = b * per_batch
        for offset in range(first, first + per_batch, CHUNK):
            items = [
                {
                    "type": "graph_episode",
                    "graph_uuid": loaded.graphs[i % sizes.graphs],
                    "data": episode_text(i),
                    "data_type": "text",
                    "reference_time": reference_time(i),
                }
                for i in range(offset, min(first + per_batch, offset + CHUNK))
            ]
            added = api.call("POST", f"/api/v4/batches/{batch_uuid}/items", {"items": items})
            if len(added["items"]) != len(items) or added["rejected_items"]:
                raise RuntimeError(f"add_items took {len(added['items'])} of {len(items)}: {added['rejected_items'][:3]}")
        api.call("POST", f"/api/v4/batches/{batch_uuid}/process")
        loaded.batches.append(batch_uuid)
        if (b + 1) % max(1, sizes.batches // 4) == 0:
            log(f"  {b + 1} of {sizes.batches} batches added and processing")
    return loaded


def wait_terminal(api: Api, batches: Sequence[str], timeout: float) -> dict[str, dict[str, Any]]:
    """Poll every batch until all are terminal; their last answers by uuid."""
    deadline = time.monotonic() + timeout
    done: dict[str, dict[str, Any]] = {}
    while True:
        for batch_uuid in batches:
            if batch_uuid not in done:
                got = api.call("GET", f"/api/v4/batches/{batch_uuid}")
                if got["status"] in TERMINAL:
                    done[batch_uuid] = got
        if len(done) == len(batches):
            return done
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(batches) - len(done)} batches still not terminal after {timeout:.0f} s")
        time.sleep(0.25)


def verify(api: Api, sizes: Sizes, loaded: Loaded, final: dict[str, dict[str, Any]]) -> tuple[float, float]:
    """Check that batch counters, item lists, episode counts and edges agree (module docstring,
    step 3); raises :class:`RuntimeError` on the first disagreement. Returns the seconds spent
    on the batches and items, and on the graphs' episodes and edges."""
    started = time.perf_counter()
    per_batch = sizes.items // sizes.batches
    episodes_of: list[set[str]] = [set() for _ in range(sizes.graphs)]
    seen_episodes: set[str] = set()

    def check(ok: bool, what: str) -> None:
        if not ok:
            raise RuntimeError(f"soak check failed: {what}")

    _, listed = api.pages("GET", "/api/v4/batches", 200)
    check(listed == sizes.batches, f"the batch list's total_size is {listed}, not {sizes.batches}")
    for b, batch_uuid in enumerate(loaded.batches):
        got = final[batch_uuid]
        progress = got.get("progress") or {}
        check(got["status"] == "succeeded", f"batch {b} ended {got['status']}")
        check(got["item_count"] == per_batch and progress.get("total_items") == per_batch,
              f"batch {b} counts {got['item_count']} / {progress.get('total_items')} items, not {per_batch}")
        check(progress.get("succeeded_items") == per_batch and progress.get("failed_items") == 0
              and progress.get("processing_items") == 0, f"batch {b} progress {progress}")
        items, total = api.pages("GET", f"/api/v4/batches/{batch_uuid}/items", ITEMS_PAGE)
        check(total == len(items) == per_batch, f"batch {b} lists {len(items)} items (total_size {total}), not {per_batch}")
        check(sorted(item["sequence_index"] for item in items) == list(range(per_batch)),
              f"batch {b}'s sequence indexes are not 0..{per_batch - 1}")
        for item in items:
            i = b * per_batch + item["sequence_index"]
            graph = i % sizes.graphs
            episode = item.get("episode_uuid")
            check(item["status"] == "succeeded", f"item {i} is {item['status']}")
            check(item.get("graph_uuid") == loaded.graphs[graph], f"item {i} names graph {item.get('graph_uuid')}")
            check(episode is not None and episode not in seen_episodes, f"item {i}'s episode {episode} is missing or shared")
            seen_episodes.add(episode)
            episodes_of[graph].add(episode)
    check(len(seen_episodes) == sizes.items, f"{len(seen_episodes)} episodes for {sizes.items} items")
    items_done = time.perf_counter()
    edges_total = 0
    for g, graph_uuid in enumerate(loaded.graphs):
        expected = episodes_of[g]
        episodes, _ = api.pages("POST", f"/api/v4/graphs/{graph_uuid}/episodes/list", EPISODES_PAGE)
        check({e["uuid"] for e in episodes} == expected and len(episodes) == len(expected),
              f"graph {g} lists {len(episodes)} episodes, not its {len(expected)} items' episodes")
        edges, _ = api.pages("POST", f"/api/v4/graphs/{graph_uuid}/edges/list", EDGES_PAGE)
        check(len(edges) == len(expected), f"graph {g} has {len(edges)} edges, not {len(expected)}")
        check(all(e["name"] == "WORKS_AT" and len(e["episode_uuids"]) == 1 for e in edges),
              f"graph {g} has an edge that is not one item's WORKS_AT fact")
        check({e["episode_uuids"][0] for e in edges} == expected, f"graph {g}'s edges do not come from its items' episodes")
        edges_total += len(edges)
    check(edges_total == sizes.items, f"{edges_total} edges for {sizes.items} items")
    return items_done - started, time.perf_counter() - items_done


def warm_up(base_url: str) -> None:
    """Every route the soak uses, once, in a tenant of its own; then reset everything."""
    api = Api(base_url, f"soak-warm-{uuid.uuid4()}")
    try:
        warm = Sizes(items=CHUNK, batches=1, graphs=2, timeout=60)
        loaded = load(api, warm, lambda line: None)
        verify(api, warm, loaded, wait_terminal(api, loaded.batches, warm.timeout))
    finally:
        api.close()
    journal_size(base_url)
    reset(base_url)


def reset(base_url: str) -> int:
    """``POST /_emulator/reset`` without a key (forget everything); how many tenants went."""
    with httpx.Client(base_url=base_url, timeout=120) as http:
        r = http.post("/_emulator/reset")
        r.raise_for_status()
        return int(r.json()["tenants"])


def journal_size(base_url: str) -> int:
    """How many entries the request journal holds now."""
    with httpx.Client(base_url=base_url, timeout=60) as http:
        r = http.get("/_emulator/requests", params={"limit": 10_000})
        r.raise_for_status()
        return len(r.json()["requests"])


@dataclass(frozen=True)
class Cycle:
    """One load, its checks and the reset after them: seconds, server CPU and RSS readings."""

    load_seconds: float  # creating, filling and processing every batch
    wait_seconds: float  # after the last process call, until every batch is terminal
    items_seconds: float  # checking batches and their items
    graphs_seconds: float  # checking the graphs' episodes and edges
    reset_seconds: float  # POST /_emulator/reset, until its answer
    server_cpu: float
    loaded_rss: int
    checked_rss: int
    peak_rss: int
    after_rss: int


def cycle(server: ServerProcess, sizes: Sizes, log: Log) -> Cycle:
    """Load a fresh tenant, wait, check, read the RSS, reset everything and read it again."""
    exact_peak = server.reset_peak_rss()
    cpu0 = server.cpu_seconds()
    api = Api(server.base_url, f"soak-{uuid.uuid4()}")
    try:
        t0 = time.perf_counter()
        loaded = load(api, sizes, log)
        t1 = time.perf_counter()
        final = wait_terminal(api, loaded.batches, sizes.timeout)
        t2 = time.perf_counter()
        loaded_rss = server.rss_bytes()
        items_seconds, graphs_seconds = verify(api, sizes, loaded, final)
    finally:
        api.close()
    checked_rss = server.rss_bytes()
    peak_rss = server.peak_rss_bytes() if exact_peak else checked_rss
    cpu = server.cpu_seconds() - cpu0
    t3 = time.perf_counter()
    dropped = reset(server.base_url)
    reset_seconds = time.perf_counter() - t3
    time.sleep(1.0)
    after_rss = server.rss_bytes()
    left = journal_size(server.base_url)
    if dropped != 1 or left > 1:
        raise RuntimeError(f"the reset dropped {dropped} tenants and left {left} journal entries")
    done = Cycle(t1 - t0, t2 - t1, items_seconds, graphs_seconds, reset_seconds, cpu, loaded_rss, checked_rss, peak_rss, after_rss)
    log(f"  load {done.load_seconds:.1f} s ({sizes.items / done.load_seconds:,.0f} items/s added), until terminal "
        f"{done.wait_seconds:.1f} s more; checks: batches and items {items_seconds:.1f} s, episodes and edges "
        f"{graphs_seconds:.1f} s; server CPU {cpu:.1f} s; reset answered in {reset_seconds * 1000:,.0f} ms")
    log(f"  RSS: after the load {loaded_rss / MiB:.1f} MiB, after the checks {checked_rss / MiB:.1f} MiB, "
        f"peak {peak_rss / MiB:.1f} MiB{'' if exact_peak else ' (VmHWM not resettable: the reading after the checks)'}, "
        f"after reset {after_rss / MiB:.1f} MiB")
    return done


@dataclass(frozen=True)
class FloorReading:
    """The store floor's RSS at start (after its warm-up), at its peak and after its reset."""

    start_rss: int
    peak_rss: int
    after_rss: int

    @property
    def ratio(self) -> float:
        return self.after_rss / self.start_rss


def load_and_read_back(base_url: str, sizes: Sizes) -> None:
    """The load (:func:`load`) against a store floor, every batch polled until terminal, and
    every batch's items read back page by page: exactly its sequence indexes."""
    api = Api(base_url, None)
    try:
        loaded = load(api, sizes, lambda line: None)
        wait_terminal(api, loaded.batches, sizes.timeout)
        per_batch = sizes.items // sizes.batches
        for b, batch_uuid in enumerate(loaded.batches):
            items, total = api.pages("GET", f"/api/v4/batches/{batch_uuid}/items", ITEMS_PAGE)
            if total != per_batch or sorted(item["sequence_index"] for item in items) != list(range(per_batch)):
                raise RuntimeError(f"the store floor's batch {b} lists {len(items)} items (total_size {total}), not {per_batch}")
    finally:
        api.close()


def floor_pass(sizes: Sizes, log: Log) -> FloorReading:
    """The same load through a bare aiohttp app that keeps the items and drops them on reset
    with the emulator's own reclaim (benchmarks/store_floor_app.py): a warm-up and a reset,
    the start RSS read at once (as :func:`run` reads the emulator's), the load read back, the
    peak, then the same reset and the same one-second wait as the emulator's cycle."""
    with ServerProcess("benchmarks.store_floor_app") as floor:
        load_and_read_back(floor.base_url, Sizes(items=CHUNK, batches=1, graphs=2, timeout=60))
        reset(floor.base_url)
        start_rss = floor.rss_bytes()
        exact_peak = floor.reset_peak_rss()
        load_and_read_back(floor.base_url, sizes)
        peak_rss = floor.peak_rss_bytes() if exact_peak else floor.rss_bytes()
        if reset(floor.base_url) != 1:
            raise RuntimeError("the store floor's reset found nothing to drop")
        time.sleep(1.0)
        reading = FloorReading(start_rss, peak_rss, floor.rss_bytes())
    log(f"  store floor: RSS at start {reading.start_rss / MiB:.1f} MiB, peak {reading.peak_rss / MiB:.1f} MiB, "
        f"after reset {reading.after_rss / MiB:.1f} MiB ({reading.ratio:.3f}x)")
    return reading


def run(quick: bool = False, cycles: int = 2, log: Log = print) -> list[Figure]:
    """Warm up, then *cycles* times load, check and reset on the same server; the figures
    (progress goes to *log*)."""
    sizes = QUICK if quick else FULL
    log(f"soak: {sizes.items:,} items over {sizes.batches} batches and {sizes.graphs} graphs, raw HTTP (httpx), "
        f"realtime mode with --item-seconds {ITEM_SECONDS}, {cycles} cycle(s) of load, checks and reset")
    with ServerProcess("emulator", "--processing", "realtime", "--item-seconds", ITEM_SECONDS, "--log-level", "WARNING") as server:
        warm_up(server.base_url)
        start_rss = server.rss_bytes()
        log(f"  RSS at start (after a warm-up and a reset): {start_rss / MiB:.1f} MiB")
        done: list[Cycle] = []
        for c in range(1, cycles + 1):
            log(f" cycle {c}:")
            done.append(cycle(server, sizes, log))
    log(" the same load through the store floor (a bare aiohttp app that keeps the items and drops them):")
    floor = floor_pass(sizes, log)
    first, last = done[0], done[-1]
    ratio = first.after_rss / start_rss
    figures = [
        Figure.at_most(f"soak {sizes.items:,} items: RSS after reset / at start", ratio, "x", TARGET),
        Figure.info("  RSS at start (after warm-up)", start_rss / MiB, "MiB"),
        Figure.info("  RSS peak", first.peak_rss / MiB, "MiB"),
        Figure.info("  RSS after reset", first.after_rss / MiB, "MiB"),
        Figure.info("  store floor, same load: RSS after reset / at start", floor.ratio, "x"),
        Figure.info("  store floor: RSS peak", floor.peak_rss / MiB, "MiB"),
        Figure.info("  RSS left by a reset (after - start), emulator", (first.after_rss - start_rss) / MiB, "MiB"),
        Figure.info("  RSS left by a reset (after - start), store floor", (floor.after_rss - floor.start_rss) / MiB, "MiB"),
        Figure.info("  emulator / store floor (RSS after reset / at start)", ratio / floor.ratio, "x"),
        Figure.info("  load + processing until every batch is terminal", first.load_seconds + first.wait_seconds, "s"),
        Figure.info("  checks (batches, items, episodes, edges)", first.items_seconds + first.graphs_seconds, "s"),
        Figure.info("  reset answered in", first.reset_seconds * 1000, "ms"),
    ]
    if len(done) > 1:
        figures += [
            Figure.info(f"  cycle {len(done)}: peak / cycle 1 peak", last.peak_rss / first.peak_rss, "x"),
            Figure.info(f"  cycle {len(done)}: RSS after reset / cycle 1's", last.after_rss / first.after_rss, "x"),
        ]
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; returns 1 when the target is missed."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10,000 items over 4 batches and 5 graphs (seconds)")
    parser.add_argument("--cycles", type=int, default=2, help="load-check-reset cycles on the same server (default 2)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    figures = run(quick=args.quick, cycles=args.cycles)
    return report(figures, time.perf_counter() - started)


if __name__ == "__main__":
    sys.exit(main())
