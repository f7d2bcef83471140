"""What Zep v2 and v4 share on the wire: the enums, the item rules that are the same in both
versions once the field names are mapped, and the path-id check.

Enums (zep-cloud 3.30.0 and 4.0.1 type modules): item ``type`` graph_episode |
thread_message; ``data_type`` text | json | message (v2's ``GraphDataType`` also lists
``fact_triple``, which the batch docs never describe, so batch items refuse it); roles
system | assistant | user | function | tool, plus ``norole`` (v2's enum; accepted leniently in
v4 because zep-ingest sends it, decisions.md).
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any, Literal, Optional, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, StrictBool, StrictStr
from typing_extensions import Required, TypedDict

from ..core.batches import Item, ItemInput, ItemKind, KeySpace, Ref, TargetKind
from ..core.errors import InvalidInput, shown
from ..core.graph import Graph, Thread, User
from ..core.ids import is_uuid
from ..core.metadata import check_item_metadata
from ..core.timestamps import parse_rfc3339
from .http import Param, str_param

StatusEnum = TypeVar("StatusEnum", bound=Enum)

ItemType = Literal["graph_episode", "thread_message"]
DataType = Literal["text", "json", "message"]
Role = Literal["norole", "system", "assistant", "user", "function", "tool"]


class Body(BaseModel):
    """A request body: unknown fields are ignored, as the services do."""

    model_config = ConfigDict(extra="ignore", defer_build=True)  # schema made on first use: start-up time


class CreateBatchRequest(Body):
    """``batch.create``: the same body in v2 and v4."""

    ignore_roles: Optional[list[Role]] = None
    metadata: Optional[dict[str, Any]] = None
    strict_ontology: Optional[StrictBool] = None


class ItemFields(TypedDict, total=False):
    """The fields of a batch item that v2 (``BatchAddItem``) and v4 (``BatchItemInput``) spell
    alike. Each dialect's subclass adds ``graph``, ``user``, ``thread`` and ``reference_time``
    under its own wire names (pydantic aliases), so the core-facing code reads one set of names.

    A TypedDict rather than a model: an add call validates up to 500 of these, and pydantic
    checks a TypedDict and hands back the plain dict at under half a model's cost. Absent keys
    stay absent (read with ``.get``); unknown keys are dropped, as the services ignore them."""

    type: Required[ItemType]
    data: Optional[StrictStr]
    data_type: Optional[DataType]
    document_id: Optional[StrictStr]
    source_description: Optional[StrictStr]
    content: Optional[StrictStr]
    role: Optional[Role]
    name: Optional[StrictStr]
    metadata: Optional[Any]


#: The wire names of an item's target and timestamp, per version, for error messages.
V2_NAMES = {"graph": "graph_id", "user": "user_id", "thread": "thread_id", "reference_time": "created_at"}
V4_NAMES = {"graph": "graph_uuid", "user": "user_uuid", "thread": "thread_uuid", "reference_time": "reference_time"}


def check_uuid(value: str, param: str) -> str:
    """The UUID in canonical (lower-case) form; v4 docs (migrating-from-v3): a non-UUID where
    a UUID is expected is a 400 ``invalid_identifier``. Batch ids are UUIDs in both versions."""
    if not is_uuid(value):
        raise InvalidInput("invalid_identifier", f"{param} {shown(value)} is not a UUID", param=param)
    return value.lower()


def item_input(
    index: int | None, item: ItemFields, space: KeySpace, names: dict[str, str], refs: dict[Any, Ref], label: str = "items"
) -> ItemInput:
    """Check one item's cross-field rules and build the core's :class:`ItemInput`.

    *names* maps the neutral names graph / user / thread / reference_time to the dialect's
    wire names, for error messages. Rules: a graph_episode names exactly one of graph and user and carries
    ``data``; a thread_message names a thread and carries ``content`` and ``role``; metadata
    follows :func:`check_item_metadata`; the timestamp is RFC 3339 with an offset.

    *refs* is shared by the items of one call: each distinct target gets one :class:`Ref`
    (checked once), which the items then share — a backfill names a handful of graphs
    thousands of times.

    Errors name the field as ``{label}[{index}].{field}`` (just ``{field}`` when *index* is
    None: a live add's single episode), spelt out only when there is an error.
    """
    get = item.get
    metadata, raw_time = get("metadata"), get("reference_time")
    if item["type"] == "graph_episode":
        graph, user, data = get("graph"), get("user"), get("data")
        if (graph is None) == (user is None):
            raise InvalidInput(
                "invalid_target",
                f"{_at(label, index)}a graph_episode needs exactly one of {names['graph']} and {names['user']}",
                param=_at(label, index, names["graph"]),
            )
        if not data:
            raise InvalidInput("invalid_request", f"{_at(label, index, 'data')}: is required for a graph_episode", param=_at(label, index, "data"))
        kind, value = (TargetKind.GRAPH, graph) if graph is not None else (TargetKind.USER, user)
    else:
        value, data = get("thread"), get("content")
        if value is None:
            raise InvalidInput(
                "invalid_target", f"{_at(label, index)}a thread_message needs {names['thread']}", param=_at(label, index, names["thread"])
            )
        if not data:
            raise InvalidInput("invalid_request", f"{_at(label, index, 'content')}: is required for a thread_message", param=_at(label, index, "content"))
        if get("role") is None:
            raise InvalidInput("invalid_request", f"{_at(label, index, 'role')}: is required for a thread_message", param=_at(label, index, "role"))
        kind = TargetKind.THREAD
    target = refs.get((kind, value))
    if target is None:
        key = (kind, value)
        if space is KeySpace.UUID:
            value = check_uuid(value, _at(label, index, names[kind.value]))
        target = refs[key] = Ref(kind, space, value)
    if metadata is not None:
        metadata = check_item_metadata(metadata, _at(label, index, "metadata"))
    reference_time = None if raw_time is None else _timestamp(raw_time, label, index, names["reference_time"])
    if kind is TargetKind.THREAD:  # positional: the order of ItemInput's fields
        return ItemInput(ItemKind.THREAD_MESSAGE, target, data, None, item["role"], get("name"), metadata, reference_time)
    return ItemInput(
        ItemKind.GRAPH_EPISODE, target, data, get("data_type") or "text", None, None, metadata, reference_time,
        get("document_id"), get("source_description"),
    )


def _at(label: str, index: int | None, field: str = "") -> str:
    """Where in the request a field is: ``items[3].data``; with no field, the item itself as a
    message prefix (``items[3]: ``, or nothing for a request that is one item)."""
    if not field:
        return f"{label}[{index}]: " if index is not None else ""
    return f"{label}[{index}].{field}" if index is not None else field


def _timestamp(raw: str, label: str, index: int | None, name: str) -> datetime:
    """Parse an item's timestamp; the field's full name is only spelled out on error."""
    try:
        return parse_rfc3339(raw, name)
    except InvalidInput:
        return parse_rfc3339(raw, _at(label, index, name))


def item_targets(item: Item) -> tuple[Graph | None, User | None, Thread | None]:
    """The graph, user (for user graphs) and thread an item was last resolved to (at add, and
    again at process); None where the reference did not resolve."""
    graph = item.graph
    return graph, graph.user if graph is not None else None, item.thread


def status_param(enum: type[Enum]) -> Param:
    """The ``status`` query parameter :func:`status_filter` reads."""
    return str_param("status", "only records in this status", tuple(s.value for s in enum))


def status_filter(request: web.Request, enum: type[StatusEnum]) -> StatusEnum | None:
    """The ``status`` query parameter as one of *enum*'s values (absent or empty: no filter)."""
    raw = request.query.get("status")
    if not raw:
        return None
    try:
        return enum(raw)
    except ValueError:
        allowed = ", ".join(s.value for s in enum)
        raise InvalidInput("invalid_parameter", f"status must be one of {allowed}; got {raw!r}", param="status") from None
