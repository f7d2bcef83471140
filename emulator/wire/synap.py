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
from typing import Any, Optional, Union

from aiohttp import web
from pydantic import StrictBool, StrictStr

from ..core.errors import InvalidInput, NotFound, Unprocessable
from ..core.graph import GraphStore
from ..core.memories import MAX_DOCUMENTS_PER_CALL, Document, MemoryDesk, Receipt
from ..core.temporal import Edge
from ..core.tenants import Service, Tenant
from ..core.timestamps import format_rfc3339 as ts
from .http import Dialect, ErrorInfo, Route, json_response, read_model, read_object, tenant_of
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
        raise InvalidInput("invalid_timestamp", f"{where}document_created_at: {raw!r} is not an ISO 8601 date-time") from None
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)


def _result(receipt: Receipt) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ingestion_id": receipt.uuid,
        "document_id": receipt.document_id,
        "status": "queued" if receipt.item is not None else "failed",
        "queued_at": ts(receipt.queued_at),
    }
    if receipt.error is not None:
        body["error_message"] = receipt.error
    return body


# -- handlers ----------------------------------------------------------------------------------


async def whoami(request: web.Request) -> web.Response:
    tenant, desk = _desk(request)
    digest = hashlib.sha256(tenant.key.encode()).hexdigest()
    return json_response(
        {"client_id": f"cli_{digest[:16]}", "instance_id": f"inst_{digest[16:32]}", "user_context_isolation": desk.isolation.value}
    )


async def batch_create(request: web.Request) -> web.Response:
    tenant, desk = _desk(request)
    body: BatchIn = await read_model(request, BatchIn)
    count = len(body.documents)
    if not 1 <= count <= MAX_DOCUMENTS_PER_CALL:
        raise Unprocessable("batch_size", f"documents: a batch takes 1 to {MAX_DOCUMENTS_PER_CALL} documents; got {count}")
    docs = [_document(d, f"documents[{i}].") for i, d in enumerate(body.documents)]
    receipts = desk.submit(tenant, docs, body.fail_fast, "memories.batch_create")
    accepted = sum(1 for r in receipts if r.item is not None)
    return json_response(
        {
            "batch_id": tenant.ids.uuid(),
            "total": count,
            "succeeded": accepted,
            "failed": count - accepted,
            "results": [_result(r) for r in receipts],
        }
    )


async def create(request: web.Request) -> web.Response:
    tenant, desk = _desk(request)
    body: DocumentIn = await read_model(request, DocumentIn)
    doc = _document(body, "")
    desk.check_one(doc)
    (receipt,) = desk.submit(tenant, [doc], True, "memories.create")
    return json_response(_result(receipt))


async def status(request: web.Request) -> web.Response:
    tenant, desk = _desk(request)
    ingestion_id = request.match_info["ingestion_id"]
    receipt = desk.receipts.get(ingestion_id.lower())
    if receipt is None:
        raise NotFound("ingestion_not_found", f"ingestion {ingestion_id!r} not found")
    outcome = desk.outcome(tenant, receipt)
    body: dict[str, Any] = {
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


def memory_json(edge: Edge, store: GraphStore) -> dict[str, Any]:
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


async def telemetry(request: web.Request) -> web.Response:
    """The SDK's background telemetry: kept (the last 1,000 per tenant), answered 202 (§6: the
    only codes it takes besides 200)."""
    _, desk = _desk(request)
    desk.telemetry.append(await read_object(request))
    return json_response({}, status=202)


async def health(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


def error_body(info: ErrorInfo) -> dict[str, Any]:
    """FastAPI's error body; the SDK reads ``detail``."""
    return {"detail": info.message}


def _dialect(name: str, prefix: str, routes: list[Route]) -> Dialect:
    return Dialect(name=name, prefix=prefix, service=Service.SYNAP, auth_schemes=("Bearer",), error_body=error_body,
                   routes=routes)


API = _dialect("synap", "/api/v1", [
    Route("GET", "/auth/whoami", whoami, "auth.whoami"),
    Route("POST", "/memories/batch", batch_create, "memories.batch_create", BatchIn),
    Route("POST", "/memories/create", create, "memories.create", DocumentIn),
    Route("GET", "/memories/status/{ingestion_id}", status, "memories.status"),
    Route("GET", "/memories/{memory_id}", get_memory, "memories.get"),
])
DOCS_PATHS = _dialect("synap-docs", "/v1", [
    Route("POST", "/memories", create, "memories.create (docs path)", DocumentIn),
    Route("POST", "/memories/batch", batch_create, "memories.batch_create (docs path)", BatchIn),
    Route("POST", "/telemetry/batch", telemetry, "telemetry.batch", None, 202),
])
HEALTH = Dialect(name="synap-health", prefix="/health", service=None, auth_schemes=(), error_body=error_body,
                 routes=[Route("GET", "", health, "health")])
DIALECTS = (API, DOCS_PATHS, HEALTH)
