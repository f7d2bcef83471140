"""Tenants: one API key's isolated world, and the registry that hands them out.

decisions.md "API keys": by default any non-empty key is accepted and owns its own tenant;
with keys configured, any other key is refused (401). Zep and Synap tenants are separate even
for the same key. Within one Zep tenant, v2 and v4 see the same records.
"""

from __future__ import annotations

from enum import Enum
from datetime import datetime
from typing import Any, Callable, Iterator

from .batches import Batch, BatchStatus, Item, ItemInput, ItemStatus, Ref, TargetKind
from .clock import EmulatorClock, KeyClock
from .errors import InvalidInput, NotFound, Unauthorized
from .graph import Graph, GraphStore, Thread
from .idempotency import IdempotencyStore
from .ids import IdFactory
from .faults import ActiveFault, FaultBook, ItemFault
from .ingest import HELD, SKIPPED, Outcome, complete, drop, failure_of, prepare
from .knowledge import GraphKnowledge, KnowledgeSettings, knowledge_of
from .limits import MAX_EPISODE_DATA_CHARS
from .memories import Isolation, MemoryDesk
from .ratelimit import TokenBucket
from .processor import ProcessingMode, Processor
from .tasks import Task, TaskStatus
from .webhooks import Outbox
from .temporal import Edge, Entity


class Service(str, Enum):
    ZEP = "zep"
    SYNAP = "synap"


Observer = Callable[[str, Any, Enum, Enum], None]


class Tenant:
    """One API key's data for one service, and the batch operations on it.

    Every operation validates before it mutates, so an operation that raises has changed
    nothing (the one documented exception: ``process`` with dangling references marks the
    batch ``invalid`` and then raises, as decisions.md says)."""

    def __init__(
        self,
        key: str,
        service: Service,
        clock: KeyClock,
        ids: IdFactory,
        processor: Processor,
        knowledge: KnowledgeSettings,
        isolation: Isolation,
        faults: FaultBook,
    ) -> None:
        self.key = key
        self.service = service
        self.clock = clock
        self.ids = ids
        self.processor = processor
        self.knowledge_settings = knowledge
        self.store = GraphStore(ids.uuid)
        self.batches: dict[str, Batch] = {}
        self.tasks: dict[str, Task] = {}
        self.idempotency = IdempotencyStore()
        #: Zep's episode data limit (10,000 characters); documents have none.
        self.max_episode_chars = MAX_EPISODE_DATA_CHARS if service is Service.ZEP else None
        #: The world's fault rules; item rules are consulted as the processor reaches each item.
        self.faults = faults
        self.work = processor.new_queue(self._ingest, clock)
        self.observers: list[Observer] = []
        self.next_serial = 0
        self.next_task_serial = 0
        #: The rate-limit mode's bucket (core/ratelimit.py); None: unlimited.
        self.rate_limit: TokenBucket | None = None
        #: Webhook endpoints and deliveries (core/webhooks.py), made when the first endpoint is.
        self.outbox: Outbox | None = None
        #: The document desk of a Synap tenant (core/memories.py); None for Zep.
        self.memories = MemoryDesk(isolation) if service is Service.SYNAP else None

    # -- processing one item ---------------------------------------------------------------------

    def _ingest(self, item: Item, now: datetime) -> Outcome:
        """What the processor does with an item it reached: what an item fault says, if one
        matches and fires, or else what ingestion makes of it (core/ingest.py)."""
        if self.faults.item_rules:
            fault = self.faults.for_item(self.key, item)
            if fault is not None:
                return self._inject(fault, item)
        return complete(self.store, self.max_episode_chars, item, now)

    def _inject(self, fault: ActiveFault, item: Item) -> Outcome:
        spec = fault.spec
        assert isinstance(spec, ItemFault)
        if spec.action == "hold":
            fault.held.append((self, item))
            return HELD
        drop(self.store, item)  # a failed or skipped item writes nothing
        if spec.action == "skip":
            return SKIPPED
        return Outcome(ItemStatus.FAILED, {"code": spec.code, "message": spec.message})

    def release(self, item: Item) -> None:
        """End a fault's hold on *item*: it is processed as it would have been (or, canceled
        meanwhile, stays canceled) and its graph's queue moves on."""
        outcome = complete(self.store, self.max_episode_chars, item, self.clock.now()) if item.status is ItemStatus.PROCESSING else None
        self.processor.release(self.work, item, outcome)

    def seed(self, seed: int | str) -> None:
        """Mint this tenant's ids from *seed* from now on: the same calls then make the same
        ids in every run, whatever the key and whatever other tenants do."""
        self.reseed(IdFactory(seed).derived(self.service.value))

    def reseed(self, ids: IdFactory) -> None:
        """Mint this tenant's ids from *ids* from now on."""
        self.ids = ids
        self.store.new_id = ids.uuid

    def observe(self, observer: Observer) -> None:
        """Call ``observer(what, obj, old, new)`` on every status change of this tenant's
        batches ("batch") and items ("item"). Batches only pay for the call once someone
        listens."""
        self.observers.append(observer)
        for batch in self.batches.values():
            batch.observer = self._observe

    def _observe(self, what: str, obj: Any, old: Enum, new: Enum) -> None:
        for observer in self.observers:
            observer(what, obj, old, new)

    # -- batches -----------------------------------------------------------------------------

    def create_batch(
        self,
        metadata: dict[str, Any] | None = None,
        ignore_roles: list[str] | None = None,
        strict_ontology: bool | None = None,
        listed: bool = True,
    ) -> Batch:
        """A new draft batch; an unlisted one (a live add's) is reachable only through its
        items and task, never through ``batch.get`` or ``batch.list``."""
        now = self.clock.now()
        batch = Batch(
            uuid=self.ids.uuid(),
            serial=self.next_serial,
            created_at=now,
            updated_at=now,
            metadata=metadata,
            ignore_roles=ignore_roles,
            strict_ontology=strict_ontology,
            observer=self._observe if self.observers else None,
        )
        if listed:
            self.next_serial += 1
            self.batches[batch.uuid] = batch
        return batch

    def batch(self, batch_uuid: str) -> Batch:
        batch = self.batches.get(batch_uuid)
        if batch is None:
            raise NotFound("batch_not_found", f"batch {batch_uuid} not found")
        return batch

    def add_items(
        self, batch: Batch, inputs: list[ItemInput], reject_missing_graphs: bool = False
    ) -> tuple[list[Item], list[int]]:
        """Append *inputs* to a draft batch; return the items made and the indexes (into
        *inputs*) of those turned away.

        With *reject_missing_graphs* (v4), a graph_episode whose graph does not exist is
        turned away here instead of invalidating the batch at process (decisions.md). The
        limits apply to the call as sent. Each distinct target is looked up once."""
        batch.check_can_add(len(inputs))
        lookup: dict[Ref, tuple[Graph, Thread | None] | None] = {}
        for ref in {inp.target for inp in inputs}:
            lookup[ref] = self.store.resolve(ref)
        missing = {ref for ref, found in lookup.items() if found is None and ref.kind is TargetKind.GRAPH}
        rejected = [i for i, inp in enumerate(inputs) if inp.target in missing] if reject_missing_graphs and missing else []
        skip = set(rejected)
        accepted = [inp for i, inp in enumerate(inputs) if i not in skip] if skip else inputs
        items = batch.append(accepted, self.ids.uuid, self.clock.now()) if accepted else []
        self._point(items, lookup)  # provisional: process resolves again, the world may change
        return items, rejected

    def _point(self, items: list[Item], lookup: dict[Ref, tuple[Graph, Thread | None] | None]) -> list[int]:
        """Point each item at its destination graph (and thread) as *lookup* has it; return
        the sequence indexes of those whose target does not exist."""
        dangling = []
        for item in items:
            found = lookup[item.input.target]
            if found is None:
                item.graph = item.thread = None
                dangling.append(item.sequence_index)
            else:
                item.graph, item.thread = found
        return dangling

    def process(self, batch: Batch, task_type: str = "batch.process") -> Task:
        """Resolve every item's destination, queue the batch, and return its task.

        A dangling reference (graph, user or thread that does not exist) makes the batch
        ``invalid`` and raises, naming the offending sequence indexes (decisions.md)."""
        batch.check_can_process()
        now = self.clock.now()
        lookup = {ref: self.store.resolve(ref) for ref in {item.input.target for item in batch.items}}
        dangling = self._point(batch.items, lookup)
        if dangling:
            batch.invalid_items = dangling
            batch.set_status(BatchStatus.INVALID, now)
            shown = ", ".join(map(str, dangling[:20])) + (" ..." if len(dangling) > 20 else "")
            raise InvalidInput(
                "invalid_references",
                f"batch contains invalid references: items {shown} name a graph, user or thread that does not exist",
                details={"invalid_items": dangling},
            )
        batch.processed_at = now
        batch.set_status(BatchStatus.QUEUED, now)
        batch.move_all(ItemStatus.PENDING, ItemStatus.QUEUED, now)
        task = self.task_for(batch, task_type)
        store, new_id = self.store, self.ids.uuid
        for item in batch.items:
            prepare(store, new_id, item, now)
        self.processor.enqueue(self.work, batch.items)
        return task

    def add_live(
        self, inputs: list[ItemInput], task_type: str, listed: bool = False, ignore_roles: list[str] | None = None
    ) -> tuple[list[Item], Task]:
        """A live add (``graph.add``, ``thread.add_messages`` ...): one call's items become a
        batch that is created, filled and queued at once, so they travel the same queue,
        processing modes and fact pipeline as Batch API items, and the returned task follows
        them. Unlisted by default; the deprecated v2 ``graph.add_batch`` and
        ``thread.add_messages_batch`` make listed ones (v3 changelog 2026-10-04: they "now
        create a Batch API batch. It appears in batch.list").

        What would make an item fail is refused up front instead (400, nothing stored): a live
        call answers with its records, so they must be ones that will be written. The caller
        has resolved the targets, so the batch cannot turn invalid."""
        for index, sent in enumerate(inputs):
            failure = failure_of(sent, self.max_episode_chars)
            if failure is not None and failure.error is not None:
                prefix = f"item {index}: " if len(inputs) > 1 else ""
                raise InvalidInput(failure.error["code"], prefix + failure.error["message"], details={"index": index})
        batch = self.create_batch(ignore_roles=ignore_roles, listed=listed)
        items, _ = self.add_items(batch, inputs)
        return items, self.process(batch, task_type)

    def task_for(self, batch: Batch, task_type: str) -> Task:
        if batch.task_uuid is None:
            batch.task_uuid = self.new_task(task_type, batch).uuid
        return self.tasks[batch.task_uuid]

    def new_task(self, task_type: str, batch: Batch | None = None) -> Task:
        """A task that follows *batch*, or (without one) records work already done."""
        task = Task(uuid=self.ids.uuid(), type=task_type, created_at=self.clock.now(), batch=batch,
                    serial=self.next_task_serial)
        self.next_task_serial += 1
        self.tasks[task.uuid] = task
        return task

    def list_tasks(
        self, status: TaskStatus | None, task_type: str | None, after_serial: int, limit: int
    ) -> tuple[list[Task], int | None, int]:
        """Tasks in creation order from serial *after_serial* on, of *status* and *task_type*
        where given; returns the page, the serial the next page starts at (None on the last
        page) and how many tasks match in all."""
        matching = [t for t in self.tasks.values()
                    if (status is None or t.status == status.value) and (task_type is None or t.type == task_type)]
        rest = [t for t in matching if t.serial >= after_serial]
        next_serial = rest[limit].serial if len(rest) > limit else None
        return rest[:limit], next_serial, len(matching)

    def task(self, task_uuid: str) -> Task:
        task = self.tasks.get(task_uuid)
        if task is None:
            raise NotFound("task_not_found", f"task {task_uuid} not found")
        return task

    def delete_batch(self, batch: Batch) -> None:
        if self.batches.get(batch.uuid) is not batch:
            raise NotFound("batch_not_found", f"batch {batch.uuid} not found")
        batch.check_can_delete()
        del self.batches[batch.uuid]
        if batch.task_uuid is not None:
            self.tasks.pop(batch.task_uuid, None)

    def cancel_batch(self, batch: Batch) -> None:
        """Cancel what has not finished; a canceled item's queued records are withdrawn."""
        batch.cancel(self.clock.now())
        for item in batch.items:
            if item.status is ItemStatus.CANCELED:
                drop(self.store, item)
        for item in [i for i in self.work.held.values() if i.batch is batch]:
            self.processor.release(self.work, item, None)

    def list_batches(self, status: BatchStatus | None, after_serial: int, limit: int) -> tuple[list[Batch], int | None]:
        """Batches in creation order from serial *after_serial* on; returns the page and the
        serial the next page starts at (None on the last page)."""
        page: list[Batch] = []
        for batch in self._batches_from(after_serial, status):
            if len(page) == limit:
                return page, batch.serial
            page.append(batch)
        return page, None

    def count_batches(self, status: BatchStatus | None) -> int:
        if status is None:
            return len(self.batches)
        return sum(1 for b in self.batches.values() if b.status is status)

    def _batches_from(self, serial: int, status: BatchStatus | None) -> Iterator[Batch]:
        for batch in self.batches.values():
            if batch.serial >= serial and (status is None or batch.status is status):
                yield batch

    @staticmethod
    def list_items(batch: Batch, status: ItemStatus | None, start: int, limit: int) -> tuple[list[Item], int | None]:
        """Items in sequence order from index *start* on; returns the page and the index the
        next page starts at (None on the last page)."""
        page: list[Item] = []
        for item in batch.iter_items(start, status):
            if len(page) == limit:
                return page, item.sequence_index
            page.append(item)
        return page, None

    # -- facts -------------------------------------------------------------------------------

    def knowledge(self, graph: Graph) -> GraphKnowledge:
        """The graph's entities and edges, up to date with its processed episodes."""
        return knowledge_of(graph, self.knowledge_settings, self.ids)

    def find_edge(self, edge_uuid: str) -> tuple[GraphKnowledge, Edge]:
        """An edge by uuid in any of the tenant's graphs (v2 reads edges by uuid alone)."""
        for knowledge in self._all_knowledge():
            edge = knowledge.facts.edge(edge_uuid)
            if edge is not None:
                return knowledge, edge
        raise NotFound("edge_not_found", f"edge {edge_uuid!r} not found")

    def find_node(self, node_uuid: str) -> tuple[GraphKnowledge, Entity]:
        """A node by uuid in any of the tenant's graphs (v2 reads nodes by uuid alone)."""
        for knowledge in self._all_knowledge():
            node = knowledge.facts.entity(node_uuid)
            if node is not None:
                return knowledge, node
        raise NotFound("node_not_found", f"node {node_uuid!r} not found")

    def _all_knowledge(self) -> Iterator[GraphKnowledge]:
        for graph in list(self.store.graphs_by_uuid.values()):
            yield self.knowledge(graph)

    # -- rate-limit mode ---------------------------------------------------------------------

    def limit_rate(self, per_second: float | None, burst: int = 1) -> None:
        """Turn the rate-limit mode on (a full bucket) or, with None, off."""
        self.rate_limit = None if per_second is None else TokenBucket.full(per_second, burst, self.clock.now())

    # -- processing mode ---------------------------------------------------------------------

    @property
    def mode(self) -> ProcessingMode:
        return self.work.mode

    def set_mode(self, mode: ProcessingMode) -> None:
        self.processor.set_mode(self.work, mode)


class TenantRegistry:
    def __init__(
        self,
        clock: EmulatorClock,
        ids: IdFactory,
        processor: Processor,
        api_keys: list[str] | None,
        knowledge: KnowledgeSettings,
        isolation: Isolation = Isolation.STRICT,
    ) -> None:
        self.clock = clock
        #: The isolation mode new Synap tenants start with (``--synap-isolation``).
        self.isolation = isolation
        #: The rate-limit mode new tenants start with: (per_second, burst), or None.
        self.rate_limit: tuple[float, int] | None = None
        self.knowledge = knowledge
        self.ids = ids
        self.processor = processor
        self.allowed = frozenset(api_keys) if api_keys else None
        #: Every fault rule in force (core/faults.py), shared by all tenants.
        self.faults = FaultBook()
        self._tenants: dict[tuple[Service, str], Tenant] = {}
        #: Each key's clock, shared by its Zep and Synap tenants.
        self._clocks: dict[str, KeyClock] = {}

    def clock_of(self, key: str) -> KeyClock:
        """The key's clock (made on first use; it reads the server's until told otherwise)."""
        clock = self._clocks.get(key)
        if clock is None:
            clock = self._clocks[key] = KeyClock(self.clock)
        return clock

    def get(self, service: Service, key: str) -> Tenant:
        """The tenant for *key*, created on first use; raises :class:`Unauthorized` for an
        empty key or, when keys are configured, an unknown one."""
        tenant = self._tenants.get((service, key))
        if tenant is not None:
            return tenant
        if not key:
            raise Unauthorized("unauthorized", "an API key is required")
        if self.allowed is not None and key not in self.allowed:
            raise Unauthorized("unauthorized", "invalid API key")
        tenant = Tenant(key, service, self.clock_of(key), self.id_stream(service, key), self.processor, self.knowledge,
                        self.isolation, self.faults)
        if self.rate_limit is not None:
            tenant.limit_rate(*self.rate_limit)
        self._tenants[(service, key)] = tenant
        return tenant

    def id_stream(self, service: Service, key: str) -> IdFactory:
        """A tenant's own id stream, derived from the server's seed and the key: with
        ``--seed``, a key's ids do not depend on what other tenants do."""
        return self.ids.derived(f"{service.value}/{key}")

    def adopt(self, tenant: Tenant) -> None:
        """Register a tenant made elsewhere (a snapshot's restore) under its service and key;
        the caller has dropped any tenant there before and built this one on ``clock_of(key)``."""
        self._tenants[(tenant.service, tenant.key)] = tenant

    def find(self, service: Service, key: str) -> Tenant | None:
        return self._tenants.get((service, key))

    def all(self) -> list[Tenant]:
        return list(self._tenants.values())

    def drop(self, tenant: Tenant) -> None:
        self.processor.forget(tenant.work)
        del self._tenants[(tenant.service, tenant.key)]
        if not any(key == tenant.key for _, key in self._tenants):
            self._clocks.pop(tenant.key, None)

    def drop_all(self) -> None:
        for tenant in self.all():
            self.drop(tenant)
