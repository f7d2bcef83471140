"""Every error status the OpenAPI document lists for an operation is one the server really
answers: for each (operation, status) pair a probe request reaches it.

Most probes follow from the operation's shape (openapi.error_statuses derives the statuses the
same way): no Authorization header → 401; an unknown id in the path → 404; a body that is not
an object, a query value out of its schema or a malformed path id → 400; a body that stalls →
408; a body over the limit → 413; a second call in the rate-limit mode with a one-token
bucket → 429. A status that depends on state (409, 422) has a probe of its own in
:data:`STATE_PROBES`, which builds that state through the API first; an operation that
documents such a status without a probe fails here, so the document cannot claim what no
request shows.
"""

from __future__ import annotations

import socket
import uuid
from typing import Any, Callable, Iterator

import httpx
import pytest

from emulator.app import DIALECTS
from emulator.core.limits import MAX_BODY_BYTES
from emulator.core.processor import ProcessingMode
from emulator.core.world import WorldConfig
from emulator.server import BackgroundServer
from emulator.wire.http import MUTATING_METHODS, path_params
from emulator.wire.openapi import build_document

BODY_TIMEOUT = 0.3
DOCUMENT = build_document(DIALECTS)
OPERATIONS = [
    (method.upper(), path, op)
    for path, item in DOCUMENT["paths"].items()
    for method, op in item.items()
]
PAIRS = [
    (method, path, int(status), op)
    for method, path, op in OPERATIONS
    for status in op["responses"]
    if int(status) >= 400
]


@pytest.fixture(scope="module")
def probe_server() -> Iterator[BackgroundServer]:
    with BackgroundServer(WorldConfig(processing=ProcessingMode.INSTANT)) as srv:
        yield srv


@pytest.fixture(scope="module")
def impatient_server() -> Iterator[BackgroundServer]:
    """A server that waits only :data:`BODY_TIMEOUT` seconds for a body (the 408 probes)."""
    with BackgroundServer(WorldConfig(processing=ProcessingMode.INSTANT, body_timeout=BODY_TIMEOUT)) as srv:
        yield srv


class Probe:
    """An HTTP client on the probe server with a fresh key of its own."""

    def __init__(self, server: BackgroundServer) -> None:
        self.server = server
        self.key = f"probe-{uuid.uuid4()}"
        self.http = httpx.Client(base_url=server.base_url, timeout=30,
                                 headers={"Authorization": f"Api-Key {self.key}"})

    def synap(self, method: str, path: str, headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, path, headers={**(headers or {}), "Authorization": f"Bearer {self.key}"}, **kwargs)

    def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        assert response.status_code < 300, response.text
        return response.json() if response.content else None

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        call = self.synap if path.startswith(("/api/v1", "/v1")) else self.http.request
        return call(method, path, **kwargs)


@pytest.fixture
def probe(probe_server: BackgroundServer) -> Iterator[Probe]:
    client = Probe(probe_server)
    yield client
    client.http.close()


def _fill(path: str, value: Callable[[str], str]) -> str:
    for name in path_params(path):
        path = path.replace("{" + name + "}", value(name))
    return path


def _fresh(name: str) -> str:
    return str(uuid.uuid4())


# -- probes that follow from an operation's shape ------------------------------------------------


def _statuses_for_400(probe: Probe, method: str, path: str, op: dict[str, Any]) -> set[int]:
    """Answers to the requests that break the operation's own rules: a non-object body, a
    body that is not what its Content-Encoding says, each query parameter out of its schema, a
    path id that is not an id at all."""
    seen: set[int] = set()
    target = _fill(path, _fresh)
    if "requestBody" in op:
        seen.add(probe.request(method, target, content=b"[1]", headers={"Content-Type": "application/json"}).status_code)
    if method in MUTATING_METHODS:
        seen.add(probe.request(method, target, content=b"{}", headers={"Content-Encoding": "gzip"}).status_code)
    for param in op["parameters"]:
        if param["in"] == "query":
            bad = "not-a-number" if param["schema"]["anyOf"][0].get("type") == "integer" else "no-such-value"
            seen.add(probe.request(method, target, params={param["name"]: bad}).status_code)
    if path_params(path):
        seen.add(probe.request(method, _fill(path, lambda name: "not%20an%20id"), json={}).status_code)
    return seen


def _slow_body(server: BackgroundServer, method: str, path: str, key: str) -> int:
    """Send the headers and half the promised body, then stall; the status line of the answer."""
    host, port = server.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"a\":".encode()
        )
        answer = sock.recv(4096).decode("latin-1")
    return int(answer.split(" ", 2)[1])


def _rate_limited(probe: Probe, method: str, path: str) -> int:
    probe.ok("PUT", "/_emulator/rate-limit", json={"per_second": 0.001, "burst": 1})
    target = _fill(path, _fresh)
    statuses = [probe.request(method, target, json={}).status_code for _ in range(2)]
    return statuses[-1]


# -- probes that need state ------------------------------------------------------------------------


def _v4_batch(probe: Probe, processed: bool) -> str:
    graph = probe.ok("POST", "/api/v4/graphs", json={})["uuid"]
    batch = probe.ok("POST", "/api/v4/batches", json={})["uuid"]
    probe.ok("POST", f"/api/v4/batches/{batch}/items", json={"items": [{"type": "graph_episode", "graph_uuid": graph, "data": "x"}]})
    if processed:
        probe.ok("POST", f"/api/v4/batches/{batch}/process")
    return batch


def _v2_batch(probe: Probe, processed: bool) -> str:
    graph = probe.ok("POST", "/api/v2/graph/create", json={"graph_id": f"g-{uuid.uuid4()}"})["graph_id"]
    batch = probe.ok("POST", "/api/v2/batches", json={})["batch_id"]
    probe.ok("POST", f"/api/v2/batches/{batch}/items", json={"items": [{"type": "graph_episode", "graph_id": graph, "data": "x"}]})
    if processed:
        probe.ok("POST", f"/api/v2/batches/{batch}/process")
    return batch


def _twice(method: str, path: str, body: Callable[[], Any]) -> Callable[[Probe], httpx.Response]:
    """The same create twice: the second meets the record the first made."""
    def run(probe: Probe) -> httpx.Response:
        payload = body()
        probe.ok(method, path, json=payload)
        return probe.request(method, path, json=payload)
    return run


def _v2_user(probe: Probe) -> str:
    return probe.ok("POST", "/api/v2/users", json={"user_id": f"u-{uuid.uuid4()}"})["user_id"]  # type: ignore[no-any-return]


def _v2_graph(probe: Probe) -> str:
    return probe.ok("POST", "/api/v2/graph/create", json={"graph_id": f"g-{uuid.uuid4()}"})["graph_id"]  # type: ignore[no-any-return]


def _v2_thread(probe: Probe) -> str:
    user = _v2_user(probe)
    return probe.ok("POST", "/api/v2/threads", json={"thread_id": f"t-{uuid.uuid4()}", "user_id": user})["thread_id"]  # type: ignore[no-any-return]


def _v2_thread_twice(probe: Probe) -> httpx.Response:
    user = _v2_user(probe)
    body = {"thread_id": f"t-{uuid.uuid4()}", "user_id": user}
    probe.ok("POST", "/api/v2/threads", json=body)
    return probe.request("POST", "/api/v2/threads", json=body)


def _not_an_object(method: str, path: str, make: Callable[[Probe], str]) -> Callable[[Probe], httpx.Response]:
    """A body that is not an object, on a path whose id exists (v2 looks the id up first)."""
    return lambda p: p.request(method, path.format(make(p)), content=b"[1]", headers={"Content-Type": "application/json"})


def _without_key(method: str, path: str) -> Callable[[Probe], httpx.Response]:
    """A control call that needs the tenant's key, without one (400 tenant_required)."""
    return lambda p: httpx.request(method, str(p.http.base_url).rstrip("/") + path, timeout=30)


def _synap_doc() -> dict[str, Any]:
    return {"document": "Ada works at Acme.", "document_id": f"doc-{uuid.uuid4()}", "user_id": "u1", "customer_id": "c1"}


STATE_PROBES: dict[tuple[str, str, int], Callable[[Probe], httpx.Response]] = {
    ("POST", "/api/v4/batches/{batch_uuid}/items", 409): lambda p: p.request(
        "POST", f"/api/v4/batches/{_v4_batch(p, True)}/items", json={"items": [{"type": "graph_episode", "graph_uuid": str(uuid.uuid4()), "data": "x"}]}),
    ("POST", "/api/v4/batches/{batch_uuid}/process", 409): lambda p: p.request(
        "POST", f"/api/v4/batches/{_v4_batch(p, True)}/process"),
    ("DELETE", "/api/v4/batches/{batch_uuid}", 409): lambda p: p.request("DELETE", f"/api/v4/batches/{_v4_batch(p, True)}"),
    ("POST", "/api/v4/users", 409): _twice("POST", "/api/v4/users", lambda: {"user_id": f"u-{uuid.uuid4()}"}),
    ("POST", "/api/v2/batches/{batch_id}/items", 409): lambda p: p.request(
        "POST", f"/api/v2/batches/{_v2_batch(p, True)}/items", json={"items": [{"type": "graph_episode", "graph_id": "g", "data": "x"}]}),
    ("POST", "/api/v2/batches/{batch_id}/process", 409): lambda p: p.request("POST", f"/api/v2/batches/{_v2_batch(p, True)}/process"),
    ("DELETE", "/api/v2/batches/{batch_id}", 409): lambda p: p.request("DELETE", f"/api/v2/batches/{_v2_batch(p, True)}"),
    ("POST", "/api/v2/users", 409): _twice("POST", "/api/v2/users", lambda: {"user_id": f"u-{uuid.uuid4()}"}),
    ("POST", "/api/v2/graph/create", 409): _twice("POST", "/api/v2/graph/create", lambda: {"graph_id": f"g-{uuid.uuid4()}"}),
    ("POST", "/_emulator/batches/{batch_id}/cancel", 409): lambda p: p.request(
        "POST", f"/_emulator/batches/{_v4_batch(p, True)}/cancel"),
    ("POST", "/api/v1/memories/batch", 422): lambda p: p.request("POST", "/api/v1/memories/batch", json={"documents": []}),
    ("POST", "/v1/memories/batch", 422): lambda p: p.request("POST", "/v1/memories/batch", json={"documents": []}),
    ("POST", "/api/v1/memories/create", 409): _twice("POST", "/api/v1/memories/create", _synap_doc),
    ("POST", "/v1/memories", 409): _twice("POST", "/v1/memories", _synap_doc),
    ("POST", "/api/v2/threads", 404): lambda p: p.request(
        "POST", "/api/v2/threads", json={"thread_id": f"t-{uuid.uuid4()}", "user_id": f"nobody-{uuid.uuid4()}"}),
    ("POST", "/api/v2/threads", 409): _v2_thread_twice,
    ("POST", "/api/v2/graph", 404): lambda p: p.request(
        "POST", "/api/v2/graph", json={"graph_id": f"nope-{uuid.uuid4()}", "type": "text", "data": "x"}),
    ("POST", "/api/v2/graph-batch", 404): lambda p: p.request(
        "POST", "/api/v2/graph-batch", json={"user_id": f"nope-{uuid.uuid4()}", "episodes": [{"type": "text", "data": "x"}]}),
    ("GET", "/api/v2/threads/{thread_id}/messages", 400): lambda p: p.request(
        "GET", f"/api/v2/threads/{_v2_thread(p)}/messages", params={"lastn": 0}),
    ("GET", "/api/v2/graph/episodes/graph/{graph_id}", 400): lambda p: p.request(
        "GET", f"/api/v2/graph/episodes/graph/{_v2_graph(p)}", params={"lastn": 0}),
    ("GET", "/api/v2/graph/episodes/user/{user_id}", 400): lambda p: p.request(
        "GET", f"/api/v2/graph/episodes/user/{_v2_user(p)}", params={"lastn": 0}),
    ("POST", "/api/v2/threads/{thread_id}/messages", 400): _not_an_object("POST", "/api/v2/threads/{}/messages", _v2_thread),
    ("POST", "/api/v2/threads/{thread_id}/messages-batch", 400): _not_an_object(
        "POST", "/api/v2/threads/{}/messages-batch", _v2_thread),
    **{
        ("POST", f"/api/v2/graph/{kind}/{owner}/{{{owner}_id}}", 400): _not_an_object(
            "POST", f"/api/v2/graph/{kind}/{owner}/{{}}", _v2_graph if owner == "graph" else _v2_user)
        for kind in ("episodes", "edge", "node") for owner in ("graph", "user")
    },
    # The key must have a Zep tenant (else 404 tenant_not_found comes first).
    ("POST", "/_emulator/batches/{batch_id}/cancel", 400): lambda p: (
        _v2_graph(p) and p.request("POST", "/_emulator/batches/not-a-uuid/cancel")),
    ("GET", "/_emulator/webhooks", 400): _without_key("GET", "/_emulator/webhooks"),
    ("DELETE", "/_emulator/webhooks/{endpoint_id}", 400): _without_key("DELETE", f"/_emulator/webhooks/{uuid.uuid4()}"),
}


def _id(pair: tuple[str, str, int, dict[str, Any]]) -> str:
    method, path, status, _ = pair
    return f"{method} {path} {status}"


@pytest.mark.parametrize("pair", PAIRS, ids=[_id(p) for p in PAIRS])
def test_documented_error_status_is_reachable(pair: tuple[str, str, int, dict[str, Any]], probe: Probe,
                                              probe_server: BackgroundServer, request: pytest.FixtureRequest) -> None:
    method, path, status, op = pair
    state_probe = STATE_PROBES.get((method, path, status))
    if state_probe is not None:
        answer = state_probe(probe)
        assert answer.status_code == status, answer.text
        return
    if status == 400:
        assert 400 in _statuses_for_400(probe, method, path, op)
    elif status == 401:
        bare = httpx.request(method, probe_server.base_url + _fill(path, _fresh),
                             headers={"Authorization": "Basic eA=="} if path.startswith("/_emulator") else {}, timeout=30)
        assert bare.status_code == 401, bare.text
    elif status == 404:
        answer = probe.request(method, _fill(path, _fresh), json={})
        assert answer.status_code == 404, answer.text
    elif status == 408:
        impatient: BackgroundServer = request.getfixturevalue("impatient_server")
        assert _slow_body(impatient, method, _fill(path, _fresh), probe.key) == 408
    elif status == 413:
        answer = probe.request(method, _fill(path, _fresh), content=b" " * (MAX_BODY_BYTES + 1),
                               headers={"Content-Type": "application/json"})
        assert answer.status_code == 413, answer.text
    elif status == 429:
        assert _rate_limited(probe, method, path) == 429
    else:
        pytest.fail(f"{method} {path} documents {status}, which needs a probe in STATE_PROBES")


def test_every_state_probe_is_for_a_documented_status() -> None:
    documented = {(method, path, status) for method, path, status, _ in PAIRS}
    assert set(STATE_PROBES) <= documented
