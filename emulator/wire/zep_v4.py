"""Zep API v4, as zep-cloud 4.0.1 speaks it, under ``/api/v4``.

Spelling (reference/zep-wire-contract.md §1b, §2, §4b): every record is named by its server
``uuid`` (``graph_uuid``, ``user_uuid``, ``thread_uuid``); an item's timestamp is
``reference_time``; ``add_items`` answers ``{items, rejected_items}`` and turns away
graph_episode items whose graph does not exist (200, per item); ``process`` answers 202
``{batch, task}`` and ``GET /tasks/{uuid}`` follows the batch (``GET /tasks`` lists them); create answers 201; a batch delete answers 204
and a user, graph or thread delete 202 ``{task}``; pages are ``page_size`` + opaque string ``cursor`` with ``next_cursor`` absent on the last
page and ``total_size`` always set; errors are ``{"error": {code, message, param, request_id,
details}}``. Mutating calls honour ``Idempotency-Key`` (see core/idempotency.py).

Record shapes and lookups are in zep_v4_records.py; episodes, edges, nodes and the live adds
in zep_v4_graph.py.
"""

from __future__ import annotations

from typing import Annotated, Any, Optional

from aiohttp import web
from pydantic import Field, StrictBool, StrictStr
from typing_extensions import TypedDict

from ..core.batches import BatchStatus, KeySpace, Ref
from ..core.errors import InvalidInput
from ..core.tasks import TaskStatus
from ..core.tenants import Service
from .http import Dialect, ErrorInfo, Route, json_response, no_content, page_size, page_size_param, path_params, read_model, str_param, tenant_of
from .zep_common import Body, CreateBatchRequest, ItemFields, V4_NAMES, check_uuid, item_input, status_filter, status_param
from .zep_v4_graph import GRAPH_ROUTES
from .zep_v4_records import (
    CURSOR_PARAM,
    BatchRecord,
    ItemRecord,
    MessageRecord,
    Page,
    TaskRecord,
    TaskResult,
    ThreadRecord,
    GraphRecord,
    UserRecord,
    batch_json,
    batch_of,
    cursor_position,
    graph_json,
    graph_of,
    item_json,
    message_json,
    page_json,
    task_json,
    thread_json,
    thread_of,
    user_json,
    user_of,
)

PREFIX = "/api/v4"


class BatchItemInput(ItemFields, total=False):
    """zep-cloud 4.0.1 ``BatchItemInput``: the shared fields, and the target and timestamp under this version's names."""

    graph: Annotated[Optional[StrictStr], Field(alias="graph_uuid", min_length=1)]
    user: Annotated[Optional[StrictStr], Field(alias="user_uuid", min_length=1)]
    thread: Annotated[Optional[StrictStr], Field(alias="thread_uuid", min_length=1)]
    reference_time: Annotated[Optional[StrictStr], Field(alias="reference_time", min_length=1)]


class AddItemsRequest(Body):
    items: list[BatchItemInput]


class CreateUserRequest(Body):
    user_id: Optional[StrictStr] = Field(default=None, min_length=1, max_length=500)
    email: Optional[StrictStr] = None
    first_name: Optional[StrictStr] = None
    last_name: Optional[StrictStr] = None
    metadata: Optional[dict[str, Any]] = None
    time_zone: Optional[StrictStr] = None
    disable_default_ontology: Optional[StrictBool] = None


class CreateGraphRequest(Body):
    name: Optional[StrictStr] = None
    description: Optional[StrictStr] = None
    time_zone: Optional[StrictStr] = None


class CreateThreadRequest(Body):
    user_uuid: StrictStr


class RejectedItem(TypedDict):
    index: int
    reason: str


class AddItemsResult(TypedDict):
    """4.0.1 ``BatchAddItemsResponse``."""

    items: list[ItemRecord]
    rejected_items: list[RejectedItem]


class ProcessResult(TypedDict):
    """4.0.1 ``BatchProcessResponse``."""

    batch: BatchRecord
    task: TaskRecord


class ErrorDetail(TypedDict):
    code: str
    message: str
    param: Optional[str]
    request_id: Optional[str]
    details: Optional[dict[str, Any]]


class ErrorResponse(TypedDict):
    """4.0.1 ``ApiError``: ``{"error": ErrorBody}``."""

    error: ErrorDetail


# -- handlers ----------------------------------------------------------------------------------


async def create_batch(request: web.Request) -> web.Response:
    body: CreateBatchRequest = await read_model(request, CreateBatchRequest)
    batch = tenant_of(request).create_batch(body.metadata, body.ignore_roles, body.strict_ontology)
    return json_response(batch_json(batch), status=201)


async def add_items(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    batch = batch_of(request)
    body: AddItemsRequest = await read_model(request, AddItemsRequest)
    batch.check_can_add(len(body.items))  # the limits come before per-item checks
    refs: dict[Any, Ref] = {}
    inputs = [item_input(i, it, KeySpace.UUID, V4_NAMES, refs) for i, it in enumerate(body.items)]
    # decisions.md: a graph_episode whose graph does not exist is turned away at add time.
    items, rejected = tenant.add_items(batch, inputs, reject_missing_graphs=True)
    return json_response(
        {
            "items": [item_json(item) for item in items],
            "rejected_items": [{"index": i, "reason": f"graph {inputs[i].target.value} not found"} for i in rejected],
        }
    )


async def process_batch(request: web.Request) -> web.Response:
    batch = batch_of(request)
    task = tenant_of(request).process(batch)
    return json_response({"batch": batch_json(batch), "task": task_json(task)}, status=202)


async def get_batch(request: web.Request) -> web.Response:
    return json_response(batch_json(batch_of(request)))


async def list_batches(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    size = page_size(request, "page_size")
    status = status_filter(request, BatchStatus)
    scope = f"batches:{status.value if status else ''}"
    page, next_serial = tenant.list_batches(status, cursor_position(request, scope), size)
    return json_response(page_json([batch_json(b) for b in page], scope, next_serial, tenant.count_batches(status)))


async def list_items(request: web.Request) -> web.Response:
    """v4 has no status filter on list_items (zep-cloud 4.0.1)."""
    batch = batch_of(request)
    size = page_size(request, "page_size")
    scope = f"items:{batch.uuid}"
    page, next_index = tenant_of(request).list_items(batch, None, cursor_position(request, scope), size)
    return json_response(page_json([item_json(i) for i in page], scope, next_index, len(batch.items)))


async def delete_batch(request: web.Request) -> web.Response:
    tenant_of(request).delete_batch(batch_of(request))
    return no_content()


async def create_user(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    body: CreateUserRequest = await read_model(request, CreateUserRequest)
    user = tenant.store.create_user(body.user_id, tenant.clock.now(), **body.model_dump(exclude={"user_id"}))
    return json_response(user_json(user), status=201)


async def get_user(request: web.Request) -> web.Response:
    return json_response(user_json(user_of(request)))


async def delete_user(request: web.Request) -> web.Response:
    """202 ``{"task": ...}`` (zep-cloud 4.0.1 ``UserDeleteResult``); the delete is done at once."""
    tenant = tenant_of(request)
    tenant.store.delete_user(user_of(request))
    return json_response({"task": task_json(tenant.new_task("user.delete"))}, status=202)


async def create_graph(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    body: CreateGraphRequest = await read_model(request, CreateGraphRequest)
    graph = tenant.store.create_graph(None, tenant.clock.now(), **body.model_dump())
    return json_response(graph_json(graph), status=201)


async def get_graph(request: web.Request) -> web.Response:
    return json_response(graph_json(graph_of(request)))


async def delete_graph(request: web.Request) -> web.Response:
    """202 ``{"task": ...}`` (zep-cloud 4.0.1 ``GraphDeleteResult``); the delete is done at once."""
    tenant = tenant_of(request)
    tenant.store.delete_graph(graph_of(request))
    return json_response({"task": task_json(tenant.new_task("graph.delete"))}, status=202)


async def create_thread(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    body: CreateThreadRequest = await read_model(request, CreateThreadRequest)
    user = tenant.store.user(KeySpace.UUID, check_uuid(body.user_uuid, "user_uuid"))
    thread = tenant.store.create_thread(None, user, tenant.clock.now())
    return json_response(thread_json(thread), status=201)


async def get_thread(request: web.Request) -> web.Response:
    return json_response(thread_json(thread_of(request)))


async def delete_thread(request: web.Request) -> web.Response:
    """202 ``{"task": ...}`` (zep-cloud 4.0.1 ``ThreadDeleteResult``); the delete is done at once."""
    tenant = tenant_of(request)
    tenant.store.delete_thread(thread_of(request))
    return json_response({"task": task_json(tenant.new_task("thread.delete"))}, status=202)


async def list_messages(request: web.Request) -> web.Response:
    """``thread.list_messages``: by ``created_at`` (the only ``order_by``), ``order`` asc
    (default) or desc."""
    thread = thread_of(request)
    size = page_size(request, "page_size")
    order = request.query.get("order") or "asc"
    if order not in ("asc", "desc"):
        raise InvalidInput("invalid_parameter", f"order must be asc or desc; got {order!r}", param="order")
    order_by = request.query.get("order_by") or "created_at"
    if order_by != "created_at":
        raise InvalidInput("invalid_parameter", f"order_by must be created_at; got {order_by!r}", param="order_by")
    scope = f"messages:{thread.uuid}:{order}"
    start = cursor_position(request, scope)
    live = thread.live_messages()
    messages = live if order == "asc" else live[::-1]
    page = messages[start : start + size]
    next_position = start + size if start + size < len(messages) else None
    return json_response(
        page_json(
            [
                message_json(m)
                for m in page
            ],
            scope,
            next_position,
            len(messages),
        )
    )


async def list_tasks(request: web.Request) -> web.Response:
    """zep-cloud 4.0.1 ``task.list``: ``GET /tasks?page_size=&cursor=&status=&type=``, a
    ``TaskPage``. Oldest first, like ``batch.list``; ``type`` is matched exactly (the SDK's
    ``TaskListRequestType`` admits any string, so an unknown one finds nothing)."""
    tenant = tenant_of(request)
    size = page_size(request, "page_size")
    status = status_filter(request, TaskStatus)
    task_type = request.query.get("type") or None
    scope = f"tasks:{status.value if status else ''}:{task_type or ''}"
    page, next_serial, total = tenant.list_tasks(status, task_type, cursor_position(request, scope), size)
    return json_response(page_json([task_json(t) for t in page], scope, next_serial, total))


async def get_task(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    return json_response(task_json(tenant.task(check_uuid(request.match_info["task_uuid"], "task_uuid"))))


def error_body(info: ErrorInfo) -> ErrorResponse:
    """v4 error body (zep-cloud 4.0.1 ``types.ApiError`` = ``{"error": ErrorBody}``)."""
    return {
        "error": {
            "code": info.code,
            "message": info.message,
            "param": info.param,
            "request_id": info.request_id,
            "details": info.details,
        }
    }


PAGING = (page_size_param("page_size"), CURSOR_PARAM)

ROUTES = [
    Route("POST", "/batches", create_batch, "batch.create", CreateBatchRequest, 201, BatchRecord),
    Route("POST", "/batches/{batch_uuid}/items", add_items, "batch.add_items", AddItemsRequest, response=AddItemsResult,
          errors=(409,)),
    Route("POST", "/batches/{batch_uuid}/process", process_batch, "batch.process", None, 202, ProcessResult, errors=(409,)),
    Route("GET", "/batches/{batch_uuid}", get_batch, "batch.get", response=BatchRecord),
    Route("GET", "/batches", list_batches, "batch.list", response=Page[BatchRecord], query=(*PAGING, status_param(BatchStatus))),
    Route("GET", "/batches/{batch_uuid}/items", list_items, "batch.list_items", response=Page[ItemRecord], query=PAGING),
    Route("DELETE", "/batches/{batch_uuid}", delete_batch, "batch.delete", None, 204, errors=(409,)),
    Route("POST", "/users", create_user, "user.create", CreateUserRequest, 201, UserRecord, errors=(409,)),
    Route("GET", "/users/{user_uuid}", get_user, "user.get", response=UserRecord),
    Route("DELETE", "/users/{user_uuid}", delete_user, "user.delete", None, 202, TaskResult),
    Route("POST", "/graphs", create_graph, "graph.create", CreateGraphRequest, 201, GraphRecord),
    Route("GET", "/graphs/{graph_uuid}", get_graph, "graph.get", response=GraphRecord),
    Route("DELETE", "/graphs/{graph_uuid}", delete_graph, "graph.delete", None, 202, TaskResult),
    Route("POST", "/threads", create_thread, "thread.create", CreateThreadRequest, 201, ThreadRecord),
    Route("GET", "/threads/{thread_uuid}", get_thread, "thread.get", response=ThreadRecord),
    Route("DELETE", "/threads/{thread_uuid}", delete_thread, "thread.delete", None, 202, TaskResult),
    Route("GET", "/threads/{thread_uuid}/messages", list_messages, "thread.list_messages", response=Page[MessageRecord],
          query=(*PAGING, str_param("order", "asc (default) or desc", ("asc", "desc")),
                 str_param("order_by", "created_at, the only order", ("created_at",)))),
    Route("GET", "/tasks", list_tasks, "task.list", response=Page[TaskRecord],
          query=(*PAGING, status_param(TaskStatus), str_param("type", "only tasks of this type, e.g. batch.process"))),
    Route("GET", "/tasks/{task_uuid}", get_task, "task.get", response=TaskRecord),
    *GRAPH_ROUTES,
]

DIALECT = Dialect(
    name="zep-v4",
    prefix=PREFIX,
    service=Service.ZEP,
    auth_schemes=("Api-Key", "Bearer"),
    error_body=error_body,
    routes=ROUTES,
    idempotency=True,
    error_schema=ErrorResponse,
    uuid_params=frozenset(name for route in ROUTES for name in path_params(route.path) if name.endswith("_uuid")),
)
