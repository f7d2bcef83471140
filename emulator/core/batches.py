"""Batches and their items: the state machine, the counters, the limits.

Statuses and flow come from Zep's batch guide (seed 000_*.txt), the SDKs' enums
(zep-cloud 3.30.0 ``BatchStatus`` / ``BatchItemStatus``, identical in 4.0.1) and
decisions.md "Status flow":

- batch: draft → queued → processing → succeeded | partial | failed; draft → invalid;
  canceled only through the control API. succeeded, partial, failed, canceled are terminal;
  invalid never progresses and persists until the batch is deleted.
- item: pending → queued → processing → succeeded | failed | skipped; pending, queued or
  processing → canceled (a canceled item writes nothing).

Every status change goes through :meth:`Batch.set_status` or :meth:`Batch.move_item`, which
check the transition tables below and keep the per-status counters, so reading a batch's
progress never walks its items (a ``get`` on 50,000 items costs what it costs on one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from itertools import islice
from typing import Any, Callable, Iterator, NamedTuple

from .errors import Conflict, InvalidInput
from .limits import MAX_ITEMS_PER_ADD, MAX_ITEMS_PER_BATCH


class BatchStatus(str, Enum):
    DRAFT = "draft"
    INVALID = "invalid"
    QUEUED = "queued"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"
    FAILED = "failed"
    CANCELED = "canceled"


class ItemStatus(str, Enum):
    PENDING = "pending"
    QUEUED = "queued"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELED = "canceled"


class ItemKind(str, Enum):
    GRAPH_EPISODE = "graph_episode"
    THREAD_MESSAGE = "thread_message"


BATCH_TRANSITIONS: dict[BatchStatus, frozenset[BatchStatus]] = {
    BatchStatus.DRAFT: frozenset({BatchStatus.QUEUED, BatchStatus.INVALID, BatchStatus.CANCELED}),
    BatchStatus.INVALID: frozenset(),
    BatchStatus.QUEUED: frozenset({BatchStatus.PROCESSING, BatchStatus.CANCELED}),
    BatchStatus.PROCESSING: frozenset(
        {BatchStatus.SUCCEEDED, BatchStatus.PARTIAL, BatchStatus.FAILED, BatchStatus.CANCELED}
    ),
    BatchStatus.SUCCEEDED: frozenset(),
    BatchStatus.PARTIAL: frozenset(),
    BatchStatus.FAILED: frozenset(),
    BatchStatus.CANCELED: frozenset(),
}

ITEM_TRANSITIONS: dict[ItemStatus, frozenset[ItemStatus]] = {
    ItemStatus.PENDING: frozenset({ItemStatus.QUEUED, ItemStatus.CANCELED}),
    ItemStatus.QUEUED: frozenset({ItemStatus.PROCESSING, ItemStatus.CANCELED}),
    ItemStatus.PROCESSING: frozenset(
        {ItemStatus.SUCCEEDED, ItemStatus.FAILED, ItemStatus.SKIPPED, ItemStatus.CANCELED}
    ),
    ItemStatus.SUCCEEDED: frozenset(),
    ItemStatus.FAILED: frozenset(),
    ItemStatus.SKIPPED: frozenset(),
    ItemStatus.CANCELED: frozenset(),
}

TERMINAL_BATCH = frozenset(
    {BatchStatus.SUCCEEDED, BatchStatus.PARTIAL, BatchStatus.FAILED, BatchStatus.CANCELED}
)
TERMINAL_ITEM = frozenset(
    {ItemStatus.SUCCEEDED, ItemStatus.FAILED, ItemStatus.SKIPPED, ItemStatus.CANCELED}
)
#: Statuses in which a batch may be deleted (v2 docstring: "Delete a draft or invalid
#: unprocessed batch. Processed batches cannot be deleted.").
DELETABLE = frozenset({BatchStatus.DRAFT, BatchStatus.INVALID})


class IllegalTransition(RuntimeError):
    """A bug in the emulator, never a client error: the tables above forbid this move."""


class TargetKind(str, Enum):
    GRAPH = "graph"
    USER = "user"
    THREAD = "thread"


class KeySpace(str, Enum):
    """How a reference names its target: by the id the client chose (v2 ``graph_id``,
    ``user_id``, ``thread_id``) or by the server's UUID (v4 ``graph_uuid`` ...)."""

    CLIENT_ID = "client_id"
    UUID = "uuid"


class Ref(NamedTuple):
    """What a batch item names as its destination. A tuple: hashed in C, since a backfill
    looks the same few targets up thousands of times."""

    kind: TargetKind
    space: KeySpace
    value: str


@dataclass(slots=True)
class ItemInput:
    """One item as the client sent it, as a wire adapter hands it to the core (already checked
    for shape). A value: an :class:`Item` keeps it as it came."""

    kind: ItemKind
    target: Ref
    data: str
    data_type: str | None = None
    role: str | None = None
    name: str | None = None
    metadata: dict[str, Any] | None = None
    reference_time: datetime | None = None
    document_id: str | None = None
    source_description: str | None = None


@dataclass(slots=True, eq=False)
class Item:
    """One item of a batch: what the client sent (:attr:`input`, never changed) and where
    processing stands."""

    uuid: str
    batch: "Batch"
    sequence_index: int
    input: ItemInput
    created_at: datetime
    updated_at: datetime
    status: ItemStatus = ItemStatus.PENDING
    #: When the processor took it up.
    started_at: datetime | None = None
    #: Resolved at add (provisionally) and at process: the graph the item writes to (a
    #: thread's owner's user graph for messages), and the thread for messages.
    graph: Any = None
    thread: Any = None
    #: The records the item writes, made when it is queued (core/ingest.py).
    episode: Any = None
    message: Any = None
    error: dict[str, Any] | None = None

    @property
    def kind(self) -> ItemKind:
        return self.input.kind

    @property
    def target(self) -> Ref:
        return self.input.target

    @property
    def episode_uuid(self) -> str | None:
        """The episode the item writes (v2/v4 ``source_uuid`` = ``episode_uuid``) while it is
        queued or processing and once it has succeeded: zep-cloud 3.30.0 ``BatchItemDetail``
        calls it the episode that "will be (or has been) created". None while the item is
        pending (its records are made when it is queued, core/ingest.py), once it has failed,
        been skipped or been canceled (it writes nothing, so no episode is created), and for a
        message whose role the batch ignores."""
        if self.episode is None or self.status not in _WRITING:
            return None
        return self.episode.uuid  # type: ignore[no-any-return]


#: The statuses in which an item's episode exists or is going to.
_WRITING = frozenset({ItemStatus.QUEUED, ItemStatus.PROCESSING, ItemStatus.SUCCEEDED})


TransitionObserver = Callable[[str, Any, Enum, Enum], None]


@dataclass(slots=True, eq=False)
class Batch:
    uuid: str
    serial: int
    created_at: datetime
    updated_at: datetime
    metadata: dict[str, Any] | None = None
    ignore_roles: list[str] | None = None
    strict_ontology: bool | None = None
    status: BatchStatus = BatchStatus.DRAFT
    items: list[Item] = field(default_factory=list)
    counts: dict[ItemStatus, int] = field(default_factory=lambda: {s: 0 for s in ItemStatus})
    #: Items in a terminal status: the sum of four counters, kept as one so that each item's
    #: end costs one comparison to tell whether it was the batch's last.
    finished: int = 0
    #: When ``process`` accepted the batch, when its first item started, when it ended.
    processed_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    #: Zero-based sequence indexes of the items that made the batch invalid.
    invalid_items: list[int] | None = None
    task_uuid: str | None = None
    observer: TransitionObserver | None = None

    # -- reading ---------------------------------------------------------------------------

    @property
    def item_count(self) -> int:
        return len(self.items)

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_BATCH

    def done_items(self) -> int:
        return self.finished

    def iter_items(self, start: int, status: ItemStatus | None = None) -> Iterator[Item]:
        """Items from sequence index *start* on, optionally of one status."""
        for item in islice(self.items, start, None):
            if status is None or item.status is status:
                yield item

    # -- the state machine -----------------------------------------------------------------

    def set_status(self, new: BatchStatus, now: datetime) -> None:
        old = self.status
        if new not in BATCH_TRANSITIONS[old]:
            raise IllegalTransition(f"batch {self.uuid}: {old.value} -> {new.value}")
        self.status = new
        self.updated_at = now
        if new in TERMINAL_BATCH:
            self.completed_at = now
        if self.observer is not None:
            self.observer("batch", self, old, new)

    def move_item(self, item: Item, new: ItemStatus, now: datetime) -> None:
        old = item.status
        if new not in ITEM_TRANSITIONS[old]:
            raise IllegalTransition(f"item {item.uuid}: {old.value} -> {new.value}")
        item.status = new
        item.updated_at = now
        counts = self.counts
        counts[old] -= 1
        counts[new] += 1
        self.updated_at = now
        if self.observer is not None:
            self.observer("item", item, old, new)
        if new is ItemStatus.PROCESSING:
            item.started_at = now
            if self.status is BatchStatus.QUEUED:
                self.started_at = now
                self.set_status(BatchStatus.PROCESSING, now)
        elif new in TERMINAL_ITEM:
            self.finished += 1
            if self.finished == len(self.items) and self.status is BatchStatus.PROCESSING:
                self.set_status(self.outcome(), now)

    def move_all(self, old: ItemStatus, new: ItemStatus, now: datetime) -> int:
        """Move every item in status *old* to *new* at once (process queues the whole batch;
        cancel cancels what waits). Only for moves with no effect on the batch's status."""
        if new not in ITEM_TRANSITIONS[old]:
            raise IllegalTransition(f"batch {self.uuid}: items {old.value} -> {new.value}")
        moved = 0
        observer = self.observer
        for item in self.items:
            if item.status is old:
                item.status = new
                item.updated_at = now
                moved += 1
                if observer is not None:
                    observer("item", item, old, new)
        self.counts[old] -= moved
        self.counts[new] += moved
        if new in TERMINAL_ITEM:
            self.finished += moved
        self.updated_at = now
        return moved

    def outcome(self) -> BatchStatus:
        """decisions.md "Batch outcome": no failed item → succeeded; every item failed →
        failed; otherwise partial. Skipped items do not count as failed."""
        failed = self.counts[ItemStatus.FAILED]
        if failed == 0:
            return BatchStatus.SUCCEEDED
        if failed == len(self.items):
            return BatchStatus.FAILED
        return BatchStatus.PARTIAL

    # -- operations a client can ask for ------------------------------------------------------

    def check_can_add(self, count: int) -> None:
        """Raise unless *count* more items may be appended now (nothing is changed)."""
        if self.status is not BatchStatus.DRAFT:
            raise Conflict(
                "batch_not_draft",
                f"items can only be added to a draft batch; batch {self.uuid} is {self.status.value}",
                details={"status": self.status.value},
            )
        if count < 1 or count > MAX_ITEMS_PER_ADD:
            raise InvalidInput(
                "too_many_items" if count else "no_items",
                f"one add call takes 1 to {MAX_ITEMS_PER_ADD} items; got {count}",
                param="items",
                details={"limit": MAX_ITEMS_PER_ADD, "count": count},
            )
        if len(self.items) + count > MAX_ITEMS_PER_BATCH:
            raise InvalidInput(
                "batch_too_large",
                f"a batch holds at most {MAX_ITEMS_PER_BATCH} items; it has {len(self.items)} "
                f"and this call adds {count}",
                param="items",
                details={"limit": MAX_ITEMS_PER_BATCH, "item_count": len(self.items), "count": count},
            )

    def append(self, inputs: list[ItemInput], new_id: Callable[[], str], now: datetime) -> list[Item]:
        """Append *inputs* in request order (seed: "Items are appended in request order")."""
        start = len(self.items)
        made = [Item(new_id(), self, start + offset, inp, now, now) for offset, inp in enumerate(inputs)]
        self.items.extend(made)
        self.counts[ItemStatus.PENDING] += len(made)
        self.updated_at = now
        return made

    def check_can_process(self) -> None:
        if self.status is BatchStatus.DRAFT:
            if not self.items:
                raise InvalidInput("empty_batch", f"batch {self.uuid} has no items to process")
            return
        code = "batch_invalid" if self.status is BatchStatus.INVALID else "batch_already_processed"
        raise Conflict(
            code,
            f"batch {self.uuid} is {self.status.value}; only a draft batch can be processed",
            details={"status": self.status.value},
        )

    def check_can_delete(self) -> None:
        if self.status not in DELETABLE:
            raise Conflict(
                "batch_not_deletable",
                f"batch {self.uuid} is {self.status.value}; only draft or invalid batches can be deleted",
                details={"status": self.status.value},
            )

    def cancel(self, now: datetime) -> None:
        """The control API's cancel: every item not yet finished is canceled at once, including
        one a realtime worker is processing (it then writes nothing), so a canceled batch is
        terminal in fact as well as in name."""
        if self.status not in (BatchStatus.DRAFT, BatchStatus.QUEUED, BatchStatus.PROCESSING):
            raise Conflict(
                "batch_not_cancelable",
                f"batch {self.uuid} is {self.status.value}; it can no longer be canceled",
            )
        self.set_status(BatchStatus.CANCELED, now)
        for waiting in (ItemStatus.PENDING, ItemStatus.QUEUED, ItemStatus.PROCESSING):
            self.move_all(waiting, ItemStatus.CANCELED, now)
