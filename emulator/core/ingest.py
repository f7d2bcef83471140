"""What one batch item does when the processor reaches it.

A ``graph_episode`` item writes an episode to its graph, keeping content, type, source
description, document id, metadata and reference time. A ``thread_message`` item appends a
message to its thread and, unless the batch's ``ignore_roles`` holds its role, an episode to
the thread owner's user graph (seed: graph_episode "equivalent to a single graph.add call",
thread_message "equivalent to one message inside a thread.add_messages call").

Outcomes (decisions.md "When an item is skipped" / "When an item fails on its own"):
- skipped: the destination graph or thread was deleted after the item was added; nothing is
  written;
- failed: ``json`` data that does not parse, episode data over 10,000 characters, message
  content over 4,096 characters; the item carries ``error: {code, message}``;
- succeeded otherwise. An item without a reference time is dated by the emulator clock when
  it is processed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

import orjson

from .batches import Item, ItemInput, ItemKind, ItemStatus
from .graph import Episode, GraphStore, Message
from .limits import MAX_EPISODE_DATA_CHARS, MAX_MESSAGE_CONTENT_CHARS


@dataclass(slots=True)
class Outcome:
    status: ItemStatus
    error: dict[str, Any] | None = None


SUCCEEDED = Outcome(ItemStatus.SUCCEEDED)


def ingest_item(store: GraphStore, new_id: Callable[[], str], item: Item, now: datetime) -> Outcome:
    graph, thread, sent = item.graph, item.thread, item.input
    if graph is None or graph.deleted or (thread is not None and thread.deleted):
        return Outcome(ItemStatus.SKIPPED)
    reference_time = sent.reference_time or now
    if sent.kind is ItemKind.GRAPH_EPISODE:
        failure = _episode_failure(sent)
        if failure is not None:
            return failure
        episode_uuid = item.episode_uuid = new_id()
        # positional, in Episode's field order: uuid, graph, content, source, reference_time,
        # created_at, source_description, document_id, metadata
        store.add_episode(
            Episode(episode_uuid, graph, sent.data, sent.data_type or "text", reference_time, now,
                    sent.source_description, sent.document_id, sent.metadata)
        )
        return SUCCEEDED

    if len(sent.data) > MAX_MESSAGE_CONTENT_CHARS:
        return _failed(
            "content_too_large",
            f"message content has {len(sent.data)} characters; the limit is {MAX_MESSAGE_CONTENT_CHARS}",
        )
    message = Message(
        uuid=new_id(),
        thread=thread,  # type: ignore[arg-type]
        content=sent.data,
        role=sent.role or "norole",
        created_at=now,
        reference_time=reference_time,
        name=sent.name,
        metadata=sent.metadata,
    )
    thread.messages.append(message)  # type: ignore[union-attr]
    ignored = item.batch.ignore_roles or ()
    if message.role not in ignored:
        episode_uuid = new_id()
        store.add_episode(
            Episode(
                uuid=episode_uuid,
                graph=graph,
                content=f"{sent.name or message.role}: {sent.data}",
                source="message",
                reference_time=reference_time,
                created_at=now,
                metadata=sent.metadata,
                thread=thread,
                role=message.role,
                role_name=sent.name,
            )
        )
        item.episode_uuid = episode_uuid
    return SUCCEEDED


def _episode_failure(sent: ItemInput) -> Outcome | None:
    if len(sent.data) > MAX_EPISODE_DATA_CHARS:
        return _failed(
            "content_too_large",
            f"episode data has {len(sent.data)} characters; the limit is {MAX_EPISODE_DATA_CHARS}",
        )
    if sent.data_type == "json":
        try:  # orjson: strict JSON (no NaN/Infinity) and bounded nesting, where json.loads recurses
            orjson.loads(sent.data)
        except orjson.JSONDecodeError as exc:
            return _failed("invalid_json", f"data_type is json but data does not parse: {exc}")
    return None


def _failed(code: str, message: str) -> Outcome:
    return Outcome(ItemStatus.FAILED, {"code": code, "message": message})
