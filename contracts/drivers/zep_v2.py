"""The machine's calls through zep-cloud 3.x (wire v2).

SDK facts this relies on (zep-cloud 3.30.0 source, zep-wire-contract.md §1a, §2):
- ids are the client's own (``graph_id``, ``user_id``, ``thread_id``); batch ids are ``batch_id``;
- ``batch.add`` answers a bare array of ``BatchItemDetail``; there is no ``rejected_items``, so
  a dangling reference only shows at ``process``;
- ``list`` / ``list_items`` take ``limit`` and an integer ``cursor`` and answer
  ``next_cursor`` (null on the last page); there is no SDK pager, the caller loops;
- ``BatchSummary.progress`` carries every count (queued, processing, succeeded, failed,
  skipped, canceled) and ``total_items``, unpopulated while draft;
- errors are ``ApiError`` subclasses; the body is ``{"message"}`` (parsed for 403/404/409/500,
  raw JSON for 400) — v2 has no error codes.
"""

from __future__ import annotations

from typing import Any

from zep_cloud.types import BatchAddItem

from emulator.strategies import zep_v2 as strategies

from .base import ZepDriver
from .views import BatchView, EdgeView, ItemView, Listing, instant

#: v2 progress field -> the neutral counter name.
COUNTERS = {"queued_items": "queued", "processing_items": "processing", "succeeded_items": "succeeded",
            "failed_items": "failed", "skipped_items": "skipped", "canceled_items": "canceled"}


class ZepV2Driver(ZepDriver):
    version = "v2"
    codes = False
    fields = {"graph": "graph_id", "user": "user_id", "thread": "thread_id", "time": "created_at"}
    strategies = strategies

    # -- setup ----------------------------------------------------------------------------

    def create_graph(self, name: str) -> str:
        return self._call(lambda: self.zep.graph.create(graph_id=name, name=name)).graph_id  # type: ignore[return-value]

    def delete_graph(self, graph: str) -> None:
        self._call(lambda: self.zep.graph.delete(graph))

    def create_user(self, user_id: str) -> str:
        return self._call(lambda: self.zep.user.add(user_id=user_id, first_name="Contract")).user_id  # type: ignore[return-value]

    def delete_user(self, user: str) -> None:
        self._call(lambda: self.zep.user.delete(user))

    def create_thread(self, thread_id: str, user: str) -> str:
        return self._call(lambda: self.zep.thread.create(thread_id=thread_id, user_id=user)).thread_id  # type: ignore[return-value]

    # -- the batch lifecycle ---------------------------------------------------------------

    def create_batch(self, metadata: dict[str, Any] | None) -> BatchView:
        if metadata is None:
            return self._batch(self._call(lambda: self.zep.batch.create()))
        return self._batch(self._call(lambda: self.zep.batch.create(metadata=metadata)))

    def add(self, batch: str, items: list[dict[str, Any]]) -> tuple[list[ItemView], list[int]]:
        body = [BatchAddItem(**item) for item in items]
        answer = self._call(lambda: self.zep.batch.add(batch, items=body), len(items))
        return [self._item(i) for i in answer], []

    def process(self, batch: str) -> BatchView:
        return self._batch(self._call(lambda: self.zep.batch.process(batch)))

    def get(self, batch: str) -> BatchView:
        return self._batch(self._call(lambda: self.zep.batch.get(batch)))

    def delete(self, batch: str) -> None:
        self._call(lambda: self.zep.batch.delete(batch))

    def list_batches(self, page_size: int) -> Listing:
        return self._pages(lambda cursor: self.zep.batch.list(limit=page_size, cursor=cursor), "batches", self._batch)

    def list_items(self, batch: str, page_size: int) -> Listing:
        return self._pages(lambda cursor: self.zep.batch.list_items(batch, limit=page_size, cursor=cursor),
                           "items", self._item)

    def _pages(self, fetch: Any, field: str, view: Any) -> Listing:
        pages: list[list[Any]] = []
        cursor: int | None = None
        while True:
            answer = self._call(lambda: fetch(cursor))
            pages.append([view(element) for element in getattr(answer, field) or []])
            cursor = answer.next_cursor
            if cursor is None or len(pages) > 10_000:
                return Listing(pages, [None] * len(pages))

    # -- reading the graph -----------------------------------------------------------------

    def edges(self, graph: str) -> list[EdgeView]:
        found = self._call(lambda: self.zep.graph.edge.get_by_graph_id(graph))
        return [EdgeView(e.fact, instant(e.valid_at), instant(e.invalid_at)) for e in found]

    def episode_content(self, graph: str, episode: str) -> str | None:
        return self._call(lambda: self.zep.graph.episode.get(episode)).content


    # -- views -----------------------------------------------------------------------------

    @staticmethod
    def _batch(batch: Any) -> BatchView:
        progress = batch.progress
        counts = None
        total = None
        if progress is not None and progress.total_items is not None:
            counts = {name: getattr(progress, field) or 0 for field, name in COUNTERS.items()}
            total = progress.total_items
        return BatchView(batch.batch_id, batch.status, counts, total)

    @staticmethod
    def _item(item: Any) -> ItemView:
        code = (item.error or {}).get("code") if isinstance(item.error, dict) else None
        if item.kind == "thread_message":
            destination = item.thread_id
        else:
            destination = item.user_id or item.graph_id
        return ItemView(item.item_id, item.sequence_index, item.kind, item.status, destination, code, item.episode_uuid)
