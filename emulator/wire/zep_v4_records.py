"""How Zep v4 names and shows records: the lookups by path uuid, and every record's JSON shape
(zep-cloud 4.0.1 types; responses are a superset of the SDK's models, which allow extra keys).

``Batch`` also carries ``item_count``, ``updated_at``, ``processed_at``, ``completed_at`` and
``ignore_roles``; a failed ``BatchItem`` carries ``error: {code, message}`` as the 2026-11-08
changelog describes.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..core.batches import Batch, Item, ItemStatus, KeySpace
from ..core.graph import Episode, Graph, Message, Thread, User
from ..core.knowledge import GraphKnowledge
from ..core.tasks import Task, batch_stage
from ..core.temporal import Edge, Entity
from ..core.timestamps import format_rfc3339 as ts
from .cursors import decode_cursor, encode_cursor
from .graph_listing import edge_fields, node_episodes, node_labels, node_summary
from .http import tenant_of
from .zep_common import check_uuid, item_targets


# -- serialisation -----------------------------------------------------------------------------


def batch_json(batch: Batch) -> dict[str, Any]:
    c = batch.counts
    body: dict[str, Any] = {
        "uuid": batch.uuid,
        "status": batch.status.value,
        "metadata": batch.metadata,
        "strict_ontology": batch.strict_ontology,
        "ignore_roles": batch.ignore_roles,
        "item_count": len(batch.items),
        "created_at": ts(batch.created_at),
        "updated_at": ts(batch.updated_at),
        "processed_at": ts(batch.processed_at),
        "completed_at": ts(batch.completed_at),
    }
    if batch.processed_at is not None:  # "Present only once processing has started"
        body["progress"] = {
            "stage": batch_stage(batch.status),
            "total_items": len(batch.items),
            "processing_items": c[ItemStatus.PROCESSING],
            "succeeded_items": c[ItemStatus.SUCCEEDED],
            "failed_items": c[ItemStatus.FAILED],
        }
    if batch.invalid_items is not None:
        body["invalid_items"] = batch.invalid_items
    return body


def item_json(item: Item) -> dict[str, Any]:
    """A ``BatchItem``; fields with no value are left out, as a Go service with
    ``omitempty`` would, and as the SDK reads them (every field is optional)."""
    graph, user, thread = item_targets(item)
    body: dict[str, Any] = {
        "uuid": item.uuid,
        "type": item.kind,  # str enums: orjson writes their value
        "status": item.status,
        "sequence_index": item.sequence_index,
        "created_at": ts(item.created_at),
    }
    if item.episode_uuid is not None:
        body["source_uuid"] = body["episode_uuid"] = item.episode_uuid
    if graph is not None:
        body["graph_uuid"] = graph.uuid
    if user is not None:
        body["user_uuid"] = user.uuid
    if thread is not None:
        body["thread_uuid"] = thread.uuid
    named = item.input.target
    if named.space is KeySpace.UUID:  # a reference that does not resolve is echoed as sent
        body.setdefault(f"{named.kind.value}_uuid", named.value)
    if item.error is not None:
        body["error"] = item.error
    return body


def task_json(task: Task) -> dict[str, Any]:
    return {
        "uuid": task.uuid,
        "type": task.type,
        "status": task.status,
        "progress": {"stage": task.stage},
        "error": task.error,
        "created_at": ts(task.created_at),
        "started_at": ts(task.started_at),
        "completed_at": ts(task.completed_at),
        "updated_at": ts(task.updated_at),
    }


def user_json(user: User) -> dict[str, Any]:
    return {
        "uuid": user.uuid,
        "user_id": user.user_id,
        "graph_uuid": user.graph.uuid,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "metadata": user.metadata,
        "time_zone": user.time_zone,
        "disable_default_ontology": user.disable_default_ontology,
        "created_at": ts(user.created_at),
    }


def graph_json(graph: Graph) -> dict[str, Any]:
    return {
        "uuid": graph.uuid,
        "graph_id": graph.graph_id,
        "name": graph.name,
        "description": graph.description,
        "type": graph.type,
        "user_uuid": graph.user.uuid if graph.user is not None else None,
        "time_zone": graph.time_zone,
        "created_at": ts(graph.created_at),
        "updated_at": ts(graph.updated_at),
    }


def thread_json(thread: Thread) -> dict[str, Any]:
    return {
        "uuid": thread.uuid,
        "thread_id": thread.thread_id,
        "user_uuid": thread.user.uuid,
        "graph_uuid": thread.user.graph.uuid,
        "created_at": ts(thread.created_at),
        "updated_at": ts(thread.updated_at),
    }


def page_json(items: list[dict[str, Any]], scope: str, next_position: int | None, total: int) -> dict[str, Any]:
    body: dict[str, Any] = {"items": items, "total_size": total}
    if next_position is not None:
        body["next_cursor"] = encode_cursor(scope, next_position)
    return body


def cursor_position(request: web.Request, scope: str) -> int:
    raw = request.query.get("cursor")
    return 0 if not raw else decode_cursor(scope, raw)


def message_json(m: Message) -> dict[str, Any]:
    return {
        "uuid": m.uuid,
        "thread_uuid": m.thread.uuid,
        "content": m.content,
        "role": m.role,
        "name": m.name,
        "metadata": m.metadata,
        "processed": m.processed,
        "reference_time": ts(m.reported_time),
        "created_at": ts(m.created_at),
    }


def episode_json(e: Episode) -> dict[str, Any]:
    """``Episode``: ``created_at`` is when Zep received it, ``reference_time`` the supplied
    time or, for an item that carried none, its processing time (4.0.1 docstrings)."""
    graph = e.graph
    return {
        "uuid": e.uuid,
        "content": e.content,
        "source": e.source,
        "source_description": e.source_description,
        "processed": e.processed,
        "reference_time": ts(e.reported_time),
        "created_at": ts(e.created_at),
        "graph_uuid": graph.uuid,
        "user_uuid": graph.user.uuid if graph.user is not None else None,
        "thread_uuid": e.thread.uuid if e.thread is not None else None,
        "role": e.role,
        "role_name": e.role_name,
        "document_id": e.document_id,
        "metadata": e.metadata,
    }


def edge_json(edge: Edge, graph: Graph) -> dict[str, Any]:
    """``Edge``: the shared fields, the episodes that asserted it, and its graph."""
    return {
        **edge_fields(edge),
        "episode_uuids": list(edge.episodes),
        "graph_uuid": graph.uuid,
        "user_uuid": graph.user.uuid if graph.user is not None else None,
    }


def node_json(node: Entity, graph: Graph, knowledge: GraphKnowledge, degree: int) -> dict[str, Any]:
    """``Node``: 4.0.1 requires ``episode_uuids`` and ``episode_uuids_truncated``."""
    episodes, truncated = node_episodes(node)
    return {
        "uuid": node.uuid,
        "name": node.name,
        "labels": node_labels(node),
        "summary": node_summary(node, knowledge.facts),
        "attributes": {},
        "created_at": ts(node.created_at),
        "episode_uuids": episodes,
        "episode_uuids_truncated": truncated,
        "degree": degree,
        "graph_uuid": graph.uuid,
        "user_uuid": graph.user.uuid if graph.user is not None else None,
    }


# -- lookups by path uuid -----------------------------------------------------------------------


def batch_of(request: web.Request) -> Batch:
    return tenant_of(request).batch(check_uuid(request.match_info["batch_uuid"], "batch_uuid"))


def user_of(request: web.Request) -> User:
    return tenant_of(request).store.user(KeySpace.UUID, check_uuid(request.match_info["user_uuid"], "user_uuid"))


def graph_of(request: web.Request) -> Graph:
    return tenant_of(request).store.graph(KeySpace.UUID, check_uuid(request.match_info["graph_uuid"], "graph_uuid"))


def thread_of(request: web.Request) -> Thread:
    return tenant_of(request).store.thread(KeySpace.UUID, check_uuid(request.match_info["thread_uuid"], "thread_uuid"))
