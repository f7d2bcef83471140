"""Hypothesis strategies for Zep Batch API items in the v4 wire shape (zep-cloud 4.x).

Each item is a plain dict as the SDK puts it on the wire (zep-wire-contract.md §1b
``BatchItemInput``): ``type``; for a ``graph_episode`` exactly one of ``graph_uuid`` /
``user_uuid``, ``data``, ``data_type`` (text, json, message), optional ``document_id`` and
``source_description``; for a ``thread_message`` ``thread_uuid``, ``content``, ``role``
(system, assistant, user, function, tool: v4 has no ``norole``) and optional ``name``; on both,
optional ``metadata`` and ``reference_time``. Optional fields are left out rather than sent as
null.

    from hypothesis import given
    from zep_cloud.types import BatchItemInput
    from emulator.strategies import zep_v4

    @given(zep_v4.items(graph_uuids=[GRAPH_UUID], thread_uuids=[THREAD_UUID], max_size=50))
    def test_my_ingester(items):
        my_ingester.send([BatchItemInput(**item) for item in items])

What zep-cloud 4.0.1 does with them (checked against the real SDK): ``BatchItemInput(**item)``
builds every item of :func:`items` and every item of :func:`flawed_items` — the SDK checks no
rule locally (its fields are plain ``str`` / ``Dict[str, Any]`` and its enums admit any value),
so no defect had to be dropped. ``client.batch.add_items(batch_uuid, items=[...])`` also takes
the plain dicts as they are (the SDK serialises a dict unchanged), so the models are optional.

Limits (zep-wire-contract.md §3, decisions.md): one ``add_items`` call takes 1 to
:data:`MAX_ITEMS_PER_ADD` (500) items and a batch holds at most :data:`MAX_ITEMS_PER_BATCH`
(50,000); a list from :func:`items` longer than 500 must be split across calls.

This module imports only the standard library and ``hypothesis``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypothesis.strategies import SearchStrategy

from . import _common
from ._common import MAX_TEXT, Flawed, Ids, ZepWire

__all__ = [
    "MAX_ITEMS_PER_ADD",
    "MAX_ITEMS_PER_BATCH",
    "MAX_EPISODE_DATA_CHARS",
    "MAX_MESSAGE_CONTENT_CHARS",
    "ROLES",
    "DATA_TYPES",
    "NAIVE_TIMESTAMP",
    "TOO_MANY_METADATA_KEYS",
    "NESTED_METADATA",
    "TWO_TARGETS",
    "NO_TARGET",
    "INVALID_JSON",
    "EPISODE_TOO_LARGE",
    "MESSAGE_TOO_LARGE",
    "UNKNOWN_GRAPH",
    "UNKNOWN_USER",
    "UNKNOWN_THREAD",
    "DEFECTS",
    "STAGE",
    "Flawed",
    "graph_episode",
    "thread_message",
    "items",
    "flawed_items",
]

MAX_ITEMS_PER_ADD = _common.MAX_ITEMS_PER_ADD
"""Items per ``add_items`` call: 1 to 500 (docs, zep-wire-contract.md §3; decisions.md)."""
MAX_ITEMS_PER_BATCH = _common.MAX_ITEMS_PER_BATCH
"""Items per batch: at most 50,000 (docs, zep-wire-contract.md §3; decisions.md)."""
MAX_EPISODE_DATA_CHARS = _common.MAX_EPISODE_DATA_CHARS
"""Episode ``data``: at most 10,000 characters (zep-wire-contract.md §3 "Content sizes")."""
MAX_MESSAGE_CONTENT_CHARS = _common.MAX_MESSAGE_CONTENT_CHARS
"""Thread message ``content``: at most 4,096 characters (zep-wire-contract.md §3)."""
ROLES: tuple[str, ...] = ("system", "assistant", "user", "function", "tool")
"""v4 ``role`` enum (zep-wire-contract.md §1b: "no ``norole`` in v4")."""
DATA_TYPES: tuple[str, ...] = _common.DATA_TYPES
"""v4 ``data_type`` enum (zep-wire-contract.md §3 "Enums")."""

# -- defects ---------------------------------------------------------------------------------------

NAIVE_TIMESTAMP = _common.NAIVE_TIMESTAMP
"""``reference_time`` without an offset (``2024-06-15T10:30:00``). Breaks "RFC3339 with a
timezone" (zep-wire-contract.md §3 "Field rules"); decisions.md "Timestamps on the wire": a 400
for the field, so the add call is refused."""
TOO_MANY_METADATA_KEYS = _common.TOO_MANY_METADATA_KEYS
"""``metadata`` with 11 to 15 keys (valid values). Breaks "Max 10 keys" (v4 field docs,
zep-wire-contract.md §1b and §3); refused at add."""
NESTED_METADATA = _common.NESTED_METADATA
"""``metadata`` (at most 10 keys) with one value that is an object. Breaks "Values must be
strings, numbers, booleans, or arrays of scalars" / "no nested objects" (§1b, §3); refused at
add."""
TWO_TARGETS = _common.TWO_TARGETS
"""A graph_episode with both ``graph_uuid`` and ``user_uuid`` (each an existing one). Breaks
"Mutually exclusive with user_uuid" (§1b field docs, §3 "Targets"); refused at add."""
NO_TARGET = _common.NO_TARGET
"""A graph_episode with neither ``graph_uuid`` nor ``user_uuid``. Breaks "graph_episode targets
exactly one graph" (§3 "Targets"); refused at add."""
INVALID_JSON = _common.INVALID_JSON
"""``data_type`` json with ``data`` that does not parse. decisions.md "When an item fails on
its own": accepted, then that item ends ``failed``."""
EPISODE_TOO_LARGE = _common.EPISODE_TOO_LARGE
"""Episode ``data`` of 10,001 to 10,100 characters (``data_type`` text). Breaks the 10,000
character limit (§3 "Content sizes"); decisions.md: the item ends ``failed``."""
MESSAGE_TOO_LARGE = _common.MESSAGE_TOO_LARGE
"""Thread message ``content`` of 4,097 to 4,196 characters. Breaks the 4,096 character limit
(§3 "Content sizes"); decisions.md: the item ends ``failed``."""
UNKNOWN_GRAPH = _common.UNKNOWN_GRAPH
"""A graph_episode whose ``graph_uuid`` is a version-4 UUID that names no graph (it differs from
every id passed in). v4 docs (§1b ``RejectedBatchItem``, §3 "Targets"): "The request items that
were rejected because their graph was not found" — a 200 whose ``rejected_items`` lists it."""
UNKNOWN_USER = _common.UNKNOWN_USER
"""A graph_episode whose ``user_uuid`` names no user. decisions.md "Process a batch with
references that do not exist": users are checked at process, which answers 400 ("Batch contains
invalid references", §1b) and leaves the batch ``invalid``."""
UNKNOWN_THREAD = _common.UNKNOWN_THREAD
"""A thread_message whose ``thread_uuid`` names no thread: like :data:`UNKNOWN_USER`, a 400 at
process and an ``invalid`` batch (decisions.md)."""

DEFECTS: tuple[str, ...] = _common.ZEP_DEFECTS
"""Every defect :func:`flawed_items` can make. None is dropped: zep-cloud 4.0.1's
``BatchItemInput`` refuses none of them locally."""

STAGE: dict[str, str] = {
    NAIVE_TIMESTAMP: "add",
    TOO_MANY_METADATA_KEYS: "add",
    NESTED_METADATA: "add",
    TWO_TARGETS: "add",
    NO_TARGET: "add",
    UNKNOWN_GRAPH: "rejected_item",
    UNKNOWN_USER: "process",
    UNKNOWN_THREAD: "process",
    INVALID_JSON: "item",
    EPISODE_TOO_LARGE: "item",
    MESSAGE_TOO_LARGE: "item",
}
"""Where the references say each defect shows in v4 — the only prediction this module makes:

- ``"add"``: ``add_items`` answers 400 and stores nothing from the call (decisions.md);
- ``"rejected_item"``: ``add_items`` answers 200 and lists the item in ``rejected_items``
  (v4 docs, §1b);
- ``"process"``: the add succeeds; ``process`` answers 400 and the batch becomes ``invalid``
  (decisions.md);
- ``"item"``: the batch processes; that item ends ``failed`` with an ``error`` (decisions.md).
"""

_WIRE = ZepWire(graph="graph_uuid", user="user_uuid", thread="thread_uuid", time="reference_time", roles=ROLES)


def graph_episode(
    graph_uuid: Ids | None = None, user_uuid: Ids | None = None, *, timestamped: bool | None = None,
    max_text: int = MAX_TEXT,
) -> SearchStrategy[dict[str, Any]]:
    """A valid ``graph_episode`` into *graph_uuid* or *user_uuid*'s graph (exactly one of them,
    a str or a strategy of str; §3 "Targets"). ``data_type`` is text (or absent), json (then
    ``data`` is a JSON object, ``json.dumps`` of a small dict) or message; text and message
    ``data`` has 1 to *max_text* characters (at most 10,000, §3). Optional ``metadata`` (0–10
    keys, scalar or list values, §3), ``source_description``, ``document_id``.
    ``reference_time`` (RFC 3339 with an offset, §3) is present when *timestamped* is True,
    absent when False, either when None."""
    return _WIRE.graph_episode(graph_uuid, user_uuid, timestamped, max_text)


def thread_message(
    thread_uuid: Ids, *, timestamped: bool | None = None, max_text: int = MAX_TEXT
) -> SearchStrategy[dict[str, Any]]:
    """A valid ``thread_message`` in *thread_uuid* (a str or a strategy of str): ``content`` of 1
    to *max_text* characters (at most 4,096, §3), a ``role`` from :data:`ROLES`, an optional
    ``name``, ``metadata`` and ``reference_time`` (as in :func:`graph_episode`)."""
    return _WIRE.thread_message(thread_uuid, timestamped, max_text)


def items(
    *,
    graph_uuids: Sequence[str] = (),
    user_uuids: Sequence[str] = (),
    thread_uuids: Sequence[str] = (),
    min_size: int = 1,
    max_size: int = 20,
    timestamped: bool | None = None,
    max_text: int = MAX_TEXT,
) -> SearchStrategy[list[dict[str, Any]]]:
    """A list of *min_size* to *max_size* valid items spread over the given destinations:
    graph episodes into *graph_uuids* and into *user_uuids*' graphs, thread messages in
    *thread_uuids*. At least one destination is required (``ValueError`` otherwise), and
    ``1 <= min_size <= max_size <= MAX_ITEMS_PER_BATCH``. One ``add_items`` call takes at most
    :data:`MAX_ITEMS_PER_ADD` (500) items: split a longer list."""
    return _WIRE.items(graph_uuids, user_uuids, thread_uuids, min_size, max_size, timestamped, max_text)


def flawed_items(
    *,
    graph_uuids: Sequence[str] = (),
    user_uuids: Sequence[str] = (),
    thread_uuids: Sequence[str] = (),
    defects: Sequence[str] | None = None,
) -> SearchStrategy[Flawed]:
    """One item with exactly one defect from :data:`DEFECTS` (or from *defects*, to restrict
    them), as ``Flawed(item, defect)``; :data:`STAGE` says where each defect shows.

    Everything else about the item is valid and names only the given destinations (except the
    UNKNOWN_* defects' fresh UUID). Each defect needs some destinations: TWO_TARGETS a graph
    and a user; INVALID_JSON and EPISODE_TOO_LARGE a graph or a user; MESSAGE_TOO_LARGE a
    thread; NAIVE_TIMESTAMP and the metadata defects any one; NO_TARGET and UNKNOWN_* none.
    With ``defects=None`` the defects the destinations allow are drawn; naming one they do not
    allow, or an unknown one, is a ``ValueError``."""
    return _WIRE.flawed_items(graph_uuids, user_uuids, thread_uuids, defects)
