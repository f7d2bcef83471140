"""HTTP plumbing shared by every dialect: routes as data, the dialect description, JSON in
and out, query parameters, and the translation of validation failures into core errors."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Optional

import orjson
from aiohttp import web
from pydantic import BaseModel, ValidationError, WithJsonSchema
from typing_extensions import Annotated

from ..core.errors import EmulatorError, ErrorKind, InvalidInput, shown
from ..core.limits import DEFAULT_PAGE_SIZE, MAX_JSON_DEPTH, MAX_PAGE_SIZE, MIN_PAGE_SIZE
from ..core.tenants import Service, Tenant
from ..core.world import World

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: A timestamp as every dialect writes it (core/timestamps.format_rfc3339), for response types.
Timestamp = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
#: The same, or null where the record has no such time yet.
MaybeTimestamp = Annotated[Optional[str], WithJsonSchema({"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]})]

#: The methods whose body the middleware reads (bounded in time and size) before any handler runs.
MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

#: Where the application keeps its world.
WORLD = web.AppKey("world", World)

# Typed per-request storage (aiohttp >= 3.14 warns on plain string keys; older releases have
# no RequestKey, and take the plain names).
_RequestKey: Any = getattr(web, "RequestKey", None)
TENANT: Any = _RequestKey("tenant", Tenant) if _RequestKey else "tenant"
REQUEST_ID: Any = _RequestKey("request_id", str) if _RequestKey else "request_id"
API_KEY: Any = _RequestKey("api_key", object) if _RequestKey else "api_key"

STATUS_FOR_KIND: dict[ErrorKind, int] = {
    ErrorKind.INVALID: 400,
    ErrorKind.UNAUTHORIZED: 401,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.CONFLICT: 409,
    ErrorKind.UNPROCESSABLE: 422,
    ErrorKind.RATE_LIMITED: 429,
}


_PATH_PARAM = re.compile(r"{([^}]+)}")


def path_params(path: str) -> list[str]:
    """The names of the ``{placeholders}`` in a route's path."""
    return _PATH_PARAM.findall(path)


@dataclass(frozen=True)
class Param:
    """A query parameter a handler reads, as the OpenAPI document describes it (wire/openapi.py)."""

    name: str
    schema: dict[str, Any]
    description: str = ""


def int_param(name: str, low: int, high: int | None = None, description: str = "") -> Param:
    """An integer query parameter that :func:`query_int` checks against the same bounds."""
    schema: dict[str, Any] = {"type": "integer", "minimum": low}
    if high is not None:
        schema["maximum"] = high
    return Param(name, schema, description)


def str_param(name: str, description: str = "", enum: tuple[str, ...] | None = None) -> Param:
    return Param(name, {"type": "string", "enum": list(enum)} if enum else {"type": "string"}, description)


@dataclass(frozen=True)
class Route:
    """One endpoint: what the app registers, and what the OpenAPI document lists
    (wire/openapi.py builds the document from these fields and nothing else).

    ``body`` is the type the handler validates the request body with (a pydantic model, a
    TypedDict or a TypeAdapter's type); ``response`` the type of the success body it answers
    with ``status`` (None: no body); ``query`` the query parameters it reads; ``errors`` the
    error statuses the route answers beyond the ones every route of its kind has (see
    openapi.error_statuses)."""

    method: str
    path: str
    handler: Handler
    summary: str
    body: Any = None
    status: int = 200
    response: Any = None
    query: tuple[Param, ...] = ()
    errors: tuple[int, ...] = ()


@dataclass(frozen=True)
class ErrorInfo:
    status: int
    code: str
    message: str
    param: str | None = None
    details: dict[str, Any] | None = None
    request_id: str | None = None

    @classmethod
    def from_error(cls, exc: EmulatorError, request_id: str | None) -> "ErrorInfo":
        return cls(STATUS_FOR_KIND[exc.kind], exc.code, exc.message, exc.param, exc.details, request_id)


@dataclass(frozen=True)
class Dialect:
    """How one API version is spelled on the wire, as far as the shared middleware cares."""

    name: str
    prefix: str
    service: Service | None
    #: Authorization schemes accepted, e.g. ("Api-Key", "Bearer"); empty = no auth needed.
    auth_schemes: tuple[str, ...]
    error_body: Callable[[ErrorInfo], Any]
    routes: list[Route] = field(default_factory=list)
    #: Whether mutating calls honour an ``Idempotency-Key`` header (Zep v4).
    idempotency: bool = False
    #: The type of :attr:`error_body`'s result, for the OpenAPI document.
    error_schema: Any = None
    #: Path parameters its handlers check as UUIDs (zep_common.check_uuid: 400 otherwise).
    uuid_params: frozenset[str] = frozenset()

    def error_response(self, info: ErrorInfo, headers: dict[str, str] | None = None) -> web.Response:
        return json_response(self.error_body(info), info.status, headers=headers)


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=orjson.dumps(payload),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def no_content() -> web.Response:
    return web.Response(status=204)


def tenant_of(request: web.Request) -> Tenant:
    return request[TENANT]  # type: ignore[no-any-return]


async def read_object(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object. An empty body reads as ``{}`` (zep-cloud 3.x sends
    ``batch.create()`` with Content-Length 0 but a JSON content type, wire contract §0)."""
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        payload = orjson.loads(raw)  # strict: no NaN/Infinity, UTF-8 only, nesting bounded
    except orjson.JSONDecodeError as exc:
        if "UTF-8" in str(exc):
            raise InvalidInput("invalid_json", "the request body is not UTF-8 text") from None
        raise InvalidInput("invalid_json", f"the request body is not valid JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise InvalidInput("invalid_body", f"the request body must be a JSON object, not {type(payload).__name__}")
    if raw.count(b"{") + raw.count(b"[") > MAX_JSON_DEPTH:  # fewer brackets cannot nest that deep
        check_depth(payload)
    return payload


#: The deepest nesting orjson writes.
_WRITABLE_DEPTH = 254


def check_depth(payload: Any) -> None:
    """Refuse a value nested deeper than :data:`MAX_JSON_DEPTH` (400 ``invalid_json``).

    Measured by orjson itself, at C speed: *payload* wrapped in enough lists to take it past
    what orjson writes exactly when it is nested too deep."""
    wrapped = payload
    for _ in range(_WRITABLE_DEPTH - MAX_JSON_DEPTH):
        wrapped = [wrapped]
    try:
        orjson.dumps(wrapped)
    except orjson.JSONEncodeError:
        raise InvalidInput("invalid_json", f"the request body nests deeper than the depth limit of {MAX_JSON_DEPTH} levels") from None


async def read_model(request: web.Request, model: type[BaseModel]) -> Any:
    return parse_model(model, await read_object(request))


def parse_model(model: type[BaseModel], payload: dict[str, Any]) -> Any:
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise validation_failure(exc) from None


def validation_failure(exc: ValidationError) -> InvalidInput:
    """The first pydantic error as an InvalidInput naming the field like ``items[3].role``."""
    first = exc.errors(include_url=False)[0]
    param = loc_to_param(first["loc"])
    message = first["msg"]
    if first["type"] == "missing":
        message = "is required"
    elif first["type"] == "extra_forbidden":
        message = "is not a known field"
    return InvalidInput("invalid_request", f"{param}: {message}" if param else message, param=param or None)


def loc_to_param(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def query_int(request: web.Request, name: str, default: int | None, low: int, high: int | None) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput("invalid_parameter", f"{name} must be an integer, not {shown(raw)}", param=name) from None
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise InvalidInput("invalid_parameter", f"{name} must be {bound}; got {value}", param=name)
    return value


def page_size_param(name: str) -> Param:
    """The page-size parameter :func:`page_size` reads."""
    return int_param(name, MIN_PAGE_SIZE, MAX_PAGE_SIZE, f"page size (default {DEFAULT_PAGE_SIZE})")


def page_size(request: web.Request, name: str) -> int:
    """decisions.md "Pagination": 1–200, default 50; out of range is a 400."""
    value = query_int(request, name, DEFAULT_PAGE_SIZE, MIN_PAGE_SIZE, MAX_PAGE_SIZE)
    assert value is not None
    return value

