"""Hypothesis strategies for Zep Batch API items in the v2 wire shape (zep-cloud 3.x).

The same items as :mod:`.zep_v4`, made by the same code, spelt as zep-wire-contract.md §1a's
``BatchAddItem``: the destinations are ``graph_id`` / ``user_id`` / ``thread_id`` — ids the
client chose when it created the graph, user or thread, not server UUIDs — the timestamp is
``created_at``, and ``role`` may also be ``norole``. Optional fields are left out rather than
sent as null.

    from hypothesis import given
    from zep_cloud.types import BatchAddItem
    from emulator.strategies import zep_v2

    @given(zep_v2.items(graph_ids=["support-kb"], thread_ids=["thread-1"], max_size=50))
    def test_my_ingester(items):
        my_ingester.send([BatchAddItem(**item) for item in items])

What zep-cloud 3.30.0 does with them (checked against the real SDK): ``BatchAddItem(**item)``
(``zep_cloud.types.BatchAddItem``, also exported as ``zep_cloud.BatchAddItem``) builds every
item of :func:`items` and every item of :func:`flawed_items` — no rule is checked locally, so no
defect had to be dropped — and ``client.batch.add(batch_id, items=[...])`` also takes the plain
dicts as they are.

Limits (zep-wire-contract.md §3, decisions.md): one ``add`` call takes 1 to
:data:`MAX_ITEMS_PER_ADD` (500) items and a batch holds at most :data:`MAX_ITEMS_PER_BATCH`
(50,000); split a longer list from :func:`items` across calls.

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
"""Items per ``add`` call: 1 to 500 (docs, zep-wire-contract.md §3; decisions.md)."""
MAX_ITEMS_PER_BATCH = _common.MAX_ITEMS_PER_BATCH
"""Items per batch: at most 50,000 (docs, zep-wire-contract.md §3; decisions.md)."""
MAX_EPISODE_DATA_CHARS = _common.MAX_EPISODE_DATA_CHARS
"""Episode ``data``: at most 10,000 characters (zep-wire-contract.md §3 "Content sizes")."""
MAX_MESSAGE_CONTENT_CHARS = _common.MAX_MESSAGE_CONTENT_CHARS
"""Thread message ``content``: at most 4,096 characters (zep-wire-contract.md §3)."""
ROLES: tuple[str, ...] = ("norole", "system", "assistant", "user", "function", "tool")
"""v2 ``role`` enum (zep-wire-contract.md §1a ``BatchAddItem``)."""
DATA_TYPES: tuple[str, ...] = _common.DATA_TYPES
"""The ``data_type`` values the batch docs describe (§1a; the enum's ``fact_triple`` is never
described for batches and is not generated)."""

# -- defects ---------------------------------------------------------------------------------------

NAIVE_TIMESTAMP = _common.NAIVE_TIMESTAMP
"""``created_at`` without an offset (``2024-06-15T10:30:00``). Breaks "RFC3339 with a timezone"
(zep-wire-contract.md §3 "Field rules"); decisions.md "Timestamps on the wire": a 400 for the
field, so the add call is refused."""
TOO_MANY_METADATA_KEYS = _common.TOO_MANY_METADATA_KEYS
"""``metadata`` with 11 to 15 keys (valid values). Breaks "≤10 keys" (§3 "Field rules", from
the SDK docstrings and zep-ingest); refused at add."""
NESTED_METADATA = _common.NESTED_METADATA
"""``metadata`` (at most 10 keys) with one value that is an object. Breaks "no nested objects"
(§3 "Field rules"); refused at add."""
TWO_TARGETS = _common.TWO_TARGETS
"""A graph_episode with both ``graph_id`` and ``user_id`` (each an existing one). Breaks "v2:
``graph_id`` XOR ``user_id``" (§3 "Targets"); refused at add."""
NO_TARGET = _common.NO_TARGET
"""A graph_episode with neither ``graph_id`` nor ``user_id`` (§3 "Targets"); refused at add."""
INVALID_JSON = _common.INVALID_JSON
"""``data_type`` json with ``data`` that does not parse. decisions.md "When an item fails on
its own": accepted, then that item ends ``failed``."""
EPISODE_TOO_LARGE = _common.EPISODE_TOO_LARGE
"""Episode ``data`` of 10,001 to 10,100 characters (``data_type`` text); 10,000 is the limit
(§3 "Content sizes"); decisions.md: the item ends ``failed``."""
MESSAGE_TOO_LARGE = _common.MESSAGE_TOO_LARGE
"""Thread message ``content`` of 4,097 to 4,196 characters; 4,096 is the limit (§3); decisions.md:
the item ends ``failed``."""
UNKNOWN_GRAPH = _common.UNKNOWN_GRAPH
"""A graph_episode whose ``graph_id`` (a version-4 UUID string, different from every id passed
in) names no graph. v2 has no ``rejected_items`` (§1a: ``add`` answers a bare list), so
decisions.md "Process a batch with references that do not exist" applies: process answers 400
and the batch becomes ``invalid``."""
UNKNOWN_USER = _common.UNKNOWN_USER
"""A graph_episode whose ``user_id`` names no user: 400 at process, ``invalid`` batch
(decisions.md)."""
UNKNOWN_THREAD = _common.UNKNOWN_THREAD
"""A thread_message whose ``thread_id`` names no thread: 400 at process, ``invalid`` batch
(decisions.md)."""

DEFECTS: tuple[str, ...] = _common.ZEP_DEFECTS
"""Every defect :func:`flawed_items` can make. None is dropped: zep-cloud 3.30.0's
``BatchAddItem`` refuses none of them locally."""

STAGE: dict[str, str] = {
    NAIVE_TIMESTAMP: "add",
    TOO_MANY_METADATA_KEYS: "add",
    NESTED_METADATA: "add",
    TWO_TARGETS: "add",
    NO_TARGET: "add",
    UNKNOWN_GRAPH: "process",
    UNKNOWN_USER: "process",
    UNKNOWN_THREAD: "process",
    INVALID_JSON: "item",
    EPISODE_TOO_LARGE: "item",
    MESSAGE_TOO_LARGE: "item",
}
"""Where the references say each defect shows in v2 — the only prediction this module makes:
``"add"`` (``add`` answers 400, nothing from the call stored), ``"process"`` (``process``
answers 400, the batch becomes ``invalid``), ``"item"`` (that item ends ``failed``). There is
no ``"rejected_item"`` in v2."""

_WIRE = ZepWire(graph="graph_id", user="user_id", thread="thread_id", time="created_at", roles=ROLES)


def graph_episode(
    graph_id: Ids | None = None, user_id: Ids | None = None, *, timestamped: bool | None = None,
    max_text: int = MAX_TEXT,
) -> SearchStrategy[dict[str, Any]]:
    """A valid ``graph_episode`` into *graph_id* or *user_id*'s graph (exactly one of them, a
    str or a strategy of str; §3 "Targets"). ``data_type`` text (or absent), json (``data`` is
    a JSON object) or message; text and message ``data`` of 1 to *max_text* characters (at most
    10,000, §3); optional ``metadata`` (0–10 keys, §3), ``source_description``,
    ``document_id``; ``created_at`` (RFC 3339 with an offset) present when *timestamped* is
    True, absent when False, either when None."""
    return _WIRE.graph_episode(graph_id, user_id, timestamped, max_text)


def thread_message(
    thread_id: Ids, *, timestamped: bool | None = None, max_text: int = MAX_TEXT
) -> SearchStrategy[dict[str, Any]]:
    """A valid ``thread_message`` in *thread_id*: ``content`` of 1 to *max_text* characters (at
    most 4,096, §3), a ``role`` from :data:`ROLES` (``norole`` included), optional ``name``,
    ``metadata`` and ``created_at``."""
    return _WIRE.thread_message(thread_id, timestamped, max_text)


def items(
    *,
    graph_ids: Sequence[str] = (),
    user_ids: Sequence[str] = (),
    thread_ids: Sequence[str] = (),
    min_size: int = 1,
    max_size: int = 20,
    timestamped: bool | None = None,
    max_text: int = MAX_TEXT,
) -> SearchStrategy[list[dict[str, Any]]]:
    """A list of *min_size* to *max_size* valid items spread over the given destinations (at
    least one, ``ValueError`` otherwise; ``1 <= min_size <= max_size <= MAX_ITEMS_PER_BATCH``).
    One ``add`` call takes at most :data:`MAX_ITEMS_PER_ADD` (500) items: split a longer list."""
    return _WIRE.items(graph_ids, user_ids, thread_ids, min_size, max_size, timestamped, max_text)


def flawed_items(
    *,
    graph_ids: Sequence[str] = (),
    user_ids: Sequence[str] = (),
    thread_ids: Sequence[str] = (),
    defects: Sequence[str] | None = None,
) -> SearchStrategy[Flawed]:
    """One item with exactly one defect from :data:`DEFECTS` (or *defects*), as
    ``Flawed(item, defect)``; :data:`STAGE` says where each shows. Which destinations each
    defect needs, and the errors, are as in :func:`emulator.strategies.zep_v4.flawed_items`."""
    return _WIRE.flawed_items(graph_ids, user_ids, thread_ids, defects)
