"""The Zep Batch API contract machine.

Hypothesis generates sequences of calls — create, add (valid and flawed items, at and over
the 500 limit), process (also twice, also empty or dangling), get, list and list items with
every page size, delete (in every status), deleting a graph under queued items, letting
processing move on, polling a batch to its end, and out-of-order backfills of facts — and
checks each answer against :mod:`contracts.model.zep` and each observation against the
invariants: statuses only move forward along the documented flow, counters add up to the
item count, items of one graph finish strictly in ``sequence_index`` order, nothing accepted
is lost (every item listed, each episode readable with its content) and nothing refused is
stored, and fact validity follows :mod:`contracts.model.temporal`.

One machine serves both wire versions: its driver (zep-cloud 3.x or 4.x) speaks the SDK.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, TypeVar

from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, initialize, multiple, precondition, rule

from ..drivers.base import ZepDriver
from ..drivers.views import BatchView, Listing, Refused
from ..model.answers import Answer, Refuse
from ..model.temporal import intervals, sentence
from ..model.zep import BATCH_DONE, BATCH_FLOW, ITEM_DONE, ITEM_FLOW, Candidate, ModelBatch, ZepModel, reachable
from ..targets import Session
from . import attempt

T = TypeVar("T")

#: Add-call sizes: mostly small calls, the empty one, and the edges of the 500-items limit
#: about one add in seven. Drawn by index, so a failing example shrinks towards one item.
_SIZES = [1, 2, 3, 1, 5, 2, 0, 1, 3, 2, 1, 2, 500, 501, 499, 4]
ADD_SIZES = st.integers(0, len(_SIZES) - 1).map(_SIZES.__getitem__)
TIMELINE_START = datetime(2020, 1, 1, tzinfo=timezone.utc)
#: The largest page either wire version lists (decisions.md "Pagination": 1-200).
MAX_PAGE = 200
#: A status's place in the processing order: finished items come before the one in work,
#: which comes before those still waiting.
RANK = {"succeeded": 2, "failed": 2, "skipped": 2, "canceled": 2, "processing": 1, "queued": 0, "pending": 0}


@dataclass
class Timeline:
    """Facts about one subject in a graph of their own, sent in a shuffled order."""

    graph: str
    batch: str
    subject: str
    #: target → reference time, and target → the item's position in the batch.
    times: dict[str, datetime]
    positions: dict[str, int]


class ZepBatchMachine(RuleBasedStateMachine):
    batches = Bundle("batches")

    def __init__(self, session: Session, driver: Callable[[str, str, Any], ZepDriver]) -> None:
        super().__init__()
        self.session = session
        api = "zep_v4" if getattr(driver, "version", "") == "v4" else "zep_v2"
        self.driver = driver(session.url(api), session.api_key, session.budget)  # type: ignore[arg-type]
        self.model = ZepModel(self.driver.version)
        self.names = itertools.count()
        self.graphs: list[str] = []
        self.users: list[str] = []
        self.threads: list[str] = []
        self.timelines: list[Timeline] = []
        self.made_graphs: list[str] = []
        self.unknown_tried = 0
        #: The batches' states when they were last listed (list them again only after a change).
        self.last_listed: object = None

    # -- plumbing ---------------------------------------------------------------------------

    def name(self, what: str) -> str:
        return f"{self.session.prefix}{what}-{next(self.names)}"

    def can(self, calls: int = 1, items: int = 0) -> bool:
        """The run's budget allows *calls* more, and still the calls that clean up after it."""
        return self.session.budget.allows(calls + self.cleanup_cost(), items)

    def cleanup_cost(self) -> int:
        if self.session.controllable:
            return 0
        drafts = sum(1 for b in self.model.batches.values() if b.state in ("draft", "invalid"))
        return drafts + len(self.made_graphs) + len(self.users)

    def attempt(self, what: str, call: Callable[[], T], predicted: Answer) -> T | None:
        return attempt(what, call, predicted, codes=self.driver.codes)

    def make_graph(self, what: str) -> str:
        graph = self.driver.create_graph(self.name(what))
        self.model.created("graph", graph)
        self.made_graphs.append(graph)
        return graph

    # -- the world the items name -----------------------------------------------------------

    @initialize()
    def setup_world(self) -> None:
        """Two graphs, a user and the user's thread: the destinations items name. (When the
        run's budget cannot pay for them and their cleanup, the example is dropped.)"""
        assume(self.can(4 + 3))
        self.graphs = [self.make_graph("graph"), self.make_graph("graph")]
        user = self.driver.create_user(self.name("user"))
        self.model.created("user", user)
        thread = self.driver.create_thread(self.name("thread"), user)
        self.model.created("thread", thread, user=user)
        self.users, self.threads = [user], [thread]

    def teardown(self) -> None:
        """On a real account, remove what the run made (a shared emulator tenant is forgotten
        by closing the session)."""
        try:
            if not self.session.controllable:
                for batch in self.model.batches.values():
                    if batch.state in ("draft", "invalid"):
                        self._quietly(lambda b=batch.id: self.driver.delete(b))
                for graph in self.made_graphs:
                    self._quietly(lambda g=graph: self.driver.delete_graph(g))
                for user in self.users:
                    self._quietly(lambda u=user: self.driver.delete_user(u))
        finally:
            self.session.close()

    @staticmethod
    def _quietly(call: Callable[[], object]) -> None:
        try:
            call()
        except Refused:
            pass  # already gone

    # -- items ------------------------------------------------------------------------------

    def candidate(self, item: dict[str, Any], defect: str | None) -> Candidate:
        fields = self.driver.fields
        named = [(kind, item[field]) for kind, field in fields.items() if kind != "time" and item.get(field)]
        payload = item.get("data") if item["type"] == "graph_episode" else item.get("content")
        return Candidate(item["type"], named[0] if len(named) == 1 else None, defect, payload)

    def draw_items(self, data: st.DataObject, count: int) -> tuple[list[Candidate], list[dict[str, Any]]]:
        """*count* items for the existing (and deleted) destinations: valid ones, and in small
        calls now and then one with a defect from the strategies, at a drawn position. Large calls
        repeat a few drawn items (with distinct payloads), which keeps the example small."""
        valid = self.driver.valid_items(self.graphs, self.users, self.threads)
        if count <= 5:
            items: list[tuple[dict[str, Any], str | None]] = [(data.draw(valid), None) for _ in range(count)]
            if count:
                for flawed in data.draw(st.lists(self.driver.flawed_items(self.graphs, self.users, self.threads),
                                                 max_size=1)):
                    items[data.draw(st.integers(0, count - 1))] = (flawed.item, flawed.defect)
        else:
            seeds = data.draw(st.lists(valid, min_size=1, max_size=3))
            items = []
            for i in range(count):
                item = dict(seeds[i % len(seeds)])
                key = "data" if item["type"] == "graph_episode" else "content"
                if item.get("data_type") != "json":
                    item[key] = f"{item[key][:150]} #{i}"
                items.append((item, None))
        return [self.candidate(item, defect) for item, defect in items], [item for item, _ in items]

    # -- rules: the batch lifecycle ---------------------------------------------------------

    @precondition(lambda self: self.can())
    @rule(target=batches, metadata=st.none() | st.dictionaries(st.sampled_from("abc"), st.integers(0, 9), max_size=2))
    def create_batch(self, metadata: dict[str, Any] | None) -> str:
        view = self.driver.create_batch(metadata)
        assert view.status == "draft", f"a new batch is {view.status}"
        self.model.create(view.id)
        self.observe(view)
        return view.id

    @precondition(lambda self: self.can())
    @rule(batch=batches, count=ADD_SIZES, data=st.data())
    def add_items(self, batch: str, count: int, data: st.DataObject) -> None:
        if not self.can(1, count):
            return
        candidates, items = self.draw_items(data, count)
        known = self.model.live(batch)
        before = len(known.items) if known else 0
        predicted, rejected = self.model.add(batch, candidates)
        answer = self.attempt(f"add {count} items", lambda: self.driver.add(batch, items), predicted)
        if answer is None:
            return
        stored, refused_positions = answer
        assert refused_positions == rejected, f"rejected_items {refused_positions}, predicted {rejected}"
        expected = [c for position, c in enumerate(candidates) if position not in rejected]
        assert [s.index for s in stored] == list(range(before, before + len(expected))), (
            f"stored sequence_index {[s.index for s in stored]}, predicted {before}..{before + len(expected) - 1}")
        for view, candidate in zip(stored, expected):
            self.check_item_names(view, candidate)
            assert view.status == "pending", f"a new item is {view.status}"

    @precondition(lambda self: self.can())
    @rule(batch=batches)
    def process(self, batch: str) -> None:
        predicted = self.model.process(batch)
        view = self.attempt("process", lambda: self.driver.process(batch), predicted)
        if view is not None:
            assert view.id == batch
            self.observe(view)

    @precondition(lambda self: self.can() and self.drafts_with_items())
    @rule(data=st.data())
    def process_a_filled_draft(self, data: st.DataObject) -> None:
        """``process`` above takes any batch (most answers are refusals); this one takes a
        draft that has items, so that whole lifecycles are common."""
        self.process(data.draw(st.sampled_from(self.drafts_with_items())))

    def drafts_with_items(self) -> list[str]:
        return [b.id for b in self.model.batches.values() if b.state == "draft" and b.items]

    def in_work(self) -> list[str]:
        """Processed batches not yet seen finished."""
        return [b.id for b in self.model.batches.values() if b.state == "processed" and b.seen_status not in BATCH_DONE]

    @precondition(lambda self: self.can())
    @rule(batch=batches)
    def get(self, batch: str) -> None:
        view = self.attempt("get", lambda: self.driver.get(batch), self.model.get(batch))
        if view is not None:
            self.observe(view)

    @precondition(lambda self: self.can(2))
    @rule(target=batches, batch=consumes(batches))
    def delete(self, batch: str) -> Any:
        """Delete a batch (in whatever status it is); a deleted one answers 404 from then on
        and leaves the bundle, so later rules work on live batches."""
        self.attempt("delete", lambda: self.driver.delete(batch), self.model.delete(batch))
        if self.model.batches[batch].state != "deleted":
            return batch
        self.attempt("get after delete", lambda: self.driver.get(batch), Refuse.one(404, why="deleted"))
        return multiple()

    @precondition(lambda self: self.can(2) and self.unknown_tried < 4)
    @rule(call=st.sampled_from(["get", "add", "process", "delete"]))
    def unknown_batch(self, call: str) -> None:
        """Every batch call on an id no batch has is a 404 and changes nothing."""
        self.unknown_tried += 1
        missing = self.driver.missing_id()
        actions: dict[str, Callable[[], object]] = {
            "get": lambda: self.driver.get(missing),
            "add": lambda: self.driver.add(missing, [self.driver.simple_item(self.graphs[0])]),
            "process": lambda: self.driver.process(missing),
            "delete": lambda: self.driver.delete(missing),
        }
        self.attempt(f"{call} of an unknown batch", actions[call], Refuse.one(404, why="no such batch"))

    # -- rules: time passes ---------------------------------------------------------------------

    @precondition(lambda self: self.in_work())
    @rule(items=st.integers(1, 5))
    def let_time_pass(self, items: int) -> None:
        self.session.let_time_pass(items if self.session.controllable else 1)

    @precondition(lambda self: self.can(2) and self.in_work())
    @rule(data=st.data())
    def finish(self, data: st.DataObject) -> None:
        """Poll a processed batch to its end (letting time pass between polls), then check
        every item against the model."""
        batch = data.draw(st.sampled_from(self.in_work()))
        known = self.model.batches[batch]
        for _ in range(self.session.patience):
            if not self.can(2):
                return
            view = self.driver.get(batch)
            self.observe(view)
            if view.status in BATCH_DONE:
                break
            self.session.let_time_pass(max(1, len(known.items) // 8))
        else:
            raise AssertionError(f"batch {batch} did not finish after {self.session.patience} polls")
        self.check_items(batch, MAX_PAGE)

    @precondition(lambda self: self.can())
    @rule(batch=batches, page_size=st.integers(1, 7))
    def list_items(self, batch: str, page_size: int) -> None:
        if self.model.live(batch) is None:
            self.attempt("list items of a missing batch", lambda: self.driver.list_items(batch, page_size),
                         Refuse.one(404, why="no such batch"))
            return
        known = self.model.batches[batch]
        # small pages on small batches, a few calls each; never past the largest page
        page_size = min(MAX_PAGE, max(page_size, len(known.items) // 4))
        if not self.can(2 + len(known.items) // page_size):
            return
        self.check_items(batch, page_size)

    def batch_states(self) -> object:
        return [(b.id, b.state) for b in self.model.batches.values()]

    @precondition(lambda self: self.session.exclusive and self.last_listed != self.batch_states())
    @rule(page_size=st.integers(1, 5))
    def list_batches(self, page_size: int) -> None:
        """Paging through every batch shows each live one exactly once. (Only on a target the
        run has to itself: a real account's own batches would make the listing unbounded.)"""
        self.last_listed = self.batch_states()
        listing = self.driver.list_batches(page_size)
        self.check_pages(listing, page_size)
        ids = [view.id for view in listing.elements]
        assert len(ids) == len(set(ids)), f"a batch listed twice: {ids}"
        live = {b.id for b in self.model.batches.values() if b.state != "deleted"}
        assert set(ids) == live, f"listed {sorted(ids)}, the model holds {sorted(live)}"
        for view in listing.elements:
            self.observe(view)

    # -- rules: the graph changes under queued items ------------------------------------------

    @precondition(lambda self: self.can(3) and self.in_work() and any(("graph", g) in self.model.existing for g in self.graphs))
    @rule(data=st.data())
    def delete_graph(self, data: st.DataObject) -> None:
        """Items queued for a graph deleted after they were added end ``skipped``; a draft
        batch naming it becomes ``invalid`` at process (decisions.md)."""
        graph = data.draw(st.sampled_from([g for g in self.graphs if ("graph", g) in self.model.existing]))
        unfinished: list[tuple[str, int]] = []
        for batch in self.model.batches.values():
            if batch.state != "processed" or not any(i.graph == graph for i in batch.items):
                continue
            statuses = {view.index: view.status for view in self.check_items(batch.id, 200)}
            unfinished += [(batch.id, i.index) for i in batch.items if i.graph == graph and statuses[i.index] not in ITEM_DONE]
        self.driver.delete_graph(graph)
        self.model.graph_deleted(graph, unfinished, exact=self.session.controllable)

    # -- rules: facts and their validity ---------------------------------------------------------

    @precondition(lambda self: self.can(5, 4) and len(self.timelines) < 3)
    @rule(target=batches, size=st.integers(2, 4), data=st.data())
    def add_timeline(self, size: int, data: st.DataObject) -> str:
        """A subject's employers over time, in a graph of its own, added in a shuffled order
        (an out-of-order backfill) to a new draft batch."""
        number = len(self.timelines)
        graph = self.make_graph("timeline")
        subject = f"Person{number}"
        days = data.draw(st.lists(st.integers(0, 3000), min_size=size, max_size=size, unique=True))
        order = data.draw(st.permutations(range(size)))
        times = {f"Org{number}n{k}": TIMELINE_START + timedelta(days=d) for k, d in enumerate(days)}
        targets = [list(times)[k] for k in order]
        items = [self.driver.fact_item(graph, sentence(subject, t), times[t]) for t in targets]
        view = self.driver.create_batch(None)
        self.model.create(view.id)
        predicted, _ = self.model.add(view.id, [self.candidate(item, None) for item in items])
        self.attempt("add a timeline", lambda: self.driver.add(view.id, items), predicted)
        self.timelines.append(Timeline(graph, view.id, subject, times, {t: p for p, t in enumerate(targets)}))
        return view.id

    def processed_timelines(self) -> list[Timeline]:
        return [t for t in self.timelines if (b := self.model.live(t.batch)) is not None and b.state == "processed"]

    @precondition(lambda self: self.can(3) and self.processed_timelines())
    @rule(data=st.data())
    def check_facts(self, data: st.DataObject) -> None:
        """Once a timeline's batch has finished, each fact's edge is valid from its item's
        reference time until the next later fact's, whatever order the items came in."""
        timeline = data.draw(st.sampled_from(self.processed_timelines()))
        view = self.driver.get(timeline.batch)
        self.observe(view)
        if view.status not in BATCH_DONE:
            return
        statuses = {v.index: v.status for v in self.check_items(timeline.batch, 200)}
        facts = {t: when for t, when in timeline.times.items() if statuses.get(timeline.positions[t]) == "succeeded"}
        edges = self.driver.edges(timeline.graph)
        for target, (start, end) in intervals(facts).items():
            found = [e for e in edges if re.search(rf"\b{re.escape(target)}\b", e.fact or "")]
            assert found, f"no edge for '{sentence(timeline.subject, target)}' among {[e.fact for e in edges]}"
            dated = [(e.valid_at, e.invalid_at) for e in found]
            if self.session.exclusive:
                assert len(found) == 1, f"{len(found)} edges for {target}: {dated}"
            assert (start, end) in dated, (
                f"'{sentence(timeline.subject, target)}' should be valid {start} .. {end}; the edges say {dated} "
                f"(arrival order {sorted(timeline.positions, key=timeline.positions.__getitem__)})")

    # -- observations and the invariants they must satisfy ------------------------------------------

    def observe(self, view: BatchView) -> None:
        known = self.model.batches.get(view.id)
        if known is None:
            return  # not made by this run (a real account's own batch)
        expected = self.model.expected_status(known)
        assert view.status in expected, f"batch {view.id} is {view.status}; the model allows {sorted(expected)}"
        assert view.status in reachable(BATCH_FLOW, known.seen_status), (
            f"batch {view.id} went back from {known.seen_status} to {view.status}")
        known.seen_status = view.status
        self.check_counters(view, known)

    def check_counters(self, view: BatchView, known: ModelBatch) -> None:
        if view.status in ("draft", "invalid"):
            assert view.counts is None, f"a {view.status} batch reports progress {view.counts}"
            return
        if view.counts is None:
            assert view.status == "queued", f"a {view.status} batch reports no progress"
            return
        assert view.total == len(known.items), f"progress total {view.total}, the batch holds {len(known.items)} items"
        counted = sum(view.counts.values())
        if self.driver.version == "v2":  # every status has a counter
            assert counted == view.total, f"counters {view.counts} add up to {counted}, not {view.total}"
        else:  # v4 counts processing, succeeded and failed only
            assert counted <= (view.total or 0), f"counters {view.counts} add up to more than {view.total}"
        if view.status in BATCH_DONE:
            waiting = view.counts.get("processing", 0) + view.counts.get("queued", 0)
            assert waiting == 0, f"a {view.status} batch still counts {view.counts}"

    def check_items(self, batch: str, page_size: int) -> list[Any]:
        """List every item of *batch* and check the listing: pages, indexes, names, statuses
        moving forward, per-graph order, and — once the batch has finished — each outcome,
        the batch's own outcome and counters, and the episodes' content."""
        view = self.driver.get(batch)
        self.observe(view)
        listing = self.driver.list_items(batch, page_size)
        self.check_pages(listing, page_size)
        known = self.model.batches[batch]
        items = sorted(listing.elements, key=lambda v: v.index)
        assert [v.index for v in items] == list(range(len(known.items))), (
            f"listed sequence_index {[v.index for v in items]}, the model holds {len(known.items)} items")
        assert all(total in (None, len(known.items)) for total in listing.totals), f"total_size {listing.totals}"
        by_graph: dict[str, list[int]] = {}
        for item_view, model_item in zip(items, known.items):
            self.check_item_names(item_view, model_item.candidate)
            last = known.seen_items.get(model_item.index, "pending")
            assert item_view.status in reachable(ITEM_FLOW, last), (
                f"item {model_item.index} went back from {last} to {item_view.status}")
            known.seen_items[model_item.index] = item_view.status
            if known.state != "processed":
                assert item_view.status == "pending", f"item {model_item.index} of a {known.state} batch is {item_view.status}"
            by_graph.setdefault(model_item.graph, []).append(RANK[item_view.status])
        for graph, ranks in by_graph.items():
            assert ranks == sorted(ranks, reverse=True), (
                f"items for graph {graph} finished out of sequence_index order: {ranks} (2 done, 1 in work, 0 waiting)")
        if view.status in BATCH_DONE:
            self.check_finished(view, known, items)
        return items

    def check_finished(self, view: BatchView, known: ModelBatch, items: list[Any]) -> None:
        statuses = [v.status for v in items]
        for item_view, model_item in zip(items, known.items):
            assert item_view.status in model_item.outcomes, (
                f"item {model_item.index} ({model_item.candidate.defect or 'valid'}) ended {item_view.status}; "
                f"the model predicts {sorted(model_item.outcomes)}")
        assert view.status == self.model.outcome(statuses), (
            f"batch ended {view.status} with items {sorted(set(statuses))}; decisions.md says {self.model.outcome(statuses)}")
        if view.counts is not None:
            for name, counted in view.counts.items():
                assert counted == statuses.count(name), f"progress {name} = {counted}, the items say {statuses.count(name)}"
        checked = 0
        for item_view, model_item in zip(items, known.items):
            episode, graph = item_view.episode, model_item.candidate.destination
            if item_view.status != "succeeded" or model_item.candidate.kind != "graph_episode" or not episode:
                continue
            if graph not in self.model.existing:
                continue  # its graph was deleted since, and the episode with it
            if checked >= (3 if self.session.controllable else 1) or not self.can():
                break
            assert graph is not None
            content = self.driver.episode_content(graph[1], episode)
            assert content == model_item.candidate.payload, f"episode of item {model_item.index} holds {content!r}"
            checked += 1

    def check_item_names(self, view: Any, candidate: Candidate) -> None:
        assert view.kind == candidate.kind, f"item {view.index} is a {view.kind}, sent as {candidate.kind}"
        if candidate.destination is not None:
            assert view.destination == candidate.destination[1], (
                f"item {view.index} names {view.destination}, sent with {candidate.destination}")

    @staticmethod
    def check_pages(listing: Listing, page_size: int) -> None:
        sizes = [len(page) for page in listing.pages]
        assert all(size <= page_size for size in sizes), f"pages of {sizes} for page size {page_size}"
        assert all(sizes[:-1]), f"an empty page before the last: {sizes}"
