"""Reading a graph's episodes, edges and nodes page by page: the ordering, filtering and
paging both Zep versions share once their names are mapped.

Orders (zep-cloud 4.0.1 docstrings of ``graph.edge.list`` / ``graph.node.list``, the same
words in 3.30.0's ``get_by_graph_id``): ``order_by`` uuid (default), created_at, valid_at
(edges) or degree (nodes); direction desc by default; "an edge with no valid_at sorts as if its
valid_at is 1970-01-01T00:00:00Z" (ours never lack one). Ties keep creation order, so an
order is total and pages never overlap. Episodes sort by uuid or created_at with the same default.

Filters (v4 ``EdgeListFilters`` / ``NodeListFilters`` / ``EpisodeListFilters``): the ones
listed in :data:`EDGE_FILTERS`, :data:`NODE_FILTERS` and :data:`EPISODE_FILTERS` are applied —
the lists of uuids, types and labels here, the structured ones (metadata, dates, properties)
by list_predicates.py. 4.0.1's ``graph.edge.list`` takes "all ``filters`` fields except
``content_policy_violated``", ``graph.node.list`` all but ``connected_node_uuids``,
``source_node_uuids``, ``target_node_uuids`` and ``content_policy_violated``, and
``graph.episode.list`` ``mentioned_node_uuids`` and ``metadata_filters``; any other field is
refused with 400 ``unsupported_filter`` ("If the request has an unsupported or unknown filter
field, the API returns an ``unsupported_filter`` error"). ``content_policy_violated`` needs a
project setting and content policies, which the emulator has not.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Literal, Mapping, Sequence, TypeVar

from typing_extensions import TypedDict

from ..core.errors import InvalidInput
from ..core.graph import Episode
from ..core.temporal import Edge, Entity, FactGraph
from ..core.timestamps import format_rfc3339 as ts
from .http import MaybeTimestamp, Param, Timestamp, str_param
from .list_predicates import STRUCTURED_FILTERS, StructuredFilters, parse_structured

T = TypeVar("T")

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
#: How many episodes a node lists before it lists none and says so (zep-cloud 3.30.0
#: ``EntityNode.episodes``: "The list is empty when the node has more than 100 source episodes").
NODE_EPISODE_LIMIT = 100

EDGE_ORDERS = ("uuid", "created_at", "valid_at")
NODE_ORDERS = ("uuid", "created_at", "degree")
EPISODE_ORDERS = ("uuid", "created_at")


#: The ``order`` query parameter :func:`direction` reads.
ORDER_PARAM = str_param("order", "asc or desc (default desc)", ("asc", "desc"))


def order_by_param(allowed: Sequence[str]) -> Param:
    """The ``order_by`` query parameter :func:`order_name` reads."""
    return str_param("order_by", "default uuid", tuple(allowed))


def direction(raw: str | None, param: str) -> bool:
    """True for descending: ``asc`` or ``desc``, default desc."""
    value = raw or "desc"
    if value not in ("asc", "desc"):
        raise InvalidInput("invalid_parameter", f"{param} must be asc or desc; got {raw!r}", param=param)
    return value == "desc"


def order_name(raw: str | None, allowed: Sequence[str], param: str) -> str:
    value = raw or "uuid"
    if value not in allowed:
        raise InvalidInput("invalid_parameter", f"{param} must be one of {', '.join(allowed)}; got {raw!r}", param=param)
    return value


def ordered(records: Iterable[T], key: Callable[[T], Any], descending: bool) -> list[T]:
    """*records* (given in creation order) sorted by *key*; equal keys keep creation order
    (reversed when descending), so records made by one item, which share their created_at,
    list in the order they were made."""
    indexed = list(enumerate(records))
    indexed.sort(key=lambda pair: (key(pair[1]), pair[0]), reverse=descending)
    return [record for _, record in indexed]


def edges_in_order(edges: Iterable[Edge], order_by: str, descending: bool) -> list[Edge]:
    keys: dict[str, Callable[[Edge], Any]] = {
        "uuid": lambda e: e.uuid,
        "created_at": lambda e: e.created_at,
        "valid_at": lambda e: e.valid_at or EPOCH,
    }
    return ordered(edges, keys[order_by], descending)


def nodes_in_order(nodes: Iterable[Entity], order_by: str, descending: bool, degrees: dict[str, int]) -> list[Entity]:
    keys: dict[str, Callable[[Entity], Any]] = {
        "uuid": lambda n: n.uuid,
        "created_at": lambda n: n.created_at,
        "degree": lambda n: degrees.get(n.uuid, 0),
    }
    return ordered(nodes, keys[order_by], descending)


def episodes_in_order(episodes: Iterable[Episode], order_by: str, descending: bool) -> list[Episode]:
    keys: dict[str, Callable[[Episode], Any]] = {"uuid": lambda e: e.uuid, "created_at": lambda e: e.created_at}
    return ordered(episodes, keys[order_by], descending)


def page(records: list[T], start: int, size: int | None) -> tuple[list[T], int | None]:
    """``records[start:start+size]`` and where the next page starts (None: last page)."""
    if size is None:
        return records[start:], None
    end = start + size
    return records[start:end], end if end < len(records) else None


def degrees(edges: Iterable[Edge]) -> dict[str, int]:
    """Node uuid -> how many edges touch it."""
    count: dict[str, int] = {}
    for edge in edges:
        for node in (edge.source, edge.target):
            count[node.uuid] = count.get(node.uuid, 0) + 1
    return count


def node_episodes(node: Entity) -> tuple[list[str], bool]:
    """The episodes that mention *node*, newest first, and whether the list was cut (more than
    :data:`NODE_EPISODE_LIMIT`: then empty, as the docs describe)."""
    if len(node.episodes) > NODE_EPISODE_LIMIT:
        return [], True
    return node.episodes[::-1], False


def node_summary(node: Entity, facts: FactGraph) -> str:
    """A deterministic stand-in for the LLM's entity summary: the node's current facts as its
    source, in the order they were made."""
    return ". ".join(e.fact for e in facts.edges_from(node) if e.invalid_at is None)


# -- filters ------------------------------------------------------------------------------------

EDGE_FILTERS = ("edge_uuids", "episode_uuids", "source_node_uuids", "target_node_uuids", "connected_node_uuids",
                "edge_types", "exclude_edge_types", "node_labels", "exclude_node_labels", *STRUCTURED_FILTERS)
NODE_FILTERS = ("node_labels", "exclude_node_labels", "episode_uuids", "edge_uuids", "edge_types", "exclude_edge_types",
                *STRUCTURED_FILTERS)
EPISODE_FILTERS = ("mentioned_node_uuids", "metadata_filters")


def check_filters(
    filters: Any, supported: Sequence[str], param: str = "filters"
) -> tuple[dict[str, list[str]], StructuredFilters]:
    """The filter object as ``{field: [str, ...]}`` for the lists of names, and its structured
    filters checked, refusing what is not supported."""
    if filters is None:
        return {}, StructuredFilters()
    if not isinstance(filters, dict):
        raise InvalidInput("invalid_request", f"{param} must be an object", param=param)
    out: dict[str, list[str]] = {}
    for name, value in filters.items():
        if value is None:
            continue
        if name not in supported:
            raise InvalidInput(
                "unsupported_filter",
                f"{param}.{name} is not supported here; supported: {', '.join(supported)}",
                param=f"{param}.{name}",
            )
        if name in STRUCTURED_FILTERS:
            continue
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InvalidInput("invalid_request", f"{param}.{name} must be a list of strings", param=f"{param}.{name}")
        out[name] = value
    return out, parse_structured(filters, param)


class EdgeFields(TypedDict):
    """The edge fields both Zep versions write (see :func:`edge_fields`)."""

    uuid: str
    name: str
    fact: str
    source_node_uuid: str
    target_node_uuid: str
    source_node_name: str
    target_node_name: str
    source_node_labels: list[str]
    target_node_labels: list[str]
    valid_at: MaybeTimestamp
    invalid_at: MaybeTimestamp
    expired_at: MaybeTimestamp
    created_at: Timestamp
    attributes: dict[str, Any]
    scope: Literal["entity"]


def edge_fields(edge: Edge) -> EdgeFields:
    """The fields of an edge that v2 ``EntityEdge`` and v4 ``Edge`` spell alike: the fact, its
    two nodes (names and labels resolved at read time) and both timelines. Each version adds
    its own name for the episodes (v2 ``episodes``, v4 ``episode_uuids``)."""
    return {
        "uuid": edge.uuid,
        "name": edge.name,
        "fact": edge.fact,
        "source_node_uuid": edge.source.uuid,
        "target_node_uuid": edge.target.uuid,
        "source_node_name": edge.source.name,
        "target_node_name": edge.target.name,
        "source_node_labels": node_labels(edge.source),
        "target_node_labels": node_labels(edge.target),
        "valid_at": ts(edge.valid_at),
        "invalid_at": ts(edge.invalid_at),
        "expired_at": ts(edge.expired_at),
        "created_at": ts(edge.created_at),
        "attributes": edge.attributes,
        "scope": "entity",
    }


def node_labels(node: Entity) -> list[str]:
    """A node's labels: "Entity" (every Graphiti entity node has it) and the extractor's."""
    return ["Entity"] + [label for label in node.labels if label != "Entity"]


def _labels(node: Entity) -> set[str]:
    return set(node_labels(node))


def edge_matches(edge: Edge, f: dict[str, list[str]]) -> bool:
    """Whether *edge* passes every filter in *f*. The label filters look at both ends
    (4.0.1 ``EdgeListFilters``): ``node_labels`` — "the source node and the target node of
    each edge must each have at least one of these labels"; ``exclude_node_labels`` — "excludes
    an edge when its source node or its target node has one of these labels"."""
    ends = {edge.source.uuid, edge.target.uuid}
    source, target = _labels(edge.source), _labels(edge.target)
    tests = {
        "edge_uuids": lambda v: edge.uuid in v,
        "episode_uuids": lambda v: not set(edge.episodes).isdisjoint(v),
        "source_node_uuids": lambda v: edge.source.uuid in v,
        "target_node_uuids": lambda v: edge.target.uuid in v,
        "connected_node_uuids": lambda v: not ends.isdisjoint(v),
        "edge_types": lambda v: edge.name in v,
        "exclude_edge_types": lambda v: edge.name not in v,
        "node_labels": lambda v: not source.isdisjoint(v) and not target.isdisjoint(v),
        "exclude_node_labels": lambda v: source.isdisjoint(v) and target.isdisjoint(v),
    }
    return all(tests[name](values) for name, values in f.items())


MetadataOf = Callable[[Iterable[str]], Iterable[Mapping[str, Any] | None]]
"""The metadata of the episodes with these uuids that still exist."""


def edge_passes(edge: Edge, structured: StructuredFilters, metadata_of: MetadataOf) -> bool:
    """Whether *edge* passes the structured filters: one of its episodes' metadata, its four
    dates, its attributes (list_predicates.py)."""
    dates = {"created_at": edge.created_at, "valid_at": edge.valid_at, "invalid_at": edge.invalid_at,
             "expired_at": edge.expired_at}
    return (structured.metadata_ok(metadata_of(edge.episodes)) and structured.dates_ok(dates.get)
            and structured.properties_ok(edge.attributes))


def node_passes(node: Entity, structured: StructuredFilters, metadata_of: MetadataOf) -> bool:
    """Whether *node* passes the structured filters: one of its episodes' metadata; of the
    dates only ``created_at`` (4.0.1 ``Node`` has no other), the rest null; attributes ``{}``."""
    return (structured.metadata_ok(metadata_of(node.episodes))
            and structured.dates_ok({"created_at": node.created_at}.get) and structured.properties_ok({}))


def node_matches(node: Entity, f: dict[str, list[str]], edges: Sequence[Edge]) -> bool:
    touching = [e for e in edges if node is e.source or node is e.target] if any(
        k in f for k in ("edge_uuids", "edge_types", "exclude_edge_types")) else []
    tests = {
        "node_labels": lambda v: not _labels(node).isdisjoint(v),
        "exclude_node_labels": lambda v: _labels(node).isdisjoint(v),
        "episode_uuids": lambda v: not set(node.episodes).isdisjoint(v),
        "edge_uuids": lambda v: any(e.uuid in v for e in touching),
        "edge_types": lambda v: any(e.name in v for e in touching),
        "exclude_edge_types": lambda v: not any(e.name in v for e in touching),
    }
    return all(tests[name](values) for name, values in f.items())


def episode_matches(episode: Episode, f: dict[str, list[str]], mentions: dict[str, set[str]]) -> bool:
    """``mentioned_node_uuids``: episodes that mention any listed node, or are listed themselves
    (4.0.1: "an episode UUID matches that episode"); at most 256 entries."""
    wanted = f.get("mentioned_node_uuids")
    if wanted is None:
        return True
    return episode.uuid in wanted or not mentions.get(episode.uuid, set()).isdisjoint(wanted)


def check_mentions_limit(f: dict[str, list[str]]) -> None:
    if len(f.get("mentioned_node_uuids", ())) > 256:
        raise InvalidInput("invalid_request", "filters.mentioned_node_uuids takes at most 256 entries",
                           param="filters.mentioned_node_uuids")
