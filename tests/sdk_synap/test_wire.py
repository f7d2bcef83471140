"""Synap's wire, raw: every error is FastAPI's ``{"detail": ...}`` with the status the SDK maps
to the right class, and a refused call stores nothing."""

from __future__ import annotations

import httpx
import pytest

from emulator.server import BackgroundServer


@pytest.mark.parametrize("method, path, headers, body, status, detail", [
    ("POST", "/api/v1/memories/create", {}, {"document": "x"}, 401, "missing Authorization header"),
    ("POST", "/api/v1/memories/create", {"Authorization": "Api-Key k"}, {"document": "x"}, 401, "malformed Authorization"),
    ("POST", "/api/v1/memories/create", None, {"document": 5}, 400, "document"),
    ("POST", "/api/v1/memories/create", None, {"document": "x", "document_created_at": "yesterday"}, 400, "document_created_at"),
    ("POST", "/api/v1/memories/batch", None, {"documents": "nope"}, 400, "documents"),
    ("POST", "/api/v1/memories/batch", None, {"documents": []}, 422, "1 to 100 documents"),
    ("GET", "/api/v1/memories/status/abc", None, None, 404, "ingestion 'abc' not found"),
    ("GET", "/api/v1/nothing/here/at/all", None, None, 404, "no route"),
    ("DELETE", "/api/v1/memories/batch", None, None, 405, "not allowed"),
])
def test_errors_are_detail_bodies(server: BackgroundServer, method: str, path: str, headers: dict[str, str] | None,
                                  body: object, status: int, detail: str) -> None:
    sent = {"Authorization": "Bearer synap_wire"} if headers is None else headers
    answer = httpx.request(method, f"{server.base_url}{path}", json=body, headers=sent)
    assert answer.status_code == status
    assert set(answer.json()) == {"detail"} and detail in answer.json()["detail"]
    assert answer.headers["content-type"].startswith("application/json")


def test_memory_routes_answer_200_never_another_2xx(server: BackgroundServer) -> None:
    headers = {"Authorization": "Bearer synap_codes"}
    created = httpx.post(f"{server.base_url}/api/v1/memories/create", json={"document": "User: hi."}, headers=headers)
    batch = httpx.post(f"{server.base_url}/api/v1/memories/batch", json={"documents": [{"document": "User: hi."}]},
                       headers=headers)
    status = httpx.get(f"{server.base_url}/api/v1/memories/status/{created.json()['ingestion_id']}", headers=headers)
    telemetry = httpx.post(f"{server.base_url}/v1/telemetry/batch", json={"events": []}, headers=headers)
    assert [r.status_code for r in (created, batch, status, telemetry)] == [200, 200, 200, 202]
    assert status.json()["memories_created"] == 0 and status.json()["memory_ids"] == []  # never null
