"""The aiohttp application: every dialect's route table behind one middleware.

The middleware, per request (design.md "How a request flows"):
1. picks the dialect by path prefix, and gives the request an id (``X-Request-Id``);
2. answers an unknown route or method with that dialect's 404/405 body, never HTML and never
   a redirect (decisions.md "Unknown routes");
3. reads the whole body of a mutating call, so no handler suspends between looking state up
   and changing it (the world is single-threaded: no locks, as long as nothing awaits) — within
   the body timeout (``--body-timeout``): a body still incomplete then is a 408 and the
   connection is closed; a body that cannot be decoded is a 400 ``unreadable_body``;
4. authenticates: ``Authorization: Api-Key <key>`` (what both zep-cloud lines send) or
   ``Bearer <key>`` (Synap: Bearer only) → the key's tenant of the dialect's service; missing
   or malformed is a 401 (decisions.md);
5. applies a request fault that fires (core/faults.py): before the handler, or — with
   ``after_commit`` — on a successful answer, which is then lost after its change was kept;
6. in the rate-limit mode, takes a token from the tenant's bucket (429 with ``Retry-After``
   when it is empty; core/ratelimit.py); then, for dialects with idempotency (Zep v4), replays a
   stored answer for a repeated ``Idempotency-Key``;
7. turns core errors into the dialect's error body and status, and anything unexpected into a
   logged 500 in the same shape;
8. records the call and its answer in the journal (core/journal.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from http import HTTPStatus
from typing import Any

from aiohttp import web

from .core.errors import EmulatorError, InvalidInput, RateLimited, Unauthorized
from .core.faults import ActiveFault, FaultBook, RequestFault
from .core.idempotency import IdempotencyStore
from .core.journal import Entry, Journal, preview
from .core.limits import MAX_BODY_BYTES
from .core.tenants import Service
from .core.world import World
from .delivery import Dispatcher
from .wire import control, openapi, synap, zep_v2, zep_v4
from .wire.http import API_KEY, MUTATING_METHODS, REQUEST_ID, TENANT, WORLD, Dialect, ErrorInfo, Handler

log = logging.getLogger("emulator")

DIALECTS: tuple[Dialect, ...] = (zep_v2.DIALECT, zep_v4.DIALECT, control.DIALECT, *synap.DIALECTS)

_FALLBACK = Dialect(
    name="root",
    prefix="",
    service=None,
    auth_schemes=(),
    error_body=lambda info: {"message": info.message, "code": info.code},
)

_HTTP_CODES = {404: "route_not_found", 405: "method_not_allowed", 408: "request_timeout", 413: "body_too_large"}

_RequestKey: Any = getattr(web, "RequestKey", None)
_BODY: Any = _RequestKey("body", bytes) if _RequestKey else "body"
_FAULT: Any = _RequestKey("fault", str) if _RequestKey else "fault"
_DROPPED: Any = _RequestKey("dropped", bool) if _RequestKey else "dropped"
#: The body did not all arrive in time or could not be decoded: the rest of it may still be on
#: the connection, so the answer closes it (:func:`_answer_and_close`).
_CLOSE: Any = _RequestKey("close", bool) if _RequestKey else "close"


def dialect_for(path: str) -> Dialect:
    for dialect in DIALECTS:
        if path == dialect.prefix or path.startswith(dialect.prefix + "/"):
            return dialect
    return _FALLBACK


def api_key(request: web.Request, dialect: Dialect) -> str | None:
    """The key in the Authorization header; None when there is no header at all."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, key = header.strip().partition(" ")
    if scheme.lower() not in {s.lower() for s in dialect.auth_schemes} or not key.strip():
        expected = " or ".join(f"'{s} <key>'" for s in dialect.auth_schemes)
        raise Unauthorized("unauthorized", f"malformed Authorization header; expected {expected}")
    return key.strip()


@web.middleware
async def dispatch(request: web.Request, handler: Handler) -> web.StreamResponse:
    dialect = dialect_for(request.path)
    journal = request.app[WORLD].journal
    serial = journal.next_serial()
    request[REQUEST_ID] = request_id = f"req_{serial:08d}"
    started = time.perf_counter()
    response = await _answer(request, handler, dialect, request_id)
    if request.get(_CLOSE):
        response = await _answer_and_close(request, response)
    _record(journal, request, dialect, serial, response, started)
    return response


async def _answer(request: web.Request, handler: Handler, dialect: Dialect, request_id: str) -> web.StreamResponse:
    headers = {"X-Request-Id": request_id}
    try:
        route_error = request.match_info.http_exception
        if route_error is not None:
            raise route_error
        if request.method in MUTATING_METHODS:
            # The whole body first: once a handler has looked state up, it must not suspend
            # (a concurrent delete or reset would then slip in between its check and its write).
            request[_BODY] = await _read_body(request)
        key = api_key(request, dialect) if dialect.auth_schemes else None
        request[API_KEY] = key
        if dialect.service is not None:
            if key is None:
                raise Unauthorized("unauthorized", "missing Authorization header")
            world = request.app[WORLD]
            tenant = request[TENANT] = world.tenants.get(dialect.service, key)
            fault = _request_fault(world.faults, request, dialect, key)
            if fault is not None and not fault.spec.after_commit:
                injected = await _inject(request, dialect, fault, headers)
                if injected is not None:
                    return injected
            if tenant.rate_limit is not None:  # before idempotency: a 429 must not become a key's answer
                tenant.rate_limit.take(tenant.clock.now())
            if dialect.idempotency and request.method in MUTATING_METHODS:
                response = await _idempotent(request, handler)
            else:
                response = await handler(request)
            if fault is not None and fault.spec.after_commit and response.status < 400:
                return await _inject(request, dialect, fault, headers) or response
        else:
            response = await handler(request)
    except EmulatorError as exc:
        if isinstance(exc, RateLimited) and exc.details:
            headers.update(_rate_limit_headers(exc.details))
        return dialect.error_response(ErrorInfo.from_error(exc, request_id), headers)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        details = None
        if isinstance(exc, web.HTTPMethodNotAllowed):
            details = {"allowed": sorted(exc.allowed_methods)}
            headers["Allow"] = ", ".join(details["allowed"])
        info = ErrorInfo(
            exc.status, _HTTP_CODES.get(exc.status, "http_error"), _http_message(request, exc), details=details, request_id=request_id
        )
        return dialect.error_response(info, headers)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        info = ErrorInfo(500, "internal_error", "the emulator failed on this request; see its log", request_id=request_id)
        return dialect.error_response(info, headers)
    response.headers.setdefault("X-Request-Id", request_id)
    return response


# -- the request body ---------------------------------------------------------------------------


async def _read_body(request: web.Request) -> bytes:
    """The whole body, within the world's ``body_timeout`` seconds (settings ``--body-timeout``).

    A client that sends its headers and then only part of the body (Content-Length promises
    more) would otherwise hold the handler forever: past the timeout this raises 408
    (RFC 9110 §15.5.9: the server "did not receive a complete request message within the time
    that it was prepared to wait"). A body aiohttp cannot decode (a ``Content-Encoding`` it does
    not match) is a 400 ``unreadable_body``, as is one whose client went away half-way (no one
    is left to read that answer; the journal records the call with no status). Over
    ``MAX_BODY_BYTES`` aiohttp raises its 413 itself."""
    try:
        async with asyncio.timeout(request.app[WORLD].config.body_timeout):
            return await request.read()
    except TimeoutError:
        request[_CLOSE] = True
        raise web.HTTPRequestTimeout() from None
    except web.RequestPayloadError as exc:
        request[_CLOSE] = True
        raise InvalidInput("unreadable_body", f"the request body could not be read: {exc}") from None
    except ConnectionError:
        request[_DROPPED] = True
        raise InvalidInput("unreadable_body", "the connection closed before the request body arrived") from None


async def _answer_and_close(request: web.Request, response: web.Response) -> web.Response:
    """Send *response* now and close the connection: after a timed-out or undecodable body the
    connection is no longer usable (the rest of the body could arrive and be read as a new request), so RFC
    9110 §15.5.9 says the server SHOULD close it. ``force_close`` makes aiohttp send
    ``Connection: close``; closing the transport ourselves spares the client aiohttp's
    lingering read of the body that never comes."""
    response.force_close()
    await response.prepare(request)
    await response.write_eof()
    if request.transport is not None:
        request.transport.close()
    return response


# -- faults (core/faults.py) -----------------------------------------------------------------


def _request_fault(faults: FaultBook, request: web.Request, dialect: Dialect, key: str) -> ActiveFault | None:
    """The request fault that fires on this call, if any (the API is ``synap`` for both of
    Synap's path families)."""
    if not faults.rules:
        return None
    api = "synap" if dialect.service is Service.SYNAP else dialect.name
    fault = faults.for_request(request.method, request.path, api, key)
    if fault is not None:
        request[_FAULT] = fault.id
    return fault


async def _inject(request: web.Request, dialect: Dialect, fault: ActiveFault, headers: dict[str, str]) -> web.Response | None:
    """Do what the fault says: wait, then answer its status in the API's error shape (with
    ``Retry-After`` if asked) or close the connection unanswered. None: latency only, the
    call goes on."""
    spec = fault.spec
    assert isinstance(spec, RequestFault)
    if spec.latency_ms:
        await asyncio.sleep(spec.latency_ms / 1000)
    if spec.drop_connection:
        request[_DROPPED] = True
        if request.transport is not None:
            request.transport.close()
        return web.Response(status=204)  # never reaches the client: the connection is gone
    if spec.status is None:
        return None
    if spec.retry_after is not None:
        headers["Retry-After"] = str(spec.retry_after)
    code = spec.code or HTTPStatus(spec.status).phrase.lower().replace(" ", "_").replace("-", "_")
    message = spec.message or f"injected by fault {fault.id}"
    return dialect.error_response(ErrorInfo(spec.status, code, message, request_id=request[REQUEST_ID]), headers)


# -- the journal (core/journal.py) -------------------------------------------------------------


def _record(journal: Journal, request: web.Request, dialect: Dialect, serial: int, response: web.StreamResponse,
            started: float) -> None:
    body = response.body if isinstance(response, web.Response) else None
    journal.record(Entry(
        id=request[REQUEST_ID],
        serial=serial,
        at=datetime.now(timezone.utc),
        method=request.method,
        path=request.path,
        query=request.query_string,
        api=dialect.name,
        tenant=request.get(API_KEY),
        status=None if request.get(_DROPPED) else response.status,
        duration_ms=(time.perf_counter() - started) * 1000,
        idempotency_key=request.headers.get("Idempotency-Key"),
        replayed=response.headers.get("X-Replayed-Request-Id"),
        fault=request.get(_FAULT),
        request_body=preview(request.get(_BODY, b"")),
        response_body=preview(bytes(body)) if isinstance(body, (bytes, bytearray)) else b"",
    ))


def _rate_limit_headers(details: dict[str, Any]) -> dict[str, str]:
    """``Retry-After`` in whole seconds (zep-cloud and maximem-synap both read it; Synap's SDK
    only takes an integer) and the customary ``X-RateLimit-*`` trio."""
    return {
        "Retry-After": str(details["retry_after_seconds"]),
        "X-RateLimit-Limit": str(details["limit"]),
        "X-RateLimit-Remaining": str(details["remaining"]),
        "X-RateLimit-Reset": str(details["retry_after_seconds"]),
    }


def _http_message(request: web.Request, exc: web.HTTPException) -> str:
    if exc.status == 404:
        return f"no route for {request.method} {request.path}"
    if exc.status == 405:
        return f"method {request.method} is not allowed on {request.path}"
    if exc.status == 413:
        return f"the request body is over {MAX_BODY_BYTES} bytes"
    if exc.status == 408:
        return f"the request body did not arrive within {request.app[WORLD].config.body_timeout:g} s"
    return exc.reason


@dataclass(frozen=True, slots=True)
class _Replay:
    status: int
    body: bytes
    content_type: str | None
    request_id: str


async def _idempotent(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Zep v4 Idempotency-Key replay (rules in core/idempotency.py). Every answer below 500 is
    kept: it is what the request did, and a retry must get the same. A 5xx is not kept, so
    its retry runs afresh."""
    idem = request.headers.get("Idempotency-Key")
    if not idem:
        return await handler(request)
    tenant = request[TENANT]
    key = (request.method, request.path, idem)
    stored = tenant.idempotency.begin(key, await request.read(), tenant.clock.now())
    if stored is not None:
        return web.Response(
            body=stored.body,
            status=stored.status,
            content_type=stored.content_type,
            headers={"Idempotent-Replayed": "true", "X-Replayed-Request-Id": stored.request_id},
        )
    try:
        response = await handler(request)
    except EmulatorError as exc:
        response = dialect_for(request.path).error_response(ErrorInfo.from_error(exc, request[REQUEST_ID]))
    except BaseException:
        tenant.idempotency.abandon(key)
        raise
    _keep(tenant.idempotency, key, request, response)
    return response


def _keep(store: IdempotencyStore, key: tuple[str, str, str], request: web.Request, response: web.StreamResponse) -> None:
    if response.status >= 500 or not isinstance(response, web.Response):
        store.abandon(key)
        return
    body = bytes(response.body or b"")  # type: ignore[arg-type]
    replay = _Replay(response.status, body, response.content_type if body else None, request[REQUEST_ID])
    store.finish(key, replay, len(body))


def build_app(world: World) -> web.Application:
    app = web.Application(middlewares=[dispatch], client_max_size=MAX_BODY_BYTES)
    app[WORLD] = world
    app[openapi.DOCUMENT] = openapi.Document(DIALECTS)
    sender = Dispatcher()
    world.send_webhooks = sender.dispatch

    async def stop_sending(app: web.Application) -> None:
        await sender.close()

    app.on_cleanup.append(stop_sending)
    for dialect in DIALECTS:
        for route in dialect.routes:
            app.router.add_route(route.method, dialect.prefix + route.path, route.handler)
    return app
