"""Zep v2 graph reads and live adds, as zep-cloud 3.30.0 speaks them, under ``/api/v2``.

Reads: ``graph.episode.get_by_graph_id`` / ``get_by_user_id`` (``GET
/graph/episodes/{graph|user}/{id}?lastn=``, ``{"episodes": [...]}``) and their paged
``list_by_*`` twins (``POST`` on the same paths), ``graph.episode.get``;
``graph.edge.get_by_graph_id`` / ``get_by_user_id`` (``POST /graph/edge/{graph|user}/{id}``)
and ``graph.edge.get``; ``graph.node.get_by_graph_id`` / ``get_by_user_id`` and
``graph.node.get``. The paged lists answer a bare JSON array and put the next page's opaque
cursor in the ``Zep-Next-Cursor`` response header (absent on the last page); the body takes
``limit`` (absent: every record, "Returns all edges for a graph"), ``cursor``, ``order_by``,
``direction`` and the deprecated ``uuid_cursor`` (the uuid of the last record seen).
``filters`` (v2 ``SearchFilters``) is not implemented: a non-empty one is refused with 400
rather than ignored.

v2 names an episode's reference time ``created_at`` (the item field it came from), and its
author ``role`` (name) and ``role_type`` (role).

Live adds, each a batch of its own (core ``Tenant.add_live``): ``graph.add`` (``POST
/graph``, answers the ``Episode``) and ``thread.add_messages`` (``POST
/threads/{id}/messages``, ``{message_uuids, task_id}``, at most 30 messages) are unlisted; the
deprecated ``graph.add_batch`` (``POST /graph-batch``, a bare array of episodes, each with
``task_id``) and ``thread.add_messages_batch`` (``POST /threads/{id}/messages-batch``) create
Batch API batches that ``batch.list`` shows (v3 changelog 2026-10-04).
"""

from __future__ import annotations

from typing import Any, Optional

from aiohttp import web
from pydantic import Field, StrictBool, StrictStr
from typing_extensions import TypedDict

from ..core.batches import KeySpace, Ref, TargetKind
from ..core.errors import InvalidInput
from ..core.graph import Episode, Graph, GraphStore
from ..core.knowledge import GraphKnowledge
from ..core.limits import MAX_ITEMS_PER_ADD, MAX_MESSAGES_PER_ADD
from ..core.tasks import Task
from ..core.temporal import Edge, Entity
from ..core.timestamps import format_rfc3339 as ts
from .cursors import decode_cursor, encode_cursor
from .graph_listing import (
    EDGE_ORDERS,
    EPISODE_ORDERS,
    NODE_ORDERS,
    EdgeFields,
    degrees,
    direction,
    edge_fields,
    edges_in_order,
    episodes_in_order,
    node_episodes,
    node_labels,
    node_summary,
    nodes_in_order,
    order_name,
    page,
)
from .http import Route, Timestamp, int_param, json_response, query_int, read_model, tenant_of
from .zep_common import Body, Role, V2_NAMES, item_input

MAX_GRAPH_PAGE = 100
NEXT_CURSOR = "Zep-Next-Cursor"


class EpisodeData(Body):
    """3.30.0 ``EpisodeData``: one episode of ``graph.add_batch``."""

    data: StrictStr
    type: StrictStr
    created_at: Optional[StrictStr] = None
    metadata: Optional[Any] = None
    source_description: Optional[StrictStr] = None


class AddEpisodeRequest(EpisodeData):
    """``graph.add``: an episode and its target; ``type`` is text, json or message (3.30.0
    ``GraphDataType`` also lists fact_triple, which has its own call, ``add_fact_triple``, so
    it is refused here)."""

    graph_id: Optional[StrictStr] = None
    user_id: Optional[StrictStr] = None
    document_id: Optional[StrictStr] = None
    strict_ontology: Optional[StrictBool] = None


class AddBatchRequest(Body):
    episodes: list[EpisodeData] = Field(min_length=1, max_length=MAX_ITEMS_PER_ADD)
    graph_id: Optional[StrictStr] = None
    user_id: Optional[StrictStr] = None
    document_id: Optional[StrictStr] = None
    strict_ontology: Optional[StrictBool] = None


class MessageIn(Body):
    content: StrictStr
    role: Role
    name: Optional[StrictStr] = None
    created_at: Optional[StrictStr] = None
    metadata: Optional[Any] = None


class AddMessagesRequest(Body):
    messages: list[MessageIn] = Field(min_length=1, max_length=MAX_MESSAGES_PER_ADD)
    ignore_roles: Optional[list[Role]] = None
    return_context: Optional[StrictBool] = None
    strict_ontology: Optional[StrictBool] = None


class AddMessagesBatchRequest(AddMessagesRequest):
    messages: list[MessageIn] = Field(min_length=1, max_length=MAX_ITEMS_PER_ADD)


class ListRequest(Body):
    cursor: Optional[StrictStr] = None
    direction: Optional[StrictStr] = None
    limit: Optional[int] = Field(default=None, ge=1, le=MAX_GRAPH_PAGE)
    order_by: Optional[StrictStr] = None
    uuid_cursor: Optional[StrictStr] = None
    filters: Optional[Any] = None
    mentioned_node_uuids: Optional[list[StrictStr]] = None
    episode_metadata_filters: Optional[Any] = None


# -- serialisation -----------------------------------------------------------------------------


class EpisodeRecord(TypedDict):
    """3.30.0 ``Episode`` (no search scores here): ``created_at`` is the reference time,
    ``role`` the author's name and ``role_type`` its role (message episodes only);
    ``task_id`` is set on the answers of the live adds."""

    uuid: str
    content: str
    created_at: Timestamp
    processed: bool
    source: str
    source_description: Optional[str]
    role: Optional[str]
    role_type: Optional[str]
    thread_id: Optional[str]
    task_id: Optional[str]
    document_id: Optional[str]
    metadata: Optional[dict[str, Any]]


def episode_json(e: Episode, task_id: str | None = None) -> EpisodeRecord:
    return {
        "uuid": e.uuid,
        "content": e.content,
        "created_at": ts(e.reported_time),
        "processed": e.processed,
        "source": e.source,
        "source_description": e.source_description,
        "role": e.role_name,
        "role_type": e.role,
        "thread_id": e.thread.thread_id if e.thread is not None else None,
        "task_id": task_id,
        "document_id": e.document_id,
        "metadata": e.metadata,
    }


class EntityEdge(EdgeFields):
    """3.30.0 ``EntityEdge`` (no search scores, no ``hyperedge_uuid``)."""

    episodes: list[str]


def edge_json(edge: Edge) -> EntityEdge:
    """``EntityEdge``: the shared fields and the episodes that asserted it."""
    return {**edge_fields(edge), "episodes": list(edge.episodes)}


class EntityNode(TypedDict):
    """3.30.0 ``EntityNode`` (no search scores): ``episodes`` newest first, empty and
    ``episodes_truncated`` when there are over 100; ``degree`` on every node."""

    uuid: str
    name: str
    summary: str
    labels: list[str]
    attributes: dict[str, Any]
    created_at: Timestamp
    episodes: list[str]
    episodes_truncated: bool
    degree: int


def node_json(node: Entity, knowledge: GraphKnowledge, degree: int) -> EntityNode:
    episodes, truncated = node_episodes(node)
    return {
        "uuid": node.uuid,
        "name": node.name,
        "summary": node_summary(node, knowledge.facts),
        "labels": node_labels(node),
        "attributes": {},
        "created_at": ts(node.created_at),
        "episodes": episodes,
        "episodes_truncated": truncated,
        "degree": degree,
    }


# -- helpers -----------------------------------------------------------------------------------


def _graph(request: web.Request) -> Graph:
    """The graph a ``.../graph/{graph_id}`` or ``.../user/{user_id}`` path names."""
    store = tenant_of(request).store
    if "user_id" in request.match_info:
        return store.user(KeySpace.CLIENT_ID, request.match_info["user_id"]).graph
    return store.graph(KeySpace.CLIENT_ID, request.match_info["graph_id"])


def _paged(request: web.Request, body: ListRequest, records: list[Any], scope: str,
           uuid_of: Any, render: Any) -> web.Response:
    """A bare array of one page, the next cursor in ``Zep-Next-Cursor``."""
    if body.cursor:
        start = decode_cursor(scope, body.cursor)
    elif body.uuid_cursor:
        positions = {uuid_of(r): k for k, r in enumerate(records)}
        if body.uuid_cursor not in positions:
            raise InvalidInput("invalid_cursor", f"uuid_cursor {body.uuid_cursor!r} is not in this listing", param="uuid_cursor")
        start = positions[body.uuid_cursor] + 1
    else:
        start = 0
    chunk, following = page(records, start, body.limit)
    headers = {NEXT_CURSOR: encode_cursor(scope, following)} if following is not None else None
    return json_response([render(r) for r in chunk], headers=headers)


def _no_filters(body: ListRequest) -> None:
    for name in ("filters", "mentioned_node_uuids", "episode_metadata_filters"):
        if getattr(body, name):
            raise InvalidInput("unsupported_filter", f"{name} is not supported by the emulator's v2 lists", param=name)


async def _read_list(request: web.Request) -> ListRequest:
    body: ListRequest = await read_model(request, ListRequest)
    _no_filters(body)
    return body


# -- live adds ---------------------------------------------------------------------------------


def _check_type(data_type: str, param: str) -> str:
    if data_type not in ("text", "json", "message"):
        raise InvalidInput("invalid_request", f"{param} must be text, json or message; got {data_type!r}", param=param)
    return data_type


def _check_target_exists(store: GraphStore, target: Ref) -> None:
    """A live add names an existing graph or user (404 otherwise; nothing is stored)."""
    if target.kind is TargetKind.USER:
        store.user(KeySpace.CLIENT_ID, target.value)
    else:
        store.graph(KeySpace.CLIENT_ID, target.value)


def _target(graph_id: str | None, user_id: str | None) -> dict[str, Any]:
    if (graph_id is None) == (user_id is None):
        raise InvalidInput("invalid_target", "give exactly one of graph_id and user_id", param="graph_id")
    return {"graph": graph_id} if graph_id is not None else {"user": user_id}


async def add_episode(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    body: AddEpisodeRequest = await read_model(request, AddEpisodeRequest)
    fields = {"type": "graph_episode", **_target(body.graph_id, body.user_id), "data": body.data,
              "data_type": _check_type(body.type, "type"), "reference_time": body.created_at,
              "metadata": body.metadata, "source_description": body.source_description, "document_id": body.document_id}
    sent = item_input(None, fields, KeySpace.CLIENT_ID, V2_NAMES, {})  # type: ignore[arg-type]
    _check_target_exists(tenant.store, sent.target)
    items, task = tenant.add_live([sent], "graph.add")
    return json_response(episode_json(items[0].episode, task.uuid))


async def add_batch(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    body: AddBatchRequest = await read_model(request, AddBatchRequest)
    target = _target(body.graph_id, body.user_id)
    refs: dict[Any, Ref] = {}
    inputs = [
        item_input(i, {"type": "graph_episode", **target, "data": e.data, "data_type": _check_type(e.type, f"episodes[{i}].type"),
                       "reference_time": e.created_at, "metadata": e.metadata, "source_description": e.source_description,
                       "document_id": body.document_id},
                   KeySpace.CLIENT_ID, V2_NAMES, refs, label="episodes")
        for i, e in enumerate(body.episodes)
    ]
    _check_target_exists(tenant.store, inputs[0].target)
    items, task = tenant.add_live(inputs, "graph.add_batch", listed=True)
    return json_response([episode_json(item.episode, task.uuid) for item in items])


async def _add_messages(request: web.Request, model: type[AddMessagesRequest], task_type: str, listed: bool) -> web.Response:
    tenant = tenant_of(request)
    thread = tenant.store.thread(KeySpace.CLIENT_ID, request.match_info["thread_id"])
    body: AddMessagesRequest = await read_model(request, model)
    refs: dict[Any, Ref] = {}
    inputs = [
        item_input(i, {"type": "thread_message", "thread": thread.thread_id, "content": m.content, "role": m.role,
                       "name": m.name, "metadata": m.metadata, "reference_time": m.created_at},
                   KeySpace.CLIENT_ID, V2_NAMES, refs, label="messages")
        for i, m in enumerate(body.messages)
    ]
    items, task = tenant.add_live(inputs, task_type, listed=listed, ignore_roles=body.ignore_roles)
    return json_response(_messages_response(items, task))


class AddThreadMessagesResponse(TypedDict):
    """3.30.0 ``AddThreadMessagesResponse``."""

    message_uuids: list[str]
    task_id: str
    context: Optional[str]


def _messages_response(items: list[Any], task: Task) -> AddThreadMessagesResponse:
    """3.30.0 ``AddThreadMessagesResponse``; ``context`` stays null (no memory context here)."""
    return {"message_uuids": [item.message.uuid for item in items], "task_id": task.uuid, "context": None}


async def add_messages(request: web.Request) -> web.Response:
    return await _add_messages(request, AddMessagesRequest, "thread.add_messages", listed=False)


async def add_messages_batch(request: web.Request) -> web.Response:
    return await _add_messages(request, AddMessagesBatchRequest, "thread.add_messages_batch", listed=True)


# -- reads -------------------------------------------------------------------------------------


class EpisodeResponse(TypedDict):
    """3.30.0 ``EpisodeResponse``."""

    episodes: list[EpisodeRecord]


async def get_episodes(request: web.Request) -> web.Response:
    """``get_by_graph_id`` / ``get_by_user_id``: every episode, oldest first, or the ``lastn``
    most recent."""
    episodes = _graph(request).live_episodes()
    lastn = query_int(request, "lastn", None, 1, None)
    if lastn is not None:
        episodes = episodes[-lastn:]
    body: EpisodeResponse = {"episodes": [episode_json(e) for e in episodes]}
    return json_response(body)


async def list_episodes(request: web.Request) -> web.Response:
    graph = _graph(request)
    body = await _read_list(request)
    order_by = order_name(body.order_by, EPISODE_ORDERS, "order_by")
    descending = direction(body.direction, "direction")
    listed = episodes_in_order(graph.live_episodes(), order_by, descending)
    return _paged(request, body, listed, f"v2-episodes:{graph.uuid}:{order_by}:{descending}", lambda e: e.uuid, episode_json)


async def get_episode(request: web.Request) -> web.Response:
    return json_response(episode_json(tenant_of(request).store.episode(request.match_info["uuid"])))


async def list_edges(request: web.Request) -> web.Response:
    graph = _graph(request)
    body = await _read_list(request)
    order_by = order_name(body.order_by, EDGE_ORDERS, "order_by")
    descending = direction(body.direction, "direction")
    listed = edges_in_order(tenant_of(request).knowledge(graph).edges(), order_by, descending)
    return _paged(request, body, listed, f"v2-edges:{graph.uuid}:{order_by}:{descending}", lambda e: e.uuid, edge_json)


async def get_edge(request: web.Request) -> web.Response:
    _, edge = tenant_of(request).find_edge(request.match_info["uuid"])
    return json_response(edge_json(edge))


async def list_nodes(request: web.Request) -> web.Response:
    graph = _graph(request)
    body = await _read_list(request)
    knowledge = tenant_of(request).knowledge(graph)
    order_by = order_name(body.order_by, NODE_ORDERS, "order_by")
    descending = direction(body.direction, "direction")
    degree = degrees(knowledge.edges())
    listed = nodes_in_order(knowledge.entities(), order_by, descending, degree)
    return _paged(request, body, listed, f"v2-nodes:{graph.uuid}:{order_by}:{descending}", lambda n: n.uuid,
                  lambda n: node_json(n, knowledge, degree.get(n.uuid, 0)))


async def get_node(request: web.Request) -> web.Response:
    knowledge, node = tenant_of(request).find_node(request.match_info["uuid"])
    return json_response(node_json(node, knowledge, degrees(knowledge.edges()).get(node.uuid, 0)))


LASTN = (int_param("lastn", 1, description="only the n most recent episodes"),)

GRAPH_ROUTES = [
    # 404: the body's graph_id or user_id names no graph or user.
    Route("POST", "/graph", add_episode, "graph.add", AddEpisodeRequest, response=EpisodeRecord, errors=(404,)),
    Route("POST", "/graph-batch", add_batch, "graph.add_batch", AddBatchRequest, response=list[EpisodeRecord],
          errors=(404,)),
    Route("GET", "/graph/episodes/graph/{graph_id}", get_episodes, "graph.episode.get_by_graph_id",
          response=EpisodeResponse, query=LASTN),
    Route("POST", "/graph/episodes/graph/{graph_id}", list_episodes, "graph.episode.list_by_graph_id", ListRequest,
          response=list[EpisodeRecord]),
    Route("GET", "/graph/episodes/user/{user_id}", get_episodes, "graph.episode.get_by_user_id",
          response=EpisodeResponse, query=LASTN),
    Route("POST", "/graph/episodes/user/{user_id}", list_episodes, "graph.episode.list_by_user_id", ListRequest,
          response=list[EpisodeRecord]),
    Route("GET", "/graph/episodes/{uuid}", get_episode, "graph.episode.get", response=EpisodeRecord),
    Route("POST", "/graph/edge/graph/{graph_id}", list_edges, "graph.edge.get_by_graph_id", ListRequest,
          response=list[EntityEdge]),
    Route("POST", "/graph/edge/user/{user_id}", list_edges, "graph.edge.get_by_user_id", ListRequest,
          response=list[EntityEdge]),
    Route("GET", "/graph/edge/{uuid}", get_edge, "graph.edge.get", response=EntityEdge),
    Route("POST", "/graph/node/graph/{graph_id}", list_nodes, "graph.node.get_by_graph_id", ListRequest,
          response=list[EntityNode]),
    Route("POST", "/graph/node/user/{user_id}", list_nodes, "graph.node.get_by_user_id", ListRequest,
          response=list[EntityNode]),
    Route("GET", "/graph/node/{uuid}", get_node, "graph.node.get", response=EntityNode),
    Route("POST", "/threads/{thread_id}/messages", add_messages, "thread.add_messages", AddMessagesRequest,
          response=AddThreadMessagesResponse),
    Route("POST", "/threads/{thread_id}/messages-batch", add_messages_batch, "thread.add_messages_batch",
          AddMessagesBatchRequest, response=AddThreadMessagesResponse),
]
