"""Maximem Synap's memories API, as maximem-synap 0.6.9 speaks it
(reference/synap-wire-contract.md; the rules themselves are in core/memories.py).

Routes: ``GET /api/v1/auth/whoami``, ``POST /api/v1/memories/batch``, ``POST
/api/v1/memories/create``, ``GET /api/v1/memories/status/{ingestion_id}``, ``GET
/api/v1/memories/{memory_id}``; the docs' aliases ``POST /v1/memories`` and
``/v1/memories/batch``; the SDK's background ``POST /v1/telemetry/batch`` (202, kept per tenant,
nothing else) and ``GET /health`` (200, no auth). Auth is ``Authorization: Bearer <key>``;
Synap tenants are separate from Zep's, even for the same key.

Wire facts this module implements, each from the contract:
- every success on a memories route is **200** (§0: the SDK treats any other 2xx as transient
  and retries the POST, which would ingest the batch again); telemetry answers 202 (§6);
- errors are FastAPI's ``{"detail": "..."}`` (§3.1: the SDK reads ``detail``); 400 and 422
  raise ``InvalidInputError``, 401 ``AuthenticationError``, 404 ``ContextNotFoundError``, 409
  ``ConflictError``;
- a batch answers ``batch_id`` (UUID), ``total`` / ``succeeded`` / ``failed`` and one result
  per document in input order, every result with a UUID ``ingestion_id``, a ``document_id``,
  a status and ``queued_at`` — refused ones too (§2.1), and they are pollable;
- a status never carries ``memories_created`` / ``memory_ids`` as null (§2.3: null breaks the
  SDK); ``memory_id`` is a UUID (§2.5);
- whoami answers ``client_id``, ``instance_id`` (``cli_`` / ``inst_`` + 16 hex, fixed per key)
  and ``user_context_isolation`` (§1.4).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Any, Literal, Optional, Union

from aiohttp import web
from pydantic import StrictBool, StrictStr
from typing_extensions import NotRequired, TypedDict

from ..core.errors import InvalidInput, NotFound, Unprocessable, shown
from ..core.graph import GraphStore
from ..core.memories import MAX_DOCUMENTS_PER_CALL, Document, Isolation, MemoryDesk, Progress, Receipt
from ..core.temporal import Edge
from ..core.tenants import Service, Tenant
from ..core.timestamps import format_rfc3339 as ts
from .http import Dialect, ErrorInfo, MaybeTimestamp, Route, Timestamp, json_response, read_model, read_object, tenant_of
from .zep_common import Body


class DocumentIn(Body):
    """maximem-synap 0.6.9 ``CreateMemoryRequest`` (all 9 keys are always sent). Type and mode
    are plain strings here: an unknown value makes that one document invalid, not the call."""

    document: Union[StrictStr, dict[str, Any]]
    document_type: StrictStr = "ai-chat-conversation"
    document_id: Optional[StrictStr] = None
    document_created_at: Optional[StrictStr] = None
    user_id: Optional[StrictStr] = None
    customer_id: Optional[StrictStr] = None
    scope: Optional[dict[str, Any]] = None
    mode: StrictStr = "long-range"
    metadata: Optional[dict[str, Any]] = None


class BatchIn(Body):
    documents: list[DocumentIn]
    fail_fast: StrictBool = False


def _desk(request: web.Request) -> tuple[Tenant, MemoryDesk]:
    tenant = tenant_of(request)
    assert tenant.memories is not None  # a Synap dialect's tenant
    return tenant, tenant.memories


def _document(doc: DocumentIn, where: str) -> Document:
    return Document(
        content=doc.document,
        document_type=doc.document_type,
        document_id=doc.document_id,
        created_at=_created_at(doc.document_created_at, where),
        user_id=doc.user_id,
        customer_id=doc.customer_id,
        scope=doc.scope,
        mode=doc.mode,
        metadata=doc.metadata or {},
    )


def _created_at(raw: str | None, where: str) -> datetime | None:
    """``document_created_at``: ISO 8601; the SDK sends an aware datetime with ``Z`` and a naive
    one without an offset (§2), which counts as UTC."""
    if raw is None:
        return None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidInput("invalid_timestamp", f"{where}document_created_at: {shown(raw)} is not an ISO 8601 date-time") from None
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)


class CreateMemoryResponse(TypedDict):
    """maximem-synap 0.6.9 ``CreateMemoryResponse``: one document's receipt, ``queued`` or
    (refused) ``failed`` with ``error_message``, which is absent otherwise."""

    ingestion_id: str
    document_id: str
    status: Literal["queued", "failed"]
    queued_at: Timestamp
    error_message: NotRequired[str]


def _result(receipt: Receipt) -> CreateMemoryResponse:
    body: CreateMemoryResponse = {
        "ingestion_id": receipt.uuid,
        "document_id": receipt.document_id,
        "status": "queued" if receipt.item is not None else "failed",
        "queued_at": ts(receipt.queued_at),
    }
    if receipt.error is not None:
        body["error_message"] = receipt.error
    return body


# -- handlers ----------------------------------------------------------------------------------


class Whoami(TypedDict):
    """``GET /api/v1/auth/whoami`` (0.6.9 reads it as a dict in ``MaximemSynapSDK.initialize``):
    ids fixed per key, and the instance's isolation mode."""

    client_id: str
    instance_id: str
    user_context_isolation: Isolation


async def whoami(request: web.Request) -> web.Response:
    tenant, desk = _desk(request)
    digest = hashlib.sha256(tenant.key.encode()).hexdigest()
    body: Whoami = {
        "client_id": f"cli_{digest[:16]}",
        "instance_id": f"inst_{digest[16:32]}",
        "user_context_isolation": desk.isolation.value,
    }
    return json_response(body)


class BatchCreateResponse(TypedDict):
    """0.6.9 ``BatchCreateResponse``: one result per document, in input order."""

    batch_id: str
    total: int
    succeeded: int
    failed: int
    results: list[CreateMemoryResponse]


async def batch_create(request: web.Request) -> web.Response:
    tenant, desk = _desk(request)
    body: BatchIn = await read_model(request, BatchIn)
    count = len(body.documents)
    if not 1 <= count <= MAX_DOCUMENTS_PER_CALL:
        raise Unprocessable("batch_size", f"documents: a batch takes 1 to {MAX_DOCUMENTS_PER_CALL} documents; got {count}")
    docs = [_document(d, f"documents[{i}].") for i, d in enumerate(body.documents)]
    receipts = desk.submit(tenant, docs, body.fail_fast, "memories.batch_create")
    accepted = sum(1 for r in receipts if r.item is not None)
    answer: BatchCreateResponse = {
        "batch_id": tenant.ids.uuid(),
        "total": count,
        "succeeded": accepted,
        "failed": count - accepted,
        "results": [_result(r) for r in receipts],
    }
    return json_response(answer)


async def create(request: web.Request) -> web.Response:
    tenant, desk = _desk(request)
    body: DocumentIn = await read_model(request, DocumentIn)
    doc = _document(body, "")
    desk.check_one(doc)
    (receipt,) = desk.submit(tenant, [doc], True, "memories.create")
    return json_response(_result(receipt))


class MemoryStatusResponse(TypedDict):
    """0.6.9 ``MemoryStatusResponse``: ``memories_created`` and ``memory_ids`` never null;
    ``error_message`` only when there is one (a refusal, a failure, or a partial success's
    warnings)."""

    ingestion_id: str
    document_id: str
    status: Progress
    queued_at: Timestamp
    started_at: MaybeTimestamp
    completed_at: MaybeTimestamp
    memories_created: int
    memory_ids: list[str]
    error_message: NotRequired[str]


async def status(request: web.Request) -> web.Response:
    tenant, desk = _desk(request)
    ingestion_id = request.match_info["ingestion_id"]
    receipt = desk.receipts.get(ingestion_id.lower())
    if receipt is None:
        raise NotFound("ingestion_not_found", f"ingestion {ingestion_id!r} not found")
    outcome = desk.outcome(tenant, receipt)
    body: MemoryStatusResponse = {
        "ingestion_id": receipt.uuid,
        "document_id": receipt.document_id,
        "status": outcome.progress.value,
        "queued_at": ts(receipt.queued_at),
        "started_at": ts(outcome.started_at),
        "completed_at": ts(outcome.completed_at),
        "memories_created": len(outcome.memories),
        "memory_ids": [m.uuid for m in outcome.memories],
    }
    if outcome.error is not None:
        body["error_message"] = outcome.error
    return json_response(body)


async def get_memory(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    memory_id = request.match_info["memory_id"]
    try:
        knowledge, edge = tenant.find_edge(memory_id.lower())
    except NotFound:
        raise NotFound("memory_not_found", f"memory {memory_id!r} not found") from None
    return json_response(memory_json(edge, tenant.store))


class Memory(TypedDict):
    """0.6.9 ``Memory`` (no ``subcategory``), plus the fact's validity interval."""

    memory_id: str
    memory_type: Literal["fact"]
    content: str
    confidence: float
    category: str
    created_at: Timestamp
    updated_at: Timestamp
    source_document_id: Optional[str]
    valid_at: MaybeTimestamp
    invalid_at: MaybeTimestamp
    expired_at: MaybeTimestamp


def memory_json(edge: Edge, store: GraphStore) -> Memory:
    """A memory is a fact (edge): its text, its relation as the category, the document that
    first asserted it, and - as extra fields the SDK ignores - its validity interval."""
    first = store.episodes_by_uuid.get(edge.episodes[0]) if edge.episodes else None
    return {
        "memory_id": edge.uuid,
        "memory_type": "fact",
        "content": edge.fact,
        "confidence": 1.0,
        "category": edge.name,
        "created_at": ts(edge.created_at),
        "updated_at": ts(edge.expired_at or edge.created_at),
        "source_document_id": first.document_id if first is not None else None,
        "valid_at": ts(edge.valid_at),
        "invalid_at": ts(edge.invalid_at),
        "expired_at": ts(edge.expired_at),
    }


class TelemetryAccepted(TypedDict):
    """The telemetry answer: an empty object."""


async def telemetry(request: web.Request) -> web.Response:
    """The SDK's background telemetry: kept (the last 1,000 per tenant), answered 202 (§6: the
    only codes it takes besides 200)."""
    _, desk = _desk(request)
    desk.telemetry.append(await read_object(request))
    answer: TelemetryAccepted = {}
    return json_response(answer, status=202)


class Health(TypedDict):
    """``GET /health``: the service is up (no auth)."""

    status: Literal["ok"]


async def health(request: web.Request) -> web.Response:
    body: Health = {"status": "ok"}
    return json_response(body)


class HTTPError(TypedDict):
    """FastAPI's error body, ``{"detail": "..."}`` (0.6.9 reads ``detail``; here always a
    string, never FastAPI's list of validation errors)."""

    detail: str


def error_body(info: ErrorInfo) -> HTTPError:
    """FastAPI's error body; the SDK reads ``detail``."""
    return {"detail": info.message}


def _dialect(name: str, prefix: str, routes: list[Route]) -> Dialect:
    return Dialect(name=name, prefix=prefix, service=Service.SYNAP, auth_schemes=("Bearer",), error_body=error_body,
                   routes=routes, error_schema=HTTPError)


# 422: a batch of no documents or of more than MAX_DOCUMENTS_PER_CALL. 409: create's
# document_id is already stored (a batch answers that document's result as failed instead).
BATCH_ERRORS = (422,)
CREATE_ERRORS = (409,)

API = _dialect("synap", "/api/v1", [
    Route("GET", "/auth/whoami", whoami, "auth.whoami", response=Whoami),
    Route("POST", "/memories/batch", batch_create, "memories.batch_create", BatchIn, response=BatchCreateResponse,
          errors=BATCH_ERRORS),
    Route("POST", "/memories/create", create, "memories.create", DocumentIn, response=CreateMemoryResponse,
          errors=CREATE_ERRORS),
    Route("GET", "/memories/status/{ingestion_id}", status, "memories.status", response=MemoryStatusResponse),
    Route("GET", "/memories/{memory_id}", get_memory, "memories.get", response=Memory),
])
DOCS_PATHS = _dialect("synap-docs", "/v1", [
    Route("POST", "/memories", create, "memories.create (docs path)", DocumentIn, response=CreateMemoryResponse,
          errors=CREATE_ERRORS),
    Route("POST", "/memories/batch", batch_create, "memories.batch_create (docs path)", BatchIn,
          response=BatchCreateResponse, errors=BATCH_ERRORS),
    # The body is any JSON object (kept as sent); one that is not is a 400.
    Route("POST", "/telemetry/batch", telemetry, "telemetry.batch", dict[str, Any], 202, TelemetryAccepted),
])
HEALTH = Dialect(name="synap-health", prefix="/health", service=None, auth_schemes=(), error_body=error_body,
                 routes=[Route("GET", "", health, "health", response=Health)], error_schema=HTTPError)
DIALECTS = (API, DOCS_PATHS, HEALTH)
