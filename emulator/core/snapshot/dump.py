"""Dumping: records to snapshot data, laid out as the package docstring (and ``schema.py``)
says. Plain dicts are built directly — a 10,000-item batch dumps in a few tens of ms — and
share nothing with the records: JSON values (metadata, errors, telemetry) are copied."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..batches import Batch, Item, ItemInput, ItemStatus
from ..clock import EmulatorClock, KeyClock
from ..errors import NotFound
from ..graph import Episode, Graph, Message, Thread, User
from ..tasks import Task
from ..tenants import Tenant
from ..timestamps import format_rfc3339
from .reach import all_batches, reachable, swept_messages, waiting
from .schema import FORMAT, VERSION

if TYPE_CHECKING:
    from ..world import World

JSON = dict[str, Any]


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
    batches = all_batches(tenant)
    users, graphs, threads = reachable(tenant, batches)
    swept = swept_messages(threads.values(), batches, graphs.values())
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
        "queue": [item.uuid for item in waiting(tenant, batches)],
        "tasks": [_task_record(t) for t in tenant.tasks.values()],
        "memories": _desk_record(tenant),
    }


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
