"""How Zep v4 names and shows records: the lookups by path uuid, and every record's JSON shape
(zep-cloud 4.0.1 types; responses are a superset of the SDK's models, which allow extra keys).

``Batch`` also carries ``item_count``, ``updated_at``, ``processed_at``, ``completed_at`` and
``ignore_roles``; a failed ``BatchItem`` carries ``error: {code, message}`` as the 2026-11-08
changelog describes.
"""

from __future__ import annotations

from typing import Any, Generic, Literal, Optional, TypeVar

from aiohttp import web
from typing_extensions import NotRequired, TypedDict

from ..core.batches import Batch, BatchStatus, Item, ItemKind, ItemStatus, KeySpace
from ..core.graph import Episode, Graph, Message, Thread, User
from ..core.knowledge import GraphKnowledge
from ..core.tasks import Task, batch_stage
from ..core.temporal import Edge, Entity
from ..core.timestamps import format_rfc3339 as ts
from .cursors import decode_cursor, encode_cursor
from .graph_listing import EdgeFields, edge_fields, node_episodes, node_labels, node_summary
from .http import MaybeTimestamp, Timestamp, str_param, tenant_of
from .zep_common import check_uuid, item_targets


# -- record shapes (the response types of the OpenAPI document) --------------------------------

R = TypeVar("R")
Stage = Literal["queued", "processing", "completed"]


class Page(TypedDict, Generic[R]):
    """A page of a v4 list (4.0.1 ``BatchPage``, ``BatchItemPage``, ``EpisodePage``, ...):
    ``next_cursor`` absent on the last page; ``total_size`` set, except on episode, edge and
    node pages, whose 4.0.1 models say "Omitted for this collection; use next_cursor to
    detect the end of pagination"."""

    items: list[R]
    total_size: NotRequired[int]
    next_cursor: NotRequired[str]


class BatchProgress(TypedDict):
    stage: Stage
    total_items: int
    processing_items: int
    succeeded_items: int
    failed_items: int


class BatchRecord(TypedDict):
    """4.0.1 ``Batch``, plus ``item_count``, the four timestamps and ``ignore_roles``."""

    uuid: str
    status: BatchStatus
    metadata: Optional[dict[str, Any]]
    strict_ontology: Optional[bool]
    ignore_roles: Optional[list[str]]
    item_count: int
    created_at: Timestamp
    updated_at: MaybeTimestamp
    processed_at: MaybeTimestamp
    completed_at: MaybeTimestamp
    progress: NotRequired[BatchProgress]
    invalid_items: NotRequired[list[int]]


class ItemError(TypedDict):
    code: str
    message: str


class ItemRecord(TypedDict):
    """4.0.1 ``BatchItem``: fields with no value are left out."""

    uuid: str
    type: ItemKind
    status: ItemStatus
    sequence_index: int
    created_at: Timestamp
    source_uuid: NotRequired[str]
    episode_uuid: NotRequired[str]
    graph_uuid: NotRequired[str]
    user_uuid: NotRequired[str]
    thread_uuid: NotRequired[str]
    error: NotRequired[ItemError]


class TaskProgress(TypedDict):
    stage: Stage


class TaskResultEpisode(TypedDict):
    episode_uuid: str


class TaskOutput(TypedDict, total=False):
    """4.0.1 ``TaskResult``, the fields a live add fills: ``episode_uuid`` "The UUID of the
    episode that the task added"; ``episodes`` one entry per "message that the task added"."""

    episode_uuid: str
    episodes: list[TaskResultEpisode]


class TaskRecord(TypedDict):
    """4.0.1 ``Task``: it follows a batch (``batch.process``, live adds) or is done at once
    (deletes). ``started_at`` is "absent until" a worker begins it, ``completed_at`` "absent
    while it is still in progress"; ``result`` is "populated once the task reaches succeeded
    or partial"."""

    uuid: str
    type: str
    status: Literal["pending", "processing", "succeeded", "partial", "failed"]
    progress: TaskProgress
    error: Optional[ItemError]
    created_at: Timestamp
    started_at: NotRequired[Timestamp]
    completed_at: NotRequired[Timestamp]
    updated_at: MaybeTimestamp
    result: NotRequired[TaskOutput]


class TaskResult(TypedDict):
    """A user, graph or thread delete's 202 body (``UserDeleteResult`` and its siblings)."""

    task: TaskRecord


class UserRecord(TypedDict):
    uuid: str
    user_id: Optional[str]
    graph_uuid: str
    email: Optional[str]
    first_name: Optional[str]
    last_name: Optional[str]
    metadata: Optional[dict[str, Any]]
    time_zone: Optional[str]
    disable_default_ontology: Optional[bool]
    created_at: Timestamp


class GraphRecord(TypedDict):
    uuid: str
    graph_id: Optional[str]
    name: Optional[str]
    description: Optional[str]
    type: str
    user_uuid: Optional[str]
    time_zone: Optional[str]
    created_at: Timestamp
    updated_at: MaybeTimestamp


class ThreadRecord(TypedDict):
    uuid: str
    thread_id: Optional[str]
    user_uuid: str
    graph_uuid: str
    created_at: Timestamp
    updated_at: MaybeTimestamp


class MessageRecord(TypedDict):
    uuid: str
    thread_uuid: str
    content: str
    role: str
    name: Optional[str]
    metadata: Optional[dict[str, Any]]
    processed: bool
    reference_time: MaybeTimestamp
    created_at: Timestamp


class EpisodeRecord(TypedDict):
    uuid: str
    content: str
    source: str
    source_description: Optional[str]
    processed: bool
    reference_time: MaybeTimestamp
    created_at: Timestamp
    graph_uuid: str
    user_uuid: Optional[str]
    thread_uuid: Optional[str]
    role: Optional[str]
    role_name: Optional[str]
    document_id: Optional[str]
    metadata: Optional[dict[str, Any]]


class EdgeRecord(EdgeFields):
    """4.0.1 ``Edge``."""

    episode_uuids: list[str]
    graph_uuid: str
    user_uuid: Optional[str]


class NodeRecord(TypedDict):
    """4.0.1 ``Node``."""

    uuid: str
    name: str
    labels: list[str]
    summary: str
    attributes: dict[str, Any]
    created_at: Timestamp
    episode_uuids: list[str]
    episode_uuids_truncated: bool
    degree: int
    graph_uuid: str
    user_uuid: Optional[str]


# -- serialisation -----------------------------------------------------------------------------


def batch_json(batch: Batch) -> BatchRecord:
    c = batch.counts
    body: BatchRecord = {
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


def item_json(item: Item) -> ItemRecord:
    """A ``BatchItem``; fields with no value are left out, as a Go service with
    ``omitempty`` would, and as the SDK reads them (every field is optional)."""
    graph, user, thread = item_targets(item)
    body: ItemRecord = {
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


def task_json(task: Task) -> TaskRecord:
    body: TaskRecord = {
        "uuid": task.uuid,
        "type": task.type,
        "status": task.status,
        "progress": {"stage": task.stage},
        "error": task.error,
        "created_at": ts(task.created_at),
        "updated_at": ts(task.updated_at),
    }
    if task.started_at is not None:
        body["started_at"] = ts(task.started_at)
    if task.completed_at is not None:
        body["completed_at"] = ts(task.completed_at)
    result = _task_output(task)
    if result is not None:
        body["result"] = result
    return body


def _task_output(task: Task) -> TaskOutput | None:
    """What a finished live add wrote, which its 202 could not say: ``graph.add`` the episode's
    uuid, ``thread.add_messages`` the episode of each message that wrote one (a role in
    ``ignore_roles`` writes none). Other tasks (``batch.process``, deletes) have no documented
    output, so none is made up."""
    if task.batch is None or task.status not in ("succeeded", "partial"):
        return None
    written = [item.episode_uuid for item in task.batch.items if item.status is ItemStatus.SUCCEEDED]
    episodes = [uuid for uuid in written if uuid is not None]
    if task.type == "graph.add":
        return {"episode_uuid": episodes[0]} if episodes else None
    if task.type == "thread.add_messages":
        return {"episodes": [{"episode_uuid": uuid} for uuid in episodes]}
    return None


def user_json(user: User) -> UserRecord:
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


def graph_json(graph: Graph) -> GraphRecord:
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


def thread_json(thread: Thread) -> ThreadRecord:
    return {
        "uuid": thread.uuid,
        "thread_id": thread.thread_id,
        "user_uuid": thread.user.uuid,
        "graph_uuid": thread.user.graph.uuid,
        "created_at": ts(thread.created_at),
        "updated_at": ts(thread.updated_at),
    }


def page_json(items: list[R], scope: str, next_position: int | None, total: int | None) -> Page[R]:
    """One page; *total* None leaves ``total_size`` out."""
    body: Page[R] = {"items": items}
    if total is not None:
        body["total_size"] = total
    if next_position is not None:
        body["next_cursor"] = encode_cursor(scope, next_position)
    return body


#: The opaque ``cursor`` query parameter :func:`cursor_position` reads.
CURSOR_PARAM = str_param("cursor", "the next_cursor of the previous page")


def cursor_position(request: web.Request, scope: str) -> int:
    raw = request.query.get("cursor")
    return 0 if not raw else decode_cursor(scope, raw)


def message_json(m: Message) -> MessageRecord:
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


def episode_json(e: Episode) -> EpisodeRecord:
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


def edge_json(edge: Edge, graph: Graph) -> EdgeRecord:
    """``Edge``: the shared fields, the episodes that asserted it, and its graph."""
    return {
        **edge_fields(edge),
        "episode_uuids": list(edge.episodes),
        "graph_uuid": graph.uuid,
        "user_uuid": graph.user.uuid if graph.user is not None else None,
    }


def node_json(node: Entity, graph: Graph, knowledge: GraphKnowledge, degree: int) -> NodeRecord:
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
