"""``GET /_emulator/openapi.json``: an OpenAPI 3.1 document of every route the app registers,
generated from the route tables (emulator/wire/openapi.py)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from emulator.app import DIALECTS, build_app
from emulator.core.world import World
from emulator.server import BackgroundServer

_REF = re.compile(r"#/components/schemas/([A-Za-z0-9._-]+)")


@pytest.fixture(scope="module")
def document(server: BackgroundServer) -> dict[str, Any]:
    response = httpx.get(f"{server.base_url}/_emulator/openapi.json", timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    return response.json()  # type: ignore[no-any-return]


def _operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(method.upper(), path): op for path, item in document["paths"].items() for method, op in item.items()}


def test_every_registered_route_is_in_the_document(document: dict[str, Any]) -> None:
    registered = {
        (route.method, route.resource.canonical)  # type: ignore[union-attr]
        for route in build_app(World()).router.routes()
    }
    assert len(registered) > 90
    assert registered == set(_operations(document))


def test_the_document_is_openapi_3_1_with_unique_operation_ids(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    ids = [op["operationId"] for op in _operations(document).values()]
    assert len(ids) == len(set(ids))
    assert document["paths"]["/_emulator/openapi.json"]["get"]["operationId"] == "control.openapi"


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    text = httpx.Response(200, json=document).text
    names = set(_REF.findall(text))
    assert names, "the document has no component references"
    assert names <= set(document["components"]["schemas"])


def test_every_answer_has_a_schema(document: dict[str, Any]) -> None:
    """Every success answer with a body, and every dialect's error answers, name their shape
    (a route without ``response=`` would be documented as "any JSON")."""
    missing = [
        f"{method} {path} {status}"
        for (method, path), op in _operations(document).items()
        for status, answer in op["responses"].items()
        if status != "204" and not answer["content"]["application/json"]["schema"]
    ]
    assert missing == []


def test_v2_and_v4_models_of_the_same_name_stay_apart(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    v2 = schemas["zep-v2.AddItemsRequest"]["properties"]["items"]["items"]["$ref"]
    v4 = schemas["zep-v4.AddItemsRequest"]["properties"]["items"]["items"]["$ref"]
    assert "graph_id" in schemas[v2.rpartition("/")[2]]["properties"]
    assert "graph_uuid" in schemas[v4.rpartition("/")[2]]["properties"]


def test_operations_document_what_the_routes_declare(document: dict[str, Any]) -> None:
    """Spot checks against the route tables: statuses, auth, parameters, request bodies."""
    ops = _operations(document)
    add = ops[("POST", "/api/v4/batches/{batch_uuid}/items")]
    assert set(add["responses"]) == {"200", "400", "401", "404", "408", "409", "413", "429"}
    assert add["requestBody"]["required"] is True
    assert add["security"] == [{"Api-Key": []}, {"Bearer": []}]
    assert ops[("DELETE", "/api/v4/batches/{batch_uuid}")]["responses"]["204"] == {"description": "done; no body"}
    listing = {p["name"]: p for p in ops[("GET", "/api/v4/batches")]["parameters"]}
    assert listing["page_size"]["schema"]["anyOf"][0] == {"type": "integer", "minimum": 1, "maximum": 200}
    assert "queued" in listing["status"]["schema"]["anyOf"][0]["enum"]
    assert listing["status"]["schema"]["anyOf"][1] == {"type": "string", "maxLength": 0}  # empty reads as absent
    health = ops[("GET", "/_emulator/health")]
    assert health["security"][0] == {}  # the control plane takes a key but does not need one
    assert ops[("GET", "/health")]["security"] == []
    assert ops[("POST", "/v1/memories/batch")]["security"] == [{"Bearer": []}]


def test_every_dialect_is_documented() -> None:
    from emulator.wire.openapi import build_document

    tags = {op["tags"][0] for op in _operations(build_document(DIALECTS)).values()}
    assert tags == {dialect.name for dialect in DIALECTS}
