"""The reference model of Synap's memories API, as maximem-synap 0.6.9 speaks it.

Written from synap-wire-contract.md §2–5 and decisions.md (Synap), never from the emulator:

- ``batch_create`` takes 1 to 100 documents; 0 or 101+ is refused whole (422, the SDK's
  ``InvalidInputError``), nothing queued, whatever ``fail_fast`` says;
- with ``fail_fast=true`` one invalid document refuses the whole call (400 ``{"detail":
  "documents[i]: ..."}`` naming the first, ``InvalidInputError``), nothing queued — "the entire
  batch is rejected";
- with ``fail_fast=false`` the answer is 200 with one result per document in input order:
  a valid one ``queued``, an invalid one ``failed`` with an ``error_message``, each with an
  ``ingestion_id`` and its ``document_id``; ``total`` = documents, ``succeeded`` = queued,
  ``failed`` = refused;
- a document is invalid when it is empty, names a ``user_id`` without a ``customer_id`` on a
  B2B (strict) instance, carries a ``scope`` on an instance with no nested levels, or repeats
  a ``document_id`` from earlier in the batch or already stored (a refused document reserves
  no id);
- an ingestion moves queued → processing → completed | partial_success | failed and stays
  there; a refused document's ingestion is ``failed`` at once, with the same message and no
  memories; ``memories_created`` equals the number of ``memory_ids``, and each memory reads back
  with its ``source_document_id``;
- an unknown ingestion or memory id is a 404 (``ContextNotFoundError``); ``create`` with a
  stored ``document_id`` is a 409 (``ConflictError``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .answers import Accept, Answer, Refuse

MAX_DOCUMENTS = 100
INVALID_INPUT = "InvalidInputError"
NOT_FOUND = "ContextNotFoundError"
CONFLICT = "ConflictError"

#: The ingestion status flow (synap-wire-contract.md §2 IngestStatus, decisions.md lifecycle).
FLOW: dict[str, frozenset[str]] = {
    "queued": frozenset({"processing", "completed", "partial_success", "failed"}),
    "processing": frozenset({"completed", "partial_success", "failed"}),
    "completed": frozenset(), "partial_success": frozenset(), "failed": frozenset(),
}
DONE = frozenset({"completed", "partial_success", "failed"})


@dataclass(frozen=True)
class Doc:
    """One document as the machine sends it."""

    document_id: str | None
    #: The defect that makes it invalid on its own (from the strategies), or None.
    defect: str | None = None


@dataclass
class Ingestion:
    document_id: str | None
    #: None for a queued document; the refusal reason's kind for a refused one.
    refused: str | None
    seen: str = "queued"
    error_message: str | None = None


@dataclass
class Prediction:
    answer: Answer
    #: Per document, in order: None (queued) or why it fails.
    failures: list[str | None] = field(default_factory=list)


class SynapModel:
    def __init__(self) -> None:
        self.stored: set[str] = set()
        self.ingestions: dict[str, Ingestion] = {}

    def problem(self, doc: Doc, earlier: set[str]) -> str | None:
        if doc.defect is not None:
            return doc.defect
        if doc.document_id is not None and (doc.document_id in earlier or doc.document_id in self.stored):
            return "duplicate_document_id"
        return None

    def batch_create(self, docs: list[Doc], fail_fast: bool) -> Prediction:
        if not docs or len(docs) > MAX_DOCUMENTS:
            return Prediction(Refuse(frozenset({400, 422}), INVALID_INPUT, why=f"{len(docs)} documents"))
        failures: list[str | None] = []
        earlier: set[str] = set()
        for doc in docs:
            failures.append(self.problem(doc, earlier))
            if doc.document_id is not None:
                earlier.add(doc.document_id)
        first = next((i for i, f in enumerate(failures) if f is not None), None)
        if fail_fast and first is not None:
            return Prediction(Refuse(frozenset({400, 422}), INVALID_INPUT, mentions=f"documents[{first}]",
                                     why=f"fail_fast and document {first} is invalid ({failures[first]})"))
        for doc, failure in zip(docs, failures):
            if failure is None and doc.document_id is not None:
                self.stored.add(doc.document_id)
        return Prediction(Accept(), failures)

    def create(self, doc: Doc) -> Prediction:
        """``memories.create``: one document; a stored ``document_id`` is a 409."""
        if doc.document_id is not None and doc.document_id in self.stored:
            return Prediction(Refuse.one(409, CONFLICT, why="document_id already stored"))
        if doc.defect is not None:
            return Prediction(Refuse(frozenset({400, 422}), INVALID_INPUT, why=doc.defect))
        if doc.document_id is not None:
            self.stored.add(doc.document_id)
        return Prediction(Accept(), [None])

    def ingested(self, ingestion_id: str, document_id: str | None, refused: str | None, message: str | None) -> None:
        self.ingestions[ingestion_id] = Ingestion(document_id, refused, "failed" if refused else "queued", message)

    def status(self, ingestion_id: str) -> Answer:
        return Accept() if ingestion_id in self.ingestions else Refuse.one(404, NOT_FOUND, why="no such ingestion")

    @staticmethod
    def reachable(status: str) -> frozenset[str]:
        return frozenset({status}) | FLOW.get(status, frozenset())
