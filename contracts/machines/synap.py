"""The Synap memories contract machine, through maximem-synap.

Hypothesis generates sequences of ``batch_create`` (valid documents, flawed ones from the
package's strategies, document ids repeated within a batch or from an earlier one, 0 / 100 /
101 documents, ``fail_fast`` both ways), ``create`` with a stored id, ``status`` of known and
unknown ingestions, ``wait_for_completion`` and ``get`` of the memories made, with time let
pass in between; each answer is checked against :mod:`contracts.model.synap`, and every
observation against the invariants: results come back one per document in order, the counts
add up, a ``fail_fast`` call is all or nothing, statuses only move forward, a refused
document's ingestion is failed with its reason, a valid one fails only saying why and having made
nothing, and what completed has its memories.
"""

from __future__ import annotations

import itertools
from typing import Any, Callable, TypeVar

from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, multiple, precondition, rule

from emulator.strategies import synap as strategies

from ..drivers.synap import SynapDriver
from ..drivers.views import Refused
from ..model.answers import Answer, Refuse
from ..model.synap import DONE, NOT_FOUND, Doc, SynapModel
from ..targets import Session
from . import attempt

T = TypeVar("T")

SIZES = st.sampled_from([1, 2, 3, 5, 0])
LIMIT_SIZES = st.sampled_from([100, 101])


class SynapMachine(RuleBasedStateMachine):
    ingestions = Bundle("ingestions")

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.model = SynapModel()
        self.driver: SynapDriver | None = None
        self.names = itertools.count()
        #: The run's own user and customer ids (prefixed on a real account).
        self.users = [f"{session.prefix}u1", f"{session.prefix}u2"]
        self.customers = [f"{session.prefix}c1"]
        #: Memories the run has seen made, deleted at the end on a real account.
        self.memories: set[str] = set()

    @initialize()
    def connect(self) -> None:
        assume(self.can(2))  # a run whose budget is spent drops the example
        self.driver = SynapDriver(self.session)

    def teardown(self) -> None:
        """On a real account, delete the memories the run saw made (best effort: the memories
        of ingestions it never saw finish stay, under the run's prefixed user ids)."""
        try:
            if self.driver is not None:
                if not self.session.controllable:
                    for memory in sorted(self.memories):
                        try:
                            self.driver.delete(memory)
                        except Refused:
                            pass
                self.driver.close()
        finally:
            self.session.close()

    # -- plumbing ---------------------------------------------------------------------------

    @property
    def sdk(self) -> SynapDriver:
        assert self.driver is not None
        return self.driver

    def can(self, calls: int = 1, items: int = 0) -> bool:
        return self.session.budget.allows(calls, items)

    def attempt(self, what: str, call: Callable[[], T], predicted: Answer) -> T | None:
        return attempt(what, call, predicted, codes=True)  # exception class names are the codes

    def document_id(self) -> str:
        return f"{self.session.prefix}doc-{next(self.names)}"

    def draw_documents(self, data: st.DataObject, count: int) -> tuple[list[Doc], list[dict[str, Any]]]:
        """*count* documents: valid ones with fresh ids; in small calls up to two flawed ones
        and, now and then, an id repeated from earlier in the call or from the tenant's store."""
        valid = strategies.document(user_ids=self.users, customer_ids=self.customers, with_document_id=False)
        if count > 5:
            seed = data.draw(valid)
            bodies = [dict(seed, document_id=self.document_id()) for _ in range(count)]
            return [Doc(b["document_id"]) for b in bodies], bodies
        pairs: list[tuple[dict[str, Any], str | None]] = [
            (dict(data.draw(valid), document_id=self.document_id()), None) for _ in range(count)]
        if count:
            for flawed in data.draw(st.lists(strategies.flawed_documents(user_ids=self.users, customer_ids=self.customers),
                                             max_size=min(2, count))):
                pairs[data.draw(st.integers(0, count - 1))] = (flawed.item, flawed.defect)
            repeat = data.draw(st.sampled_from(["none", "earlier", "stored"]))
            if repeat == "earlier" and count > 1:
                pairs[-1][0]["document_id"] = pairs[0][0].get("document_id")
            elif repeat == "stored" and self.model.stored:
                pairs[-1][0]["document_id"] = data.draw(st.sampled_from(sorted(self.model.stored)))
        return [Doc(body.get("document_id"), defect) for body, defect in pairs], [body for body, _ in pairs]

    # -- rules --------------------------------------------------------------------------------

    @precondition(lambda self: self.can())
    @rule(target=ingestions, count=SIZES, fail_fast=st.booleans(), data=st.data())
    def batch_create(self, count: int, fail_fast: bool, data: st.DataObject) -> Any:
        if not self.can(1, count):
            return multiple()
        docs, bodies = self.draw_documents(data, count)
        prediction = self.model.batch_create(docs, fail_fast)
        answer = self.attempt(f"batch_create of {count} (fail_fast={fail_fast})",
                              lambda: self.sdk.batch_create(bodies, fail_fast), prediction.answer)
        if answer is None:
            return multiple()
        failures = prediction.failures
        results = answer.results
        assert (answer.total, answer.succeeded, answer.failed) == (
            count, failures.count(None), count - failures.count(None)), (
            f"total/succeeded/failed {answer.total}/{answer.succeeded}/{answer.failed}; predicted "
            f"{count}/{failures.count(None)}/{count - failures.count(None)}")
        assert len(results) == count, f"{len(results)} results for {count} documents"
        assert not (fail_fast and any(failures)), "a fail_fast call with an invalid document was accepted"
        made = []
        for position, (doc, failure, result) in enumerate(zip(docs, failures, results)):
            if doc.document_id is not None:
                assert result.document_id == doc.document_id, f"result {position} is for {result.document_id}"
            assert result.document_id, f"result {position} has no document_id"
            if failure is None:
                allowed = {"queued"} if self.session.controllable else {"queued", "processing", *DONE}
                assert result.status in allowed, f"document {position} (valid) is {result.status}"
                if doc.document_id is None:  # sent without one: stored under the id it was given
                    self.model.stored.add(result.document_id)
            else:
                assert result.status == "failed" and result.error_message, (
                    f"document {position} ({failure}) is {result.status} {result.error_message!r}")
            ingestion = str(result.ingestion_id)
            assert ingestion not in self.model.ingestions, f"ingestion id {ingestion} given twice"
            self.model.ingested(ingestion, result.document_id, failure, result.error_message)
            made.append(ingestion)
        return multiple(*made)

    @precondition(lambda self: self.can())
    @rule(target=ingestions, count=LIMIT_SIZES, fail_fast=st.booleans(), data=st.data())
    def batch_at_the_limit(self, count: int, fail_fast: bool, data: st.DataObject) -> Any:
        return self.batch_create(count, fail_fast, data)

    @precondition(lambda self: self.can() and self.model.stored)
    @rule(data=st.data())
    def create_with_a_stored_id(self, data: st.DataObject) -> None:
        """``memories.create`` with a document id the tenant already holds is a 409."""
        document_id = data.draw(st.sampled_from(sorted(self.model.stored)))
        body = {"document": "User: I like tea.", "user_id": self.users[0], "customer_id": self.customers[0],
                "document_id": document_id}
        prediction = self.model.create(Doc(document_id))
        self.attempt("create with a stored document_id", lambda: self.sdk.create(body), prediction.answer)

    @precondition(lambda self: self.can())
    @rule(ingestion=ingestions)
    def status(self, ingestion: str) -> None:
        self.observe(ingestion, self.sdk.status(ingestion))

    @precondition(lambda self: self.can())
    @rule()
    def unknown_status(self) -> None:
        missing = "00000000-0000-4000-8000-000000000000"
        self.attempt("status of an unknown ingestion", lambda: self.sdk.status(missing),
                     Refuse.one(404, NOT_FOUND, why="no such ingestion"))

    @rule(items=st.integers(1, 5))
    def let_time_pass(self, items: int) -> None:
        self.session.let_time_pass(items if self.session.controllable else 1)

    @precondition(lambda self: self.can(3))
    @rule(ingestion=ingestions)
    def wait_for_completion(self, ingestion: str) -> None:
        """Let processing reach it, then the SDK's own wait loop returns its terminal status."""
        known = self.model.ingestions[ingestion]
        if self.session.controllable:
            open_ones = sum(1 for i in self.model.ingestions.values() if i.seen not in DONE)
            self.session.let_time_pass(max(1, open_ones))
        done = self.sdk.wait_for_completion(ingestion, timeout=5 if self.session.controllable else
                                            self.session.patience * 2)
        assert done.status in DONE, f"wait_for_completion returned {done.status}"
        self.observe(ingestion, done)
        if known.refused is None and done.memory_ids and self.can():
            memory = self.sdk.get(str(done.memory_ids[0]))
            assert str(memory.memory_id) == str(done.memory_ids[0]), f"asked for {done.memory_ids[0]}, got {memory.memory_id}"
            assert isinstance(memory.content, str) and memory.content, f"memory content {memory.content!r}"
            # A fact already known from another document is the same memory (decisions.md:
            # memories come from the same fact extraction as Zep's edges, which merges
            # re-assertions), so the source is one of the documents the tenant stored.
            source = getattr(memory, "source_document_id", None)
            assert source is None or source in self.model.stored, (
                f"memory of {known.document_id} says it came from {source}, a document never stored")

    # -- observations ----------------------------------------------------------------------------

    def observe(self, ingestion: str, status: Any) -> None:
        known = self.model.ingestions[ingestion]
        assert str(status.ingestion_id) == ingestion, f"asked for {ingestion}, got {status.ingestion_id}"
        assert status.document_id == known.document_id, f"ingestion of {known.document_id} names {status.document_id}"
        assert status.status in self.model.reachable(known.seen), f"ingestion went back from {known.seen} to {status.status}"
        known.seen = status.status
        if known.refused is not None:
            assert (status.status, status.error_message, status.memories_created) == ("failed", known.error_message, 0), (
                f"a refused document's ingestion reads {status.status} {status.error_message!r} "
                f"{status.memories_created}; it was refused with {known.error_message!r}")
        elif status.status in DONE:
            self.memories.update(str(m) for m in status.memory_ids)
            # A valid document can still fail in processing (the emulator: extraction raised a
            # problem, such as a date it could not read, and made no memory; a service: any
            # reason of its own), but only saying why and with nothing made.
            assert status.status != "failed" or (status.error_message and not status.memory_ids), (
                f"a valid document's ingestion failed with {status.error_message!r} and memories {status.memory_ids}")
            assert status.memories_created == len(status.memory_ids), (
                f"memories_created {status.memories_created}, memory_ids {status.memory_ids}")
        else:
            assert status.memories_created == 0 and not status.memory_ids, "memories before the ingestion finished"
