"""Bad input to the v4 Batch API: each is refused with the status the SDK maps to the right
exception class, a v4 error body (``{"error": {code, message, param, ...}}``) whose ``code``
names the problem, and — the part a client relies on — nothing stored.

Requests zep-cloud 4.0.1 cannot send (no or malformed auth, broken JSON, a 33 MiB body,
unknown routes) go through the bare ``raw`` client; everything else through the SDK.
"""

from __future__ import annotations

import http.client
import json
import uuid
from typing import Any, Callable

import httpx
import pytest
from zep_cloud.client import Zep
from zep_cloud.core.api_error import ApiError
from zep_cloud.errors import BadRequestError, ConflictError, NotFoundError, UnauthorizedError
from zep_cloud.types import BatchItemInput, Graph

from emulator.core.processor import ProcessingMode
from emulator.core.tenants import Service
from emulator.core.world import WorldConfig
from emulator.server import BackgroundServer

V4 = "/api/v4"


# -- helpers -------------------------------------------------------------------------------------


def error_of(exc: ApiError) -> Any:
    """The SDK-parsed ``error`` object of a v4 error body."""
    return exc.body.error


def auth(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Api-Key {api_key}"}


def episode(graph_uuid: str, data: str = "fact", **extra: Any) -> BatchItemInput:
    return BatchItemInput(type="graph_episode", graph_uuid=graph_uuid, data=data, **extra)


def item_count(zep: Zep, batch_uuid: str) -> int:
    return zep.batch.get(batch_uuid).item_count  # type: ignore[attr-defined,no-any-return]


def assert_v4_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """A raw response is a JSON v4 error body with this status and code."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]  # type: ignore[no-any-return]


@pytest.fixture
def graph(zep: Zep) -> Graph:
    return zep.graph.create(name="target")


@pytest.fixture
def draft(zep: Zep) -> str:
    """An empty draft batch's uuid."""
    return zep.batch.create().uuid_  # type: ignore[no-any-return]


# -- authentication ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="missing"),
        pytest.param({"Authorization": "Basic x"}, id="basic-scheme"),
        pytest.param({"Authorization": "Api-Key "}, id="api-key-empty"),
        pytest.param({"Authorization": "Api-Key"}, id="api-key-no-value"),
        pytest.param({"Authorization": "x"}, id="no-scheme"),
    ],
)
def test_missing_or_malformed_authorization_is_401(server: BackgroundServer, headers: dict[str, str]) -> None:
    """No Authorization header, or one that is not ``Api-Key <key>`` / ``Bearer <key>``, is a
    401 in the v4 error shape, and no tenant is created for whatever was sent."""
    before = server.call(lambda world: len(world.tenants.all()))
    # http.client, not httpx: httpx refuses to send a header value with trailing blanks.
    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    try:
        conn.request("POST", f"{V4}/batches", body=b"{}", headers={"content-type": "application/json", **headers})
        reply = conn.getresponse()
        response = httpx.Response(reply.status, headers=reply.getheaders(), content=reply.read())
    finally:
        conn.close()
    assert_v4_error(response, 401, "unauthorized")
    assert server.call(lambda world: len(world.tenants.all())) == before
    assert server.call(lambda world: world.tenants.find(Service.ZEP, "x")) is None


def test_unknown_key_is_401_when_keys_are_configured() -> None:
    """With keys configured, any other key is 401 (SDK: UnauthorizedError) and stores
    nothing; the configured key works (201)."""
    with BackgroundServer(WorldConfig(processing=ProcessingMode.INSTANT, api_keys=["good"])) as own:
        bad = Zep(api_key="bad", base_url=own.zep_v4_url, max_retries=0)
        with pytest.raises(UnauthorizedError) as refused:
            bad.batch.create()
        assert refused.value.status_code == 401
        assert error_of(refused.value).code == "unauthorized"

        good = Zep(api_key="good", base_url=own.zep_v4_url, max_retries=0)
        created = good.batch.with_raw_response.create()
        assert created.status_code == 201
        assert [b.uuid_ for b in good.batch.list()] == [created.data.uuid_]
        assert own.call(lambda world: [t.key for t in world.tenants.all()]) == ["good"]


def test_another_tenants_batch_is_404(server: BackgroundServer, zep: Zep, graph: Graph, draft: str) -> None:
    """A batch id that belongs to another API key is 404 batch_not_found (never 403) for
    every batch call, and the owner's batch is untouched."""
    intruder = Zep(api_key=f"intruder-{uuid.uuid4()}", base_url=server.zep_v4_url, max_retries=0)
    calls: list[Callable[[], Any]] = [
        lambda: intruder.batch.get(draft),
        lambda: intruder.batch.add_items(draft, items=[episode(graph.uuid_)]),
        lambda: intruder.batch.process(draft),
        lambda: intruder.batch.delete(draft),
        lambda: intruder.batch.list_items(draft),
    ]
    for call in calls:
        with pytest.raises(NotFoundError) as missing:
            call()
        assert missing.value.status_code == 404
        assert error_of(missing.value).code == "batch_not_found"
    assert list(intruder.batch.list()) == []
    mine = zep.batch.get(draft)
    assert (mine.status, mine.item_count) == ("draft", 0)  # type: ignore[attr-defined]


# -- request bodies the SDK cannot send -----------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code"),
    [
        pytest.param(b'{"items": [', "invalid_json", id="truncated-json"),
        pytest.param(b"{'items': []}", "invalid_json", id="single-quotes"),
        pytest.param(b'{"items": [NaN]}', "invalid_json", id="nan"),
        pytest.param(b"\xff\xfe", "invalid_json", id="not-utf8"),
        pytest.param(b"[]", "invalid_body", id="array"),
        pytest.param(b'"items"', "invalid_body", id="string"),
    ],
)
def test_body_that_is_not_a_json_object(
    zep: Zep, raw: httpx.Client, api_key: str, draft: str, body: bytes, code: str
) -> None:
    """A body that is not JSON is 400 invalid_json, and JSON that is not an object is 400
    invalid_body — on add_items (item_count stays 0) and on create (no batch made)."""
    headers = {**auth(api_key), "content-type": "application/json"}
    assert_v4_error(raw.post(f"{V4}/batches/{draft}/items", content=body, headers=headers), 400, code)
    assert item_count(zep, draft) == 0
    assert_v4_error(raw.post(f"{V4}/batches", content=body, headers=headers), 400, code)
    assert [b.uuid_ for b in zep.batch.list()] == [draft]


# -- item validation ---------------------------------------------------------------------------------

def _bad_items(graph_uuid: str, user_uuid: str, thread_uuid: str, spec: list[dict[str, Any]]) -> list[BatchItemInput]:
    swap = {"G": graph_uuid, "U": user_uuid, "T": thread_uuid}
    return [BatchItemInput(**{k: swap.get(v, v) if isinstance(v, str) else v for k, v in it.items()}) for it in spec]


EP = {"type": "graph_episode", "graph_uuid": "G", "data": "ok"}
MSG = {"type": "thread_message", "thread_uuid": "T", "content": "hi", "role": "user"}

BAD_ITEMS = [
    pytest.param([{**EP, "type": "fact_triple"}], "invalid_request", "items[0].type", id="unknown-type"),
    pytest.param([EP, {**EP, "user_uuid": "U"}], "invalid_target", "items[1].graph_uuid", id="graph-and-user"),
    pytest.param([{"type": "graph_episode", "data": "x"}], "invalid_target", "items[0].graph_uuid", id="no-target"),
    pytest.param(
        [EP, {"type": "thread_message", "content": "hi", "role": "user"}],
        "invalid_target",
        "items[1].thread_uuid",
        id="message-without-thread",
    ),
    pytest.param([{**MSG, "role": "robot"}], "invalid_request", "items[0].role", id="bad-role"),
    pytest.param([{**EP, "data_type": "xml"}], "invalid_request", "items[0].data_type", id="bad-data-type"),
    pytest.param([{**EP, "data": ""}], "invalid_request", "items[0].data", id="empty-data"),
    pytest.param([{**MSG, "role": None}], "invalid_request", "items[0].role", id="message-without-role"),
    pytest.param([{**EP, "graph_uuid": "my-graph"}], "invalid_identifier", "items[0].graph_uuid", id="graph-not-uuid"),
    pytest.param(
        [EP, MSG, {**EP, "reference_time": "2024-06-15T10:30:00"}],
        "invalid_timestamp",
        "items[2].reference_time",
        id="timestamp-without-offset",
    ),
    pytest.param(
        [{**MSG, "reference_time": "yesterday"}],
        "invalid_timestamp",
        "items[0].reference_time",
        id="timestamp-not-rfc3339",
    ),
    pytest.param(
        [{**EP, "reference_time": "2024-13-40T10:30:00Z"}],
        "invalid_timestamp",
        "items[0].reference_time",
        id="timestamp-impossible-date",
    ),
    pytest.param(
        [EP, {**EP, "metadata": {f"k{i}": i for i in range(11)}}],
        "invalid_metadata",
        "items[1].metadata",
        id="metadata-11-keys",
    ),
    pytest.param(
        [{**EP, "metadata": {"ok": 1, "nested": {"a": 1}}}],
        "invalid_metadata",
        "items[0].metadata.nested",
        id="metadata-nested",
    ),
    pytest.param(
        [{**MSG, "metadata": {"tags": ["a", {"b": 1}]}}],
        "invalid_metadata",
        "items[0].metadata.tags",
        id="metadata-array-of-objects",
    ),
]


@pytest.mark.parametrize(("spec", "code", "param"), BAD_ITEMS)
def test_bad_item_rejects_the_whole_call(
    zep: Zep, graph: Graph, draft: str, spec: list[dict[str, Any]], code: str, param: str
) -> None:
    """A malformed item is a 400 whose error.code names the rule and error.param names the
    field as ``items[i].field``; no item of that call is stored, valid ones included."""
    user = zep.user.create(user_id=f"u-{uuid.uuid4()}")
    thread = zep.thread.create(user_uuid=user.uuid_)
    items = _bad_items(graph.uuid_, user.uuid_, thread.uuid_, spec)
    with pytest.raises(BadRequestError) as bad:
        zep.batch.add_items(draft, items=items)
    assert bad.value.status_code == 400
    error = error_of(bad.value)
    assert (error.code, error.param) == (code, param)
    assert error.message and param.split(".")[0] in error.message
    assert item_count(zep, draft) == 0
    assert list(zep.batch.list_items(draft)) == []


def test_item_count_limits_per_call(zep: Zep, graph: Graph, draft: str) -> None:
    """An add call takes 1 to 500 items: 0 is no_items and 501 is too_many_items (both name
    the limit in details); nothing is stored; exactly 500 is accepted."""
    with pytest.raises(BadRequestError) as empty:
        zep.batch.add_items(draft, items=[])
    assert error_of(empty.value).code == "no_items"
    assert error_of(empty.value).details == {"limit": 500, "count": 0}

    with pytest.raises(BadRequestError) as over:
        zep.batch.add_items(draft, items=[episode(graph.uuid_, f"e{i}") for i in range(501)])
    assert error_of(over.value).code == "too_many_items"
    assert error_of(over.value).param == "items"
    assert error_of(over.value).details == {"limit": 500, "count": 501}
    assert item_count(zep, draft) == 0

    accepted = zep.batch.add_items(draft, items=[episode(graph.uuid_, f"e{i}") for i in range(500)])
    assert len(accepted.items or []) == 500
    assert item_count(zep, draft) == 500


def test_batch_past_50000_items_is_refused(zep: Zep, raw: httpx.Client, api_key: str, graph: Graph, draft: str) -> None:
    """A batch holds at most 50,000 items: the call that would pass it is 400
    batch_too_large and stores nothing, so the batch stays at exactly 50,000."""
    page = json.dumps({"items": [{"type": "graph_episode", "graph_uuid": graph.uuid_, "data": "x"}] * 500}).encode()
    headers = {**auth(api_key), "content-type": "application/json"}
    for _ in range(100):
        response = raw.post(f"{V4}/batches/{draft}/items", content=page, headers=headers)
        assert response.status_code == 200
    assert item_count(zep, draft) == 50_000

    with pytest.raises(BadRequestError) as full:
        zep.batch.add_items(draft, items=[episode(graph.uuid_, "one too many")])
    error = error_of(full.value)
    assert error.code == "batch_too_large"
    assert error.details == {"limit": 50_000, "item_count": 50_000, "count": 1}
    assert item_count(zep, draft) == 50_000
    last = zep.batch.list_items(draft, page_size=1, cursor=None)
    assert last.response.total_size == 50_000


# -- wrong status ------------------------------------------------------------------------------------


def test_add_process_delete_in_the_wrong_status(zep: Zep, graph: Graph, draft: str) -> None:
    """After process: add is 409 batch_not_draft (nothing stored), process is 409
    batch_already_processed, delete is 409 batch_not_deletable; the batch is unchanged."""
    zep.batch.add_items(draft, items=[episode(graph.uuid_)])
    zep.batch.process(draft)
    before = zep.batch.get(draft)
    assert before.status == "succeeded"

    with pytest.raises(ConflictError) as add:
        zep.batch.add_items(draft, items=[episode(graph.uuid_, "late")])
    assert (add.value.status_code, error_of(add.value).code) == (409, "batch_not_draft")
    with pytest.raises(ConflictError) as again:
        zep.batch.process(draft)
    assert error_of(again.value).code == "batch_already_processed"
    with pytest.raises(ConflictError) as delete:
        zep.batch.delete(draft)
    assert error_of(delete.value).code == "batch_not_deletable"

    after = zep.batch.get(draft)
    assert (after.status, after.item_count) == ("succeeded", 1)  # type: ignore[attr-defined]
    assert after.completed_at == before.completed_at  # type: ignore[attr-defined]


def test_queued_batch_can_be_neither_extended_nor_deleted(zep: Zep, control: Any, graph: Graph, draft: str) -> None:
    """While queued (manual mode, not yet stepped) add is batch_not_draft and delete is
    batch_not_deletable; the items wait untouched."""
    zep.batch.add_items(draft, items=[episode(graph.uuid_)])
    control.set_mode("manual")
    zep.batch.process(draft)
    with pytest.raises(ConflictError) as add:
        zep.batch.add_items(draft, items=[episode(graph.uuid_, "late")])
    assert error_of(add.value).code == "batch_not_draft"
    with pytest.raises(ConflictError) as delete:
        zep.batch.delete(draft)
    assert error_of(delete.value).code == "batch_not_deletable"
    summary = zep.batch.get(draft)
    assert (summary.status, summary.item_count) == ("queued", 1)  # type: ignore[attr-defined]


def test_adding_to_an_invalid_batch_is_409(zep: Zep, draft: str) -> None:
    """An invalid batch is not a draft: add is 409 batch_not_draft and stores nothing."""
    zep.batch.add_items(draft, items=[BatchItemInput(type="graph_episode", user_uuid=str(uuid.uuid4()), data="x")])
    with pytest.raises(BadRequestError):
        zep.batch.process(draft)
    with pytest.raises(ConflictError) as add:
        zep.batch.add_items(draft, items=[BatchItemInput(type="graph_episode", user_uuid=str(uuid.uuid4()), data="y")])
    assert error_of(add.value).code == "batch_not_draft"
    summary = zep.batch.get(draft)
    assert (summary.status, summary.item_count) == ("invalid", 1)  # type: ignore[attr-defined]


def test_process_of_an_empty_batch(zep: Zep, graph: Graph, draft: str) -> None:
    """Processing a batch with no items is 400 empty_batch; it stays a draft with no
    progress and can still be filled and processed."""
    with pytest.raises(BadRequestError) as empty:
        zep.batch.process(draft)
    assert error_of(empty.value).code == "empty_batch"
    summary = zep.batch.get(draft)
    assert (summary.status, summary.progress, summary.item_count) == ("draft", None, 0)  # type: ignore[attr-defined]

    zep.batch.add_items(draft, items=[episode(graph.uuid_)])
    assert zep.batch.process(draft).batch.status == "succeeded"  # type: ignore[union-attr]


# -- pagination --------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 201, -1])
def test_page_size_out_of_range(zep: Zep, draft: str, size: int) -> None:
    """page_size must be 1..200 on batch.list and batch.list_items: 400 invalid_parameter
    naming page_size."""
    for listing in (lambda: zep.batch.list(page_size=size), lambda: zep.batch.list_items(draft, page_size=size)):
        with pytest.raises(BadRequestError) as bad:
            listing()
        assert (error_of(bad.value).code, error_of(bad.value).param) == ("invalid_parameter", "page_size")


@pytest.mark.parametrize("size", [1, 200])
def test_page_size_bounds_are_accepted(zep: Zep, graph: Graph, draft: str, size: int) -> None:
    """The bounds themselves are fine: a page holds at most page_size items."""
    zep.batch.add_items(draft, items=[episode(graph.uuid_, f"e{i}") for i in range(3)])
    page = zep.batch.list_items(draft, page_size=size)
    assert len(page.items or []) == min(size, 3)
    assert page.response.total_size == 3


def test_cursor_never_issued_or_from_another_listing(zep: Zep, graph: Graph, draft: str) -> None:
    """An opaque cursor is only good for the listing that issued it: "bogus", one from
    another batch's items, and one from the batch list are all 400 invalid_cursor."""
    other = zep.batch.create().uuid_
    for batch_uuid in (draft, other):
        zep.batch.add_items(batch_uuid, items=[episode(graph.uuid_, f"e{i}") for i in range(3)])
    foreign_items = zep.batch.list_items(other, page_size=1).response.next_cursor
    foreign_batches = zep.batch.list(page_size=1).response.next_cursor
    draft_only = zep.batch.list(page_size=1, status="draft").response.next_cursor
    assert foreign_items and foreign_batches and draft_only

    own = zep.batch.list_items(draft, page_size=1).response.next_cursor
    assert own is not None
    assert [it.sequence_index for it in zep.batch.list_items(draft, page_size=1, cursor=own).items or []] == [1]

    for cursor in ("bogus", foreign_items, foreign_batches, own + "x"):
        with pytest.raises(BadRequestError) as bad:
            zep.batch.list_items(draft, page_size=1, cursor=cursor)
        assert (error_of(bad.value).code, error_of(bad.value).param) == ("invalid_cursor", "cursor")
    for cursor in ("bogus", foreign_items, draft_only):
        with pytest.raises(BadRequestError) as bad:
            zep.batch.list(page_size=1, cursor=cursor)
        assert error_of(bad.value).code == "invalid_cursor"


def test_unknown_status_filter(zep: Zep, draft: str) -> None:
    """batch.list with a status that is not a batch status is 400 invalid_parameter."""
    with pytest.raises(BadRequestError) as bad:
        zep.batch.list(status="done")
    assert (error_of(bad.value).code, error_of(bad.value).param) == ("invalid_parameter", "status")


# -- identifiers -------------------------------------------------------------------------------------


def _batch_calls(zep: Zep, batch_uuid: str, graph_uuid: str) -> list[Callable[[], Any]]:
    return [
        lambda: zep.batch.get(batch_uuid),
        lambda: zep.batch.add_items(batch_uuid, items=[episode(graph_uuid)]),
        lambda: zep.batch.process(batch_uuid),
        lambda: zep.batch.delete(batch_uuid),
        lambda: zep.batch.list_items(batch_uuid),
    ]


def test_unknown_batch_uuid_is_404(zep: Zep, graph: Graph) -> None:
    """A well-formed uuid that names no batch is 404 batch_not_found on every batch call,
    and nothing gets created by trying."""
    ghost = str(uuid.uuid4())
    for call in _batch_calls(zep, ghost, graph.uuid_):
        with pytest.raises(NotFoundError) as missing:
            call()
        assert error_of(missing.value).code == "batch_not_found"
        assert ghost in error_of(missing.value).message
    assert list(zep.batch.list()) == []


def test_non_uuid_batch_id_is_400(zep: Zep, graph: Graph) -> None:
    """A batch id that is not a UUID (e.g. a v3-style name) is 400 invalid_identifier naming
    batch_uuid, on every batch call."""
    for call in _batch_calls(zep, "my-batch", graph.uuid_):
        with pytest.raises(BadRequestError) as bad:
            call()
        assert (error_of(bad.value).code, error_of(bad.value).param) == ("invalid_identifier", "batch_uuid")
    assert list(zep.batch.list()) == []


# -- HTTP-level refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize("idempotency_key", [None, "big-body"])
def test_body_over_32_mib_is_413(
    zep: Zep, raw: httpx.Client, api_key: str, draft: str, idempotency_key: str | None
) -> None:
    """A 33 MiB body is 413 in the v4 error shape (with or without an Idempotency-Key, which
    the SDK always sends), and nothing is stored."""
    headers = {**auth(api_key), "content-type": "application/json"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    body = b'{"items": [], "pad": "' + b"x" * (33 * 1024 * 1024) + b'"}'
    response = raw.post(f"{V4}/batches/{draft}/items", content=body, headers=headers)
    assert_v4_error(response, 413, "body_too_large")
    assert item_count(zep, draft) == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"{V4}/nope"),
        ("GET", f"{V4}/batches/{uuid.UUID(int=1)}/nope"),
        ("POST", f"{V4}/batch"),
        ("GET", V4),
    ],
)
@pytest.mark.parametrize("authorized", [True, False])
def test_unknown_route_is_json_404(raw: httpx.Client, api_key: str, method: str, path: str, authorized: bool) -> None:
    """An unknown route under /api/v4 is a 404 in the v4 error shape (JSON, not HTML, not a
    redirect), whether or not the request is authenticated."""
    response = raw.request(method, path, headers=auth(api_key) if authorized else {})
    assert_v4_error(response, 404, "route_not_found")
    assert response.history == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", f"{V4}/batches"),
        ("PATCH", f"{V4}/batches/{uuid.UUID(int=1)}"),
        ("GET", f"{V4}/batches/{uuid.UUID(int=1)}/process"),
    ],
)
def test_wrong_method_is_json_405(raw: httpx.Client, api_key: str, method: str, path: str) -> None:
    """A known path with a method it does not serve is a 405 in the v4 error shape."""
    assert_v4_error(raw.request(method, path, headers=auth(api_key)), 405, "method_not_allowed")


def test_405_names_the_allowed_methods(raw: httpx.Client, api_key: str) -> None:
    """RFC 9110 §15.5.6: a 405 response MUST carry an Allow header listing the methods the
    resource supports (here GET and POST on /batches)."""
    response = raw.put(f"{V4}/batches", headers=auth(api_key))
    assert response.status_code == 405
    allowed = {m.strip() for m in response.headers.get("allow", "").split(",") if m.strip()}
    assert {"GET", "POST"} <= allowed


def test_uuids_are_matched_whatever_their_case(zep: Zep) -> None:
    """An upper-case spelling of an existing uuid names the same record (UUIDs are
    case-insensitive); it used to be rejected as a graph that does not exist."""
    graph = zep.graph.create(name="g")
    batch = zep.batch.create()
    added = zep.batch.add_items(
        batch.uuid_.upper(),  # type: ignore[union-attr]
        items=[BatchItemInput(type="graph_episode", data="x", graph_uuid=graph.uuid_.upper())],  # type: ignore[union-attr]
    )
    assert added.rejected_items == [] and added.items[0].graph_uuid == graph.uuid_  # type: ignore[index]
    assert zep.batch.get(batch.uuid_.upper()).uuid_ == batch.uuid_  # type: ignore[union-attr]


@pytest.mark.parametrize("user_id", ["", "u" * 501])
def test_user_id_must_be_1_to_500_characters(zep: Zep, user_id: str) -> None:
    with pytest.raises(BadRequestError) as err:
        zep.user.create(user_id=user_id)
    assert err.value.body.error.code == "invalid_request"  # type: ignore[union-attr]
    assert err.value.body.error.param == "user_id"  # type: ignore[union-attr]


@pytest.mark.parametrize("stamp", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_timestamps_outside_the_utc_range_are_400(zep: Zep, stamp: str) -> None:
    graph = zep.graph.create(name="g")
    batch = zep.batch.create()
    with pytest.raises(BadRequestError) as err:
        zep.batch.add_items(
            batch.uuid_,  # type: ignore[arg-type]
            items=[BatchItemInput(type="graph_episode", data="x", graph_uuid=graph.uuid_, reference_time=stamp)],
        )
    assert err.value.body.error.code == "invalid_timestamp"  # type: ignore[union-attr]
    assert err.value.body.error.param == "items[0].reference_time"  # type: ignore[union-attr]
    assert zep.batch.get(batch.uuid_).item_count == 0  # type: ignore[arg-type, attr-defined]
