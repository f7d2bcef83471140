"""Hypothesis: no sequence of core calls reaches a state the transition tables forbid.

The machine drives a tenant with every operation a client or the control plane can ask for —
create, add (valid, empty, oversized), process, step, run, cancel, delete, deleting a target
graph — in any order, and after every step checks that each observed status change is an edge
of BATCH_TRANSITIONS / ITEM_TRANSITIONS, that the counters equal a recount of the items, and
that batch and item statuses agree.
"""

from __future__ import annotations

from hypothesis import assume, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, precondition, rule

from emulator.core.batches import (
    BATCH_TRANSITIONS,
    ITEM_TRANSITIONS,
    TERMINAL_ITEM,
    Batch,
    BatchStatus,
    ItemStatus,
)
from emulator.core.errors import EmulatorError
from emulator.core.processor import ProcessingMode
from emulator.core.tenants import Service
from emulator.core.world import World, WorldConfig

from .conftest import episode, message


KINDS = st.sampled_from(["g1", "g2", "g3", "missing", "thread", "badjson", "big"])


class BatchMachine(RuleBasedStateMachine):
    batches = Bundle("batches")

    def __init__(self) -> None:
        super().__init__()
        self.world = World(WorldConfig(processing=ProcessingMode.MANUAL, seed=0))
        self.tenant = self.world.tenants.get(Service.ZEP, "k")
        now = self.world.clock.now()
        user = self.tenant.store.create_user("u", now)
        self.tenant.store.create_thread("t1", user, now)
        for gid in ("g1", "g2", "g3"):
            self.tenant.store.create_graph(gid, now)
        self.transitions: list[tuple[str, object, object]] = []
        self.tenant.observe(lambda what, obj, old, new: self.transitions.append((what, old, new)))
        self.deleted: list[Batch] = []

    @rule(target=batches)
    def create(self) -> Batch:
        return self.tenant.create_batch()

    @rule(target=batches, kinds=st.lists(KINDS, min_size=1, max_size=6))
    def submit(self, kinds: list[str]) -> Batch:
        """The common flow in one step: create, add, process."""
        batch = self.tenant.create_batch()
        self.add(batch, kinds)
        self.process(batch)
        return batch

    @rule(batch=batches, kinds=st.lists(KINDS, min_size=0, max_size=6))
    def add(self, batch: Batch, kinds: list[str]) -> None:
        inputs = [
            message()
            if k == "thread"
            else episode("g1", data="{", data_type="json")
            if k == "badjson"
            else episode("g2", data="x" * 10_001)
            if k == "big"
            else episode(k)
            for k in kinds
        ]
        assume(batch not in self.deleted)  # the API reaches batches by id: a deleted one is a 404
        before = batch.item_count
        try:
            self.tenant.add_items(batch, inputs)
        except EmulatorError:
            assert batch.item_count == before  # a refused call changes nothing
        else:
            assert batch.item_count == before + len(inputs)

    @rule(batch=batches)
    def process(self, batch: Batch) -> None:
        assume(batch not in self.deleted)
        before = batch.status
        try:
            self.tenant.process(batch)
        except EmulatorError:
            assert batch.status in (before, BatchStatus.INVALID)

    @rule(n=st.integers(1, 5))
    def step(self, n: int) -> None:
        self.world.processor.step(n)

    @rule()
    def run_until_idle(self) -> None:
        self.world.processor.run_until_idle()
        assert self.world.processor.pending() == 0

    @rule(batch=batches)
    def cancel(self, batch: Batch) -> None:
        assume(batch not in self.deleted)
        try:
            self.tenant.cancel_batch(batch)
        except EmulatorError:
            assert batch.status not in (BatchStatus.DRAFT, BatchStatus.QUEUED, BatchStatus.PROCESSING)

    @rule(batch=batches)
    def delete(self, batch: Batch) -> None:
        try:
            self.tenant.delete_batch(batch)
        except EmulatorError:
            assert batch in self.deleted or batch.status not in (BatchStatus.DRAFT, BatchStatus.INVALID)
        else:
            assert batch not in self.deleted
            self.deleted.append(batch)

    @precondition(lambda self: "g3" in self.tenant.store.graphs_by_id)
    @rule()
    def delete_graph(self) -> None:
        self.tenant.store.delete_graph(self.tenant.store.graphs_by_id["g3"])

    @invariant()
    def every_transition_is_in_the_tables(self) -> None:
        for what, old, new in self.transitions:
            table = BATCH_TRANSITIONS if what == "batch" else ITEM_TRANSITIONS
            assert new in table[old], (what, old, new)  # type: ignore[index]

    @invariant()
    def counters_match_a_recount_and_statuses_agree(self) -> None:
        for batch in self.tenant.batches.values():
            recount = {s: 0 for s in ItemStatus}
            for item in batch.items:
                recount[item.status] += 1
            assert batch.counts == recount
            statuses = {i.status for i in batch.items}
            if batch.status in (BatchStatus.DRAFT, BatchStatus.INVALID):
                assert statuses <= {ItemStatus.PENDING}
            elif batch.status is BatchStatus.QUEUED:
                assert statuses == {ItemStatus.QUEUED}
            elif batch.status is BatchStatus.PROCESSING:
                assert not statuses <= TERMINAL_ITEM
            elif batch.status is BatchStatus.CANCELED:
                assert statuses <= TERMINAL_ITEM
            else:
                assert statuses <= TERMINAL_ITEM
                failed = recount[ItemStatus.FAILED]
                expected = (
                    BatchStatus.SUCCEEDED
                    if failed == 0
                    else BatchStatus.FAILED
                    if failed == len(batch.items)
                    else BatchStatus.PARTIAL
                )
                assert batch.status is expected
                assert batch.completed_at is not None

    @invariant()
    def deleted_batches_are_gone(self) -> None:
        for batch in self.deleted:
            assert batch.uuid not in self.tenant.batches


BatchMachine.TestCase.settings = settings(max_examples=200, stateful_step_count=30)
TestBatchMachine = BatchMachine.TestCase
