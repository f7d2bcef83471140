"""The aiohttp application: every dialect's route table behind one middleware.

The middleware, per request (design.md "How a request flows"):
1. picks the dialect by path prefix, and gives the request an id (``X-Request-Id``);
2. answers an unknown route or method with that dialect's 404/405 body, never HTML and never
   a redirect (decisions.md "Unknown routes");
3. reads the whole body of a mutating call, so no handler suspends between looking state up
   and changing it (the world is single-threaded: no locks, as long as nothing awaits);
4. authenticates: ``Authorization: Api-Key <key>`` (what both zep-cloud lines send) or
   ``Bearer <key>`` (Synap: Bearer only) → the key's tenant of the dialect's service; missing
   or malformed is a 401 (decisions.md);
5. in the rate-limit mode, takes a token from the tenant's bucket (429 with ``Retry-After``
   when it is empty; core/ratelimit.py); then, for dialects with idempotency (Zep v4), replays a
   stored answer for a repeated ``Idempotency-Key``;
6. turns core errors into the dialect's error body and status, and anything unexpected into a
   logged 500 in the same shape.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .core.errors import EmulatorError, RateLimited, Unauthorized
from .core.idempotency import IdempotencyStore
from .core.limits import MAX_BODY_BYTES
from .core.world import World
from .wire import control, synap, zep_v2, zep_v4
from .wire.http import API_KEY, REQUEST_ID, TENANT, WORLD, Dialect, ErrorInfo, Handler

log = logging.getLogger("emulator")

DIALECTS: tuple[Dialect, ...] = (zep_v2.DIALECT, zep_v4.DIALECT, control.DIALECT, *synap.DIALECTS)

_FALLBACK = Dialect(
    name="root",
    prefix="",
    service=None,
    auth_schemes=(),
    error_body=lambda info: {"message": info.message, "code": info.code},
)

_MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_HTTP_CODES = {404: "route_not_found", 405: "method_not_allowed", 413: "body_too_large"}

_REQUEST_IDS = web.AppKey("request_ids", itertools.count)


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
    request_id = f"req_{next(request.app[_REQUEST_IDS]):08d}"
    request[REQUEST_ID] = request_id
    headers = {"X-Request-Id": request_id}
    try:
        route_error = request.match_info.http_exception
        if route_error is not None:
            raise route_error
        if request.method in _MUTATING:
            # The whole body first: once a handler has looked state up, it must not suspend
            # (a concurrent delete or reset would then slip in between its check and its write).
            await request.read()
        key = api_key(request, dialect) if dialect.auth_schemes else None
        request[API_KEY] = key
        if dialect.service is not None:
            if key is None:
                raise Unauthorized("unauthorized", "missing Authorization header")
            tenant = request[TENANT] = request.app[WORLD].tenants.get(dialect.service, key)
            if tenant.rate_limit is not None:  # before idempotency: a 429 must not become a key's answer
                tenant.rate_limit.take(tenant.clock.now())
            if dialect.idempotency and request.method in _MUTATING:
                response = await _idempotent(request, handler)
            else:
                response = await handler(request)
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
    app[_REQUEST_IDS] = itertools.count(1)
    for dialect in DIALECTS:
        for route in dialect.routes:
            app.router.add_route(route.method, dialect.prefix + route.path, route.handler)
    return app
