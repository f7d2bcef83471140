"""What one batch item writes: its records exist, unprocessed, from the moment it is queued,
and are processed (or dropped) when the processor reaches it.

A ``graph_episode`` item writes an episode to its graph, keeping content, type, source
description, document id, metadata and reference time. A ``thread_message`` item appends a
message to its thread and, unless the batch's ``ignore_roles`` holds its role, an episode to
the thread owner's user graph (seed: graph_episode "equivalent to a single graph.add call",
thread_message "equivalent to one message inside a thread.add_messages call").

Two moments:

- :func:`prepare`, when the item is queued (``process``, or a live add): the episode and
  message are created with ``processed = false`` and appended in queue order, which per graph
  is processing order. A live add answers with these records; a graph's episode list shows a
  running batch's episodes as unprocessed (issue 3: "Episodes report processed truthfully while
  a batch is still running"; zep-ingest's ``wait()`` polls an episode until ``processed``).
- :func:`complete`, when the processor reaches it: the outcome, and the records become
  processed (``processed_at`` = the clock then) — or are dropped, if the item fails, is skipped
  or was canceled: such an item writes nothing.

Outcomes (decisions.md "When an item is skipped" / "When an item fails on its own"):
- skipped: the destination graph or thread was deleted after the item was queued;
- failed: ``json`` data that does not parse, episode data over the service's limit (Zep:
  10,000 characters; documents: none), message content over 4,096 characters; the item
  carries ``error: {code, message}``;
- succeeded otherwise. An item without a reference time is dated by the emulator clock when
  it is processed (decisions.md "Item with no timestamp").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

import orjson

from .batches import Item, ItemInput, ItemKind, ItemStatus
from .graph import Episode, GraphStore, Message
from .limits import MAX_MESSAGE_CONTENT_CHARS


@dataclass(slots=True)
class Outcome:
    status: ItemStatus
    error: dict[str, Any] | None = None


SUCCEEDED = Outcome(ItemStatus.SUCCEEDED)
SKIPPED = Outcome(ItemStatus.SKIPPED)
#: Not finished: a fault holds the item in ``processing`` until it is released.
HELD = Outcome(ItemStatus.PROCESSING)


def prepare(store: GraphStore, new_id: Callable[[], str], item: Item, now: datetime) -> None:
    """Create the item's records, unprocessed (the item is being queued; its graph and thread
    were just resolved). *now* is their ``created_at``: when the service received them."""
    graph, sent = item.graph, item.input
    if sent.kind is ItemKind.GRAPH_EPISODE:
        # positional, in Episode's field order: uuid, graph, content, source, reference_time,
        # created_at, source_description, document_id, metadata
        item.episode = store.add_episode(
            Episode(new_id(), graph, sent.data, sent.data_type or "text", sent.reference_time, now,
                    sent.source_description, sent.document_id, sent.metadata)
        )
        return
    thread = item.thread
    role = sent.role or "norole"
    message = item.message = Message(new_id(), thread, sent.data, role, now, sent.reference_time, sent.name, sent.metadata)
    thread.messages.append(message)
    if role not in (item.batch.ignore_roles or ()):
        item.episode = store.add_episode(
            Episode(new_id(), graph, f"{sent.name or role}: {sent.data}", "message", sent.reference_time, now,
                    metadata=sent.metadata, thread=thread, role=role, role_name=sent.name, message=message)
        )


def complete(store: GraphStore, max_episode_chars: int | None, item: Item, now: datetime) -> Outcome:
    """The outcome of a ``processing`` item; its records become processed at *now*, or are
    dropped. *max_episode_chars*: the service's limit on episode data (None: none)."""
    graph, thread = item.graph, item.thread
    try:
        if graph.deleted or (thread is not None and thread.deleted):
            drop(store, item)
            return SKIPPED
        failure = failure_of(item.input, max_episode_chars)
    except BaseException:  # an emulator bug: the processor fails the item, which must write nothing
        drop(store, item)
        raise
    if failure is not None:
        drop(store, item)
        return failure
    message, episode = item.message, item.episode
    if message is not None:
        message.processed = True
        if message.reference_time is None:
            message.reference_time = now
    if episode is not None:
        episode.processed, episode.processed_at = True, now
        if episode.reference_time is None:
            episode.reference_time = now
    return SUCCEEDED


def drop(store: GraphStore, item: Item) -> None:
    """Withdraw what :func:`prepare` created (a failed, skipped or canceled item writes
    nothing)."""
    if item.episode is not None:
        store.drop_episode(item.episode)
    if item.message is not None:
        item.message.thread.drop_message(item.message)


def failure_of(sent: ItemInput, max_episode_chars: int | None) -> Outcome | None:
    """What an item fails for when processed, or None; a live add refuses such data up front."""
    if sent.kind is ItemKind.THREAD_MESSAGE:
        if len(sent.data) > MAX_MESSAGE_CONTENT_CHARS:
            return _failed(
                "content_too_large",
                f"message content has {len(sent.data)} characters; the limit is {MAX_MESSAGE_CONTENT_CHARS}",
            )
        return None
    if max_episode_chars is not None and len(sent.data) > max_episode_chars:
        return _failed(
            "content_too_large",
            f"episode data has {len(sent.data)} characters; the limit is {max_episode_chars}",
        )
    if sent.data_type == "json":
        try:  # orjson: strict JSON (no NaN/Infinity) and bounded nesting, where json.loads recurses
            orjson.loads(sent.data)
        except orjson.JSONDecodeError as exc:
            return _failed("invalid_json", f"data_type is json but data does not parse: {exc}")
    return None


def _failed(code: str, message: str) -> Outcome:
    return Outcome(ItemStatus.FAILED, {"code": code, "message": message})
