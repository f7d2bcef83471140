"""Bad input on the v2 wire, through zep-cloud 3.30.0 where the SDK can send it and a bare
HTTP client where it cannot.

Each test checks three things: the status and the exception class the SDK maps it to
(reference/zep-wire-contract.md §1a: 400 → BadRequestError with the raw JSON body;
404/409 → NotFoundError/ConflictError with a parsed ``{"message"}`` body; anything else →
core ApiError), the error body (``message`` plus the ``code`` the emulator adds), and that
nothing was stored (decisions.md: "nothing from that call is stored").
"""

from __future__ import annotations

import json
import uuid
from typing import Any, Callable, Iterator

import httpx
import pytest
from zep_cloud import BatchAddItem
from zep_cloud.client import Zep
from zep_cloud.core.api_error import ApiError as CoreApiError
from zep_cloud.errors import BadRequestError, ConflictError, ForbiddenError, NotFoundError

pytestmark = pytest.mark.zep_v2

GRAPH = "graph-main"
USER = "user-main"
THREAD = "thread-main"


def good_episode(data: str = "fine") -> BatchAddItem:
    return BatchAddItem(type="graph_episode", graph_id=GRAPH, data=data)


def auth(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Api-Key {api_key}"}


def item_count(zep: Zep, batch_id: str) -> int:
    """The batch's item_count, cross-checked against a full list_items walk."""
    summary = zep.batch.get(batch_id)
    listed = zep.batch.list_items(batch_id, limit=200)
    assert listed.next_cursor is None
    assert summary.item_count == len(listed.items or [])
    assert summary.item_count is not None
    return summary.item_count


def raw_items(count: int) -> dict[str, Any]:
    return {"items": [{"type": "graph_episode", "graph_id": GRAPH, "data": "x"} for _ in range(count)]}


@pytest.fixture
def batch_id(zep: Zep) -> str:
    """A draft batch holding one good item, whose targets all exist."""
    zep.graph.create(graph_id=GRAPH)
    zep.user.add(user_id=USER)
    zep.thread.create(thread_id=THREAD, user_id=USER)
    created = zep.batch.create()
    assert created.batch_id is not None
    zep.batch.add(created.batch_id, items=[good_episode()])
    return created.batch_id


# -- authentication ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "missing Authorization header"),
        ({"Authorization": "Basic x"}, "malformed Authorization header; expected 'Api-Key <key>' or 'Bearer <key>'"),
        ({"Authorization": "Api-Key"}, "malformed Authorization header; expected 'Api-Key <key>' or 'Bearer <key>'"),
        ({"Authorization": "Bearer"}, "malformed Authorization header; expected 'Api-Key <key>' or 'Bearer <key>'"),
        ({"Authorization": "Token abc"}, "malformed Authorization header; expected 'Api-Key <key>' or 'Bearer <key>'"),
    ],
    ids=["missing", "basic-scheme", "api-key-without-key", "bearer-without-key", "unknown-scheme"],
)
def test_missing_or_malformed_authorization_is_401(
    raw: httpx.Client, zep: Zep, api_key: str, headers: dict[str, str], message: str
) -> None:
    """decisions "API keys": a missing or malformed Authorization header is a 401 with
    ``{"message": ...}``, and the request does nothing (no batch is created)."""
    listed = raw.get("/api/v2/batches", headers=headers)
    assert listed.status_code == 401
    assert listed.headers["content-type"].startswith("application/json")
    assert listed.json() == {"message": message, "code": "unauthorized"}

    created = raw.post("/api/v2/batches", headers={**headers, "Content-Type": "application/json"}, content=b"{}")
    assert created.status_code == 401
    assert created.json()["message"] == message
    assert zep.batch.list().batches == []


def test_another_tenants_batch_is_not_found(server: Any, zep: Zep, batch_id: str) -> None:
    """decisions "API keys": each key owns an isolated world, so another tenant's batch id is a
    404 NotFoundError (not a 403) on every batch call, and that tenant cannot change it."""
    stranger = Zep(api_key=f"stranger-{uuid.uuid4()}", base_url=server.zep_v2_url)
    calls: list[Callable[[], Any]] = [
        lambda: stranger.batch.get(batch_id),
        lambda: stranger.batch.list_items(batch_id),
        lambda: stranger.batch.add(batch_id, items=[good_episode()]),
        lambda: stranger.batch.process(batch_id),
        lambda: stranger.batch.delete(batch_id),
    ]
    for call in calls:
        with pytest.raises(NotFoundError) as got:
            call()
        assert not isinstance(got.value, ForbiddenError)
        assert got.value.status_code == 404
        assert got.value.body.message == f"batch {batch_id} not found"
        assert got.value.body.code == "batch_not_found"  # type: ignore[attr-defined]
    assert stranger.batch.list().batches == []
    mine = zep.batch.get(batch_id)
    assert (mine.status, mine.item_count) == ("draft", 1)


# -- malformed bodies --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code", "message_start"),
    [
        (b'{"items": [', "invalid_json", "the request body is not valid JSON"),
        (b"{'items': []}", "invalid_json", "the request body is not valid JSON"),
        (b'{"items": [{"type": "graph_episode", "graph_id": "g", "data": NaN}]}', "invalid_json", "the request body is not valid JSON"),
        (b'{"items": "\xff"}', "invalid_json", "the request body is not UTF-8 text"),
        (b"[]", "invalid_body", "the request body must be a JSON object, not list"),
        (b'"items"', "invalid_body", "the request body must be a JSON object, not str"),
        (b"{}", "invalid_request", "items: is required"),
        (b'{"items": {"type": "graph_episode"}}', "invalid_request", "items: Input should be a valid list"),
    ],
    ids=["truncated", "single-quotes", "nan", "not-utf8", "array", "string", "no-items", "items-not-list"],
)
def test_malformed_add_body_is_400(
    raw: httpx.Client, zep: Zep, api_key: str, batch_id: str, body: bytes, code: str, message_start: str
) -> None:
    """decisions "Error bodies": a body that is not JSON, or JSON that is not an object of the
    right shape, is a 400 ``{"message", "code"}`` — never a 500 — and adds nothing."""
    response = raw.post(
        f"/api/v2/batches/{batch_id}/items",
        headers={**auth(api_key), "Content-Type": "application/json"},
        content=body,
    )
    assert response.status_code == 400
    payload = response.json()
    assert payload["code"] == code
    assert payload["message"].startswith(message_start)
    assert item_count(zep, batch_id) == 1


@pytest.mark.parametrize(
    ("body", "code", "message_start"),
    [
        (b"[]", "invalid_body", "the request body must be a JSON object, not list"),
        (b"{not json", "invalid_json", "the request body is not valid JSON"),
        (b'{"metadata": "x"}', "invalid_request", "metadata: Input should be a valid dictionary"),
        (b'{"ignore_roles": ["robot"]}', "invalid_request", "ignore_roles[0]: Input should be "),
        (b'{"strict_ontology": "yes"}', "invalid_request", "strict_ontology: Input should be a valid boolean"),
    ],
    ids=["array", "not-json", "metadata-string", "unknown-role", "ontology-string"],
)
def test_malformed_create_body_is_400(
    raw: httpx.Client, zep: Zep, api_key: str, body: bytes, code: str, message_start: str
) -> None:
    """A create body that is not a JSON object of the documented shape (§1a
    ``{ignore_roles?, metadata?, strict_ontology?}``) is a 400 and creates no batch."""
    response = raw.post("/api/v2/batches", headers={**auth(api_key), "Content-Type": "application/json"}, content=body)
    assert response.status_code == 400
    payload = response.json()
    assert payload["code"] == code
    assert payload["message"].startswith(message_start)
    assert zep.batch.list().batches == []


# -- per-item rules ----------------------------------------------------------------------------

ELEVEN_KEYS = {f"k{i}": i for i in range(11)}

BAD_ITEMS: list[tuple[str, dict[str, Any], str, str]] = [
    ("unknown-type", {"type": "graph_node", "graph_id": GRAPH, "data": "x"}, "invalid_request", "items[1].type: "),
    ("episode-both-targets", {"type": "graph_episode", "graph_id": GRAPH, "user_id": USER, "data": "x"}, "invalid_target",
     "items[1]: a graph_episode needs exactly one of graph_id and user_id"),
    ("episode-no-target", {"type": "graph_episode", "data": "x"}, "invalid_target",
     "items[1]: a graph_episode needs exactly one of graph_id and user_id"),
    ("episode-no-data", {"type": "graph_episode", "graph_id": GRAPH}, "invalid_request",
     "items[1].data: is required for a graph_episode"),
    ("message-no-thread", {"type": "thread_message", "content": "hi", "role": "user"}, "invalid_target",
     "items[1]: a thread_message needs thread_id"),
    ("message-no-content", {"type": "thread_message", "thread_id": THREAD, "role": "user"}, "invalid_request",
     "items[1].content: is required for a thread_message"),
    ("message-no-role", {"type": "thread_message", "thread_id": THREAD, "content": "hi"}, "invalid_request",
     "items[1].role: is required for a thread_message"),
    ("bad-role", {"type": "thread_message", "thread_id": THREAD, "content": "hi", "role": "robot"}, "invalid_request",
     "items[1].role: "),
    ("bad-data-type", {"type": "graph_episode", "graph_id": GRAPH, "data": "x", "data_type": "xml"}, "invalid_request",
     "items[1].data_type: "),
    ("fact-triple", {"type": "graph_episode", "graph_id": GRAPH, "data": "x", "data_type": "fact_triple"}, "invalid_request",
     "items[1].data_type: "),
    ("created-at-prose", {"type": "graph_episode", "graph_id": GRAPH, "data": "x", "created_at": "June 15 2024"},
     "invalid_timestamp", "items[1].created_at: 'June 15 2024' is not an RFC 3339 timestamp with a UTC offset"),
    ("created-at-no-offset", {"type": "graph_episode", "graph_id": GRAPH, "data": "x", "created_at": "2024-06-15T10:30:00"},
     "invalid_timestamp", "items[1].created_at: '2024-06-15T10:30:00' is not an RFC 3339 timestamp with a UTC offset"),
    ("created-at-date-only", {"type": "thread_message", "thread_id": THREAD, "content": "hi", "role": "user",
                              "created_at": "2024-06-15"},
     "invalid_timestamp", "items[1].created_at: '2024-06-15' is not an RFC 3339 timestamp with a UTC offset"),
    ("created-at-impossible-day", {"type": "graph_episode", "graph_id": GRAPH, "data": "x", "created_at": "2024-02-30T10:00:00Z"},
     "invalid_timestamp", "items[1].created_at: '2024-02-30T10:00:00Z' is not a valid date and time"),
    ("metadata-11-keys", {"type": "graph_episode", "graph_id": GRAPH, "data": "x", "metadata": ELEVEN_KEYS},
     "invalid_metadata", "items[1].metadata has 11 keys; at most 10 are allowed"),
    ("metadata-nested", {"type": "graph_episode", "graph_id": GRAPH, "data": "x", "metadata": {"a": {"b": 1}}},
     "invalid_metadata", "items[1].metadata.a: values must be strings, numbers, booleans or non-empty arrays"),
    ("metadata-null-value", {"type": "thread_message", "thread_id": THREAD, "content": "hi", "role": "user",
                             "metadata": {"a": None}},
     "invalid_metadata", "items[1].metadata.a: values must be"),
    ("metadata-empty-array", {"type": "graph_episode", "graph_id": GRAPH, "data": "x", "metadata": {"tags": []}},
     "invalid_metadata", "items[1].metadata.tags: values must be"),
]


@pytest.mark.parametrize(("fields", "code", "message_start"), [c[1:] for c in BAD_ITEMS], ids=[c[0] for c in BAD_ITEMS])
def test_bad_item_rejects_the_whole_add(zep: Zep, batch_id: str, fields: dict[str, Any], code: str, message_start: str) -> None:
    """§3 item rules: one bad item (here at index 1, after a good one) makes the add a 400
    BadRequestError whose code names the rule and whose message names ``items[1]``; neither
    item is stored."""
    with pytest.raises(BadRequestError) as got:
        zep.batch.add(batch_id, items=[good_episode("also fine"), BatchAddItem(**fields)])
    assert got.value.status_code == 400
    body = got.value.body
    assert body["code"] == code
    assert body["message"].startswith(message_start)
    assert item_count(zep, batch_id) == 1
    assert zep.batch.get(batch_id).status == "draft"


# -- item-count limits -------------------------------------------------------------------------


@pytest.mark.parametrize(("count", "code"), [(0, "no_items"), (501, "too_many_items")])
def test_add_takes_1_to_500_items(zep: Zep, batch_id: str, count: int, code: str) -> None:
    """Seed "batch.add accepts up to 500 items" / decisions: 0 or 501 items is a 400 naming the
    limit; nothing from that call is stored."""
    with pytest.raises(BadRequestError) as got:
        zep.batch.add(batch_id, items=[good_episode(f"e{i}") for i in range(count)])
    assert got.value.status_code == 400
    assert got.value.body["code"] == code
    assert got.value.body["message"] == f"one add call takes 1 to 500 items; got {count}"
    assert got.value.body["details"] == {"limit": 500, "count": count}
    assert item_count(zep, batch_id) == 1


def test_batch_past_50000_items_is_refused(raw: httpx.Client, zep: Zep, api_key: str) -> None:
    """decisions "Items per batch": at most 50,000; the add that would pass it is a 400
    ``batch_too_large`` and stores nothing, while the batch stays a usable draft."""
    zep.graph.create(graph_id=GRAPH)
    batch_id = zep.batch.create().batch_id
    assert batch_id is not None
    body = json.dumps(raw_items(500)).encode()
    headers = {**auth(api_key), "Content-Type": "application/json"}
    for _ in range(100):
        response = raw.post(f"/api/v2/batches/{batch_id}/items", headers=headers, content=body)
        assert response.status_code == 200
    assert zep.batch.get(batch_id).item_count == 50_000

    with pytest.raises(BadRequestError) as got:
        zep.batch.add(batch_id, items=[good_episode()])
    assert got.value.body["code"] == "batch_too_large"
    assert got.value.body["message"] == "a batch holds at most 50000 items; it has 50000 and this call adds 1"
    assert got.value.body["details"] == {"limit": 50_000, "item_count": 50_000, "count": 1}
    after = zep.batch.get(batch_id)
    assert (after.status, after.item_count) == ("draft", 50_000)
    last = zep.batch.list_items(batch_id, cursor=49_999)
    assert [d.sequence_index for d in last.items or []] == [49_999]


# -- wrong status ------------------------------------------------------------------------------


@pytest.fixture(params=["queued", "processing", "succeeded", "canceled"])
def started_batch(request: pytest.FixtureRequest, zep: Zep, control: Any) -> Iterator[tuple[str, str]]:
    """A batch of two items already past draft, in the status named by the param."""
    status: str = request.param
    zep.graph.create(graph_id=GRAPH)
    batch_id = zep.batch.create().batch_id
    assert batch_id is not None
    zep.batch.add(batch_id, items=[good_episode("a"), good_episode("b")])
    if status != "succeeded":
        control.set_mode("manual")
    zep.batch.process(batch_id)
    if status == "processing":
        control.step(1)
    elif status == "canceled":
        control.cancel(batch_id)
    assert zep.batch.get(batch_id).status == status
    yield batch_id, status


def test_add_to_non_draft_batch_conflicts(zep: Zep, started_batch: tuple[str, str]) -> None:
    """decisions "Add to a batch that is not draft": 409 ConflictError whose message says so;
    nothing is appended."""
    batch_id, status = started_batch
    with pytest.raises(ConflictError) as got:
        zep.batch.add(batch_id, items=[good_episode()])
    assert got.value.status_code == 409
    assert got.value.body.message == f"items can only be added to a draft batch; batch {batch_id} is {status}"
    assert got.value.body.code == "batch_not_draft"  # type: ignore[attr-defined]
    after = zep.batch.get(batch_id)
    assert (after.status, after.item_count) == (status, 2)


def test_process_twice_conflicts(zep: Zep, started_batch: tuple[str, str]) -> None:
    """SDK docstring "Repeated calls return a conflict" / decisions "Process twice": 409
    ``batch_already_processed``; the batch is not re-queued."""
    batch_id, status = started_batch
    before = zep.batch.get(batch_id)
    with pytest.raises(ConflictError) as got:
        zep.batch.process(batch_id)
    assert got.value.status_code == 409
    assert got.value.body.message == f"batch {batch_id} is {status}; only a draft batch can be processed"
    assert got.value.body.code == "batch_already_processed"  # type: ignore[attr-defined]
    after = zep.batch.get(batch_id)
    assert (after.status, after.item_count, after.progress) == (status, 2, before.progress)


def test_delete_non_draft_batch_conflicts(zep: Zep, started_batch: tuple[str, str]) -> None:
    """decisions "Delete": anything but draft or invalid is a 409; the batch stays."""
    batch_id, status = started_batch
    with pytest.raises(ConflictError) as got:
        zep.batch.delete(batch_id)
    assert got.value.status_code == 409
    assert got.value.body.message == f"batch {batch_id} is {status}; only draft or invalid batches can be deleted"
    assert got.value.body.code == "batch_not_deletable"  # type: ignore[attr-defined]
    assert [b.batch_id for b in zep.batch.list().batches or []] == [batch_id]


def test_add_and_process_on_invalid_batch_conflict(zep: Zep, batch_id: str) -> None:
    """decisions: an ``invalid`` batch never progresses — add and process are 409 — until it is
    deleted."""
    zep.batch.add(batch_id, items=[BatchAddItem(type="graph_episode", graph_id="graph-missing", data="x")])
    with pytest.raises(BadRequestError):
        zep.batch.process(batch_id)
    with pytest.raises(ConflictError) as added:
        zep.batch.add(batch_id, items=[good_episode()])
    assert added.value.body.code == "batch_not_draft"  # type: ignore[attr-defined]
    with pytest.raises(ConflictError) as processed:
        zep.batch.process(batch_id)
    assert processed.value.body.message == f"batch {batch_id} is invalid; only a draft batch can be processed"
    assert processed.value.body.code == "batch_invalid"  # type: ignore[attr-defined]
    after = zep.batch.get(batch_id)
    assert (after.status, after.item_count) == ("invalid", 2)


def test_process_empty_batch_is_400_and_stays_draft(zep: Zep) -> None:
    """decisions "Process an empty batch": 400 ``empty_batch``; the batch stays draft and can
    still be filled and processed."""
    zep.graph.create(graph_id=GRAPH)
    batch_id = zep.batch.create().batch_id
    assert batch_id is not None
    with pytest.raises(BadRequestError) as got:
        zep.batch.process(batch_id)
    assert got.value.status_code == 400
    assert got.value.body == {"message": f"batch {batch_id} has no items to process", "code": "empty_batch"}
    after = zep.batch.get(batch_id)
    assert (after.status, after.item_count, after.progress, after.processed_at) == ("draft", 0, None, None)
    zep.batch.add(batch_id, items=[good_episode()])
    assert zep.batch.process(batch_id).status == "succeeded"


# -- paging parameters -------------------------------------------------------------------------


@pytest.mark.parametrize(("limit", "shown"), [(0, "0"), (201, "201"), (-5, "-5")])
def test_limit_out_of_range_is_400(zep: Zep, batch_id: str, limit: int, shown: str) -> None:
    """decisions "Pagination": v2 ``limit`` is 1–200; outside that is a 400 on both lists."""
    for call in (lambda: zep.batch.list(limit=limit), lambda: zep.batch.list_items(batch_id, limit=limit)):
        with pytest.raises(BadRequestError) as got:
            call()
        assert got.value.body == {
            "message": f"limit must be between 1 and 200; got {shown}",
            "code": "invalid_parameter",
        }
    assert len(zep.batch.list_items(batch_id, limit=200).items or []) == 1
    assert len(zep.batch.list(limit=1).batches or []) == 1


def test_cursor_out_of_range_is_400(zep: Zep, batch_id: str) -> None:
    """decisions "Pagination": the integer cursor is an offset; a negative one or one past the
    end is a 400 (the end itself is an empty last page)."""
    for cursor, bound in ((-1, "between 0 and 1"), (2, "between 0 and 1"), (10_000, "between 0 and 1")):
        with pytest.raises(BadRequestError) as got:
            zep.batch.list_items(batch_id, cursor=cursor)
        assert got.value.body == {"message": f"cursor must be {bound}; got {cursor}", "code": "invalid_parameter"}
    at_end = zep.batch.list_items(batch_id, cursor=1)
    assert (at_end.items, at_end.next_cursor) == ([], None)

    for cursor in (-1, 2, 10_000):  # the tenant has made one batch
        with pytest.raises(BadRequestError) as listed:
            zep.batch.list(cursor=cursor)
        assert listed.value.body == {"message": f"cursor must be between 0 and 1; got {cursor}", "code": "invalid_parameter"}
    assert [b.batch_id for b in zep.batch.list(cursor=0).batches or []] == [batch_id]


def test_non_integer_paging_params_are_400(raw: httpx.Client, api_key: str, batch_id: str) -> None:
    """``limit`` and ``cursor`` are integers on the v2 wire (§2); anything else is a 400."""
    for query, param in (("limit=ten", "limit"), ("cursor=abc", "cursor"), ("cursor=1.5", "cursor")):
        response = raw.get(f"/api/v2/batches/{batch_id}/items?{query}", headers=auth(api_key))
        assert response.status_code == 400
        value = query.split("=", 1)[1]
        assert response.json() == {"message": f"{param} must be an integer, not {value!r}", "code": "invalid_parameter"}


def test_unknown_status_filter_is_400(zep: Zep, batch_id: str) -> None:
    """The ``status`` filter takes the documented enum values only."""
    with pytest.raises(BadRequestError) as items:
        zep.batch.list_items(batch_id, status="done")
    assert items.value.body["code"] == "invalid_parameter"
    assert items.value.body["message"] == (
        "status must be one of pending, queued, processing, succeeded, failed, skipped, canceled; got 'done'"
    )
    with pytest.raises(BadRequestError) as batches:
        zep.batch.list(status="finished")
    assert batches.value.body["message"] == (
        "status must be one of draft, invalid, queued, processing, succeeded, partial, failed, canceled; got 'finished'"
    )


# -- batch ids ---------------------------------------------------------------------------------


BATCH_CALLS: list[tuple[str, Callable[[Zep, str], Any]]] = [
    ("get", lambda z, b: z.batch.get(b)),
    ("list_items", lambda z, b: z.batch.list_items(b)),
    ("add", lambda z, b: z.batch.add(b, items=[good_episode()])),
    ("process", lambda z, b: z.batch.process(b)),
    ("delete", lambda z, b: z.batch.delete(b)),
]


@pytest.mark.parametrize("call", [c[1] for c in BATCH_CALLS], ids=[c[0] for c in BATCH_CALLS])
def test_non_uuid_batch_id_is_400(zep: Zep, call: Callable[[Zep, str], Any]) -> None:
    """v4 docs (migrating-from-v3), applied to v2 batch ids too: a batch id that is not a UUID
    is a 400 ``invalid_identifier``, checked before anything else."""
    with pytest.raises(BadRequestError) as got:
        call(zep, "not-a-uuid")
    assert got.value.body == {"message": "batch_id 'not-a-uuid' is not a UUID", "code": "invalid_identifier"}
    assert zep.batch.list().batches == []


@pytest.mark.parametrize("call", [c[1] for c in BATCH_CALLS], ids=[c[0] for c in BATCH_CALLS])
def test_unknown_batch_is_404(zep: Zep, call: Callable[[Zep, str], Any]) -> None:
    """§1a: get, list_items, add, process and delete map 404 to NotFoundError, whose body
    parses as ``{"message"}``."""
    missing = str(uuid.uuid4())
    with pytest.raises(NotFoundError) as got:
        call(zep, missing)
    assert got.value.status_code == 404
    assert got.value.body.message == f"batch {missing} not found"
    assert got.value.body.code == "batch_not_found"  # type: ignore[attr-defined]
    assert zep.batch.list().batches == []


# -- transport-level limits and routes ---------------------------------------------------------


def test_body_over_32_mib_is_413(raw: httpx.Client, zep: Zep, api_key: str, batch_id: str) -> None:
    """decisions "Body size": a request over 32 MiB is a 413 in the v2 error shape and stores
    nothing."""
    body = b'{"items": [], "pad": "' + b"x" * (32 * 1024 * 1024) + b'"}'
    response = raw.post(
        f"/api/v2/batches/{batch_id}/items",
        headers={**auth(api_key), "Content-Type": "application/json"},
        content=body,
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"message": "the request body is over 33554432 bytes", "code": "body_too_large"}
    assert item_count(zep, batch_id) == 1


def test_body_over_32_mib_through_the_sdk_is_core_api_error(zep: Zep, batch_id: str) -> None:
    """§1a: 413 is unmapped for batch.add, so zep-cloud 3.x raises the core ApiError with the
    status and the raw JSON body."""
    big = [good_episode("y" * 70_000) for _ in range(500)]  # ~35 MB of JSON
    with pytest.raises(CoreApiError) as got:
        zep.batch.add(batch_id, items=big)
    assert type(got.value) is CoreApiError
    assert got.value.status_code == 413
    assert got.value.body == {"message": "the request body is over 33554432 bytes", "code": "body_too_large"}
    assert item_count(zep, batch_id) == 1


@pytest.mark.parametrize("with_auth", [True, False], ids=["authorised", "anonymous"])
@pytest.mark.parametrize(
    ("method", "path", "status", "message"),
    [
        ("GET", "/api/v2/nope", 404, "no route for GET /api/v2/nope"),
        ("POST", "/api/v2/batches/x/y/z", 404, "no route for POST /api/v2/batches/x/y/z"),
        ("GET", "/api/v2", 404, "no route for GET /api/v2"),
        ("GET", "/api/v2/batches/", 404, "no route for GET /api/v2/batches/"),
        ("PUT", "/api/v2/batches", 405, "method PUT is not allowed on /api/v2/batches"),
    ],
)
def test_unknown_route_is_json_not_html(
    raw: httpx.Client, api_key: str, with_auth: bool, method: str, path: str, status: int, message: str
) -> None:
    """decisions "Unknown routes": an unknown route under /api/v2 is a JSON ``{"message"}``
    error in the v2 shape — never HTML and never a redirect."""
    response = raw.request(method, path, headers=auth(api_key) if with_auth else {}, follow_redirects=False)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["message"] == message
    assert body["code"] == ("route_not_found" if status == 404 else "method_not_allowed")
    assert "<html" not in response.text.lower()
