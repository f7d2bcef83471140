"""Bad input, one table per dialect: every malformed request the wire references and the
earlier bad-input suites list, sent as raw bytes over a socket to 127.0.0.1, each answered in
its dialect's own status codes and error body — never a 500, a traceback or HTML — and each
leaving the tenant and the server as they were.

Sources of the contract: decisions.md ("Error bodies", "Body size", "Unknown routes", "API
keys", "Pagination", the item and document limits), zep-wire-contract.md §1a/§1b (v2
``{"message"}`` and v4 ``{"error": {code, message, param, request_id, details}}`` bodies),
synap-wire-contract.md §3.1 (FastAPI ``{"detail"}``; 400/422 → ``InvalidInputError``), and
``control_common.error_body`` (``{"error": {code, message, param, details}}``).

Why raw sockets: an HTTP client library normalises what these rows need to send as is —
httpx folds ``/../`` segments and refuses header values with trailing blanks, http.client
refuses control characters — so each row is exactly the bytes on the wire.

Beyond the per-route rules the tables cover, for every dialect: bodies that are not UTF-8;
JSON nested 10,000 deep (orjson stops at 1,024 levels, so it is a 400 ``invalid_json``, not
a RecursionError); a multi-megabyte string inside the body limit (refused by the field's own
rule) and a body over it (413 ``body_too_large``, 32 MiB: core/limits.py ``MAX_BODY_BYTES``);
a ``Content-Encoding`` the body does not match (400 ``unreadable_body``); control characters
(percent-encoded ``%00``, ``%0A``, ``%1F``) and path traversal (``..%2F..%2F``, ``%2e%2e``,
literal ``..`` segments, encoded slashes) in path ids — an id is decoded once and never
re-routed, so it is only ever an id that is not a UUID (400) or that names nothing (404).

Duplicate JSON keys: the last one wins (:func:`test_duplicate_keys_the_last_one_wins`), as in
Python's ``json`` (Synap's FastAPI), Go's ``encoding/json`` and JavaScript's ``JSON.parse``
— RFC 8259 §4: "Many implementations report the last name/value pair only." A row whose
last value is invalid is therefore refused for that value.

"Changes nothing" is checked for every row by reading, before and after: the key's snapshot
(``GET /_emulator/state``), its fault rules, webhook endpoints and clock settings, and the
server's own settings (default processing mode, clock, Synap isolation, rate limit) and
number of tenants.
"""

from __future__ import annotations

import http.client
import io
import json
import socket
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Union

import httpx
import pytest

from emulator.core.limits import MAX_BODY_BYTES
from emulator.server import BackgroundServer

KEY = "<key>"  # the tenant's Authorization header, spelled as the dialect wants it
NO_AUTH = ""  # no Authorization header at all

Body = Union[bytes, Callable[[], bytes]]


# -- rows --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One bad request and the answer it must get.

    ``path`` and ``body`` may name the tenant's records as ``{graph}``, ``{user}``,
    ``{thread}``, ``{batch}`` (a draft holding one item), ``{empty}`` (a draft with none),
    ``{done}`` (a succeeded batch), ``{ingestion}``, ``{memory}``, ``{fault}``, ``{webhook}``
    and ``{ghost}`` (a UUID that names nothing). ``code`` is the error code the body carries
    (v2 ``code``, v4 and control ``error.code``); Synap's FastAPI body has no code, so for
    Synap rows it is a fragment of ``detail``. ``says`` is a fragment of the message."""

    id: str
    method: str
    path: str
    status: int
    code: str
    body: Body = b""
    says: str = ""
    auth: str = KEY
    headers: tuple[tuple[str, str], ...] = ()
    marks: tuple[Any, ...] = field(default=())

    def param(self) -> Any:
        return pytest.param(self, id=self.id, marks=self.marks)


def nested(depth: int, leaf: bytes = b"1") -> bytes:
    """A JSON value *depth* objects deep: ``{"a":{"a":...1...}}``."""
    return b'{"a":' * depth + leaf + b"}" * depth


def deep_array(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def over_the_limit() -> bytes:
    """A JSON object one MiB over the 32 MiB body limit."""
    return b'{"pad": "' + b"x" * (MAX_BODY_BYTES + 1024 * 1024) + b'"}'


def huge(text: bytes) -> Callable[[], bytes]:
    """*text* with ``HUGE`` replaced by a 4 MiB string: well inside the body limit."""
    return lambda: text.replace(b"HUGE", b"h" * (4 * 1024 * 1024))


def many(item: bytes, count: int, key: bytes = b"items") -> bytes:
    return b'{"' + key + b'": [' + b",".join([item] * count) + b"]}"


GZIP = (("Content-Encoding", "gzip"),)

EP4 = b'{"type": "graph_episode", "graph_uuid": "{graph}", "data": "fine"}'
MSG4 = b'{"type": "thread_message", "thread_uuid": "{thread}", "content": "hi", "role": "user"}'

V4_ROWS = [
    # authentication (decisions.md "API keys")
    Row("no-auth", "POST", "/api/v4/batches", 401, "unauthorized", b"{}", auth=NO_AUTH, says="missing Authorization"),
    Row("basic-scheme", "POST", "/api/v4/batches", 401, "unauthorized", b"{}", auth="Basic eDp5", says="malformed"),
    Row("api-key-empty", "POST", "/api/v4/batches", 401, "unauthorized", b"{}", auth="Api-Key   "),
    Row("api-key-no-value", "GET", "/api/v4/batches", 401, "unauthorized", auth="Api-Key"),
    Row("no-scheme", "GET", "/api/v4/batches", 401, "unauthorized", auth="k"),
    # routes and methods (decisions.md "Unknown routes")
    Row("unknown-route", "GET", "/api/v4/nope", 404, "route_not_found", says="no route for GET /api/v4/nope"),
    Row("unknown-route-anonymous", "GET", "/api/v4/nope", 404, "route_not_found", auth=NO_AUTH),
    Row("prefix-alone", "GET", "/api/v4", 404, "route_not_found"),
    Row("trailing-slash", "GET", "/api/v4/batches/", 404, "route_not_found"),
    Row("wrong-method", "PUT", "/api/v4/batches", 405, "method_not_allowed", b"{}"),
    Row("wrong-method-on-id", "PATCH", "/api/v4/batches/{batch}", 405, "method_not_allowed", b"{}"),
    # bodies that are not a JSON object
    Row("truncated-json", "POST", "/api/v4/batches/{batch}/items", 400, "invalid_json", b'{"items": ['),
    Row("single-quotes", "POST", "/api/v4/batches", 400, "invalid_json", b"{'metadata': {}}"),
    Row("nan", "POST", "/api/v4/batches/{batch}/items", 400, "invalid_json", b'{"items": [NaN]}'),
    Row("not-utf8", "POST", "/api/v4/batches/{batch}/items", 400, "invalid_json", b'{"items": "\xff\xfe"}', says="not UTF-8"),
    Row("not-utf8-latin1", "POST", "/api/v4/users", 400, "invalid_json", b'{"user_id": "caf\xe9"}', says="not UTF-8"),
    Row("lone-surrogate", "POST", "/api/v4/batches", 400, "invalid_json", b'{"metadata": {"\\ud800": 1}}'),
    Row("array-body", "POST", "/api/v4/batches", 400, "invalid_body", b"[]"),
    Row("string-body", "POST", "/api/v4/batches/{batch}/items", 400, "invalid_body", b'"items"'),
    Row("gzip-that-is-not", "POST", "/api/v4/batches", 400, "unreadable_body", b"{}", headers=GZIP),
    Row("nested-10000-array", "POST", "/api/v4/batches", 400, "invalid_json", deep_array(10_000), says="depth"),
    Row("nested-10000-in-items", "POST", "/api/v4/batches/{batch}/items", 400, "invalid_json",
        b'{"items": [' + nested(10_000) + b"]}"),
    Row("nested-300-metadata", "POST", "/api/v4/batches", 400, "invalid_json", b'{"metadata": ' + nested(300) + b"}"),
    Row("nested-300-user-metadata", "POST", "/api/v4/users", 400, "invalid_json",
        b'{"user_id": "deep", "metadata": ' + nested(300) + b"}"),
    # wrong types, unknown enum values, missing fields
    Row("items-not-a-list", "POST", "/api/v4/batches/{batch}/items", 400, "invalid_request", b'{"items": {"type": "graph_episode"}}',
        says="items"),
    Row("no-items-field", "POST", "/api/v4/batches/{batch}/items", 400, "invalid_request", b"{}", says="items: is required"),
    Row("metadata-string", "POST", "/api/v4/batches", 400, "invalid_request", b'{"metadata": "x"}', says="metadata"),
    Row("strict-ontology-string", "POST", "/api/v4/batches", 400, "invalid_request", b'{"strict_ontology": "yes"}'),
    Row("ignore-roles-robot", "POST", "/api/v4/batches", 400, "invalid_request", b'{"ignore_roles": ["robot"]}'),
    Row("unknown-item-type", "POST", "/api/v4/batches/{batch}/items", 400, "invalid_request",
        b'{"items": [{"type": "fact_triple", "graph_uuid": "{graph}", "data": "x"}]}', says="items[0].type"),
    Row("unknown-role", "POST", "/api/v4/batches/{batch}/items", 400, "invalid_request",
        b'{"items": [' + EP4 + b', {"type": "thread_message", "thread_uuid": "{thread}", "content": "hi", "role": "robot"}]}',
        says="items[1].role"),
    Row("unknown-data-type", "POST", "/api/v4/batches/{batch}/items", 400, "invalid_request",
        b'{"items": [{"type": "graph_episode", "graph_uuid": "{graph}", "data": "x", "data_type": "xml"}]}'),
    Row("data-number", "POST", "/api/v4/batches/{batch}/items", 400, "invalid_request",
        b'{"items": [{"type": "graph_episode", "graph_uuid": "{graph}", "data": 5}]}', says="items[0].data"),
    Row("graph-and-user", "POST", "/api/v4/batches/{batch}/items", 400, "invalid_target",
        b'{"items": [{"type": "graph_episode", "graph_uuid": "{graph}", "user_uuid": "{user}", "data": "x"}]}'),
    Row("no-target", "POST", "/api/v4/batches/{batch}/items", 400, "invalid_target",
        b'{"items": [{"type": "graph_episode", "data": "x"}]}'),
    Row("message-without-role", "POST", "/api/v4/batches/{batch}/items", 400, "invalid_request",
        b'{"items": [{"type": "thread_message", "thread_uuid": "{thread}", "content": "hi"}]}', says="role"),
    Row("empty-data", "POST", "/api/v4/batches/{batch}/items", 400, "invalid_request",
        b'{"items": [{"type": "graph_episode", "graph_uuid": "{graph}", "data": ""}]}'),
    Row("thread-without-user", "POST", "/api/v4/threads", 400, "invalid_request", b"{}", says="user_uuid"),
    Row("metadata-11-keys", "POST", "/api/v4/batches/{batch}/items", 400, "invalid_metadata",
        b'{"items": [{"type": "graph_episode", "graph_uuid": "{graph}", "data": "x", "metadata": {'
        + b",".join(b'"k%d": %d' % (i, i) for i in range(11)) + b"}}]}"),
    Row("metadata-nested", "POST", "/api/v4/batches/{batch}/items", 400, "invalid_metadata",
        b'{"items": [{"type": "graph_episode", "graph_uuid": "{graph}", "data": "x", "metadata": {"a": {"b": 1}}}]}'),
    # limits (decisions.md "Items per add call")
    Row("zero-items", "POST", "/api/v4/batches/{batch}/items", 400, "no_items", b'{"items": []}'),
    Row("501-items", "POST", "/api/v4/batches/{batch}/items", 400, "too_many_items", many(EP4, 501)),
    Row("31-messages", "POST", "/api/v4/threads/{thread}/messages", 400, "invalid_request",
        many(b'{"content": "hi", "role": "user"}', 31, b"messages"), says="messages"),
    # timestamps (decisions.md "Timestamps on the wire")
    Row("timestamp-without-offset", "POST", "/api/v4/batches/{batch}/items", 400, "invalid_timestamp",
        b'{"items": [' + EP4[:-1] + b', "reference_time": "2024-06-15T10:30:00"}]}', says="items[0].reference_time"),
    Row("timestamp-prose", "POST", "/api/v4/batches/{batch}/items", 400, "invalid_timestamp",
        b'{"items": [' + MSG4[:-1] + b', "reference_time": "yesterday"}]}'),
    Row("timestamp-impossible-date", "POST", "/api/v4/batches/{batch}/items", 400, "invalid_timestamp",
        b'{"items": [' + EP4[:-1] + b', "reference_time": "2024-02-30T10:00:00Z"}]}'),
    Row("timestamp-before-year-1", "POST", "/api/v4/graphs/{graph}/episodes", 400, "invalid_timestamp",
        b'{"data": "x", "reference_time": "0001-01-01T00:00:00+01:00"}'),
    # pages and cursors (decisions.md "Pagination")
    Row("page-size-0", "GET", "/api/v4/batches?page_size=0", 400, "invalid_parameter", says="page_size"),
    Row("page-size-201", "GET", "/api/v4/batches/{batch}/items?page_size=201", 400, "invalid_parameter"),
    Row("page-size-word", "GET", "/api/v4/batches?page_size=ten", 400, "invalid_parameter"),
    Row("page-size-nul", "GET", "/api/v4/batches?page_size=%00", 400, "invalid_parameter"),
    Row("cursor-bogus", "GET", "/api/v4/batches/{batch}/items?cursor=bogus", 400, "invalid_cursor"),
    Row("cursor-not-utf8", "GET", "/api/v4/batches?cursor=%ff%fe", 400, "invalid_cursor"),
    Row("status-filter-unknown", "GET", "/api/v4/batches?status=done", 400, "invalid_parameter", says="status"),
    Row("order-unknown", "GET", "/api/v4/threads/{thread}/messages?order=sideways", 400, "invalid_parameter"),
    # ids that are not UUIDs, and UUIDs that name nothing
    Row("batch-id-not-uuid", "GET", "/api/v4/batches/my-batch", 400, "invalid_identifier", says="batch_uuid"),
    Row("graph-id-not-uuid", "POST", "/api/v4/batches/{batch}/items", 400, "invalid_identifier",
        b'{"items": [{"type": "graph_episode", "graph_uuid": "my-graph", "data": "x"}]}'),
    Row("thread-user-not-uuid", "POST", "/api/v4/threads", 400, "invalid_identifier", b'{"user_uuid": "me"}'),
    Row("unknown-batch", "GET", "/api/v4/batches/{ghost}", 404, "batch_not_found", says="{ghost}"),
    Row("unknown-batch-add", "POST", "/api/v4/batches/{ghost}/items", 404, "batch_not_found", b'{"items": [' + EP4 + b"]}"),
    Row("unknown-batch-delete", "DELETE", "/api/v4/batches/{ghost}", 404, "batch_not_found"),
    Row("unknown-user", "GET", "/api/v4/users/{ghost}", 404, "user_not_found"),
    Row("unknown-graph-delete", "DELETE", "/api/v4/graphs/{ghost}", 404, "graph_not_found"),
    Row("unknown-thread-user", "POST", "/api/v4/threads", 404, "user_not_found", b'{"user_uuid": "{ghost}"}'),
    Row("unknown-task", "GET", "/api/v4/tasks/{ghost}", 404, "task_not_found"),
    # wrong status (decisions.md "Process twice", "Add to a batch that is not draft", "Delete")
    Row("process-empty", "POST", "/api/v4/batches/{empty}/process", 400, "empty_batch"),
    Row("process-twice", "POST", "/api/v4/batches/{done}/process", 409, "batch_already_processed"),
    Row("add-after-process", "POST", "/api/v4/batches/{done}/items", 409, "batch_not_draft", b'{"items": [' + EP4 + b"]}"),
    Row("delete-succeeded", "DELETE", "/api/v4/batches/{done}", 409, "batch_not_deletable"),
    # huge strings (core/limits.py MAX_BODY_BYTES; user_id 1..500 characters)
    Row("huge-user-id", "POST", "/api/v4/users", 400, "invalid_request", huge(b'{"user_id": "HUGE"}'), says="user_id"),
    Row("huge-graph-uuid", "POST", "/api/v4/batches/{batch}/items", 400, "invalid_identifier",
        huge(b'{"items": [{"type": "graph_episode", "graph_uuid": "HUGE", "data": "x"}]}')),
    Row("over-32-mib", "POST", "/api/v4/batches/{batch}/items", 413, "body_too_large", over_the_limit, says="33554432"),
    # control characters and path traversal in path ids
    Row("id-nul", "GET", "/api/v4/batches/%00", 400, "invalid_identifier"),
    Row("id-newline", "DELETE", "/api/v4/batches/a%0Ab", 400, "invalid_identifier"),
    Row("id-unit-separator", "GET", "/api/v4/users/a%1Fb", 400, "invalid_identifier"),
    Row("id-uuid-then-nul", "GET", "/api/v4/batches/{batch}%00", 400, "invalid_identifier"),
    Row("id-dotdot-encoded-slashes", "GET", "/api/v4/batches/..%2F..%2F_emulator%2Fstate", 400, "invalid_identifier",
        says="../../_emulator/state"),
    Row("id-dotdot-percent-dots", "POST", "/api/v4/batches/%2e%2e/process", 400, "invalid_identifier"),
    Row("id-encoded-slash", "GET", "/api/v4/graphs/a%2Fb", 400, "invalid_identifier"),
    Row("traversal-percent-segments", "GET", "/api/v4/batches/%2e%2e/%2e%2e/%2e%2e/_emulator/state", 404, "route_not_found"),
    Row("traversal-literal-segments", "POST", "/api/v4/batches/../../../_emulator/reset", 404, "route_not_found", b"{}"),
    # duplicate keys: the last one is the one read
    Row("duplicate-key-last-invalid", "POST", "/api/v4/batches/{batch}/items", 400, "no_items",
        b'{"items": [' + EP4 + b'], "items": []}'),
    Row("duplicate-key-last-wrong-type", "POST", "/api/v4/batches", 400, "invalid_request",
        b'{"metadata": {"a": 1}, "metadata": "x"}'),
]

EP2 = b'{"type": "graph_episode", "graph_id": "{graph}", "data": "fine"}'

V2_ROWS = [
    Row("no-auth", "GET", "/api/v2/batches", 401, "unauthorized", auth=NO_AUTH, says="missing Authorization header"),
    Row("basic-scheme", "POST", "/api/v2/batches", 401, "unauthorized", b"{}", auth="Basic eDp5", says="malformed"),
    Row("bearer-no-value", "POST", "/api/v2/batches", 401, "unauthorized", b"{}", auth="Bearer"),
    Row("unknown-scheme", "GET", "/api/v2/batches", 401, "unauthorized", auth="Token abc"),
    Row("unknown-route", "GET", "/api/v2/nope", 404, "route_not_found", says="no route for GET /api/v2/nope"),
    Row("too-deep-route", "POST", "/api/v2/batches/x/y/z", 404, "route_not_found", b"{}", auth=NO_AUTH),
    Row("wrong-method", "PUT", "/api/v2/batches", 405, "method_not_allowed", b"{}", says="PUT"),
    Row("truncated-json", "POST", "/api/v2/batches/{batch}/items", 400, "invalid_json", b'{"items": ['),
    Row("nan", "POST", "/api/v2/batches/{batch}/items", 400, "invalid_json",
        b'{"items": [{"type": "graph_episode", "graph_id": "{graph}", "data": NaN}]}'),
    Row("not-utf8", "POST", "/api/v2/batches/{batch}/items", 400, "invalid_json", b'{"items": "\xff"}', says="not UTF-8"),
    Row("not-utf8-latin1", "POST", "/api/v2/users", 400, "invalid_json", b'{"user_id": "caf\xe9"}', says="not UTF-8"),
    Row("array-body", "POST", "/api/v2/batches", 400, "invalid_body", b"[]"),
    Row("string-body", "POST", "/api/v2/batches/{batch}/items", 400, "invalid_body", b'"items"'),
    Row("gzip-that-is-not", "POST", "/api/v2/users", 400, "unreadable_body", b'{"user_id": "x"}', headers=GZIP),
    Row("nested-10000-array", "POST", "/api/v2/batches", 400, "invalid_json", deep_array(10_000), says="depth"),
    Row("nested-10000-in-items", "POST", "/api/v2/batches/{batch}/items", 400, "invalid_json",
        b'{"items": [' + nested(10_000) + b"]}"),
    Row("nested-300-batch-metadata", "POST", "/api/v2/batches", 400, "invalid_json", b'{"metadata": ' + nested(300) + b"}"),
    Row("nested-300-user-metadata", "POST", "/api/v2/users", 400, "invalid_json",
        b'{"user_id": "deep", "metadata": ' + nested(300) + b"}"),
    Row("no-items-field", "POST", "/api/v2/batches/{batch}/items", 400, "invalid_request", b"{}", says="items: is required"),
    Row("items-not-a-list", "POST", "/api/v2/batches/{batch}/items", 400, "invalid_request",
        b'{"items": {"type": "graph_episode"}}', says="items: Input should be a valid list"),
    Row("metadata-string", "POST", "/api/v2/batches", 400, "invalid_request", b'{"metadata": "x"}'),
    Row("unknown-role-ignored", "POST", "/api/v2/batches", 400, "invalid_request", b'{"ignore_roles": ["robot"]}'),
    Row("unknown-item-type", "POST", "/api/v2/batches/{batch}/items", 400, "invalid_request",
        b'{"items": [' + EP2 + b', {"type": "graph_node", "graph_id": "{graph}", "data": "x"}]}', says="items[1].type"),
    Row("fact-triple", "POST", "/api/v2/batches/{batch}/items", 400, "invalid_request",
        b'{"items": [{"type": "graph_episode", "graph_id": "{graph}", "data": "x", "data_type": "fact_triple"}]}'),
    Row("episode-no-data", "POST", "/api/v2/batches/{batch}/items", 400, "invalid_request",
        b'{"items": [{"type": "graph_episode", "graph_id": "{graph}"}]}', says="items[0].data: is required"),
    Row("episode-two-targets", "POST", "/api/v2/batches/{batch}/items", 400, "invalid_target",
        b'{"items": [{"type": "graph_episode", "graph_id": "{graph}", "user_id": "{user}", "data": "x"}]}'),
    Row("message-no-thread", "POST", "/api/v2/batches/{batch}/items", 400, "invalid_target",
        b'{"items": [{"type": "thread_message", "content": "hi", "role": "user"}]}'),
    Row("user-without-id", "POST", "/api/v2/users", 400, "invalid_request", b"{}", says="user_id: is required"),
    Row("graph-id-number", "POST", "/api/v2/graph/create", 400, "invalid_request", b'{"graph_id": 5}'),
    Row("metadata-null-value", "POST", "/api/v2/batches/{batch}/items", 400, "invalid_metadata",
        b'{"items": [{"type": "graph_episode", "graph_id": "{graph}", "data": "x", "metadata": {"a": null}}]}'),
    Row("zero-items", "POST", "/api/v2/batches/{batch}/items", 400, "no_items", b'{"items": []}',
        says="one add call takes 1 to 500 items; got 0"),
    Row("501-items", "POST", "/api/v2/batches/{batch}/items", 400, "too_many_items", many(EP2, 501), says="got 501"),
    Row("created-at-no-offset", "POST", "/api/v2/batches/{batch}/items", 400, "invalid_timestamp",
        b'{"items": [' + EP2[:-1] + b', "created_at": "2024-06-15T10:30:00"}]}', says="items[0].created_at"),
    Row("created-at-date-only", "POST", "/api/v2/batches/{batch}/items", 400, "invalid_timestamp",
        b'{"items": [' + EP2[:-1] + b', "created_at": "2024-06-15"}]}'),
    Row("created-at-impossible", "POST", "/api/v2/batches/{batch}/items", 400, "invalid_timestamp",
        b'{"items": [' + EP2[:-1] + b', "created_at": "2024-02-30T10:00:00Z"}]}'),
    Row("limit-0", "GET", "/api/v2/batches?limit=0", 400, "invalid_parameter", says="limit must be between 1 and 200"),
    Row("limit-201", "GET", "/api/v2/batches/{batch}/items?limit=201", 400, "invalid_parameter"),
    Row("limit-word", "GET", "/api/v2/batches/{batch}/items?limit=ten", 400, "invalid_parameter", says="integer"),
    Row("cursor-negative", "GET", "/api/v2/batches/{batch}/items?cursor=-1", 400, "invalid_parameter"),
    Row("cursor-past-end", "GET", "/api/v2/batches?cursor=10000", 400, "invalid_parameter"),
    Row("cursor-fraction", "GET", "/api/v2/batches/{batch}/items?cursor=1.5", 400, "invalid_parameter"),
    Row("status-filter-unknown", "GET", "/api/v2/batches/{batch}/items?status=done", 400, "invalid_parameter"),
    Row("batch-id-not-uuid", "GET", "/api/v2/batches/not-a-uuid", 400, "invalid_identifier",
        says="batch_id 'not-a-uuid' is not a UUID"),
    Row("unknown-batch", "POST", "/api/v2/batches/{ghost}/process", 404, "batch_not_found", says="batch {ghost} not found"),
    Row("unknown-user", "GET", "/api/v2/users/nobody", 404, "user_not_found"),
    Row("unknown-graph", "DELETE", "/api/v2/graph/nothing", 404, "graph_not_found"),
    Row("thread-for-unknown-user", "POST", "/api/v2/threads", 404, "user_not_found",
        b'{"thread_id": "t-new", "user_id": "nobody"}'),
    Row("unknown-task", "GET", "/api/v2/tasks/{ghost}", 404, "task_not_found"),
    Row("process-empty", "POST", "/api/v2/batches/{empty}/process", 400, "empty_batch"),
    Row("process-twice", "POST", "/api/v2/batches/{done}/process", 409, "batch_already_processed"),
    Row("add-after-process", "POST", "/api/v2/batches/{done}/items", 409, "batch_not_draft", b'{"items": [' + EP2 + b"]}"),
    Row("delete-succeeded", "DELETE", "/api/v2/batches/{done}", 409, "batch_not_deletable"),
    Row("huge-user-id", "POST", "/api/v2/users", 400, "invalid_request", huge(b'{"user_id": "HUGE"}'), says="user_id"),
    Row("huge-created-at", "POST", "/api/v2/batches/{batch}/items", 400, "invalid_timestamp",
        huge(b'{"items": [{"type": "graph_episode", "graph_id": "g", "data": "x", "created_at": "HUGE"}]}')),
    Row("over-32-mib", "POST", "/api/v2/batches/{batch}/items", 413, "body_too_large", over_the_limit,
        says="the request body is over 33554432 bytes"),
    Row("id-nul", "GET", "/api/v2/batches/%00", 400, "invalid_identifier"),
    Row("id-newline", "POST", "/api/v2/batches/a%0Ab/items", 400, "invalid_identifier", b'{"items": [' + EP2 + b"]}"),
    Row("user-id-nul", "GET", "/api/v2/users/a%00b", 404, "user_not_found"),
    Row("user-id-unit-separator", "DELETE", "/api/v2/users/%1F", 404, "user_not_found"),
    Row("thread-id-newline", "GET", "/api/v2/threads/{thread}%0A/messages", 404, "thread_not_found"),
    Row("id-dotdot-encoded-slashes", "GET", "/api/v2/batches/..%2F..%2Fusers", 400, "invalid_identifier"),
    Row("user-id-dotdot", "DELETE", "/api/v2/users/..%2F..%2Fbatches", 404, "user_not_found"),
    Row("graph-id-percent-dots", "GET", "/api/v2/graph/%2e%2e", 404, "graph_not_found"),
    Row("graph-id-encoded-slash", "DELETE", "/api/v2/graph/{graph}%2F..", 404, "graph_not_found"),
    Row("traversal-literal-segments", "GET", "/api/v2/users/../../../_emulator/state", 404, "route_not_found"),
    Row("duplicate-key-last-invalid", "POST", "/api/v2/batches/{batch}/items", 400, "no_items",
        b'{"items": [' + EP2 + b'], "items": []}'),
]

DOC = b'{"document": "User: I live in Paris.", "user_id": "u1", "customer_id": "c1"}'

SYNAP_ROWS = [
    Row("no-auth", "POST", "/api/v1/memories/create", 401, "missing Authorization header", DOC, auth=NO_AUTH),
    Row("api-key-scheme", "POST", "/api/v1/memories/create", 401, "malformed Authorization header", DOC, auth="Api-Key k"),
    Row("bearer-empty", "POST", "/api/v1/memories/batch", 401, "malformed Authorization header", DOC, auth="Bearer  "),
    Row("docs-path-no-auth", "POST", "/v1/memories", 401, "missing Authorization header", DOC, auth=NO_AUTH),
    Row("unknown-route", "GET", "/api/v1/nothing/here/at/all", 404, "no route"),
    Row("unknown-route-anonymous", "GET", "/api/v1/memories", 404, "no route", auth=NO_AUTH),
    Row("wrong-method", "DELETE", "/api/v1/memories/batch", 405, "not allowed"),
    Row("wrong-method-docs-path", "GET", "/v1/memories/batch", 405, "not allowed"),
    Row("truncated-json", "POST", "/api/v1/memories/create", 400, "not valid JSON", b'{"document": "x'),
    Row("nan", "POST", "/api/v1/memories/batch", 400, "not valid JSON", b'{"documents": [{"document": NaN}]}'),
    Row("not-utf8", "POST", "/api/v1/memories/create", 400, "not UTF-8", b'{"document": "\xff\xfe"}'),
    Row("not-utf8-docs-path", "POST", "/v1/memories/batch", 400, "not UTF-8", b'{"documents": [{"document": "caf\xe9"}]}'),
    Row("array-body", "POST", "/api/v1/memories/batch", 400, "must be a JSON object", b"[]"),
    Row("gzip-that-is-not", "POST", "/api/v1/memories/create", 400, "could not be read", DOC, headers=GZIP),
    Row("nested-10000-array", "POST", "/api/v1/memories/create", 400, "depth", deep_array(10_000)),
    Row("nested-10000-document", "POST", "/api/v1/memories/create", 400, "not valid JSON",
        b'{"document": ' + nested(10_000) + b"}"),
    Row("nested-10000-telemetry", "POST", "/v1/telemetry/batch", 400, "not valid JSON",
        b'{"events": [' + deep_array(10_000) + b"]}"),
    Row("nested-1000-document", "POST", "/api/v1/memories/create", 400, "depth",
        b'{"document": ' + nested(1000) + b"}"),
    Row("nested-300-metadata", "POST", "/api/v1/memories/create", 400, "depth",
        b'{"document": "User: hi.", "metadata": ' + nested(300) + b"}"),
    Row("nested-1000-telemetry", "POST", "/v1/telemetry/batch", 400, "depth",
        b'{"events": [' + deep_array(1000) + b"]}"),
    Row("document-number", "POST", "/api/v1/memories/create", 400, "document", b'{"document": 5}'),
    Row("document-missing", "POST", "/api/v1/memories/create", 400, "document: is required", b'{"user_id": "u1"}'),
    Row("documents-not-a-list", "POST", "/api/v1/memories/batch", 400, "documents", b'{"documents": "nope"}'),
    Row("fail-fast-string", "POST", "/api/v1/memories/batch", 400, "fail_fast",
        b'{"documents": [' + DOC + b'], "fail_fast": "yes"}'),
    Row("created-at-prose", "POST", "/api/v1/memories/create", 400, "document_created_at",
        b'{"document": "x", "document_created_at": "yesterday"}'),
    Row("created-at-impossible", "POST", "/api/v1/memories/batch", 400, "documents[0].document_created_at",
        b'{"documents": [{"document": "x", "document_created_at": "2024-02-30T10:00:00Z"}]}'),
    Row("create-unknown-type", "POST", "/api/v1/memories/create", 400, "document_type",
        b'{"document": "User: hi.", "document_type": "fax", "user_id": "u1", "customer_id": "c1"}'),
    Row("create-user-without-customer", "POST", "/api/v1/memories/create", 400, "customer_id",
        b'{"document": "User: hi.", "user_id": "u1"}'),
    Row("fail-fast-invalid-document", "POST", "/api/v1/memories/batch", 400, "documents[1]",
        b'{"documents": [' + DOC + b', {"document": ""}], "fail_fast": true}'),
    Row("zero-documents", "POST", "/api/v1/memories/batch", 422, "1 to 100 documents", b'{"documents": []}'),
    Row("101-documents", "POST", "/api/v1/memories/batch", 422, "got 101", many(DOC, 101, b"documents")),
    Row("101-documents-docs-path", "POST", "/v1/memories/batch", 422, "got 101", many(DOC, 101, b"documents")),
    Row("unknown-ingestion", "GET", "/api/v1/memories/status/{ghost}", 404, "ingestion '{ghost}' not found"),
    Row("ingestion-not-uuid", "GET", "/api/v1/memories/status/abc", 404, "ingestion 'abc' not found"),
    Row("unknown-memory", "GET", "/api/v1/memories/{ghost}", 404, "not found"),
    Row("huge-created-at", "POST", "/api/v1/memories/create", 400, "document_created_at",
        huge(b'{"document": "x", "document_created_at": "HUGE"}')),
    Row("huge-type", "POST", "/api/v1/memories/create", 400, "document_type",
        huge(b'{"document": "User: hi.", "document_type": "HUGE", "user_id": "u1", "customer_id": "c1"}')),
    Row("over-32-mib", "POST", "/api/v1/memories/batch", 413, "33554432", over_the_limit),
    Row("over-32-mib-docs-path", "POST", "/v1/memories", 413, "33554432", over_the_limit),
    Row("id-nul", "GET", "/api/v1/memories/status/%00", 404, "not found"),
    Row("id-newline", "GET", "/api/v1/memories/a%0Ab", 404, "not found"),
    Row("id-uuid-then-unit-separator", "GET", "/api/v1/memories/status/{ingestion}%1F", 404, "not found"),
    Row("id-dotdot-encoded-slashes", "GET", "/api/v1/memories/status/..%2F..%2Fauth%2Fwhoami", 404, "not found"),
    Row("id-percent-dots", "GET", "/api/v1/memories/%2e%2e", 404, "not found"),
    Row("traversal-literal-segments", "GET", "/api/v1/memories/../../../_emulator/state", 404, "no route"),
    Row("duplicate-key-last-invalid", "POST", "/api/v1/memories/batch", 422, "1 to 100 documents",
        b'{"documents": [' + DOC + b'], "documents": []}'),
    Row("duplicate-key-last-wrong-type", "POST", "/api/v1/memories/create", 400, "document",
        b'{"document": "User: hi.", "document": 5}'),
]

CONTROL_ROWS = [
    Row("malformed-auth", "GET", "/_emulator/faults", 401, "unauthorized", auth="Basic eDp5"),
    Row("cancel-without-key", "POST", "/_emulator/batches/{batch}/cancel", 401, "unauthorized", auth=NO_AUTH),
    Row("clock-of-unknown-key", "GET", "/_emulator/clock", 404, "tenant_not_found", auth="Api-Key nobody-{ghost}"),
    Row("unknown-route", "GET", "/_emulator/nope", 404, "route_not_found"),
    Row("wrong-method", "DELETE", "/_emulator/health", 405, "method_not_allowed"),
    Row("wrong-method-state", "POST", "/_emulator/state", 405, "method_not_allowed", b"{}"),
    Row("truncated-json", "PUT", "/_emulator/processing", 400, "invalid_json", b'{"mode": '),
    Row("not-utf8", "POST", "/_emulator/faults", 400, "invalid_json", b'{"kind": "request", "path": "\xff"}', says="not UTF-8"),
    Row("not-utf8-state", "PUT", "/_emulator/state", 400, "invalid_json", b"\xfe\xff"),
    Row("array-body", "PUT", "/_emulator/clock", 400, "invalid_body", b"[]"),
    Row("gzip-that-is-not", "PUT", "/_emulator/seed", 400, "unreadable_body", b'{"seed": 1}', headers=GZIP),
    Row("nested-10000-fault", "POST", "/_emulator/faults", 400, "invalid_json", b'{"kind": ' + deep_array(10_000) + b"}"),
    Row("nested-10000-state", "PUT", "/_emulator/state", 400, "invalid_json", nested(10_000), says="depth"),
    Row("mode-unknown", "PUT", "/_emulator/processing", 400, "invalid_request", b'{"mode": "fast"}', says="mode"),
    Row("mode-unknown-server-wide", "PUT", "/_emulator/processing", 400, "invalid_request", b'{"mode": "fast"}', auth=NO_AUTH),
    Row("unknown-field", "POST", "/_emulator/processing/step", 400, "invalid_request", b'{"items": 1, "itmes": 2}',
        says="is not a known field"),
    Row("step-zero", "POST", "/_emulator/processing/step", 400, "invalid_request", b'{"items": 0}'),
    Row("clock-prose", "PUT", "/_emulator/clock", 400, "invalid_timestamp", b'{"frozen_at": "yesterday"}'),
    Row("clock-no-offset-server-wide", "PUT", "/_emulator/clock", 400, "invalid_timestamp",
        b'{"frozen_at": "2024-06-15T10:30:00"}', auth=NO_AUTH),
    Row("clock-negative-tick", "PUT", "/_emulator/clock", 400, "invalid_request", b'{"frozen_at": null, "tick_seconds": -1}'),
    Row("advance-missing", "POST", "/_emulator/clock/advance", 400, "invalid_request", b"{}", says="seconds: is required"),
    Row("advance-infinite-number", "POST", "/_emulator/clock/advance", 400, "invalid_json", b'{"seconds": 1e400}', says="infinity"),
    Row("rate-limit-zero", "PUT", "/_emulator/rate-limit", 400, "invalid_request", b'{"per_second": 0}'),
    Row("rate-limit-boolean", "PUT", "/_emulator/rate-limit", 400, "invalid_request", b'{"per_second": true}',
        says="per_second"),
    Row("advance-boolean", "POST", "/_emulator/clock/advance", 400, "invalid_request", b'{"seconds": false}', says="seconds"),
    Row("advance-past-year-9999", "POST", "/_emulator/clock/advance", 400, "invalid_request", b'{"seconds": 1e300}',
        says="seconds"),
    Row("fault-status-string", "POST", "/_emulator/faults", 400, "invalid_request", b'{"kind": "request", "status": "503"}',
        says="status"),
    Row("rate-limit-zero-server-wide", "PUT", "/_emulator/rate-limit", 400, "invalid_request", b'{"per_second": 0}',
        auth=NO_AUTH),
    Row("seed-float", "PUT", "/_emulator/seed", 400, "invalid_request", b'{"seed": 1.5}'),
    Row("isolation-unknown", "PUT", "/_emulator/synap/isolation", 400, "invalid_request", b'{"isolation": "b2c"}'),
    Row("fault-kind-unknown", "POST", "/_emulator/faults", 400, "invalid_request", b'{"kind": "meteor"}'),
    Row("fault-status-200", "POST", "/_emulator/faults", 400, "invalid_request", b'{"kind": "request", "status": 200}'),
    Row("fault-no-effect", "POST", "/_emulator/faults", 400, "invalid_request", b'{"kind": "request", "path": "/x"}'),
    Row("webhook-empty-url", "POST", "/_emulator/webhooks", 400, "invalid_request", b'{"url": ""}'),
    Row("webhook-without-key", "POST", "/_emulator/webhooks", 400, "tenant_required",
        b'{"url": "http://127.0.0.1:9/hook"}', auth=NO_AUTH),
    Row("state-not-a-snapshot", "PUT", "/_emulator/state", 400, "invalid_state", b'{"format": "something else"}'),
    Row("state-world-with-key", "PUT", "/_emulator/state", 400, "invalid_state", b'{"scope": "world"}'),
    Row("journal-status-99", "GET", "/_emulator/requests?status=99", 400, "invalid_parameter"),
    Row("journal-limit-0", "GET", "/_emulator/requests?limit=0", 400, "invalid_parameter"),
    Row("deliveries-state-unknown", "GET", "/_emulator/webhooks/deliveries?state=lost", 400, "invalid_parameter"),
    Row("cancel-not-uuid", "POST", "/_emulator/batches/my-batch/cancel", 400, "invalid_identifier"),
    Row("cancel-unknown", "POST", "/_emulator/batches/{ghost}/cancel", 404, "batch_not_found"),
    Row("unknown-fault", "DELETE", "/_emulator/faults/f-nope", 404, "fault_not_found"),
    Row("release-unknown-fault", "POST", "/_emulator/faults/f-nope/release", 404, "fault_not_found"),
    Row("unknown-webhook", "DELETE", "/_emulator/webhooks/{ghost}", 404, "endpoint_not_found"),
    Row("huge-seed", "PUT", "/_emulator/seed", 400, "invalid_request", huge(b'{"seed": "HUGE"}')),
    Row("huge-fault-path", "POST", "/_emulator/faults", 400, "invalid_request",
        huge(b'{"kind": "request", "path": "HUGE"}')),
    Row("over-32-mib", "PUT", "/_emulator/state", 413, "body_too_large", over_the_limit),
    Row("cancel-id-nul", "POST", "/_emulator/batches/%00/cancel", 400, "invalid_identifier"),
    Row("cancel-id-uuid-then-newline", "POST", "/_emulator/batches/{batch}%0A/cancel", 400, "invalid_identifier"),
    Row("fault-id-unit-separator", "DELETE", "/_emulator/faults/{fault}%1F", 404, "fault_not_found"),
    Row("cancel-id-dotdot", "POST", "/_emulator/batches/..%2F..%2Fapi%2Fv4%2Fbatches/cancel", 400, "invalid_identifier"),
    Row("fault-id-dotdot", "DELETE", "/_emulator/faults/..%2F..%2Freset", 404, "fault_not_found"),
    Row("webhook-id-percent-dots", "DELETE", "/_emulator/webhooks/%2e%2e", 404, "endpoint_not_found"),
    Row("traversal-literal-segments", "POST", "/_emulator/faults/../reset", 404, "route_not_found", b"{}"),
    Row("duplicate-key-last-invalid", "PUT", "/_emulator/processing", 400, "invalid_request",
        b'{"mode": "manual", "mode": "fast"}'),
]


# -- raw HTTP ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class _Received:
    """What http.client.HTTPResponse reads a response from: the bytes already received."""

    def __init__(self, data: bytes) -> None:
        self._file = io.BytesIO(data)

    def makefile(self, *args: Any, **kwargs: Any) -> io.BytesIO:
        return self._file


def exchange(server: BackgroundServer, method: str, target: str, headers: list[tuple[str, str]], body: bytes = b"") -> Answer:
    """Send exactly these bytes (request line, headers, body) on a new connection and read the
    answer up to the server's close (``Connection: close``)."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: {server.host}:{server.port}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers]
    if body or method in {"POST", "PUT", "PATCH"}:
        lines.append(f"Content-Length: {len(body)}")
    request = "\r\n".join(lines).encode("latin-1") + b"\r\n\r\n" + body
    with socket.create_connection((server.host, server.port), timeout=60) as sock:
        try:
            sock.sendall(request)
        except (BrokenPipeError, ConnectionResetError):  # answered (413) before it all went out
            pass
        received = bytearray()
        while chunk := sock.recv(1 << 16):
            received += chunk
    response = http.client.HTTPResponse(_Received(bytes(received)))  # type: ignore[arg-type]
    response.begin()
    return Answer(response.status, response.headers, response.read())


# -- the tenant each row runs against ------------------------------------------------------------


@dataclass
class Tenant:
    key: str
    scheme: str  # "Api-Key" (Zep, control) or "Bearer" (Synap)
    ids: dict[str, str]

    def fill(self, text: str) -> str:
        for name, value in self.ids.items():
            text = text.replace("{" + name + "}", value)
        return text

    def fill_bytes(self, body: bytes) -> bytes:
        for name, value in self.ids.items():
            body = body.replace(b"{" + name.encode() + b"}", value.encode())
        return body


def _ok(response: httpx.Response) -> Any:
    assert response.status_code < 300, (response.request.url, response.status_code, response.text)
    return response.json() if response.content else None


def _zep_v4(http_: httpx.Client, ids: dict[str, str]) -> None:
    ids["graph"] = _ok(http_.post("/api/v4/graphs", json={"name": "g"}))["uuid"]
    ids["user"] = _ok(http_.post("/api/v4/users", json={"user_id": "u-main"}))["uuid"]
    ids["thread"] = _ok(http_.post("/api/v4/threads", json={"user_uuid": ids["user"]}))["uuid"]
    episode = {"type": "graph_episode", "graph_uuid": ids["graph"], "data": "Alice moved to Berlin."}
    for name in ("batch", "done", "empty"):
        ids[name] = _ok(http_.post("/api/v4/batches", json={}))["uuid"]
        if name != "empty":
            _ok(http_.post(f"/api/v4/batches/{ids[name]}/items", json={"items": [episode]}))
    _ok(http_.post(f"/api/v4/batches/{ids['done']}/process"))


def _zep_v2(http_: httpx.Client, ids: dict[str, str]) -> None:
    ids.update(graph="graph-main", user="user-main", thread="thread-main")
    _ok(http_.post("/api/v2/graph/create", json={"graph_id": ids["graph"]}))
    _ok(http_.post("/api/v2/users", json={"user_id": ids["user"]}))
    _ok(http_.post("/api/v2/threads", json={"thread_id": ids["thread"], "user_id": ids["user"]}))
    episode = {"type": "graph_episode", "graph_id": ids["graph"], "data": "Alice moved to Berlin."}
    for name in ("batch", "done", "empty"):
        ids[name] = _ok(http_.post("/api/v2/batches", json={}))["batch_id"]
        if name != "empty":
            _ok(http_.post(f"/api/v2/batches/{ids[name]}/items", json={"items": [episode]}))
    _ok(http_.post(f"/api/v2/batches/{ids['done']}/process"))


def _synap(http_: httpx.Client, ids: dict[str, str]) -> None:
    created = _ok(http_.post("/api/v1/memories/create", json=json.loads(DOC)))
    ids["ingestion"] = created["ingestion_id"]
    status = _ok(http_.get(f"/api/v1/memories/status/{ids['ingestion']}"))
    assert status["status"] == "completed" and status["memory_ids"], status
    ids["memory"] = status["memory_ids"][0]


def _control(http_: httpx.Client, ids: dict[str, str]) -> None:
    _zep_v4(http_, ids)
    ids["fault"] = _ok(http_.post("/_emulator/faults", json={"kind": "request", "path": "/nowhere", "status": 503}))["id"]
    # After the batches: nothing completes from here on, so no delivery is ever attempted.
    ids["webhook"] = _ok(http_.post("/_emulator/webhooks", json={"url": "http://127.0.0.1:9/hook"}))["uuid"]


@pytest.fixture
def tenant_for(server: BackgroundServer) -> Iterator[Callable[[str, Callable[[httpx.Client, dict[str, str]], None]], Tenant]]:
    """Makes a fresh tenant (new key) with its records; forgets every one it made at the end
    (a row that is a known bug may have stored something no later read can write back)."""
    made: list[str] = []

    def make(scheme: str, setup: Callable[[httpx.Client, dict[str, str]], None]) -> Tenant:
        key = f"bad-input-{uuid.uuid4()}"
        made.append(key)
        ids = {"ghost": str(uuid.uuid4())}
        with httpx.Client(base_url=server.base_url, headers={"Authorization": f"{scheme} {key}"}, timeout=60) as http_:
            setup(http_, ids)
        return Tenant(key, scheme, ids)

    yield make
    with httpx.Client(base_url=server.base_url, timeout=60) as http_:
        for key in made:
            assert http_.post("/_emulator/reset", headers={"Authorization": f"Api-Key {key}"}).status_code == 200


def observe(server: BackgroundServer, key: str) -> dict[str, Any]:
    """Everything a rejected call could have changed: the key's snapshot, fault rules, webhook
    endpoints and clock setting, and the server's defaults and tenants."""
    auth = {"Authorization": f"Api-Key {key}"}
    with httpx.Client(base_url=server.base_url, timeout=60) as http_:
        def get(path: str, headers: dict[str, str] | None = None) -> Any:
            response = http_.get(path, headers=headers)
            assert response.status_code == 200, (path, response.text)
            return response.json()

        seen = {
            # First: reading the endpoints makes the key's Zep tenant if it has only a Synap one.
            "webhooks": get("/_emulator/webhooks", auth),
            "faults": get("/_emulator/faults", auth),
            "clock": {k: v for k, v in get("/_emulator/clock", auth).items() if k != "now"},
            "server_clock": {k: v for k, v in get("/_emulator/clock").items() if k != "now"},
            "server_mode": get("/_emulator/health")["processing"],
            "state": get("/_emulator/state", auth),
        }
    seen["server"] = server.call(lambda world: (len(world.tenants.all()), world.tenants.isolation, world.tenants.rate_limit,
                                                world.processor.default_mode, len(world.faults.rules)))
    return seen


# -- the check every row goes through ------------------------------------------------------------


def v2_shape(body: Any, answer: Answer) -> tuple[str, str]:
    """zep-cloud 3.30.0 ``types.ApiError``: ``{"message"}``, plus our ``code`` (and ``details``)."""
    assert isinstance(body, dict) and {"message", "code"} <= set(body) <= {"message", "code", "details"}, body
    return body["code"], body["message"]


def v4_shape(body: Any, answer: Answer) -> tuple[str, str]:
    """zep-cloud 4.0.1 ``types.ApiError``: ``{"error": {code, message, param, request_id, details}}``;
    ``request_id`` is the answer's ``X-Request-Id``."""
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "param", "request_id", "details"}, error
    assert error["request_id"] == answer.headers["X-Request-Id"]
    return error["code"], error["message"]


def synap_shape(body: Any, answer: Answer) -> tuple[str, str]:
    """FastAPI's ``{"detail": "..."}`` (synap-wire-contract.md §3.1: the SDK reads ``detail``)."""
    assert isinstance(body, dict) and set(body) == {"detail"} and isinstance(body["detail"], str), body
    return body["detail"], body["detail"]


def control_shape(body: Any, answer: Answer) -> tuple[str, str]:
    """control_common.error_body: ``{"error": {code, message, param, details}}``."""
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "param", "details"}, error
    return error["code"], error["message"]


def check_row(server: BackgroundServer, tenant: Tenant, row: Row, shape: Callable[[Any, Answer], tuple[str, str]],
              code_is_fragment: bool = False) -> None:
    """Send the row's request and check its answer (status, JSON content type, request id, the
    dialect's error shape, code and message) and that nothing changed."""
    headers = [(name, tenant.fill(value)) for name, value in row.headers]
    if row.auth == KEY:
        headers.append(("Authorization", f"{tenant.scheme} {tenant.key}"))
    elif row.auth != NO_AUTH:
        headers.append(("Authorization", tenant.fill(row.auth)))
    raw = row.body() if callable(row.body) else row.body
    body = tenant.fill_bytes(raw) if len(raw) < 1 << 20 else raw
    if body:
        headers.append(("Content-Type", "application/json"))

    before = observe(server, tenant.key)
    answer = exchange(server, row.method, tenant.fill(row.path), headers, body)
    after = observe(server, tenant.key)

    assert answer.status == row.status, answer.body[:500]
    assert answer.headers["Content-Type"].startswith("application/json"), answer.headers
    assert answer.headers["X-Request-Id"].startswith("req_")
    assert b"<html" not in answer.body.lower() and b"Traceback" not in answer.body
    code, message = shape(answer.json(), answer)
    assert message, "an error message says what is wrong"
    assert len(answer.body) < 4096, "an error quotes at most a little of what it refuses"
    if code_is_fragment:
        assert tenant.fill(row.code) in code, (row.code, code)
    else:
        assert code == row.code, (code, message)
    assert tenant.fill(row.says) in message, (row.says, message[:500])
    assert after == before, "a rejected call changed the tenant or the server"


# -- the four tables ---------------------------------------------------------------------------


@pytest.mark.parametrize("row", [r.param() for r in V4_ROWS])
def test_zep_v4_bad_input(server: BackgroundServer, tenant_for: Callable[..., Tenant], row: Row) -> None:
    """/api/v4: each row gets its status and ``error.code`` in the v4 shape; nothing changes."""
    check_row(server, tenant_for("Api-Key", _zep_v4), row, v4_shape)


@pytest.mark.parametrize("row", [r.param() for r in V2_ROWS])
def test_zep_v2_bad_input(server: BackgroundServer, tenant_for: Callable[..., Tenant], row: Row) -> None:
    """/api/v2: each row gets its status and ``code`` in the v2 ``{"message"}`` shape; nothing changes."""
    check_row(server, tenant_for("Api-Key", _zep_v2), row, v2_shape)


@pytest.mark.parametrize("row", [r.param() for r in SYNAP_ROWS])
def test_synap_bad_input(server: BackgroundServer, tenant_for: Callable[..., Tenant], row: Row) -> None:
    """/api/v1 and /v1: each row gets its status and a ``detail`` naming the problem; nothing changes."""
    check_row(server, tenant_for("Bearer", _synap), row, synap_shape, code_is_fragment=True)


@pytest.mark.parametrize("row", [r.param() for r in CONTROL_ROWS])
def test_control_plane_bad_input(server: BackgroundServer, tenant_for: Callable[..., Tenant], row: Row) -> None:
    """/_emulator: each row gets its status and ``error.code`` in the control shape; nothing
    changes, for the tenant or (rows without a key) server-wide."""
    check_row(server, tenant_for("Api-Key", _control), row, control_shape)


# -- what is not refused, and what never reaches the application ---------------------------------


@pytest.mark.parametrize(
    ("scheme", "setup", "method", "path", "body", "check"),
    [
        pytest.param("Api-Key", _zep_v4, "POST", "/api/v4/batches/{batch}/items", b'{"items": [], "items": [' + EP4 + b"]}",
                     "/api/v4/batches/{batch}", id="zep-v4-items"),
        pytest.param("Api-Key", _zep_v4, "POST", "/api/v4/batches", b'{"metadata": {"a": 1, "a": 2}, "metadata": {"b": 1, "b": 3}}',
                     None, id="zep-v4-nested"),
        pytest.param("Api-Key", _zep_v2, "POST", "/api/v2/batches/{batch}/items", b'{"items": "x", "items": [' + EP2 + b"]}",
                     "/api/v2/batches/{batch}", id="zep-v2-items"),
        pytest.param("Bearer", _synap, "POST", "/api/v1/memories/create",
                     b'{"document": 5, "document": "User: I work at Acme Corp.", "user_id": "u1", "customer_id": "c1"}',
                     None, id="synap"),
        pytest.param("Api-Key", _control, "PUT", "/_emulator/processing", b'{"mode": "fast", "mode": "manual"}', None,
                     id="control"),
    ],
)
def test_duplicate_keys_the_last_one_wins(server: BackgroundServer, tenant_for: Callable[..., Tenant], scheme: str,
                                          setup: Callable[[httpx.Client, dict[str, str]], None], method: str, path: str,
                                          body: bytes, check: str | None) -> None:
    """Decision: a JSON object with a repeated name is read with the last value, at any depth —
    what Python's ``json`` (Synap's FastAPI), Go's ``encoding/json`` and ``JSON.parse`` do and
    RFC 8259 §4 says "many implementations" do — so a client sees the same here as from the
    real services; the invalid first values below are ignored and the call succeeds."""
    tenant = tenant_for(scheme, setup)
    headers = [("Authorization", f"{scheme} {tenant.key}"), ("Content-Type", "application/json")]
    answer = exchange(server, method, tenant.fill(path), headers, tenant.fill_bytes(body))
    assert answer.status in (200, 201), answer.body
    reply = answer.json()
    if "metadata" in body.decode():
        assert reply["metadata"] == {"b": 3}
    if path.startswith("/_emulator"):
        assert reply["mode"] == "manual"
    if "memories" in path:
        assert reply["status"] == "queued"
    if check is not None:  # the one item sent was added to the draft's one item
        with httpx.Client(base_url=server.base_url, headers={"Authorization": f"{scheme} {tenant.key}"}) as http_:
            assert http_.get(tenant.fill(check)).json()["item_count"] == 2


@pytest.mark.parametrize(
    "request_head",
    [
        pytest.param(b"GET /api/v4/batches/a\x00b HTTP/1.1", id="nul-in-path"),
        pytest.param(b"GET /api/v2/users/a\x1fb HTTP/1.1", id="unit-separator-in-path"),
        pytest.param(b"GET /api/v1/memories/a\nb HTTP/1.1", id="newline-in-path"),
        pytest.param(b"GET /api/v4/batches/" + b"a" * 9000 + b" HTTP/1.1", id="path-over-8190-bytes"),
        pytest.param(b"POST /api/v4/batches HTTP/1.1\r\nContent-Length: abc", id="content-length-not-a-number"),
        pytest.param(b"POST /_emulator/seed HTTP/1.1\r\nAuthorization: Api-Key a\x01b", id="control-character-in-header"),
    ],
)
def test_what_the_http_parser_refuses_is_a_400_and_the_server_goes_on(server: BackgroundServer, request_head: bytes) -> None:
    """Bytes that are not HTTP/1.1 — an unencoded control character in the request line or a
    header, a line over aiohttp's 8,190 bytes, a Content-Length that is not a number — are
    refused by aiohttp's parser before any middleware runs: a 400 (plain text, not the
    dialect's JSON: no dialect is known yet, and no SDK can send these), never a 500 or
    HTML, and the server keeps answering. A client's real ids reach the application
    percent-encoded (``%00``, ``%0A``), which the tables above cover."""
    with socket.create_connection((server.host, server.port), timeout=30) as sock:
        sock.sendall(request_head + b"\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        received = bytearray()
        while chunk := sock.recv(1 << 16):
            received += chunk
    response = http.client.HTTPResponse(_Received(bytes(received)))  # type: ignore[arg-type]
    response.begin()
    assert response.status == 400
    assert "html" not in (response.headers["Content-Type"] or "")
    assert httpx.get(f"{server.base_url}/_emulator/health").status_code == 200


@pytest.mark.parametrize("version", ["v4", "v2"])
def test_megabytes_of_data_inside_the_body_limit_are_taken_and_the_item_fails_on_its_own(
    server: BackgroundServer, tenant_for: Callable[..., Tenant], version: str
) -> None:
    """decisions.md "When an item fails on its own": episode data over 10,000 characters is no
    reason to refuse the add (the body is inside 32 MiB), but the item fails when processed
    with ``content_too_large`` and writes nothing; the batch, its only item failed, is
    ``failed``."""
    tenant = tenant_for("Api-Key", _zep_v4 if version == "v4" else _zep_v2)
    target = "graph_uuid" if version == "v4" else "graph_id"
    items = {"items": [{"type": "graph_episode", target: tenant.ids["graph"], "data": "Alice " * (1024 * 1024)}]}
    with httpx.Client(base_url=f"{server.base_url}/api/{version}", headers={"Authorization": f"Api-Key {tenant.key}"},
                      timeout=60) as http_:
        batch = http_.post("/batches", json={}).json()["uuid" if version == "v4" else "batch_id"]
        assert http_.post(f"/batches/{batch}/items", json=items).status_code == 200
        assert http_.post(f"/batches/{batch}/process").status_code in (200, 202)
        assert http_.get(f"/batches/{batch}").json()["status"] == "failed"
        (item,) = http_.get(f"/batches/{batch}/items").json()["items"]
    assert item["status"] == "failed"
    assert item["error"]["code"] == "content_too_large"
