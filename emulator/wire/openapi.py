"""The OpenAPI 3.1 document of every route the server registers, built from the route tables.

Nothing here is kept by hand: each :class:`~.http.Route` names the type its handler validates
the body with, the type of the body it answers, the query parameters it reads and its
route-specific error statuses; each :class:`~.http.Dialect` its prefix, auth schemes and error
body type. pydantic turns the types into JSON Schema (2020-12, which OpenAPI 3.1 uses as is),
one generation per dialect so that v2's and v4's same-named models stay apart (components are
named ``{dialect}.{Type}``). Served at ``GET /_emulator/openapi.json``.

The error statuses of an operation are the ones every route of its kind can answer
(:func:`error_statuses`) plus the route's own ``errors`` (409s and 422s that depend on state).
Injected faults can answer any status and are not documented: they are the test's choice.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

import orjson
from aiohttp import web
from pydantic import TypeAdapter

from .. import __version__
from .http import MUTATING_METHODS, Dialect, Route, path_params

_REASONS = {
    400: "the request is malformed or breaks a rule",
    401: "no or a malformed Authorization header",
    404: "no record with that id (or no route)",
    408: "the request body did not arrive in time",
    409: "the record's state does not allow the call",
    413: "the request body is over the server's limit",
    422: "the request is well-formed but cannot be processed",
    429: "rate-limit mode: the tenant's bucket is empty (see Retry-After)",
}
#: Every handler reads an empty query value (``?status=``) as an absent one (wire/http.py
#: ``query_int``, zep_common ``status_filter``, graph_listing ``direction``...).
_EMPTY = {"type": "string", "maxLength": 0}
_SECURITY_SCHEMES = {
    "Api-Key": {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "`Authorization: Api-Key <key>` (what both zep-cloud lines send)"},
    "Bearer": {"type": "http", "scheme": "bearer", "description": "`Authorization: Bearer <key>`"},
}


def error_statuses(dialect: Dialect, route: Route) -> list[int]:
    """The error statuses of one operation: 400 when it reads a body (the middleware reads
    every mutating call's, and refuses one it cannot decode), a query or a path id it checks
    as a UUID (wire/http.py's and zep_common's checks); 401 when its dialect reads an Authorization header (a missing
    one, for a service's dialect; a malformed one, always); 404 for an id in its path; 408
    and 413 for a mutating call (the middleware reads every such body, bounded in time and
    size); 429 for a service's call (the rate-limit mode); then the route's own."""
    statuses = set(route.errors)
    params = path_params(route.path)
    if route.method in MUTATING_METHODS or route.query or dialect.uuid_params.intersection(params):
        statuses.add(400)
    if dialect.auth_schemes:
        statuses.add(401)
    if params:
        statuses.add(404)
    if route.method in MUTATING_METHODS:
        statuses.update((408, 413))
    if dialect.service is not None:
        statuses.add(429)
    return sorted(statuses)


def operation_id(dialect: Dialect, route: Route) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{dialect.name}.{route.summary}").strip("_")


def _adapter(kind: Any) -> TypeAdapter[Any]:
    return kind if isinstance(kind, TypeAdapter) else TypeAdapter(kind)


def _schemas(dialect: Dialect) -> tuple[dict[tuple[str, Any], dict[str, Any]], dict[str, Any]]:
    """JSON Schemas of the dialect's request bodies (validation mode), response bodies and
    error body (serialization mode), with their shared definitions."""
    inputs: list[tuple[tuple[str, Any], Any, TypeAdapter[Any]]] = []
    for index, route in enumerate(dialect.routes):
        if route.body is not None:
            inputs.append((("body", index), "validation", _adapter(route.body)))
        if route.response is not None:
            inputs.append((("response", index), "serialization", _adapter(route.response)))
    if dialect.error_schema is not None:
        inputs.append((("error", None), "serialization", _adapter(dialect.error_schema)))
    if not inputs:
        return {}, {}
    by_key, definitions = TypeAdapter.json_schemas(
        inputs, by_alias=True, ref_template=f"#/components/schemas/{dialect.name}.{{model}}"
    )
    named = {f"{dialect.name}.{name}": schema for name, schema in definitions.get("$defs", {}).items()}
    return {key: schema for (key, _mode), schema in by_key.items()}, named


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _operation(
    dialect: Dialect, index: int, route: Route, schemas: dict[tuple[str, Any], dict[str, Any]], definitions: dict[str, Any]
) -> dict[str, Any]:
    parameters = [
        {"name": name, "in": "path", "required": True,
         "schema": {"type": "string", "format": "uuid"} if name in dialect.uuid_params else {"type": "string", "minLength": 1}}
        for name in path_params(route.path)
    ]
    parameters += [
        {"name": p.name, "in": "query", "required": False, "schema": {"anyOf": [p.schema, _EMPTY]},
         **({"description": p.description} if p.description else {})}
        for p in route.query
    ]
    responses: dict[str, Any] = {}
    if route.status == 204:
        responses["204"] = {"description": "done; no body"}
    else:
        schema = schemas.get(("response", index), {})
        responses[str(route.status)] = {"description": route.summary, "content": _json(schema)}
    error = schemas.get(("error", None), {})
    for status in error_statuses(dialect, route):
        responses[str(status)] = {"description": _REASONS.get(status, "error"), "content": _json(error)}
    operation: dict[str, Any] = {
        "operationId": operation_id(dialect, route),
        "summary": route.summary,
        "tags": [dialect.name],
        "parameters": parameters,
        "responses": responses,
    }
    if (route.handler.__doc__ or "").strip():
        operation["description"] = route.handler.__doc__.strip()  # type: ignore[union-attr]
    if route.body is not None:
        body_schema = schemas[("body", index)]
        resolved = definitions.get(body_schema.get("$ref", "").rpartition("/")[2], body_schema)
        operation["requestBody"] = {"required": bool(resolved.get("required")), "content": _json(body_schema)}
    if dialect.auth_schemes:
        security = [{scheme: []} for scheme in dialect.auth_schemes]
        operation["security"] = security if dialect.service is not None else [{}, *security]
    else:
        operation["security"] = []
    return operation


def build_document(dialects: Iterable[Dialect]) -> dict[str, Any]:
    """The OpenAPI 3.1 document of *dialects*' routes."""
    paths: dict[str, dict[str, Any]] = {}
    components: dict[str, Any] = {}
    for dialect in dialects:
        schemas, definitions = _schemas(dialect)
        components.update(definitions)
        for index, route in enumerate(dialect.routes):
            path = paths.setdefault(dialect.prefix + route.path, {})
            path[route.method.lower()] = _operation(dialect, index, route, schemas, definitions)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "memory-batch-emulator",
            "version": __version__,
            "description": "Zep API v2 and v4, Maximem Synap's memories API and the emulator's control plane, "
            "as this emulator serves them. Generated from the server's route tables.",
        },
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": _SECURITY_SCHEMES},
    }


class Document:
    """The document of one app's dialects, serialised once, on first request."""

    def __init__(self, dialects: Iterable[Dialect]) -> None:
        self._dialects = tuple(dialects)
        self._body: bytes | None = None

    def body(self) -> bytes:
        if self._body is None:
            self._body = orjson.dumps(build_document(self._dialects))
        return self._body


#: Where the application keeps its document.
DOCUMENT = web.AppKey("openapi", Document)


async def serve(request: web.Request) -> web.Response:
    """The server's OpenAPI 3.1 document (JSON)."""
    return web.Response(body=request.app[DOCUMENT].body(), content_type="application/json")


ROUTE = Route("GET", "/openapi.json", serve, "openapi", response=dict[str, Any])
