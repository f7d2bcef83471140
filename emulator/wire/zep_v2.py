"""Zep API v2, as zep-cloud 3.30.0 speaks it, under ``/api/v2``.

Spelling (reference/zep-wire-contract.md §1a, §2, §4a): ids are ``batch_id``, ``item_id``,
``graph_id``, ``user_id``, ``thread_id`` (client-chosen for graphs, users and threads); an
item's timestamp is ``created_at``; ``add`` answers a bare JSON array; pages are
``limit`` + integer ``cursor`` with ``next_cursor`` null on the last page; errors are
``{"message": "..."}``. Auth is ``Authorization: Api-Key <key>``.

Our cursor for v2 lists is the position the next page starts at: for an unfiltered item list
that is exactly the offset decisions.md asks for; with a ``status`` filter it is the sequence
index to resume from, so filtered paging does not rescan earlier items. For the batch list it
is the creation serial of the next batch, so deleting a batch never shifts a later page.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Optional

from aiohttp import web
from pydantic import Field, StrictBool, StrictStr
from typing_extensions import NotRequired, TypedDict

from ..core.batches import Batch, BatchStatus, Item, ItemKind, ItemStatus, KeySpace, Ref
from ..core.graph import Graph, Thread, User
from ..core.limits import MAX_PAGE_SIZE, MIN_PAGE_SIZE
from ..core.tasks import Task
from ..core.tenants import Service
from ..core.timestamps import format_rfc3339 as ts
from .http import (
    Dialect,
    ErrorInfo,
    MaybeTimestamp,
    Route,
    Timestamp,
    int_param,
    json_response,
    page_size,
    query_int,
    read_model,
    tenant_of,
)
from .zep_common import (
    Body,
    CreateBatchRequest,
    ItemFields,
    V2_NAMES,
    check_uuid,
    item_input,
    item_targets,
    status_filter,
    status_param,
)
from .zep_v2_graph import GRAPH_ROUTES

PREFIX = "/api/v2"


# -- request models (zep-cloud 3.30.0 request bodies) ------------------------------------------


class BatchAddItem(ItemFields, total=False):
    """zep-cloud 3.30.0 ``BatchAddItem``: the shared fields, and the target and timestamp under this version's names."""

    graph: Annotated[Optional[StrictStr], Field(alias="graph_id", min_length=1)]
    user: Annotated[Optional[StrictStr], Field(alias="user_id", min_length=1)]
    thread: Annotated[Optional[StrictStr], Field(alias="thread_id", min_length=1)]
    reference_time: Annotated[Optional[StrictStr], Field(alias="created_at", min_length=1)]


class AddItemsRequest(Body):
    items: list[BatchAddItem]


class CreateUserRequest(Body):
    user_id: StrictStr = Field(min_length=1, max_length=500)
    email: Optional[StrictStr] = None
    first_name: Optional[StrictStr] = None
    last_name: Optional[StrictStr] = None
    metadata: Optional[dict[str, Any]] = None
    time_zone: Optional[StrictStr] = None
    disable_default_ontology: Optional[StrictBool] = None


class CreateGraphRequest(Body):
    graph_id: StrictStr = Field(min_length=1)
    name: Optional[StrictStr] = None
    description: Optional[StrictStr] = None
    time_zone: Optional[StrictStr] = None


class CreateThreadRequest(Body):
    thread_id: StrictStr = Field(min_length=1)
    user_id: StrictStr = Field(min_length=1)




# -- serialisation -----------------------------------------------------------------------------


def percent_complete(batch: Batch) -> float:
    total = len(batch.items)
    return round(100.0 * batch.done_items() / total, 2) if total else 0.0


class BatchProgress(TypedDict):
    """3.30.0 ``BatchProgress``: every item counted by status, and the share that is done."""

    total_items: int
    queued_items: int
    processing_items: int
    succeeded_items: int
    failed_items: int
    skipped_items: int
    canceled_items: int
    percent_complete: float


class BatchSummary(TypedDict):
    """3.30.0 ``BatchSummary`` (what ``batch.create``, ``get``, ``process`` and ``list``
    answer), plus ``invalid_items`` once ``process`` found dangling references (the SDK's
    models allow extra keys)."""

    batch_id: str
    status: BatchStatus
    item_count: int
    metadata: Optional[dict[str, Any]]
    ignore_roles: Optional[list[str]]
    strict_ontology: Optional[bool]
    created_at: Timestamp
    updated_at: Timestamp
    processed_at: MaybeTimestamp
    completed_at: MaybeTimestamp
    progress: Optional[BatchProgress]
    invalid_items: NotRequired[list[int]]


def batch_json(batch: Batch) -> BatchSummary:
    c = batch.counts
    body: BatchSummary = {
        "batch_id": batch.uuid,
        "status": batch.status.value,
        "item_count": len(batch.items),
        "metadata": batch.metadata,
        "ignore_roles": batch.ignore_roles,
        "strict_ontology": batch.strict_ontology,
        "created_at": ts(batch.created_at),
        "updated_at": ts(batch.updated_at),
        "processed_at": ts(batch.processed_at),
        "completed_at": ts(batch.completed_at),
        # The guide: "Before batch.process is called the batch is in draft and the progress
        # counts are unpopulated".
        "progress": None
        if batch.processed_at is None
        else {
            "total_items": len(batch.items),
            "queued_items": c[ItemStatus.QUEUED],
            "processing_items": c[ItemStatus.PROCESSING],
            "succeeded_items": c[ItemStatus.SUCCEEDED],
            "failed_items": c[ItemStatus.FAILED],
            "skipped_items": c[ItemStatus.SKIPPED],
            "canceled_items": c[ItemStatus.CANCELED],
            "percent_complete": percent_complete(batch),
        },
    }
    if batch.invalid_items is not None:
        body["invalid_items"] = batch.invalid_items
    return body


class ItemError(TypedDict):
    """Why an item failed (core/ingest.py, or an item fault's ``code`` and ``message``)."""

    code: str
    message: str


class BatchItemDetail(TypedDict):
    """3.30.0 ``BatchItemDetail``: every key always present, null where there is no value.
    Targets are named both ways (client id and uuid) as far as they resolve; an unresolved
    one is echoed as sent under its own name."""

    item_id: str
    kind: ItemKind
    status: ItemStatus
    sequence_index: int
    source_uuid: Optional[str]
    episode_uuid: Optional[str]
    graph_id: Optional[str]
    graph_uuid: Optional[str]
    user_id: Optional[str]
    user_uuid: Optional[str]
    thread_id: Optional[str]
    document_id: Optional[str]
    error: Optional[ItemError]
    created_at: Timestamp
    updated_at: Timestamp


def item_json(item: Item) -> BatchItemDetail:
    graph, user, thread = item_targets(item)
    body: BatchItemDetail = {
        "item_id": item.uuid,
        "kind": item.kind,  # str enums: orjson writes their value
        "status": item.status,
        "sequence_index": item.sequence_index,
        "source_uuid": item.episode_uuid,
        "episode_uuid": item.episode_uuid,
        "graph_id": graph.graph_id if graph is not None and user is None else None,
        "graph_uuid": graph.uuid if graph is not None else None,
        "user_id": user.user_id if user is not None else None,
        "user_uuid": user.uuid if user is not None else None,
        "thread_id": thread.thread_id if thread is not None else None,
        "document_id": item.input.document_id,
        "error": item.error,
        "created_at": ts(item.created_at),
        "updated_at": ts(item.updated_at),
    }
    named = item.input.target
    field = f"{named.kind.value}_{'id' if named.space is KeySpace.CLIENT_ID else 'uuid'}"
    if body[field] is None:  # a reference that does not resolve is echoed as sent
        body[field] = named.value
    return body


class UserRecord(TypedDict):
    """3.30.0 ``User`` (without the service's internal ``id``, ``project_uuid`` and
    ``session_count``)."""

    uuid: str
    user_id: str
    email: Optional[str]
    first_name: Optional[str]
    last_name: Optional[str]
    metadata: Optional[dict[str, Any]]
    time_zone: Optional[str]
    disable_default_ontology: Optional[bool]
    graph_uuid: str
    created_at: Timestamp
    updated_at: Timestamp


def user_json(user: User) -> UserRecord:
    return {
        "uuid": user.uuid,
        "user_id": user.user_id,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "metadata": user.metadata,
        "time_zone": user.time_zone,
        "disable_default_ontology": user.disable_default_ontology,
        "graph_uuid": user.graph.uuid,
        "created_at": ts(user.created_at),
        "updated_at": ts(user.updated_at),
    }


class GraphRecord(TypedDict):
    """3.30.0 ``Graph`` (without ``id``, ``project_uuid`` and ``canonical_graph_uuid``). v2
    reads graphs by ``graph_id``, so it is never null here."""

    uuid: str
    graph_id: str
    name: Optional[str]
    description: Optional[str]
    time_zone: Optional[str]
    created_at: Timestamp
    updated_at: Timestamp


def graph_json(graph: Graph) -> GraphRecord:
    return {
        "uuid": graph.uuid,
        "graph_id": graph.graph_id,
        "name": graph.name,
        "description": graph.description,
        "time_zone": graph.time_zone,
        "created_at": ts(graph.created_at),
        "updated_at": ts(graph.updated_at),
    }


class ThreadRecord(TypedDict):
    """3.30.0 ``Thread`` (without ``project_uuid``)."""

    uuid: str
    thread_id: str
    user_id: str
    user_uuid: str
    graph_uuid: str
    created_at: Timestamp


def thread_json(thread: Thread) -> ThreadRecord:
    return {
        "uuid": thread.uuid,
        "thread_id": thread.thread_id,
        "user_id": thread.user.user_id,
        "user_uuid": thread.user.uuid,
        "graph_uuid": thread.user.graph.uuid,
        "created_at": ts(thread.created_at),
    }


class TaskParams(TypedDict):
    """``GetTaskResponse.params``: the batch a task follows (empty for work done at once)."""

    batch_id: NotRequired[str]


class TaskProgress(TypedDict):
    """3.30.0 ``TaskProgress`` (no ``message`` here)."""

    stage: Literal["queued", "processing", "completed"]


class TaskRecord(TypedDict):
    """3.30.0 ``GetTaskResponse``; ``error`` is its ``TaskErrorResponse`` (code and message)."""

    task_id: str
    type: str
    status: Literal["pending", "processing", "succeeded", "partial", "failed"]
    params: TaskParams
    error: Optional[ItemError]
    progress: TaskProgress
    created_at: Timestamp
    started_at: MaybeTimestamp
    completed_at: MaybeTimestamp
    updated_at: Timestamp


def task_json(task: Task) -> TaskRecord:
    """zep-cloud 3.30.0 ``GetTaskResponse``."""
    return {
        "task_id": task.uuid,
        "type": task.type,
        "status": task.status,
        "params": {"batch_id": task.batch.uuid} if task.batch is not None else {},
        "error": task.error,
        "progress": {"stage": task.stage},
        "created_at": ts(task.created_at),
        "started_at": ts(task.started_at),
        "completed_at": ts(task.completed_at),
        "updated_at": ts(task.updated_at),
    }


# -- handlers ----------------------------------------------------------------------------------


def _batch(request: web.Request) -> Batch:
    return tenant_of(request).batch(check_uuid(request.match_info["batch_id"], "batch_id"))


async def create_batch(request: web.Request) -> web.Response:
    body: CreateBatchRequest = await read_model(request, CreateBatchRequest)
    batch = tenant_of(request).create_batch(body.metadata, body.ignore_roles, body.strict_ontology)
    return json_response(batch_json(batch))


async def add_items(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    batch = _batch(request)
    body: AddItemsRequest = await read_model(request, AddItemsRequest)
    batch.check_can_add(len(body.items))  # the limits come before per-item checks
    refs: dict[Any, Ref] = {}
    inputs = [item_input(i, it, KeySpace.CLIENT_ID, V2_NAMES, refs) for i, it in enumerate(body.items)]
    items, _ = tenant.add_items(batch, inputs)
    return json_response([item_json(item) for item in items])


async def process_batch(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    batch = _batch(request)
    tenant.process(batch)
    return json_response(batch_json(batch))


async def get_batch(request: web.Request) -> web.Response:
    return json_response(batch_json(_batch(request)))


class BatchListResponse(TypedDict):
    """3.30.0 ``BatchListResponse``: ``next_cursor`` null on the last page."""

    batches: list[BatchSummary]
    next_cursor: Optional[int]


class BatchItemListResponse(TypedDict):
    """3.30.0 ``BatchItemListResponse``: ``next_cursor`` null on the last page."""

    items: list[BatchItemDetail]
    next_cursor: Optional[int]


async def list_batches(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    limit = page_size(request, "limit")
    status = status_filter(request, BatchStatus)
    cursor = query_int(request, "cursor", 0, 0, tenant.next_serial)
    page, next_serial = tenant.list_batches(status, cursor or 0, limit)
    body: BatchListResponse = {"batches": [batch_json(b) for b in page], "next_cursor": next_serial}
    return json_response(body)


async def list_items(request: web.Request) -> web.Response:
    batch = _batch(request)
    limit = page_size(request, "limit")
    status = status_filter(request, ItemStatus)
    cursor = query_int(request, "cursor", 0, 0, len(batch.items))
    page, next_index = tenant_of(request).list_items(batch, status, cursor or 0, limit)
    body: BatchItemListResponse = {"items": [item_json(i) for i in page], "next_cursor": next_index}
    return json_response(body)


class SuccessResponse(TypedDict):
    """3.30.0 ``SuccessResponse``: what the v2 deletes answer."""

    message: str


async def delete_batch(request: web.Request) -> web.Response:
    batch = _batch(request)
    tenant_of(request).delete_batch(batch)
    body: SuccessResponse = {"message": f"Batch {batch.uuid} successfully deleted."}
    return json_response(body)


async def create_user(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    body: CreateUserRequest = await read_model(request, CreateUserRequest)
    fields = body.model_dump(exclude={"user_id"})
    user = tenant.store.create_user(body.user_id, tenant.clock.now(), **fields)
    return json_response(user_json(user))


async def get_user(request: web.Request) -> web.Response:
    return json_response(user_json(tenant_of(request).store.user(KeySpace.CLIENT_ID, request.match_info["user_id"])))


async def delete_user(request: web.Request) -> web.Response:
    store = tenant_of(request).store
    store.delete_user(store.user(KeySpace.CLIENT_ID, request.match_info["user_id"]))
    body: SuccessResponse = {"message": "User deleted"}
    return json_response(body)


async def create_graph(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    body: CreateGraphRequest = await read_model(request, CreateGraphRequest)
    graph = tenant.store.create_graph(
        body.graph_id, tenant.clock.now(), name=body.name, description=body.description, time_zone=body.time_zone
    )
    return json_response(graph_json(graph))


async def get_graph(request: web.Request) -> web.Response:
    return json_response(graph_json(tenant_of(request).store.graph(KeySpace.CLIENT_ID, request.match_info["graph_id"])))


async def delete_graph(request: web.Request) -> web.Response:
    store = tenant_of(request).store
    store.delete_graph(store.graph(KeySpace.CLIENT_ID, request.match_info["graph_id"]))
    body: SuccessResponse = {"message": "Graph deleted"}
    return json_response(body)


async def create_thread(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    body: CreateThreadRequest = await read_model(request, CreateThreadRequest)
    user = tenant.store.user(KeySpace.CLIENT_ID, body.user_id)
    thread = tenant.store.create_thread(body.thread_id, user, tenant.clock.now())
    return json_response(thread_json(thread))


class ThreadMessage(TypedDict):
    """3.30.0 ``Message``: ``created_at`` is the message's reference time."""

    uuid: str
    content: str
    role: str
    name: Optional[str]
    metadata: Optional[dict[str, Any]]
    created_at: Timestamp
    processed: bool


class MessageListResponse(TypedDict):
    """3.30.0 ``MessageListResponse``."""

    messages: list[ThreadMessage]
    row_count: int
    total_count: int
    thread_created_at: Timestamp
    user_id: str
    user_uuid: str


async def get_thread_messages(request: web.Request) -> web.Response:
    """``thread.get(thread_id, limit?, cursor?, lastn?)``: a page of messages, oldest first;
    ``lastn`` returns the most recent n instead."""
    thread = tenant_of(request).store.thread(KeySpace.CLIENT_ID, request.match_info["thread_id"])
    messages = thread.live_messages()
    lastn = query_int(request, "lastn", None, 1, None)
    if lastn is not None:
        page = messages[-lastn:]
    else:
        limit = query_int(request, "limit", None, 1, None)
        cursor = query_int(request, "cursor", 0, 0, len(messages)) or 0
        page = messages[cursor : cursor + limit if limit is not None else None]
    body: MessageListResponse = {
        "messages": [
            {
                "uuid": m.uuid,
                "content": m.content,
                "role": m.role,
                "name": m.name,
                "metadata": m.metadata,
                "created_at": ts(m.reported_time),
                "processed": m.processed,
            }
            for m in page
        ],
        "row_count": len(page),
        "total_count": len(messages),
        "thread_created_at": ts(thread.created_at),
        "user_id": thread.user.user_id,
        "user_uuid": thread.user.uuid,
    }
    return json_response(body)


async def delete_thread(request: web.Request) -> web.Response:
    store = tenant_of(request).store
    store.delete_thread(store.thread(KeySpace.CLIENT_ID, request.match_info["thread_id"]))
    body: SuccessResponse = {"message": "Thread deleted"}
    return json_response(body)


async def get_task(request: web.Request) -> web.Response:
    return json_response(task_json(tenant_of(request).task(request.match_info["task_id"])))


class ApiError(TypedDict):
    """zep-cloud 3.30.0 ``types.ApiError`` (``message``), with the machine ``code`` and, for
    some errors, structured ``details`` as extra keys."""

    message: str
    code: str
    details: NotRequired[dict[str, Any]]


def error_body(info: ErrorInfo) -> ApiError:
    """v2 error body: ``{"message": ...}`` (zep-cloud 3.30.0 ``types.ApiError``); the
    machine code rides along as an extra key."""
    body: ApiError = {"message": info.message, "code": info.code}
    if info.details:
        body["details"] = info.details
    return body


#: The query parameters of the two batch listings (``limit`` as :func:`page_size` reads it).
LIMIT = int_param("limit", MIN_PAGE_SIZE, MAX_PAGE_SIZE, "page size (default 50)")
CURSOR = int_param("cursor", 0, description="where the page starts: a previous page's next_cursor")

ROUTES = [
    Route("POST", "/batches", create_batch, "batch.create", CreateBatchRequest, response=BatchSummary),
    Route("POST", "/batches/{batch_id}/items", add_items, "batch.add", AddItemsRequest, response=list[BatchItemDetail],
          errors=(409,)),
    # 400: an empty batch, or dangling references (the batch turns invalid); 409: not a draft.
    Route("POST", "/batches/{batch_id}/process", process_batch, "batch.process", response=BatchSummary, errors=(400, 409)),
    Route("GET", "/batches/{batch_id}", get_batch, "batch.get", response=BatchSummary),
    Route("GET", "/batches", list_batches, "batch.list", response=BatchListResponse,
          query=(LIMIT, status_param(BatchStatus), CURSOR)),
    Route("GET", "/batches/{batch_id}/items", list_items, "batch.list_items", response=BatchItemListResponse,
          query=(LIMIT, status_param(ItemStatus), CURSOR)),
    Route("DELETE", "/batches/{batch_id}", delete_batch, "batch.delete", response=SuccessResponse, errors=(409,)),
    Route("POST", "/users", create_user, "user.add", CreateUserRequest, response=UserRecord, errors=(409,)),
    Route("GET", "/users/{user_id}", get_user, "user.get", response=UserRecord),
    Route("DELETE", "/users/{user_id}", delete_user, "user.delete", response=SuccessResponse),
    Route("POST", "/graph/create", create_graph, "graph.create", CreateGraphRequest, response=GraphRecord, errors=(409,)),
    Route("GET", "/graph/{graph_id}", get_graph, "graph.get", response=GraphRecord),
    Route("DELETE", "/graph/{graph_id}", delete_graph, "graph.delete", response=SuccessResponse),
    # 404: the body's user_id names no user.
    Route("POST", "/threads", create_thread, "thread.create", CreateThreadRequest, response=ThreadRecord, errors=(404, 409)),
    Route("GET", "/threads/{thread_id}/messages", get_thread_messages, "thread.get", response=MessageListResponse,
          query=(int_param("lastn", 1, description="the most recent n messages (then limit and cursor are not read)"),
                 int_param("limit", 1, description="page size (absent: every message)"),
                 int_param("cursor", 0, description="how many messages to skip"))),
    Route("DELETE", "/threads/{thread_id}", delete_thread, "thread.delete", response=SuccessResponse),
    Route("GET", "/tasks/{task_id}", get_task, "task.get", response=TaskRecord),
    *GRAPH_ROUTES,
]

DIALECT = Dialect(
    name="zep-v2",
    prefix=PREFIX,
    service=Service.ZEP,
    auth_schemes=("Api-Key", "Bearer"),
    error_body=error_body,
    routes=ROUTES,
    error_schema=ApiError,
    uuid_params=frozenset({"batch_id"}),  # _batch: check_uuid
)
