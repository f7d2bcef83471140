"""The reference model of Zep's Batch API, for both wire versions.

Written from Zep's batch guide (seeds/000), the wire contract (zep-wire-contract.md §1–3) and
decisions.md — never from the emulator's code. It knows batches, their items and the
destinations they name, and predicts the answer of each call before the machine makes it:

- ``create`` makes a draft batch;
- ``add`` appends 1–500 items to a draft batch, in request order, or refuses the whole call
  (404 unknown batch; 409 not draft; 400 for 0 or 501+ items, a batch over 50,000, or an item
  the service turns away at add: a timestamp with no offset, metadata over 10 keys or with a
  nested value, a graph_episode with two targets or none). In v4 a graph_episode whose graph
  does not exist is turned away alone, in ``rejected_items``;
- ``process`` queues a draft batch (400 empty; 400 and ``invalid`` for a dangling graph, user
  or thread; 409 once processed — "Repeated calls return a conflict");
- ``delete`` removes a draft or invalid batch (409 otherwise);
- each processed item ends ``succeeded``, ``failed`` (data_type json that does not parse,
  episode data over 10,000 characters, message content over 4,096) or ``skipped`` (its graph
  was deleted after it was added and before it was reached); the batch ends ``succeeded`` with
  no failed item, ``failed`` when every item failed, else ``partial``.

Statuses move only forward along decisions.md's status flow; counters add up to the item count;
items of one destination graph are processed strictly in ``sequence_index`` order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from .answers import Accept, Answer, Refuse

MAX_ITEMS_PER_ADD = 500
MAX_ITEMS_PER_BATCH = 50_000

#: decisions.md "Status flow", as direct moves.
BATCH_FLOW: dict[str, frozenset[str]] = {
    "draft": frozenset({"queued", "invalid", "canceled"}),
    "queued": frozenset({"processing", "canceled"}),
    "processing": frozenset({"succeeded", "partial", "failed", "canceled"}),
    "invalid": frozenset(), "succeeded": frozenset(), "partial": frozenset(), "failed": frozenset(),
    "canceled": frozenset(),
}
ITEM_FLOW: dict[str, frozenset[str]] = {
    "pending": frozenset({"queued", "canceled"}),
    "queued": frozenset({"processing", "canceled"}),
    "processing": frozenset({"succeeded", "failed", "skipped", "canceled"}),
    "succeeded": frozenset(), "failed": frozenset(), "skipped": frozenset(), "canceled": frozenset(),
}
BATCH_DONE = frozenset({"succeeded", "partial", "failed", "canceled"})
ITEM_DONE = frozenset({"succeeded", "failed", "skipped", "canceled"})


def reachable(flow: dict[str, frozenset[str]], start: str) -> frozenset[str]:
    """Every status *start* may be seen in later, itself included: observations are polls, so
    a batch seen ``queued`` may next be seen ``succeeded``."""
    seen = {start}
    todo = [start]
    while todo:
        for nxt in flow.get(todo.pop(), frozenset()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return frozenset(seen)


#: Where each item defect shows (the wire contract §3 and decisions.md), by wire version:
#: "add" refuses the whole add call; "rejected" turns the item away in ``rejected_items``;
#: "process" makes the batch invalid at process; "item" fails the item while processed.
_V2_STAGE = {
    "naive_timestamp": "add", "too_many_metadata_keys": "add", "nested_metadata": "add",
    "two_targets": "add", "no_target": "add",
    "invalid_json": "item", "episode_too_large": "item", "message_too_large": "item",
    "unknown_graph": "process", "unknown_user": "process", "unknown_thread": "process",
}
#: v4 differs in one place: a graph_episode whose graph does not exist comes back in
#: ``rejected_items`` at add (the v4 docs), where v2 only finds it at process.
DEFECT_STAGE: dict[str, dict[str, str]] = {"v2": _V2_STAGE, "v4": {**_V2_STAGE, "unknown_graph": "rejected"}}


@dataclass(frozen=True)
class Candidate:
    """One item as the machine sends it: what it names and what is wrong with it, if anything."""

    kind: str  # "graph_episode" or "thread_message"
    #: ("graph" | "user" | "thread", id) the item names, or None when it names none or two.
    destination: tuple[str, str] | None
    defect: str | None = None
    #: The episode data or message content, to find it again after processing.
    payload: str | None = None


@dataclass
class ModelItem:
    index: int
    candidate: Candidate
    #: The destination graph, as the processing order groups items: a graph, a user's graph
    #: ("user:<id>"), or the graph of the thread's user.
    graph: str
    #: The statuses the item may end in (a set where a real target races the machine).
    outcomes: frozenset[str] = frozenset({"succeeded"})


@dataclass
class ModelBatch:
    id: str
    #: "draft", "invalid", "processed" (accepted by process) or "deleted".
    state: str = "draft"
    items: list[ModelItem] = field(default_factory=list)
    #: The last status each observation saw, for the forward-only check.
    seen_status: str = "draft"
    seen_items: dict[int, str] = field(default_factory=dict)


class ZepModel:
    def __init__(self, version: str) -> None:
        self.version = version
        self.stages = DEFECT_STAGE[version]
        #: Destinations that exist now: ("graph" | "user" | "thread", id).
        self.existing: set[tuple[str, str]] = set()
        self.thread_user: dict[str, str] = {}
        self.batches: dict[str, ModelBatch] = {}

    # -- destinations -----------------------------------------------------------------------

    def created(self, kind: str, ident: str, user: str | None = None) -> None:
        self.existing.add((kind, ident))
        if kind == "thread" and user is not None:
            self.thread_user[ident] = user

    def graph_deleted(self, graph: str, unfinished: Iterable[tuple[str, int]], exact: bool) -> None:
        """A graph was deleted. *unfinished*: (batch, index) of its processed batches' items
        that were not finished when the machine last looked (just before the delete). On a
        target that holds still between that look and the delete (*exact*), they will be
        skipped; on a live one, an item may have finished in between."""
        self.existing.discard(("graph", graph))
        for batch_id, index in unfinished:
            item = self.batches[batch_id].items[index]
            item.outcomes = frozenset({"skipped"}) if exact else item.outcomes | {"skipped"}

    def _graph_of(self, candidate: Candidate) -> str:
        if candidate.destination is None:
            return "?"
        kind, ident = candidate.destination
        if kind == "thread":
            return f"user:{self.thread_user.get(ident, '?' + ident)}"
        return f"{kind}:{ident}" if kind == "user" else ident

    def _exists(self, candidate: Candidate) -> bool:
        return candidate.destination is not None and candidate.destination in self.existing

    # -- calls ------------------------------------------------------------------------------

    def create(self, batch_id: str) -> None:
        self.batches[batch_id] = ModelBatch(batch_id)

    def live(self, batch_id: str) -> ModelBatch | None:
        batch = self.batches.get(batch_id)
        return None if batch is None or batch.state == "deleted" else batch

    def add(self, batch_id: str, candidates: list[Candidate]) -> tuple[Answer, list[int]]:
        """The predicted answer, and (if accepted) the request positions v4 turns away in
        ``rejected_items``. An accepted call's other items are appended in request order."""
        batch = self.live(batch_id)
        if batch is None:
            return Refuse.one(404, why="no such batch"), []
        problems: list[Refuse] = []
        if batch.state != "draft":
            problems.append(Refuse.one(409, "batch_not_draft", why=f"the batch is {batch.state}"))
        count = len(candidates)
        if count < 1 or count > MAX_ITEMS_PER_ADD:
            problems.append(Refuse.one(400, mentions=str(MAX_ITEMS_PER_ADD), why=f"{count} items in one add"))
        elif len(batch.items) + count > MAX_ITEMS_PER_BATCH:
            problems.append(Refuse.one(400, why="over 50,000 items in the batch"))
        flawed = [c.defect for c in candidates if c.defect is not None and self.stages[c.defect] == "add"]
        if flawed:
            problems.append(Refuse.one(400, why=f"items the service turns away at add: {sorted(set(flawed))}"))
        if len(problems) == 1:
            return problems[0], []
        if problems:  # the documents do not say which check comes first
            return Refuse(frozenset().union(*(p.statuses for p in problems)), why="; ".join(p.why for p in problems)), []
        rejected = [
            position for position, c in enumerate(candidates)
            if self.version == "v4" and c.kind == "graph_episode" and c.destination is not None
            and c.destination[0] == "graph" and not self._exists(c)
        ]
        for position, candidate in enumerate(candidates):
            if position in rejected:
                continue
            outcome = "failed" if candidate.defect and self.stages[candidate.defect] == "item" else "succeeded"
            batch.items.append(ModelItem(len(batch.items), candidate, self._graph_of(candidate), frozenset({outcome})))
        return Accept(), rejected

    def process(self, batch_id: str) -> Answer:
        batch = self.live(batch_id)
        if batch is None:
            return Refuse.one(404, why="no such batch")
        if batch.state == "processed":
            return Refuse.one(409, "batch_already_processed", why="processed already")
        if batch.state == "invalid":
            # decisions.md: it "stays so until deleted"; which refusal it gets is not said.
            return Refuse(frozenset({400, 409}), why="the batch is invalid")
        if not batch.items:
            return Refuse.one(400, "empty_batch", why="no items")
        if any(not self._exists(item.candidate) for item in batch.items):
            batch.state = "invalid"
            return Refuse.one(400, why="items name a graph, user or thread that does not exist")
        batch.state = "processed"
        return Accept()

    def delete(self, batch_id: str) -> Answer:
        batch = self.live(batch_id)
        if batch is None:
            return Refuse.one(404, why="no such batch")
        if batch.state not in ("draft", "invalid"):
            return Refuse.one(409, why=f"the batch is {batch.state}")
        batch.state = "deleted"
        return Accept()

    def get(self, batch_id: str) -> Answer:
        return Accept() if self.live(batch_id) is not None else Refuse.one(404, why="no such batch")

    # -- what observations must show ----------------------------------------------------------

    def expected_status(self, batch: ModelBatch) -> frozenset[str]:
        """The statuses a batch may show now, from the model's view."""
        if batch.state == "draft":
            return frozenset({"draft"})
        if batch.state == "invalid":
            return frozenset({"invalid"})
        return reachable(BATCH_FLOW, "queued") - {"canceled"}  # canceled: only by the emulator's control plane

    @staticmethod
    def outcome(item_statuses: list[str]) -> str:
        """decisions.md "Batch outcome"."""
        failed = item_statuses.count("failed")
        if failed == 0:
            return "succeeded"
        return "failed" if failed == len(item_statuses) else "partial"
