"""Snapshots: the state of one tenant, of one key, or of the whole world as versioned JSON data.

A snapshot is plain JSON data (dicts, lists, str, int, float, bool, None): datetimes are
RFC 3339 strings (``core/timestamps.py``), enums their values, records point at each other by
uuid. It is never pickled and nothing in it is evaluated, so a snapshot from an untrusted file
can at worst be refused. Loading validates everything and builds every record before it
touches the world: a snapshot that is refused (``InvalidInput("invalid_state", ...)``) has
changed nothing.

Layout (``VERSION`` 1)::

    world:  {"format": FORMAT, "version": 1, "scope": "world",
             "clock": CLOCK,                        # the server clock
             "seed": IDS,                           # the world's id source (IdFactory.state())
             "processing": "realtime"|"instant"|"manual",   # the server's default mode
             "isolation": "strict"|"equals_customer",       # new Synap tenants' isolation
             "rate_limit": RATE | null,             # new tenants' rate-limit mode
             "tenants": [TENANT, ...]}
    tenant: {"format": FORMAT, "version": 1, "scope": "tenant", "tenants": [TENANT, ...]}
            # one tenant (dump_tenant) or both services of one key (dump_key)

    CLOCK:  {"frozen_at": time | null, "offset_seconds": float, "tick_seconds": float}
    IDS:    {"seed": int | str, "position": [version, [625 ints], gauss]}
    RATE:   {"per_second": float, "burst": int}
    TENANT: {"service": "zep"|"synap", "key", "clock": CLOCK | null (the key follows the
             server's clock), "ids": IDS, "processing", "rate_limit": RATE | null,
             "next_serial", "users": [USER], "graphs": [GRAPH], "threads": [THREAD],
             "batches": [BATCH], "queue": [item uuid, ...] (the work queue, flattened),
             "tasks": [TASK],
             "memories": MEMORIES | null (Zep)}
    USER:   {uuid, user_id, created_at, updated_at, graph (uuid), email, first_name, last_name,
             metadata, time_zone, disable_default_ontology, deleted}
    GRAPH:  {uuid, graph_id, created_at, updated_at, name, description, time_zone,
             user (uuid | null), deleted, episodes: [EPISODE]}      # episodes in queue order
    EPISODE:{uuid, content, source, reference_time, created_at, source_description,
             document_id, metadata, thread, role, role_name, message, processed,
             processed_at, dropped}
    THREAD: {uuid, thread_id, user, created_at, updated_at, deleted, messages: [MESSAGE],
             swept_messages: [MESSAGE]}
    MESSAGE:{uuid, content, role, created_at, reference_time, name, metadata, processed,
             dropped}
    BATCH:  {uuid, serial, listed, created_at, updated_at, metadata, ignore_roles,
             strict_ontology, status, processed_at, started_at, completed_at, invalid_items,
             task (uuid | null), items: [ITEM]}                        # items in sequence order
    ITEM:   {uuid, sequence_index, status, created_at, updated_at, started_at, error,
             graph, thread, episode, message (uuids | null), input: INPUT}
    INPUT:  {kind, target: {kind, space, value}, data, data_type, role, name, metadata,
             reference_time, document_id, source_description}
    TASK:   {uuid, type, created_at, batch (uuid | null)}
    MEMORIES: {isolation, receipts: [{uuid, document_id, queued_at, item (uuid | null),
             error}], telemetry: [json, ...]}

What is kept, and how:

- every record with all its fields, including deleted users, graphs and threads and dropped
  episodes and messages that something still points at (a queued item whose graph was deleted
  must still be skipped after a restore); "swept" messages are dropped ones a thread read has
  already removed from its list but an item or episode still names. The store's indexes are
  rebuilt from the live (not deleted) records, in the dumped order.
- listed batches in order (``tenant.batches``) with their serials and ``next_serial``, and
  unlisted ones (live adds), found through tasks, Synap receipts and the work queue. Batch
  counters (``counts``, ``finished``) are recomputed from the items' statuses.
- work in flight: an item ``processing`` at dump time is dumped ``queued`` (its start time
  cleared; its prepared, unprocessed episode and message as they are). ``queue`` lists the
  work queue flattened: each graph's FIFO, graphs in the order they take turns (items canceled
  while waiting included: they still take a turn); after loading the items are put back on
  the tenant's work queue in that order and the processor is kicked, so processing continues
  in the order it would have (in realtime mode only when a loop is running: without
  one they wait for the next kick). Pending items (a draft batch's) stay pending.
- each tenant's id stream (seed and position), so later ids continue the same sequence, and
  the key's clock: its own (``own()``) setting, or ``null`` when it follows the server's.
  A key's clock is shared by its Zep and Synap tenants, so restoring one of them sets it for
  both.
- the processing mode, the rate-limit mode (restored as a full bucket), the Synap desk
  (isolation, receipts in order — ``by_document`` is rebuilt from them — and telemetry).

What is not kept, and why:

- derived knowledge (``graph.knowledge``: entities, edges): it is re-derived on the next read
  from the processed episodes, in the same order, with the same reference and processing
  times, and its uuids come from ``ids.derived(f"graph/{uuid}")`` of the tenant's id stream,
  whose seed is kept — so edges and nodes read after a restore are the ones read before.
  (A graph first read before a ``World.reseed`` kept the old seed's uuids; those change.)
- the idempotency store: replays do not survive a restore (a retried request after a restore
  runs again).
- observers (``tenant.observe``) and realtime workers: they are code, not state; whoever wires
  observers must attach them to the restored tenants again.
- webhook endpoints and deliveries (``tenant.outbox``): an endpoint may be a callback (code),
  and the watch that fills an outbox is wired by the HTTP layer; a restored tenant has none
  until an endpoint is registered again.
- fault rules (``world.faults``) and the request journal: test set-up and a log, not data;
  ``load_world`` leaves both as they are. An item a fault holds in ``processing`` is dumped
  ``queued`` like any other in flight, so after a restore it runs without the hold.
- the order of the store's episode index across graphs (nothing reads it in order).

``load_tenant`` restores every tenant of a tenant snapshot (one tenant, or both services of a
key), replacing any existing tenant of that service and key; its *key* restores them under
another API key (the id streams are kept as they are, so knowledge uuids match the original's).
A key the world would refuse (empty, or not among configured keys) is refused. The tenants of
one key carry the same clock (it is the key's), and a snapshot in which they disagree is refused.

Three spots reach past a public API, each marked where it is: reading and setting an
``EmulatorClock``'s offset, and adding a made tenant to the ``TenantRegistry``.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Iterable, Iterator, TypeVar

from .batches import (
    TERMINAL_ITEM,
    Batch,
    BatchStatus,
    Item,
    ItemInput,
    ItemKind,
    ItemStatus,
    KeySpace,
    Ref,
    TargetKind,
)
from .clock import EmulatorClock, KeyClock
from .errors import InvalidInput, NotFound
from .graph import Episode, Graph, Message, Thread, User
from .ids import IdFactory
from .memories import Isolation, Receipt
from .processor import ProcessingMode
from .ratelimit import TokenBucket
from .tasks import Task
from .tenants import Service, Tenant
from .timestamps import format_rfc3339, parse_rfc3339

if TYPE_CHECKING:
    from .world import World

FORMAT = "memory-batch-emulator/state"
VERSION = 1

JSON = dict[str, Any]
E = TypeVar("E", bound=Enum)

# =============================================================================================
# Dumping
# =============================================================================================


def dump_world(world: "World") -> JSON:
    """The whole world: the server clock and seed, the server-wide defaults, every tenant."""
    registry = world.tenants
    return {
        "format": FORMAT,
        "version": VERSION,
        "scope": "world",
        "clock": _clock_state(world.clock),
        "seed": world.ids.state(),
        "processing": world.processor.default_mode.value,
        "isolation": registry.isolation.value,
        "rate_limit": None if registry.rate_limit is None else _rate(*registry.rate_limit),
        "tenants": [_tenant_record(t) for t in registry.all()],
    }


def dump_tenant(tenant: Tenant) -> JSON:
    """One tenant (one service of one key)."""
    return _tenant_form([tenant])


def dump_key(world: "World", key: str) -> JSON:
    """Every tenant of *key* (its Zep and its Synap tenant, those that exist)."""
    tenants = [t for t in world.tenants.all() if t.key == key]
    if not tenants:
        raise NotFound("tenant_not_found", f"no tenant has the key {key!r}")
    return _tenant_form(tenants)


def _tenant_form(tenants: list[Tenant]) -> JSON:
    return {"format": FORMAT, "version": VERSION, "scope": "tenant", "tenants": [_tenant_record(t) for t in tenants]}


def _ts(value: datetime | None) -> str | None:
    return format_rfc3339(value)


def _uuid_of(record: Any) -> str | None:
    return None if record is None else record.uuid  # type: ignore[no-any-return]


def _plain(value: Any) -> Any:
    """A copy of JSON data (metadata, errors, telemetry), so a dump shares nothing with the
    records it was made from."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _rate(per_second: float, burst: int) -> JSON:
    return {"per_second": float(per_second), "burst": burst}


def _clock_state(clock: EmulatorClock) -> JSON:
    return {
        "frozen_at": _ts(clock.now()) if clock.frozen else None,
        "offset_seconds": clock.offset.total_seconds(),
        "tick_seconds": clock.tick,
    }


def _key_clock_state(clock: KeyClock) -> JSON | None:
    return _clock_state(clock.current) if clock.independent else None


def _tenant_record(tenant: Tenant) -> JSON:
    batches = _all_batches(tenant)
    users, graphs, threads = _reachable(tenant, batches)
    swept = _swept_messages(threads.values(), batches, graphs.values())
    bucket = tenant.rate_limit
    return {
        "service": tenant.service.value,
        "key": tenant.key,
        "clock": _key_clock_state(tenant.clock),
        "ids": tenant.ids.state(),
        "processing": tenant.work.mode.value,
        "rate_limit": None if bucket is None else _rate(bucket.per_second, bucket.burst),
        "next_serial": tenant.next_serial,
        "users": [_user_record(u) for u in users.values()],
        "graphs": [_graph_record(g) for g in graphs.values()],
        "threads": [_thread_record(t, swept.get(t.uuid, [])) for t in threads.values()],
        "batches": [_batch_record(b, b.uuid in tenant.batches) for b in batches],
        "queue": [item.uuid for item in _waiting(tenant, batches)],
        "tasks": [_task_record(t) for t in tenant.tasks.values()],
        "memories": _desk_record(tenant),
    }


def _all_batches(tenant: Tenant) -> list[Batch]:
    """Listed batches in order, then the unlisted ones (live adds) reachable from tasks,
    receipts and the work queue, in the order they are found."""
    found: dict[str, Batch] = dict(tenant.batches)
    for task in tenant.tasks.values():
        if task.batch is not None:
            found.setdefault(task.batch.uuid, task.batch)
    if tenant.memories is not None:
        for receipt in tenant.memories.receipts.values():
            if receipt.item is not None:
                found.setdefault(receipt.item.batch.uuid, receipt.item.batch)
    for queue in tenant.work.queues.values():
        for item in queue:
            found.setdefault(item.batch.uuid, item.batch)
    return list(found.values())


def _reachable(tenant: Tenant, batches: list[Batch]) -> tuple[dict[str, User], dict[str, Graph], dict[str, Thread]]:
    """The live users, graphs and threads in index order, then the deleted ones something still
    points at (an item, an episode, an owner)."""
    store = tenant.store
    users, graphs, threads = dict(store.users_by_uuid), dict(store.graphs_by_uuid), dict(store.threads_by_uuid)

    def add_graph(graph: Graph) -> None:
        if graph.uuid not in graphs:
            graphs[graph.uuid] = graph
        if graph.user is not None and graph.user.uuid not in users:
            add_user(graph.user)

    def add_user(user: User) -> None:
        users.setdefault(user.uuid, user)
        if user.graph.uuid not in graphs:
            add_graph(user.graph)

    def add_thread(thread: Thread) -> None:
        threads.setdefault(thread.uuid, thread)
        if thread.user.uuid not in users:
            add_user(thread.user)

    for user in list(users.values()):
        add_user(user)
    for graph in list(graphs.values()):
        add_graph(graph)
    for thread in list(threads.values()):
        add_thread(thread)
    for batch in batches:
        for item in batch.items:
            if item.graph is not None and item.graph.uuid not in graphs:
                add_graph(item.graph)
            if item.thread is not None and item.thread.uuid not in threads:
                add_thread(item.thread)
    scanned = 0
    while scanned < len(graphs):  # an episode may name a thread only it still knows
        pending = list(graphs.values())[scanned:]
        scanned = len(graphs)
        for graph in pending:
            for episode in graph.episodes:
                if episode.thread is not None and episode.thread.uuid not in threads:
                    add_thread(episode.thread)
    return users, graphs, threads


def _swept_messages(threads: Iterable[Thread], batches: list[Batch], graphs: Iterable[Graph]) -> dict[str, list[Message]]:
    """Per thread uuid: dropped messages no longer in the thread's list that an item or an
    episode still names."""
    listed = {m.uuid for thread in threads for m in thread.messages}
    swept: dict[str, list[Message]] = {}
    seen: set[str] = set()

    def note(message: Message | None) -> None:
        if message is not None and message.uuid not in listed and message.uuid not in seen:
            seen.add(message.uuid)
            swept.setdefault(message.thread.uuid, []).append(message)

    for batch in batches:
        for item in batch.items:
            note(item.message)
    for graph in graphs:
        for episode in graph.episodes:
            note(episode.message)
    return swept


def _waiting(tenant: Tenant, batches: list[Batch]) -> list[Item]:
    """The work queue as it stands, flattened: each graph's FIFO in the order the graphs take
    turns, an item a realtime worker holds at the front of its graph's. Items canceled while
    they waited are kept: they still take their turn (and are passed over), so a restored
    queue hands out the rest in exactly the original order."""
    work = tenant.work
    held: dict[str, list[Item]] = {}
    for batch in batches:
        for item in batch.items:
            if item.status is ItemStatus.PROCESSING:
                held.setdefault(item.graph.uuid, []).append(item)
    order = [item for graph_uuid, items in held.items() if graph_uuid not in work.queues for item in items]
    for graph_uuid in work.ready:
        order += held.get(graph_uuid, [])
        order += work.queues[graph_uuid]
    return order


def _user_record(user: User) -> JSON:
    return {
        "uuid": user.uuid,
        "user_id": user.user_id,
        "created_at": _ts(user.created_at),
        "updated_at": _ts(user.updated_at),
        "graph": user.graph.uuid,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "metadata": _plain(user.metadata),
        "time_zone": user.time_zone,
        "disable_default_ontology": user.disable_default_ontology,
        "deleted": user.deleted,
    }


def _graph_record(graph: Graph) -> JSON:
    return {
        "uuid": graph.uuid,
        "graph_id": graph.graph_id,
        "created_at": _ts(graph.created_at),
        "updated_at": _ts(graph.updated_at),
        "name": graph.name,
        "description": graph.description,
        "time_zone": graph.time_zone,
        "user": _uuid_of(graph.user),
        "deleted": graph.deleted,
        "episodes": [_episode_record(e) for e in graph.episodes],
    }


def _episode_record(episode: Episode) -> JSON:
    return {
        "uuid": episode.uuid,
        "content": episode.content,
        "source": episode.source,
        "reference_time": _ts(episode.reference_time),
        "created_at": _ts(episode.created_at),
        "source_description": episode.source_description,
        "document_id": episode.document_id,
        "metadata": _plain(episode.metadata),
        "thread": _uuid_of(episode.thread),
        "role": episode.role,
        "role_name": episode.role_name,
        "message": _uuid_of(episode.message),
        "processed": episode.processed,
        "processed_at": _ts(episode.processed_at),
        "dropped": episode.dropped,
    }


def _thread_record(thread: Thread, swept: list[Message]) -> JSON:
    return {
        "uuid": thread.uuid,
        "thread_id": thread.thread_id,
        "user": thread.user.uuid,
        "created_at": _ts(thread.created_at),
        "updated_at": _ts(thread.updated_at),
        "deleted": thread.deleted,
        "messages": [_message_record(m) for m in thread.messages],
        "swept_messages": [_message_record(m) for m in swept],
    }


def _message_record(message: Message) -> JSON:
    return {
        "uuid": message.uuid,
        "content": message.content,
        "role": message.role,
        "created_at": _ts(message.created_at),
        "reference_time": _ts(message.reference_time),
        "name": message.name,
        "metadata": _plain(message.metadata),
        "processed": message.processed,
        "dropped": message.dropped,
    }


def _batch_record(batch: Batch, listed: bool) -> JSON:
    return {
        "uuid": batch.uuid,
        "serial": batch.serial,
        "listed": listed,
        "created_at": _ts(batch.created_at),
        "updated_at": _ts(batch.updated_at),
        "metadata": _plain(batch.metadata),
        "ignore_roles": _plain(batch.ignore_roles),
        "strict_ontology": batch.strict_ontology,
        "status": batch.status.value,
        "processed_at": _ts(batch.processed_at),
        "started_at": _ts(batch.started_at),
        "completed_at": _ts(batch.completed_at),
        "invalid_items": _plain(batch.invalid_items),
        "task": batch.task_uuid,
        "items": [_item_record(i) for i in batch.items],
    }


def _item_record(item: Item) -> JSON:
    held = item.status is ItemStatus.PROCESSING  # put back in line: it runs again after a restore
    return {
        "uuid": item.uuid,
        "sequence_index": item.sequence_index,
        "status": ItemStatus.QUEUED.value if held else item.status.value,
        "created_at": _ts(item.created_at),
        "updated_at": _ts(item.updated_at),
        "started_at": None if held else _ts(item.started_at),
        "error": _plain(item.error),
        "graph": _uuid_of(item.graph),
        "thread": _uuid_of(item.thread),
        "episode": _uuid_of(item.episode),
        "message": _uuid_of(item.message),
        "input": _input_record(item.input),
    }


def _input_record(sent: ItemInput) -> JSON:
    target = sent.target
    return {
        "kind": sent.kind.value,
        "target": {"kind": target.kind.value, "space": target.space.value, "value": target.value},
        "data": sent.data,
        "data_type": sent.data_type,
        "role": sent.role,
        "name": sent.name,
        "metadata": _plain(sent.metadata),
        "reference_time": _ts(sent.reference_time),
        "document_id": sent.document_id,
        "source_description": sent.source_description,
    }


def _task_record(task: Task) -> JSON:
    return {"uuid": task.uuid, "type": task.type, "created_at": _ts(task.created_at), "batch": _uuid_of(task.batch)}


def _desk_record(tenant: Tenant) -> JSON | None:
    desk = tenant.memories
    if desk is None:
        return None
    return {
        "isolation": desk.isolation.value,
        "receipts": [
            {"uuid": r.uuid, "document_id": r.document_id, "queued_at": _ts(r.queued_at),
             "item": _uuid_of(r.item), "error": r.error}
            for r in desk.receipts.values()
        ],
        "telemetry": [_plain(t) for t in desk.telemetry],
    }


# =============================================================================================
# Loading
# =============================================================================================


def load_world(world: "World", data: Any) -> None:
    """Replace every tenant, the server clock, the world's id source and the server-wide
    defaults with *data* (a :func:`dump_world`). The world's processor keeps running; queued
    work of the snapshot is queued again. Raises ``InvalidInput("invalid_state")`` and changes
    nothing if *data* is not a valid world snapshot."""
    top = _header(data, "world")
    clock = _read_clock(top.obj("clock"))
    seed = _read_ids(top.obj("seed"))
    default_mode = top.choice("processing", ProcessingMode)
    isolation = top.choice("isolation", Isolation)
    rate = _read_rate(top.obj("rate_limit", null=True))
    built = _build_all(world, top, None)
    # -- nothing has been changed so far; from here on nothing can fail --
    registry = world.tenants
    _restore_clock(world.clock, clock)
    registry.drop_all()
    world.ids = registry.ids = seed
    world.processor.default_mode = default_mode
    registry.isolation = isolation
    registry.rate_limit = rate
    _install_all(world, built)


def load_tenant(world: "World", data: Any, key: str | None = None) -> list[Tenant]:
    """Restore the tenants of *data* (a :func:`dump_tenant` or :func:`dump_key`), each
    replacing any tenant of the same service and key; with *key*, under that API key instead
    of the dumped one. Returns the restored tenants. Raises ``InvalidInput("invalid_state")``
    and changes nothing if *data* is not a valid tenant snapshot."""
    top = _header(data, "tenant")
    built = _build_all(world, top, key)
    if len({b.key for b in built}) > 1:
        raise _bad("$.tenants", "a tenant snapshot holds the tenants of one key")
    return _install_all(world, built)


# -- reading JSON with paths in the errors ----------------------------------------------------


def _bad(path: str, problem: str) -> InvalidInput:
    return InvalidInput("invalid_state", f"invalid snapshot: {path}: {problem}", details={"path": path})


@lru_cache(maxsize=4096)
def _parse_time(value: str) -> datetime | None:
    try:
        return parse_rfc3339(value, "")
    except InvalidInput:
        return None


def _json_copy(value: Any, path: str) -> Any:
    """A copy of *value* if it is JSON data, else raise."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _bad(path, "numbers must be finite")
        return value
    if isinstance(value, list):
        return [_json_copy(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        copy = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise _bad(path, "object keys must be strings")
            copy[k] = _json_copy(v, f"{path}.{k}")
        return copy
    raise _bad(path, f"{type(value).__name__} is not JSON data")


class _Rec:
    """One JSON object of a snapshot, read field by field; every error names the field's path."""

    __slots__ = ("data", "path")

    def __init__(self, data: Any, path: str) -> None:
        if not isinstance(data, dict):
            raise _bad(path, "expected an object")
        self.data: dict[str, Any] = data
        self.path = path

    def raw(self, key: str) -> Any:
        try:
            return self.data[key]
        except KeyError:
            raise _bad(f"{self.path}.{key}", "missing") from None

    def _typed(self, key: str, kinds: tuple[type, ...], what: str, null: bool) -> Any:
        value = self.raw(key)
        if value is None and null:
            return None
        if not isinstance(value, kinds) or (bool not in kinds and isinstance(value, bool)):
            raise _bad(f"{self.path}.{key}", f"expected {what}{' or null' if null else ''}")
        return value

    def text(self, key: str, null: bool = False) -> Any:
        value = self.data.get(key)
        if type(value) is str:  # the fast path: most fields of most records
            return value
        return self._typed(key, (str,), "a string", null)

    def integer(self, key: str, null: bool = False) -> Any:
        value = self.data.get(key)
        if type(value) is int:
            return value
        return self._typed(key, (int,), "an integer", null)

    def number(self, key: str) -> float:
        value = self._typed(key, (int, float), "a number", False)
        if not math.isfinite(value):
            raise _bad(f"{self.path}.{key}", "expected a finite number")
        return float(value)

    def flag(self, key: str, null: bool = False) -> Any:
        value = self.data.get(key)
        if value is True or value is False:
            return value
        return self._typed(key, (bool,), "true or false", null)

    def time(self, key: str, null: bool = False) -> Any:
        value = self.text(key, null)
        if value is None:
            return None
        parsed = _parse_time(value)
        if parsed is None:
            raise _bad(f"{self.path}.{key}", f"{value!r} is not an RFC 3339 timestamp")
        return parsed

    def choice(self, key: str, kind: type[E]) -> E:
        value = self.raw(key)
        try:
            return kind(value)
        except (ValueError, TypeError):
            allowed = ", ".join(repr(m.value) for m in kind)  # type: ignore[attr-defined]
            raise _bad(f"{self.path}.{key}", f"{value!r} is not one of {allowed}") from None

    def array(self, key: str, null: bool = False) -> Any:
        return self._typed(key, (list,), "an array", null)

    def obj(self, key: str, null: bool = False) -> Any:
        value = self._typed(key, (dict,), "an object", null)
        return None if value is None else _Rec(value, f"{self.path}.{key}")

    def objs(self, key: str) -> Iterator[_Rec]:
        for i, value in enumerate(self.array(key)):
            yield _Rec(value, f"{self.path}.{key}[{i}]")

    def json(self, key: str, kind: type | None = None) -> Any:
        value = self.raw(key)
        if value is not None and kind is not None and not isinstance(value, kind):
            raise _bad(f"{self.path}.{key}", f"expected {'an object' if kind is dict else 'an array'} or null")
        return _json_copy(value, f"{self.path}.{key}")


def _header(data: Any, scope: str) -> _Rec:
    top = _Rec(data, "$")
    if top.raw("format") != FORMAT:
        raise _bad("$.format", f"not a {FORMAT} snapshot")
    version = top.raw("version")
    if type(version) is not int or version != VERSION:
        raise _bad("$.version", f"version {version!r} is not supported (this emulator reads version {VERSION})")
    if top.raw("scope") != scope:
        raise _bad("$.scope", f"expected a {scope} snapshot, got {top.raw('scope')!r}")
    return top


@dataclass(frozen=True)
class _Clock:
    frozen_at: datetime | None
    offset: timedelta
    tick: float


def _read_clock(rec: _Rec) -> _Clock:
    tick = rec.number("tick_seconds")
    if tick < 0:
        raise _bad(f"{rec.path}.tick_seconds", "the clock only moves forward")
    try:
        offset = timedelta(seconds=rec.number("offset_seconds"))
    except OverflowError:
        raise _bad(f"{rec.path}.offset_seconds", "out of range") from None
    return _Clock(rec.time("frozen_at", null=True), offset, tick)


def _restore_clock(clock: EmulatorClock, state: _Clock) -> None:
    clock.restore(state.frozen_at, state.offset, state.tick)


def _read_ids(rec: _Rec) -> IdFactory:
    seed = rec.raw("seed")
    if isinstance(seed, bool) or not isinstance(seed, (int, str)):
        raise _bad(f"{rec.path}.seed", "expected an integer or a string")
    position = rec.array("position")
    try:
        version, internal, gauss = position
        if not isinstance(internal, list) or not all(type(n) is int for n in internal):
            raise TypeError("the generator state is a list of integers")
        return IdFactory.from_state({"seed": seed, "position": [version, internal, gauss]})
    except (TypeError, ValueError, OverflowError) as exc:
        raise _bad(f"{rec.path}.position", f"not an id generator's state ({exc})") from None


def _read_rate(rec: _Rec | None) -> tuple[float, int] | None:
    if rec is None:
        return None
    per_second, burst = rec.number("per_second"), rec.integer("burst")
    if not per_second > 0 or burst < 1:
        raise _bad(rec.path, "a rate limit needs per_second > 0 and burst >= 1")
    return per_second, burst


# -- building tenants (nothing in the world is touched) ---------------------------------------


@dataclass
class _Desk:
    isolation: Isolation
    receipts: list[Receipt]
    telemetry: list[Any]


@dataclass
class _Built:
    """One tenant, read and cross-checked, ready to install."""

    service: Service
    key: str
    clock: _Clock | None
    ids: IdFactory
    mode: ProcessingMode
    rate_limit: tuple[float, int] | None
    next_serial: int
    users: list[User] = field(default_factory=list)
    graphs: list[Graph] = field(default_factory=list)
    threads: list[Thread] = field(default_factory=list)
    batches: list[Batch] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    queue: list[Item] = field(default_factory=list)
    desk: _Desk | None = None


def _build_all(world: "World", top: _Rec, key: str | None) -> list[_Built]:
    built = [_TenantReader(rec, key, world).build() for rec in top.objs("tenants")]
    seen: set[tuple[Service, str]] = set()
    clocks: dict[str, _Clock | None] = {}
    for i, b in enumerate(built):
        if (b.service, b.key) in seen:
            raise _bad(f"$.tenants[{i}]", f"a second {b.service.value} tenant for key {b.key!r}")
        seen.add((b.service, b.key))
        if clocks.setdefault(b.key, b.clock) != b.clock:
            raise _bad(f"$.tenants[{i}].clock", f"the tenants of key {b.key!r} disagree on the key's clock")
    return built


def _put(index: dict[str, Any], uuid: str, record: Any, path: str) -> None:
    if uuid in index:
        raise _bad(path, f"uuid {uuid!r} appears twice")
    index[uuid] = record


class _TenantReader:
    """Reads one TENANT record into unattached records, checking every reference."""

    def __init__(self, rec: _Rec, key: str | None, world: "World") -> None:
        self.rec = rec
        self.key = key
        self.world = world
        self.users: dict[str, User] = {}
        self.graphs: dict[str, Graph] = {}
        self.threads: dict[str, Thread] = {}
        self.messages: dict[str, Message] = {}
        self.episodes: dict[str, Episode] = {}
        self.items: dict[str, Item] = {}
        self.batches: dict[str, Batch] = {}
        self.tasks: dict[str, Task] = {}

    def ref(self, index: dict[str, Any], rec: _Rec, key: str, what: str, null: bool = True) -> Any:
        uuid = rec.text(key, null=null)
        if uuid is None:
            return None
        found = index.get(uuid)
        if found is None:
            raise _bad(f"{rec.path}.{key}", f"no {what} has uuid {uuid!r}")
        return found

    def build(self) -> _Built:
        rec = self.rec
        service = rec.choice("service", Service)
        key = self._key(self.key if self.key is not None else rec.text("key"))
        clock_rec = rec.obj("clock", null=True)
        built = _Built(
            service=service,
            key=key,
            clock=None if clock_rec is None else _read_clock(clock_rec),
            ids=_read_ids(rec.obj("ids")),
            mode=rec.choice("processing", ProcessingMode),
            rate_limit=_read_rate(rec.obj("rate_limit", null=True)),
            next_serial=rec.integer("next_serial"),
        )
        built.users = self._users()
        built.graphs = self._graphs()
        self._link_users()
        built.threads = self._threads()
        self._check_client_ids(built)
        for graph_rec in rec.objs("graphs"):
            self._episodes(graph_rec)
        built.batches = self._batches()
        built.tasks = self._tasks()
        self._check_batch_tasks()
        built.queue = self._queue()
        built.desk = self._desk(service)
        return built

    def _key(self, key: str) -> str:
        path = f"{self.rec.path}.key"
        if not isinstance(key, str) or not key:
            raise _bad(path, "an API key is a non-empty string")
        allowed = self.world.tenants.allowed
        if allowed is not None and key not in allowed:
            raise _bad(path, f"key {key!r} is not one of the keys this server accepts")
        return key

    # -- users, graphs, threads, messages, episodes ----------------------------------------------

    def _users(self) -> list[User]:
        users = []
        for rec in self.rec.objs("users"):
            user = User(
                uuid=rec.text("uuid"), user_id=rec.text("user_id"),
                created_at=rec.time("created_at"), updated_at=rec.time("updated_at"),
                email=rec.text("email", null=True), first_name=rec.text("first_name", null=True),
                last_name=rec.text("last_name", null=True), metadata=rec.json("metadata", dict),
                time_zone=rec.text("time_zone", null=True),
                disable_default_ontology=rec.flag("disable_default_ontology", null=True),
                deleted=rec.flag("deleted"),
            )
            rec.text("graph")
            _put(self.users, user.uuid, user, f"{rec.path}.uuid")
            users.append(user)
        return users

    def _graphs(self) -> list[Graph]:
        graphs = []
        for rec in self.rec.objs("graphs"):
            graph = Graph(
                uuid=rec.text("uuid"), graph_id=rec.text("graph_id", null=True),
                created_at=rec.time("created_at"), updated_at=rec.time("updated_at"),
                name=rec.text("name", null=True), description=rec.text("description", null=True),
                time_zone=rec.text("time_zone", null=True),
                user=self.ref(self.users, rec, "user", "user"), deleted=rec.flag("deleted"),
            )
            if graph.user is None and graph.graph_id is None:
                raise _bad(f"{rec.path}.graph_id", "a graph that is not a user's needs a graph_id")
            rec.array("episodes")
            _put(self.graphs, graph.uuid, graph, f"{rec.path}.uuid")
            graphs.append(graph)
        return graphs

    def _link_users(self) -> None:
        for rec, user in zip(self.rec.objs("users"), self.users.values()):
            graph = self.ref(self.graphs, rec, "graph", "graph", null=False)
            if graph.user is not user:
                raise _bad(f"{rec.path}.graph", f"graph {graph.uuid!r} is not this user's graph")
            user.graph = graph
        for graph in self.graphs.values():
            if graph.user is not None and graph.user.graph is not graph:
                raise _bad(f"{self.rec.path}.graphs", f"graph {graph.uuid!r} claims a user whose graph it is not")

    def _threads(self) -> list[Thread]:
        threads = []
        for rec in self.rec.objs("threads"):
            thread = Thread(
                uuid=rec.text("uuid"), thread_id=rec.text("thread_id"),
                user=self.ref(self.users, rec, "user", "user", null=False),
                created_at=rec.time("created_at"), updated_at=rec.time("updated_at"),
                deleted=rec.flag("deleted"),
            )
            _put(self.threads, thread.uuid, thread, f"{rec.path}.uuid")
            thread.messages = [self._message(m, thread) for m in rec.objs("messages")]
            thread.dropped_messages = sum(1 for m in thread.messages if m.dropped)
            for m in rec.objs("swept_messages"):
                message = self._message(m, thread)
                if not message.dropped:
                    raise _bad(f"{m.path}.dropped", "a message swept out of its thread must be dropped")
            threads.append(thread)
        return threads

    def _check_client_ids(self, built: _Built) -> None:
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
                    raise _bad(self.rec.path, f"two live records have {what} {client_id!r}")
                seen.add(client_id)

    def _message(self, rec: _Rec, thread: Thread) -> Message:
        message = Message(
            uuid=rec.text("uuid"), thread=thread, content=rec.text("content"), role=rec.text("role"),
            created_at=rec.time("created_at"), reference_time=rec.time("reference_time", null=True),
            name=rec.text("name", null=True), metadata=rec.json("metadata", dict),
            processed=rec.flag("processed"), dropped=rec.flag("dropped"),
        )
        _put(self.messages, message.uuid, message, f"{rec.path}.uuid")
        return message

    def _episodes(self, graph_rec: _Rec) -> None:
        graph = self.graphs[graph_rec.text("uuid")]
        for rec in graph_rec.objs("episodes"):
            episode = Episode(
                uuid=rec.text("uuid"), graph=graph, content=rec.text("content"), source=rec.text("source"),
                reference_time=rec.time("reference_time", null=True), created_at=rec.time("created_at"),
                source_description=rec.text("source_description", null=True),
                document_id=rec.text("document_id", null=True), metadata=rec.json("metadata", dict),
                thread=self.ref(self.threads, rec, "thread", "thread"), role=rec.text("role", null=True),
                role_name=rec.text("role_name", null=True), message=self.ref(self.messages, rec, "message", "message"),
                processed=rec.flag("processed"), processed_at=rec.time("processed_at", null=True),
                dropped=rec.flag("dropped"),
            )
            if episode.processed and not episode.dropped and (episode.processed_at is None or episode.reference_time is None):
                raise _bad(rec.path, "a processed episode has a processed_at and a reference_time")
            _put(self.episodes, episode.uuid, episode, f"{rec.path}.uuid")
            graph.episodes.append(episode)

    # -- batches, items, tasks, the queue --------------------------------------------------------

    def _batches(self) -> list[Batch]:
        listed = []
        for rec in self.rec.objs("batches"):
            batch = Batch(
                uuid=rec.text("uuid"), serial=rec.integer("serial"),
                created_at=rec.time("created_at"), updated_at=rec.time("updated_at"),
                metadata=rec.json("metadata", dict), ignore_roles=self._strings(rec, "ignore_roles"),
                strict_ontology=rec.flag("strict_ontology", null=True), status=rec.choice("status", BatchStatus),
                processed_at=rec.time("processed_at", null=True), started_at=rec.time("started_at", null=True),
                completed_at=rec.time("completed_at", null=True), invalid_items=self._indexes(rec, "invalid_items"),
                task_uuid=rec.text("task", null=True),
            )
            _put(self.batches, batch.uuid, batch, f"{rec.path}.uuid")
            batch.items = [self._item(item_rec, batch, i) for i, item_rec in enumerate(rec.objs("items"))]
            _count(batch)
            if rec.flag("listed"):
                listed.append(batch)
        return listed

    @staticmethod
    def _strings(rec: _Rec, key: str) -> list[str] | None:
        values = rec.array(key, null=True)
        if values is not None and not all(isinstance(v, str) for v in values):
            raise _bad(f"{rec.path}.{key}", "expected an array of strings")
        return None if values is None else list(values)

    @staticmethod
    def _indexes(rec: _Rec, key: str) -> list[int] | None:
        values = rec.array(key, null=True)
        if values is not None and not all(type(v) is int for v in values):
            raise _bad(f"{rec.path}.{key}", "expected an array of integers")
        return None if values is None else list(values)

    def _item(self, rec: _Rec, batch: Batch, index: int) -> Item:
        if rec.integer("sequence_index") != index:
            raise _bad(f"{rec.path}.sequence_index", f"expected {index}: items are listed in sequence order")
        status = rec.choice("status", ItemStatus)
        held = status is ItemStatus.PROCESSING
        item = Item(
            uuid=rec.text("uuid"), batch=batch, sequence_index=index, input=self._input(rec.obj("input")),
            created_at=rec.time("created_at"), updated_at=rec.time("updated_at"),
            status=ItemStatus.QUEUED if held else status, started_at=None if held else rec.time("started_at", null=True),
            graph=self.ref(self.graphs, rec, "graph", "graph"), thread=self.ref(self.threads, rec, "thread", "thread"),
            episode=self.ref(self.episodes, rec, "episode", "episode"),
            message=self.ref(self.messages, rec, "message", "message"), error=rec.json("error", dict),
        )
        self._check_item(rec, item)
        _put(self.items, item.uuid, item, f"{rec.path}.uuid")
        return item

    @staticmethod
    def _check_item(rec: _Rec, item: Item) -> None:
        """The invariants the processor relies on."""
        status, batch_status = item.status, item.batch.status
        if status is ItemStatus.PENDING and batch_status not in (BatchStatus.DRAFT, BatchStatus.INVALID):
            raise _bad(f"{rec.path}.status", f"a pending item in a {batch_status.value} batch")
        if status is not ItemStatus.QUEUED:
            return
        if batch_status not in (BatchStatus.QUEUED, BatchStatus.PROCESSING):
            raise _bad(f"{rec.path}.status", f"a queued item in a {batch_status.value} batch")
        if item.graph is None:
            raise _bad(f"{rec.path}.graph", "a queued item needs its destination graph")
        if item.kind is ItemKind.THREAD_MESSAGE and (item.thread is None or item.message is None):
            raise _bad(rec.path, "a queued thread message needs its thread and message")
        if item.kind is ItemKind.GRAPH_EPISODE and item.episode is None:
            raise _bad(f"{rec.path}.episode", "a queued graph episode needs its episode")

    @staticmethod
    def _input(rec: _Rec) -> ItemInput:
        target = rec.obj("target")
        return ItemInput(
            kind=rec.choice("kind", ItemKind),
            target=Ref(target.choice("kind", TargetKind), target.choice("space", KeySpace), target.text("value")),
            data=rec.text("data"), data_type=rec.text("data_type", null=True), role=rec.text("role", null=True),
            name=rec.text("name", null=True), metadata=rec.json("metadata", dict),
            reference_time=rec.time("reference_time", null=True), document_id=rec.text("document_id", null=True),
            source_description=rec.text("source_description", null=True),
        )

    def _tasks(self) -> list[Task]:
        tasks = []
        for rec in self.rec.objs("tasks"):
            task = Task(uuid=rec.text("uuid"), type=rec.text("type"), created_at=rec.time("created_at"),
                        batch=self.ref(self.batches, rec, "batch", "batch"))
            _put(self.tasks, task.uuid, task, f"{rec.path}.uuid")
            tasks.append(task)
        return tasks

    def _check_batch_tasks(self) -> None:
        for rec, batch in zip(self.rec.objs("batches"), self.batches.values()):
            if batch.task_uuid is not None and batch.task_uuid not in self.tasks:
                raise _bad(f"{rec.path}.task", f"no task has uuid {batch.task_uuid!r}")

    def _queue(self) -> list[Item]:
        """The work queue, flattened (see :func:`_waiting`): queued items, and finished ones
        (canceled while waiting) that still hold their turn."""
        path = f"{self.rec.path}.queue"
        queue: list[Item] = []
        placed: set[str] = set()
        for i, uuid in enumerate(self.rec.array("queue")):
            item = self.items.get(uuid) if isinstance(uuid, str) else None
            if item is None or item.status is ItemStatus.PENDING or item.graph is None:
                raise _bad(f"{path}[{i}]", f"{uuid!r} is not an item of this tenant that was queued")
            if uuid in placed:
                raise _bad(f"{path}[{i}]", f"item {uuid!r} is queued twice")
            placed.add(uuid)
            queue.append(item)
        # a queued item the list does not place goes last, in batch and sequence order
        queue += [i for i in self.items.values() if i.status is ItemStatus.QUEUED and i.uuid not in placed]
        return queue

    # -- the Synap desk ----------------------------------------------------------------------

    def _desk(self, service: Service) -> _Desk | None:
        rec = self.rec.obj("memories", null=True)
        if service is Service.ZEP:
            if rec is not None:
                raise _bad(f"{self.rec.path}.memories", "a Zep tenant has no memories desk")
            return None
        if rec is None:
            raise _bad(f"{self.rec.path}.memories", "a Synap tenant needs its memories desk")
        receipts: dict[str, Receipt] = {}
        documents: set[str] = set()
        for r in rec.objs("receipts"):
            receipt = Receipt(uuid=r.text("uuid"), document_id=r.text("document_id"), queued_at=r.time("queued_at"),
                              item=self.ref(self.items, r, "item", "item"), error=r.text("error", null=True))
            if receipt.item is not None:
                if receipt.document_id in documents:
                    raise _bad(f"{r.path}.document_id", f"document_id {receipt.document_id!r} is stored twice")
                documents.add(receipt.document_id)
            _put(receipts, receipt.uuid, receipt, f"{r.path}.uuid")
        return _Desk(rec.choice("isolation", Isolation), list(receipts.values()), rec.json("telemetry", list))


def _count(batch: Batch) -> None:
    """The per-status counters and ``finished``, from the items."""
    counts = {s: 0 for s in ItemStatus}
    for item in batch.items:
        counts[item.status] += 1
    batch.counts = counts
    batch.finished = sum(counts[s] for s in TERMINAL_ITEM)


# -- installing (cannot fail) -------------------------------------------------------------------


def _install_all(world: "World", built: list[_Built]) -> list[Tenant]:
    tenants = [_install(world, b) for b in built]
    for tenant, b in zip(tenants, built):
        _resume(world, tenant, b.queue)
    return tenants


def _install(world: "World", built: _Built) -> Tenant:
    registry = world.tenants
    old = registry.find(built.service, built.key)
    if old is not None:
        registry.drop(old)
    key_clock = registry.clock_of(built.key)
    if built.clock is None:
        key_clock.follow_server()
    else:
        _restore_clock(key_clock.own(), built.clock)
    isolation = built.desk.isolation if built.desk is not None else registry.isolation
    tenant = Tenant(built.key, built.service, key_clock, built.ids, world.processor, world.knowledge, isolation,
                    registry.faults)
    tenant.work.mode = built.mode
    _fill_store(tenant, built)
    tenant.batches = {b.uuid: b for b in built.batches}
    tenant.tasks = {t.uuid: t for t in built.tasks}
    tenant.next_serial = built.next_serial
    if built.desk is not None:
        _fill_desk(tenant, built.desk)
    if built.rate_limit is not None:
        tenant.rate_limit = TokenBucket.full(*built.rate_limit, tenant.clock.now())
    registry.adopt(tenant)
    return tenant


def _fill_store(tenant: Tenant, built: _Built) -> None:
    """The store's indexes, from the live (not deleted) records, in the dumped order."""
    store = tenant.store
    for user in built.users:
        if not user.deleted:
            store.users_by_uuid[user.uuid] = user
            store.users_by_id[user.user_id] = user
    for graph in built.graphs:
        if graph.deleted:
            continue
        store.graphs_by_uuid[graph.uuid] = graph
        if graph.user is None:
            store.graphs_by_id[graph.graph_id] = graph  # type: ignore[index]
        for episode in graph.episodes:
            if not episode.dropped:
                store.episodes_by_uuid[episode.uuid] = episode
    for thread in built.threads:
        if not thread.deleted:
            store.threads_by_uuid[thread.uuid] = thread
            store.threads_by_id[thread.thread_id] = thread


def _fill_desk(tenant: Tenant, desk: _Desk) -> None:
    memories = tenant.memories
    assert memories is not None  # a Synap tenant
    memories.isolation = desk.isolation
    for receipt in desk.receipts:
        memories.receipts[receipt.uuid] = receipt
        if receipt.item is not None:
            memories.by_document[receipt.document_id] = receipt
    memories.telemetry.extend(desk.telemetry)


def _resume(world: "World", tenant: Tenant, queue: list[Item]) -> None:
    """Put the waiting items back in line and start what the tenant's mode says runs now. In
    realtime mode without a running loop the items wait for the next kick."""
    if not queue:
        return
    tenant.work.extend(queue)
    if tenant.work.mode is ProcessingMode.REALTIME:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
    world.processor.kick(tenant.work)
