"""Building: validated TENANT records (``schema.py``) into unattached emulator records.

Every reference by uuid is resolved and checked, and so are the invariants the store and
the processor rely on; nothing in the world is touched, so a refusal here changes nothing.
Paths in refusals are those of the document: ``$.tenants[0].batches[1].items[3].graph``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from ..batches import TERMINAL_ITEM, Batch, BatchStatus, Item, ItemInput, ItemKind, ItemStatus, Ref
from ..graph import Episode, Graph, Message, Thread, User
from ..ids import IdFactory
from ..memories import Receipt
from ..tasks import Task
from ..tenants import Service
from . import schema
from .built import Built, ClockSetting, Desk
from .refusal import bad

if TYPE_CHECKING:
    from ..world import World


def id_factory(ids: schema.Ids) -> IdFactory:
    """The id stream at the dumped position (``schema.Ids`` checked that it is one)."""
    return IdFactory.from_state({"seed": ids.seed, "position": ids.position})


def rate(limit: Optional[schema.Rate]) -> tuple[float, int] | None:
    """A rate-limit mode as ``TokenBucket.full`` takes it (per second, burst), or None."""
    return None if limit is None else (limit.per_second, limit.burst)


def build_all(world: "World", tenants: list[schema.Tenant], key: str | None) -> list[Built]:
    """Every tenant of a snapshot; with *key*, each under that key. Two tenants of one service
    and key, or tenants of one key that disagree on the key's clock, are refused."""
    built = [_TenantBuilder(rec, f"$.tenants[{i}]", key, world).build() for i, rec in enumerate(tenants)]
    seen: set[tuple[Service, str]] = set()
    clocks: dict[str, ClockSetting | None] = {}
    for i, b in enumerate(built):
        if (b.service, b.key) in seen:
            raise bad(f"$.tenants[{i}]", f"a second {b.service.value} tenant for key {b.key!r}")
        seen.add((b.service, b.key))
        if clocks.setdefault(b.key, b.clock) != b.clock:
            raise bad(f"$.tenants[{i}].clock", f"the tenants of key {b.key!r} disagree on the key's clock")
    return built


def _put(index: dict[str, Any], uuid: str, record: Any, path: str) -> None:
    if uuid in index:
        raise bad(f"{path}.uuid", f"uuid {uuid!r} appears twice")
    index[uuid] = record


def _ref(index: dict[str, Any], uuid: str | None, path: str, what: str) -> Any:
    """The *what* (a user, a graph, ...) that *uuid* names, None for None; the record at *path*
    names it in its field *what*."""
    if uuid is None:
        return None
    found = index.get(uuid)
    if found is None:
        raise bad(f"{path}.{what}", f"no {what} has uuid {uuid!r}")
    return found


def count(batch: Batch) -> None:
    """The per-status counters and ``finished``, from the items."""
    counts = {s: 0 for s in ItemStatus}
    for item in batch.items:
        counts[item.status] += 1
    batch.counts = counts
    batch.finished = sum(counts[s] for s in TERMINAL_ITEM)


class _TenantBuilder:
    """Builds one TENANT record's records, checking every reference."""

    def __init__(self, rec: schema.Tenant, path: str, key: str | None, world: "World") -> None:
        self.rec, self.path, self.key, self.world = rec, path, key, world
        self.users: dict[str, User] = {}
        self.graphs: dict[str, Graph] = {}
        self.threads: dict[str, Thread] = {}
        self.messages: dict[str, Message] = {}
        self.episodes: dict[str, Episode] = {}
        self.items: dict[str, Item] = {}
        self.batches: dict[str, Batch] = {}
        self.tasks: dict[str, Task] = {}

    def build(self) -> Built:
        rec = self.rec
        built = Built(
            service=rec.service, key=self._key(self.key if self.key is not None else rec.key),
            clock=None if rec.clock is None else ClockSetting.of(rec.clock), ids=id_factory(rec.ids),
            mode=rec.processing, rate_limit=rate(rec.rate_limit), next_serial=rec.next_serial,
        )
        built.users = self._users()
        built.graphs = self._graphs()
        self._link_users()
        built.threads = self._threads()
        self._check_client_ids(built)
        for i, graph_rec in enumerate(rec.graphs):
            self._episodes(graph_rec, f"{self.path}.graphs[{i}]")
        built.batches = self._batches()
        built.tasks = self._tasks()
        self._check_batch_tasks()
        built.queue = self._queue()
        built.desk = self._desk()
        return built

    def _key(self, key: str) -> str:
        path = f"{self.path}.key"
        if not key:
            raise bad(path, "an API key is a non-empty string")
        allowed = self.world.tenants.allowed
        if allowed is not None and key not in allowed:
            raise bad(path, f"key {key!r} is not one of the keys this server accepts")
        return key

    # -- users, graphs, threads, messages, episodes ----------------------------------------------

    def _users(self) -> list[User]:
        users = []
        for i, rec in enumerate(self.rec.users):
            user = User(
                uuid=rec.uuid, user_id=rec.user_id, created_at=rec.created_at, updated_at=rec.updated_at,
                email=rec.email, first_name=rec.first_name, last_name=rec.last_name, metadata=rec.metadata,
                time_zone=rec.time_zone, disable_default_ontology=rec.disable_default_ontology, deleted=rec.deleted,
            )
            _put(self.users, user.uuid, user, f"{self.path}.users[{i}]")
            users.append(user)
        return users

    def _graphs(self) -> list[Graph]:
        graphs = []
        for i, rec in enumerate(self.rec.graphs):
            path = f"{self.path}.graphs[{i}]"
            graph = Graph(
                uuid=rec.uuid, graph_id=rec.graph_id, created_at=rec.created_at, updated_at=rec.updated_at,
                name=rec.name, description=rec.description, time_zone=rec.time_zone,
                user=_ref(self.users, rec.user, path, "user"), deleted=rec.deleted,
            )
            if graph.user is None and graph.graph_id is None:
                raise bad(f"{path}.graph_id", "a graph that is not a user's needs a graph_id")
            _put(self.graphs, graph.uuid, graph, path)
            graphs.append(graph)
        return graphs

    def _link_users(self) -> None:
        for i, (rec, user) in enumerate(zip(self.rec.users, self.users.values())):
            path = f"{self.path}.users[{i}]"
            graph = _ref(self.graphs, rec.graph, path, "graph")
            if graph.user is not user:
                raise bad(f"{path}.graph", f"graph {graph.uuid!r} is not this user's graph")
            user.graph = graph
        for graph in self.graphs.values():
            if graph.user is not None and graph.user.graph is not graph:
                raise bad(f"{self.path}.graphs", f"graph {graph.uuid!r} claims a user whose graph it is not")

    def _threads(self) -> list[Thread]:
        threads = []
        for i, rec in enumerate(self.rec.threads):
            path = f"{self.path}.threads[{i}]"
            thread = Thread(
                uuid=rec.uuid, thread_id=rec.thread_id, user=_ref(self.users, rec.user, path, "user"),
                created_at=rec.created_at, updated_at=rec.updated_at, deleted=rec.deleted,
            )
            _put(self.threads, thread.uuid, thread, path)
            thread.messages = [self._message(m, thread, f"{path}.messages[{j}]") for j, m in enumerate(rec.messages)]
            thread.dropped_messages = sum(1 for m in thread.messages if m.dropped)
            for j, m in enumerate(rec.swept_messages):
                message = self._message(m, thread, f"{path}.swept_messages[{j}]")
                if not message.dropped:
                    raise bad(f"{path}.swept_messages[{j}].dropped", "a message swept out of its thread must be dropped")
            threads.append(thread)
        return threads

    def _check_client_ids(self, built: Built) -> None:
        """Live records' client ids are unique (deleted ones may share theirs: a user made
        again after a delete)."""
        for what, ids in (
            ("user_id", [u.user_id for u in built.users if not u.deleted]),
            ("graph_id", [g.graph_id for g in built.graphs if not g.deleted and g.user is None]),
            ("thread_id", [t.thread_id for t in built.threads if not t.deleted]),
        ):
            seen: set[Any] = set()
            for client_id in ids:
                if client_id in seen:
                    raise bad(self.path, f"two live records have {what} {client_id!r}")
                seen.add(client_id)

    def _message(self, rec: schema.Message, thread: Thread, path: str) -> Message:
        message = Message(
            uuid=rec.uuid, thread=thread, content=rec.content, role=rec.role, created_at=rec.created_at,
            reference_time=rec.reference_time, name=rec.name, metadata=rec.metadata, processed=rec.processed,
            dropped=rec.dropped,
        )
        _put(self.messages, message.uuid, message, path)
        return message

    def _episodes(self, graph_rec: schema.Graph, graph_path: str) -> None:
        graph = self.graphs[graph_rec.uuid]
        for i, rec in enumerate(graph_rec.episodes):
            path = f"{graph_path}.episodes[{i}]"
            episode = Episode(
                uuid=rec.uuid, graph=graph, content=rec.content, source=rec.source,
                reference_time=rec.reference_time, created_at=rec.created_at,
                source_description=rec.source_description, document_id=rec.document_id, metadata=rec.metadata,
                thread=_ref(self.threads, rec.thread, path, "thread"), role=rec.role,
                role_name=rec.role_name, message=_ref(self.messages, rec.message, path, "message"),
                processed=rec.processed, processed_at=rec.processed_at, dropped=rec.dropped,
            )
            if episode.processed and not episode.dropped and (episode.processed_at is None or episode.reference_time is None):
                raise bad(path, "a processed episode has a processed_at and a reference_time")
            _put(self.episodes, episode.uuid, episode, path)
            graph.episodes.append(episode)

    # -- batches, items, tasks, the queue --------------------------------------------------------

    def _batches(self) -> list[Batch]:
        listed = []
        for i, rec in enumerate(self.rec.batches):
            path = f"{self.path}.batches[{i}]"
            batch = Batch(
                uuid=rec.uuid, serial=rec.serial, created_at=rec.created_at, updated_at=rec.updated_at,
                metadata=rec.metadata, ignore_roles=rec.ignore_roles, strict_ontology=rec.strict_ontology,
                status=rec.status, processed_at=rec.processed_at, started_at=rec.started_at,
                completed_at=rec.completed_at, invalid_items=rec.invalid_items, task_uuid=rec.task,
            )
            _put(self.batches, batch.uuid, batch, path)
            batch.items = [self._item(item_rec, batch, j, f"{path}.items[{j}]") for j, item_rec in enumerate(rec.items)]
            count(batch)
            if rec.listed:
                listed.append(batch)
        return listed

    def _item(self, rec: schema.Item, batch: Batch, index: int, path: str) -> Item:
        if rec.sequence_index != index:
            raise bad(f"{path}.sequence_index", f"expected {index}: items are listed in sequence order")
        held = rec.status is ItemStatus.PROCESSING
        item = Item(
            uuid=rec.uuid, batch=batch, sequence_index=index, input=_input(rec.input),
            created_at=rec.created_at, updated_at=rec.updated_at,
            status=ItemStatus.QUEUED if held else rec.status, started_at=None if held else rec.started_at,
            graph=_ref(self.graphs, rec.graph, path, "graph"),
            thread=_ref(self.threads, rec.thread, path, "thread"),
            episode=_ref(self.episodes, rec.episode, path, "episode"),
            message=_ref(self.messages, rec.message, path, "message"), error=rec.error,
        )
        _check_item(item, path)
        _put(self.items, item.uuid, item, path)
        return item

    def _tasks(self) -> list[Task]:
        tasks = []
        for i, rec in enumerate(self.rec.tasks):
            path = f"{self.path}.tasks[{i}]"
            task = Task(uuid=rec.uuid, type=rec.type, created_at=rec.created_at,
                        batch=_ref(self.batches, rec.batch, path, "batch"))
            _put(self.tasks, task.uuid, task, path)
            tasks.append(task)
        return tasks

    def _check_batch_tasks(self) -> None:
        for i, batch in enumerate(self.batches.values()):
            if batch.task_uuid is not None and batch.task_uuid not in self.tasks:
                raise bad(f"{self.path}.batches[{i}].task", f"no task has uuid {batch.task_uuid!r}")

    def _queue(self) -> list[Item]:
        """The work queue, flattened (``reach.waiting``): queued items, and finished ones
        (canceled while waiting) that still hold their turn."""
        queue: list[Item] = []
        placed: set[str] = set()
        for i, uuid in enumerate(self.rec.queue):
            item = self.items.get(uuid)
            if item is None or item.status is ItemStatus.PENDING or item.graph is None:
                raise bad(f"{self.path}.queue[{i}]", f"{uuid!r} is not an item of this tenant that was queued")
            if uuid in placed:
                raise bad(f"{self.path}.queue[{i}]", f"item {uuid!r} is queued twice")
            placed.add(uuid)
            queue.append(item)
        # a queued item the list does not place goes last, in batch and sequence order
        queue += [i for i in self.items.values() if i.status is ItemStatus.QUEUED and i.uuid not in placed]
        return queue

    # -- the Synap desk ----------------------------------------------------------------------

    def _desk(self) -> Desk | None:
        rec, path = self.rec.memories, f"{self.path}.memories"
        if self.rec.service is Service.ZEP:
            if rec is not None:
                raise bad(path, "a Zep tenant has no memories desk")
            return None
        if rec is None:
            raise bad(path, "a Synap tenant needs its memories desk")
        receipts: dict[str, Receipt] = {}
        documents: set[str] = set()
        for i, r in enumerate(rec.receipts):
            where = f"{path}.receipts[{i}]"
            receipt = Receipt(uuid=r.uuid, document_id=r.document_id, queued_at=r.queued_at,
                              item=_ref(self.items, r.item, where, "item"), error=r.error)
            if receipt.item is not None:
                if receipt.document_id in documents:
                    raise bad(f"{where}.document_id", f"document_id {receipt.document_id!r} is stored twice")
                documents.add(receipt.document_id)
            _put(receipts, receipt.uuid, receipt, where)
        return Desk(rec.isolation, list(receipts.values()), rec.telemetry)


def _check_item(item: Item, path: str) -> None:
    """The invariants the processor relies on."""
    status, batch_status = item.status, item.batch.status
    if status is ItemStatus.PENDING and batch_status not in (BatchStatus.DRAFT, BatchStatus.INVALID):
        raise bad(f"{path}.status", f"a pending item in a {batch_status.value} batch")
    if status is not ItemStatus.QUEUED:
        return
    if batch_status not in (BatchStatus.QUEUED, BatchStatus.PROCESSING):
        raise bad(f"{path}.status", f"a queued item in a {batch_status.value} batch")
    if item.graph is None:
        raise bad(f"{path}.graph", "a queued item needs its destination graph")
    if item.kind is ItemKind.THREAD_MESSAGE and (item.thread is None or item.message is None):
        raise bad(path, "a queued thread message needs its thread and message")
    if item.kind is ItemKind.GRAPH_EPISODE and item.episode is None:
        raise bad(f"{path}.episode", "a queued graph episode needs its episode")


def _input(rec: schema.Input) -> ItemInput:
    target = rec.target
    return ItemInput(
        kind=rec.kind, target=Ref(target.kind, target.space, target.value), data=rec.data,
        data_type=rec.data_type, role=rec.role, name=rec.name, metadata=rec.metadata,
        reference_time=rec.reference_time, document_id=rec.document_id, source_description=rec.source_description,
    )
