"""Zep v4 graph reads and live adds, as zep-cloud 4.0.1 speaks them, under ``/api/v4``.

Reads (what a test uses to check an ingest's outcome):
``graph.episode.list`` (``POST /graphs/{g}/episodes/list``), ``.list_for_document``
(``GET /graphs/{g}/documents/{document_id}/episodes``) and ``.get``,
``graph.edge.list`` (``POST /graphs/{g}/edges/list``) and ``.get``,
``graph.node.list`` (``POST /graphs/{g}/nodes/list``) and ``.get``. Lists take ``page_size``
(edges and nodes: default 50, max 100, per the 4.0.1 docstrings; episodes: our batch limits),
an opaque ``cursor``, ``order_by`` and ``order`` in the query, and ``{"filters": ...}`` in the
body (see graph_listing.py); their pages leave ``total_size`` out, as 4.0.1's page models say.
The ``graph_uuid`` path parameter also takes a user's uuid.

Live adds, each a batch of its own that is not listed (core ``Tenant.add_live``), so its
records go through the same queue and fact pipeline as Batch API items:
``graph.episode.add`` (``POST /graphs/{g}/episodes``, 202 ``{episode, task}``; ``type``
defaults to text) and ``thread.add_messages`` (``POST /threads/{t}/messages``, 202
``{messages, task}``; at most 30 messages per call, wire contract §3; ``ignore_roles``
"Message roles to skip during graph extraction; the messages are still stored").
``task.get`` follows the task until the records are processed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Mapping, Optional, TypeVar

from aiohttp import web
from pydantic import Field, StrictBool, StrictStr
from typing_extensions import TypedDict

from ..core.batches import KeySpace, Ref
from ..core.errors import NotFound
from ..core.graph import Graph
from ..core.knowledge import GraphKnowledge
from ..core.limits import DEFAULT_PAGE_SIZE, MAX_MESSAGES_PER_ADD, MAX_PAGE_SIZE
from .graph_listing import (
    EDGE_FILTERS,
    EDGE_ORDERS,
    EPISODE_FILTERS,
    EPISODE_ORDERS,
    NODE_FILTERS,
    NODE_ORDERS,
    ORDER_PARAM,
    check_filters,
    check_mentions_limit,
    degrees,
    direction,
    MetadataOf,
    edge_matches,
    edge_passes,
    edges_in_order,
    episode_matches,
    episodes_in_order,
    node_matches,
    node_passes,
    nodes_in_order,
    order_by_param,
    order_name,
    page,
)
from .http import Param, Route, int_param, json_response, page_size, page_size_param, query_int, read_model, tenant_of
from .list_predicates import StructuredFilters
from .zep_common import Body, DataType, Role, V4_NAMES, check_uuid, item_input
from .zep_v4_records import (
    CURSOR_PARAM,
    EdgeRecord,
    EpisodeRecord,
    MessageRecord,
    NodeRecord,
    Page,
    TaskRecord,
    cursor_position,
    edge_json,
    episode_json,
    graph_of,
    message_json,
    node_json,
    page_json,
    task_json,
    thread_of,
)

T = TypeVar("T")
#: 4.0.1: "The default ``page_size`` is 50, and the maximum ``page_size`` is 100" (edges, nodes).
MAX_GRAPH_PAGE = 100


class AddEpisodeRequest(Body):
    data: StrictStr
    type: Optional[DataType] = None
    reference_time: Optional[StrictStr] = None
    metadata: Optional[Any] = None
    source_description: Optional[StrictStr] = None
    document_id: Optional[StrictStr] = None
    strict_ontology: Optional[StrictBool] = None


class AddMessage(Body):
    content: StrictStr
    role: Role
    name: Optional[StrictStr] = None
    metadata: Optional[Any] = None
    reference_time: Optional[StrictStr] = None


class AddMessagesRequest(Body):
    messages: list[AddMessage] = Field(min_length=1, max_length=MAX_MESSAGES_PER_ADD)
    ignore_roles: Optional[list[Role]] = None
    return_context: Optional[StrictBool] = None
    strict_ontology: Optional[StrictBool] = None


class ListRequest(Body):
    filters: Optional[Any] = None


class EpisodeAdded(TypedDict):
    """4.0.1 ``graph.episode.add``'s 202 body."""

    episode: EpisodeRecord
    task: TaskRecord


class MessagesAdded(TypedDict):
    """4.0.1 ``thread.add_messages``'s 202 body."""

    messages: list[MessageRecord]
    task: TaskRecord


def _list_query(orders: tuple[str, ...], max_size: int) -> tuple[Param, ...]:
    """The query parameters :func:`_listing` reads."""
    return (int_param("page_size", 1, max_size, f"page size (default {DEFAULT_PAGE_SIZE})"), CURSOR_PARAM,
            order_by_param(orders), ORDER_PARAM)


# -- live adds ---------------------------------------------------------------------------------


async def add_episode(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    graph = graph_of(request)
    body: AddEpisodeRequest = await read_model(request, AddEpisodeRequest)
    fields = {
        "type": "graph_episode",
        "graph": graph.uuid,
        "data": body.data,
        "data_type": body.type or "text",
        "reference_time": body.reference_time,
        "metadata": body.metadata,
        "source_description": body.source_description,
        "document_id": body.document_id,
    }
    sent = item_input(None, fields, KeySpace.UUID, V4_NAMES, {})  # type: ignore[arg-type]
    items, task = tenant.add_live([sent], "graph.add")
    return json_response({"episode": episode_json(items[0].episode), "task": task_json(task)}, status=202)


async def add_messages(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    thread = thread_of(request)
    body: AddMessagesRequest = await read_model(request, AddMessagesRequest)
    refs: dict[Any, Ref] = {}
    inputs = [
        item_input(
            i,
            {"type": "thread_message", "thread": thread.uuid, "content": m.content, "role": m.role, "name": m.name,
             "metadata": m.metadata, "reference_time": m.reference_time},
            KeySpace.UUID,
            V4_NAMES,
            refs,
            label="messages",
        )
        for i, m in enumerate(body.messages)
    ]
    items, task = tenant.add_live(inputs, "thread.add_messages", ignore_roles=body.ignore_roles)
    return json_response({"messages": [message_json(item.message) for item in items], "task": task_json(task)}, status=202)


# -- reads -------------------------------------------------------------------------------------


def _graph_knowledge(request: web.Request) -> tuple[Graph, GraphKnowledge]:
    graph = graph_of(request)
    return graph, tenant_of(request).knowledge(graph)


@dataclass(frozen=True)
class _Listing:
    """What a list call asked for: its filters (checked), page size, order and direction."""

    filters: dict[str, list[str]]
    structured: StructuredFilters
    size: int
    order_by: str
    descending: bool

    def respond(self, request: web.Request, kind: str, graph: Graph, records: list[T], render: Callable[[T], Any]) -> web.Response:
        """One page of *records* (already filtered and ordered) with a cursor scoped to this
        listing, so a cursor from another order or filter is refused."""
        scope = (f"{kind}:{graph.uuid}:{self.order_by}:{self.descending}:{sorted(self.filters.items())}"
                 f":{self.structured.key}")
        return _page_of(request, scope, records, self.size, render)


def _page_of(request: web.Request, scope: str, records: list[T], size: int, render: Callable[[T], Any]) -> web.Response:
    """The page of *records* the request's cursor points at, without ``total_size``: 4.0.1's
    ``EpisodePage``, ``EdgePage`` and ``NodePage`` say it is "Omitted for this collection"."""
    chunk, following = page(records, cursor_position(request, scope), size)
    return json_response(page_json([render(r) for r in chunk], scope, following, None))


def _metadata_of(request: web.Request) -> MetadataOf:
    """The metadata of the tenant's episodes, by uuid: what an edge's or node's
    ``metadata_filters`` look at (episodes since deleted are skipped)."""
    episodes = tenant_of(request).store.episodes_by_uuid

    def metadata(uuids: Iterable[str]) -> Iterator[Mapping[str, Any] | None]:
        return (episodes[u].metadata for u in uuids if u in episodes)

    return metadata


async def _listing(request: web.Request, supported: tuple[str, ...], orders: tuple[str, ...], max_size: int) -> _Listing:
    body: ListRequest = await read_model(request, ListRequest)
    filters, structured = check_filters(body.filters, supported)
    size = query_int(request, "page_size", DEFAULT_PAGE_SIZE, 1, max_size)
    assert size is not None
    return _Listing(filters, structured, size, order_name(request.query.get("order_by"), orders, "order_by"),
                    direction(request.query.get("order"), "order"))


async def list_episodes(request: web.Request) -> web.Response:
    graph = graph_of(request)
    listing = await _listing(request, EPISODE_FILTERS, EPISODE_ORDERS, MAX_PAGE_SIZE)
    check_mentions_limit(listing.filters)
    episodes = graph.live_episodes()
    if listing.filters:
        knowledge = tenant_of(request).knowledge(graph)
        mentions = {uuid: set(applied.entities) for uuid, applied in knowledge.by_episode.items()}
        episodes = [e for e in episodes if episode_matches(e, listing.filters, mentions)]
    if listing.structured:
        episodes = [e for e in episodes if listing.structured.metadata_ok((e.metadata,))]
    listed = episodes_in_order(episodes, listing.order_by, listing.descending)
    return listing.respond(request, "episodes", graph, listed, episode_json)


async def list_document_episodes(request: web.Request) -> web.Response:
    """zep-cloud 4.0.1 ``graph.episode.list_for_document``: ``GET
    /graphs/{graph_uuid}/documents/{document_id}/episodes?page_size=&cursor=``, an
    ``EpisodePage`` of the graph's episodes whose ``document_id`` is the one in the path, in
    the order they were added (a document's chunks in sequence); none is an empty page."""
    graph = graph_of(request)
    document_id = request.match_info["document_id"]
    size = page_size(request, "page_size")
    episodes = [e for e in graph.live_episodes() if e.document_id == document_id]
    return _page_of(request, f"document:{graph.uuid}:{document_id}", episodes, size, episode_json)


async def get_episode(request: web.Request) -> web.Response:
    graph = graph_of(request)
    episode = tenant_of(request).store.episode(check_uuid(request.match_info["episode_uuid"], "episode_uuid"))
    if episode.graph is not graph:
        raise NotFound("episode_not_found", f"episode {episode.uuid} not found in graph {graph.uuid}")
    return json_response(episode_json(episode))


async def list_edges(request: web.Request) -> web.Response:
    graph, knowledge = _graph_knowledge(request)
    listing = await _listing(request, EDGE_FILTERS, EDGE_ORDERS, MAX_GRAPH_PAGE)
    edges = knowledge.edges()
    if listing.filters:
        edges = [e for e in edges if edge_matches(e, listing.filters)]
    if listing.structured:
        metadata_of = _metadata_of(request)
        edges = [e for e in edges if edge_passes(e, listing.structured, metadata_of)]
    listed = edges_in_order(edges, listing.order_by, listing.descending)
    return listing.respond(request, "edges", graph, listed, lambda e: edge_json(e, graph))


async def get_edge(request: web.Request) -> web.Response:
    graph, knowledge = _graph_knowledge(request)
    edge_uuid = check_uuid(request.match_info["edge_uuid"], "edge_uuid")
    edge = knowledge.facts.edge(edge_uuid)
    if edge is None:
        raise NotFound("edge_not_found", f"edge {edge_uuid} not found in graph {graph.uuid}")
    return json_response(edge_json(edge, graph))


async def list_nodes(request: web.Request) -> web.Response:
    graph, knowledge = _graph_knowledge(request)
    listing = await _listing(request, NODE_FILTERS, NODE_ORDERS, MAX_GRAPH_PAGE)
    edges = knowledge.edges()
    degree = degrees(edges)
    nodes = knowledge.entities()
    if listing.filters:
        nodes = [n for n in nodes if node_matches(n, listing.filters, edges)]
    if listing.structured:
        metadata_of = _metadata_of(request)
        nodes = [n for n in nodes if node_passes(n, listing.structured, metadata_of)]
    listed = nodes_in_order(nodes, listing.order_by, listing.descending, degree)
    return listing.respond(request, "nodes", graph, listed, lambda n: node_json(n, graph, knowledge, degree.get(n.uuid, 0)))


async def get_node(request: web.Request) -> web.Response:
    graph, knowledge = _graph_knowledge(request)
    node_uuid = check_uuid(request.match_info["node_uuid"], "node_uuid")
    node = knowledge.facts.entity(node_uuid)
    if node is None:
        raise NotFound("node_not_found", f"node {node_uuid} not found in graph {graph.uuid}")
    return json_response(node_json(node, graph, knowledge, degrees(knowledge.edges()).get(node.uuid, 0)))


GRAPH_ROUTES = [
    Route("POST", "/graphs/{graph_uuid}/episodes", add_episode, "graph.episode.add", AddEpisodeRequest, 202, EpisodeAdded),
    Route("POST", "/graphs/{graph_uuid}/episodes/list", list_episodes, "graph.episode.list", ListRequest,
          response=Page[EpisodeRecord], query=_list_query(EPISODE_ORDERS, MAX_PAGE_SIZE)),
    Route("GET", "/graphs/{graph_uuid}/episodes/{episode_uuid}", get_episode, "graph.episode.get", response=EpisodeRecord),
    Route("GET", "/graphs/{graph_uuid}/documents/{document_id}/episodes", list_document_episodes,
          "graph.episode.list_for_document", response=Page[EpisodeRecord],
          query=(page_size_param("page_size"), CURSOR_PARAM)),
    Route("POST", "/graphs/{graph_uuid}/edges/list", list_edges, "graph.edge.list", ListRequest,
          response=Page[EdgeRecord], query=_list_query(EDGE_ORDERS, MAX_GRAPH_PAGE)),
    Route("GET", "/graphs/{graph_uuid}/edges/{edge_uuid}", get_edge, "graph.edge.get", response=EdgeRecord),
    Route("POST", "/graphs/{graph_uuid}/nodes/list", list_nodes, "graph.node.list", ListRequest,
          response=Page[NodeRecord], query=_list_query(NODE_ORDERS, MAX_GRAPH_PAGE)),
    Route("GET", "/graphs/{graph_uuid}/nodes/{node_uuid}", get_node, "graph.node.get", response=NodeRecord),
    Route("POST", "/threads/{thread_uuid}/messages", add_messages, "thread.add_messages", AddMessagesRequest, 202,
          MessagesAdded),
]
