"""Documents in, memories out: the document-ingestion service (Maximem Synap's memories API) on
top of the same batches, processor and fact pipeline as Zep.

A document is checked (:meth:`MemoryDesk.problem`), then queued as a graph episode in the
graph of its memory scope; its :class:`Receipt` (Synap's ingestion) follows the item through
the processor. When the item has been processed, its memories are the edges its episode made
or re-asserted in that graph (core/knowledge.py), so a newer document about the same
single-valued fact supersedes the older memory, dated by the documents' own times.

Rules (decisions.md "Synap"):

- a call takes 1 to 100 documents (the caller refuses others before anything is checked);
- a document is invalid when it is empty; its type or mode is unknown; under ``strict``
  isolation (B2B, the default) it names a user without a customer; under ``equals_customer``
  (B2C) it names a customer at all; it carries a ``scope`` (no instance here has nested scope
  levels: "Sending scope to an account without nested scoping is an error, not ignored"); or its
  ``document_id`` repeats one earlier in the call or already stored for the tenant;
- scope: user (customer and user, or user alone under B2C), customer (customer alone), or
  client (neither); each scope is one graph, and first-person pronouns in it resolve to its
  user (or customer);
- outcome of a processed document: ``completed`` if extraction raised no problem; if it did
  (an unparseable date, an ignored option, a failing plug-in), ``partial_success`` when it still
  made memories and ``failed`` when it made none. A document the processor fails (data too
  large) or cancels is ``failed`` with that reason.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

from .batches import Item, ItemInput, ItemKind, ItemStatus, KeySpace, Ref, TargetKind
from .errors import Conflict, InvalidInput, shown
from .graph import Graph
from .temporal import Edge

if TYPE_CHECKING:
    from .tenants import Tenant

MAX_DOCUMENTS_PER_CALL = 100
#: How many telemetry posts a tenant keeps (the SDK's background reports; nothing reads them
#: but a test).
TELEMETRY_KEPT = 1_000


class Isolation(str, Enum):
    """``user_context_isolation``: B2B (``strict``) or B2C (``equals_customer``)."""

    STRICT = "strict"
    EQUALS_CUSTOMER = "equals_customer"


class Progress(str, Enum):
    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    PARTIAL_SUCCESS = "partial_success"


DOCUMENT_TYPES = ("ai-chat-conversation", "document", "email", "pdf", "image", "audio", "meeting-transcript")
#: Conversations and transcripts read as messages ("User: ..." lines); the rest as text.
CONVERSATIONAL = frozenset({"ai-chat-conversation", "meeting-transcript"})
MODES = ("fast", "long-range")


@dataclass(frozen=True, slots=True)
class Document:
    content: str | dict[str, Any]
    document_type: str = "ai-chat-conversation"
    document_id: str | None = None
    created_at: datetime | None = None
    user_id: str | None = None
    customer_id: str | None = None
    scope: dict[str, Any] | None = None
    mode: str = "long-range"
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class Receipt:
    """One submitted document: accepted (with its queued :attr:`item`) or refused (with
    :attr:`error`)."""

    uuid: str
    document_id: str
    queued_at: datetime
    item: Item | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """Where a receipt stands."""

    progress: Progress
    started_at: datetime | None
    completed_at: datetime | None
    memories: tuple[Edge, ...] = ()
    error: str | None = None


class MemoryDesk:
    """One tenant's documents: its isolation mode, receipts by id and by document id, and the
    telemetry it was sent."""

    def __init__(self, isolation: Isolation) -> None:
        self.isolation = isolation
        self.receipts: dict[str, Receipt] = {}
        self.by_document: dict[str, Receipt] = {}
        self.telemetry: deque[Any] = deque(maxlen=TELEMETRY_KEPT)

    # -- checking ------------------------------------------------------------------------------

    def problem(self, doc: Document, earlier_ids: set[str]) -> str | None:
        """Why *doc* is refused, or None. *earlier_ids*: document ids earlier in the call."""
        if doc.content == "" or doc.content == {}:
            return "document is empty"
        if doc.document_type not in DOCUMENT_TYPES:
            return f"document_type {shown(doc.document_type)} is not one of {', '.join(DOCUMENT_TYPES)}"
        if doc.mode not in MODES:
            return f"mode {shown(doc.mode)} is not one of {', '.join(MODES)}"
        if self.isolation is Isolation.STRICT and doc.user_id and not doc.customer_id:
            return "user_id requires customer_id on this instance (B2B isolation)"
        if self.isolation is Isolation.EQUALS_CUSTOMER and doc.customer_id:
            return "customer_id is not accepted on this instance (B2C isolation: customer equals user)"
        if doc.scope is not None:
            return "scope is not accepted: this instance has no nested scope levels"
        if doc.document_id is not None:
            if doc.document_id in earlier_ids:
                return f"document_id {shown(doc.document_id)} appears twice in this batch"
            if doc.document_id in self.by_document:
                return f"document_id {shown(doc.document_id)} already exists"
        return None

    def check_one(self, doc: Document) -> None:
        """``create``'s checks: a duplicate document id is a conflict (409), any other problem
        invalid input (400)."""
        reason = self.problem(doc, set())
        if reason is None:
            return
        if doc.document_id is not None and doc.document_id in self.by_document:
            raise Conflict("document_exists", reason)
        raise InvalidInput("invalid_document", reason)

    # -- submitting ----------------------------------------------------------------------------

    def submit(self, tenant: "Tenant", docs: list[Document], fail_fast: bool, task_type: str) -> list[Receipt]:
        """Check every document, then queue the valid ones as one unlisted batch (so they share
        the processor and its modes) and return a receipt per document, in input order.
        With *fail_fast*, any invalid document refuses the whole call (400 naming the first)
        and nothing is stored."""
        now = tenant.clock.now()
        problems: list[str | None] = []
        seen: set[str] = set()
        for doc in docs:
            problems.append(self.problem(doc, seen))
            if doc.document_id is not None:
                seen.add(doc.document_id)
        if fail_fast:
            first = next((i for i, p in enumerate(problems) if p is not None), None)
            if first is not None:
                raise InvalidInput("invalid_document", f"documents[{first}]: {problems[first]}")
        document_ids = [doc.document_id or tenant.ids.uuid() for doc in docs]
        valid = [i for i, p in enumerate(problems) if p is None]
        inputs = [self._input(tenant, docs[i], document_ids[i], now) for i in valid]
        items = tenant.add_live(inputs, task_type)[0] if inputs else []
        by_index = dict(zip(valid, items))
        receipts = []
        for i in range(len(docs)):
            item = by_index.get(i)
            receipt = Receipt(tenant.ids.uuid(), document_ids[i], now, item, problems[i])
            self.receipts[receipt.uuid] = receipt
            if item is not None:
                self.by_document[receipt.document_id] = receipt
            receipts.append(receipt)
        return receipts

    def _input(self, tenant: "Tenant", doc: Document, document_id: str, now: datetime) -> ItemInput:
        graph = self._scope_graph(tenant, doc, now)
        if isinstance(doc.content, dict):
            data, kind = json.dumps(doc.content, ensure_ascii=False), "json"
        else:
            data, kind = doc.content, "message" if doc.document_type in CONVERSATIONAL else "text"
        return ItemInput(
            ItemKind.GRAPH_EPISODE, Ref(TargetKind.GRAPH, KeySpace.UUID, graph.uuid), data, kind,
            metadata=doc.metadata or None, reference_time=doc.created_at, document_id=document_id,
            source_description=doc.document_type,
        )

    @staticmethod
    def _scope_graph(tenant: "Tenant", doc: Document, now: datetime) -> Graph:
        """The graph of the document's memory scope, made on first use. A user scope is a
        user graph, so "I" in its documents is that user."""
        store = tenant.store
        if doc.user_id:
            user_key = f"{doc.customer_id or ''}/{doc.user_id}"
            user = store.users_by_id.get(user_key)
            if user is None:
                user = store.create_user(user_key, now, first_name=doc.user_id)
            return user.graph
        graph_id = f"customer/{doc.customer_id}" if doc.customer_id else "client"
        graph = store.graphs_by_id.get(graph_id)
        return graph if graph is not None else store.create_graph(graph_id, now, name=doc.customer_id or "client")

    # -- reading -------------------------------------------------------------------------------

    def outcome(self, tenant: "Tenant", receipt: Receipt) -> Outcome:
        item = receipt.item
        if item is None:
            return Outcome(Progress.FAILED, None, receipt.queued_at, error=receipt.error)
        status = item.status
        if status in (ItemStatus.PENDING, ItemStatus.QUEUED):
            return Outcome(Progress.QUEUED, None, None)
        if status is ItemStatus.PROCESSING:
            return Outcome(Progress.PROCESSING, item.started_at, None)
        started, ended = item.started_at, item.updated_at
        if status is not ItemStatus.SUCCEEDED:
            reason = (item.error or {}).get("message") or f"the document was {status.value}"
            return Outcome(Progress.FAILED, started, ended, error=reason)
        knowledge = tenant.knowledge(item.graph)
        applied = knowledge.by_episode.get(item.episode_uuid or "")
        memories = tuple(knowledge.facts.edge(u) for u in applied.edges) if applied is not None else ()
        warnings = knowledge.warnings.get(item.episode_uuid or "")
        if not warnings:
            return Outcome(Progress.COMPLETED, started, ended, memories)  # type: ignore[arg-type]
        progress = Progress.PARTIAL_SUCCESS if memories else Progress.FAILED
        return Outcome(progress, started, ended, memories, "; ".join(warnings))  # type: ignore[arg-type]
