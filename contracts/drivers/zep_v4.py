"""The machine's calls through zep-cloud 4.x (wire v4).

SDK facts this relies on (zep-cloud 4.0.1 source, zep-wire-contract.md §1b, §2):
- ``batch.add_items`` answers ``{items, rejected_items}``; a graph_episode whose ``graph_uuid``
  does not exist comes back in ``rejected_items`` with its request position;
- ``process`` answers ``{batch, task}``; ``delete`` ignores the body of its 2xx;
- ``list`` / ``list_items`` return a pager: ``iter_pages()`` fetches page after page while
  ``next_cursor`` is set, and each page's ``response.total_size`` is the whole list's size;
- errors are ``ApiError`` subclasses whose ``body`` is ``types.ApiError`` (``error.code``,
  ``error.message``) for 400/401/404/409 and the raw JSON for other statuses;
- ``max_retries=0``: the machine wants each answer once (the SDK retries 408/409/429/5xx).
"""

from __future__ import annotations

from typing import Any

from zep_cloud.types import BatchItemInput

from emulator.strategies import zep_v4 as strategies

from .base import ZepDriver
from .views import BatchView, EdgeView, ItemView, Listing, instant


class ZepV4Driver(ZepDriver):
    version = "v4"
    codes = True
    fields = {"graph": "graph_uuid", "user": "user_uuid", "thread": "thread_uuid", "time": "reference_time"}
    strategies = strategies

    # -- setup ----------------------------------------------------------------------------

    def create_graph(self, name: str) -> str:
        return self._call(lambda: self.zep.graph.create(name=name)).uuid_  # type: ignore[return-value]

    def delete_graph(self, graph: str) -> None:
        self._call(lambda: self.zep.graph.delete(graph))

    def create_user(self, user_id: str) -> str:
        return self._call(lambda: self.zep.user.create(user_id=user_id, first_name="Contract")).uuid_  # type: ignore[return-value]

    def delete_user(self, user: str) -> None:
        self._call(lambda: self.zep.user.delete(user))

    def create_thread(self, thread_id: str, user: str) -> str:
        return self._call(lambda: self.zep.thread.create(user_uuid=user)).uuid_  # type: ignore[return-value]

    # -- the batch lifecycle ---------------------------------------------------------------

    def create_batch(self, metadata: dict[str, Any] | None) -> BatchView:
        return self._batch(self._call(lambda: self.zep.batch.create(metadata=metadata)))

    def add(self, batch: str, items: list[dict[str, Any]]) -> tuple[list[ItemView], list[int]]:
        body = [BatchItemInput(**item) for item in items]
        answer = self._call(lambda: self.zep.batch.add_items(batch, items=body), len(items))
        return [self._item(i) for i in answer.items or []], [r.index for r in answer.rejected_items or []]

    def process(self, batch: str) -> BatchView:
        return self._batch(self._call(lambda: self.zep.batch.process(batch)).batch)

    def get(self, batch: str) -> BatchView:
        return self._batch(self._call(lambda: self.zep.batch.get(batch)))

    def delete(self, batch: str) -> None:
        self._call(lambda: self.zep.batch.delete(batch))

    def list_batches(self, page_size: int) -> Listing:
        first = self._call(lambda: self.zep.batch.list(page_size=page_size))
        return self._pages(first, self._batch)

    def list_items(self, batch: str, page_size: int) -> Listing:
        first = self._call(lambda: self.zep.batch.list_items(batch, page_size=page_size))
        return self._pages(first, self._item)

    def _pages(self, first: Any, view: Any) -> Listing:
        pages, totals = [], []
        for number, page in enumerate(first.iter_pages()):
            if number:
                self.budget.spend()
            pages.append([view(element) for element in page.items or []])
            totals.append(page.response.total_size)
        return Listing(pages, totals)

    # -- reading the graph -----------------------------------------------------------------

    def edges(self, graph: str) -> list[EdgeView]:
        found = self._call(lambda: list(self.zep.graph.edge.list(graph, page_size=100)))
        return [EdgeView(e.fact, instant(e.valid_at), instant(e.invalid_at)) for e in found]

    def episode_content(self, graph: str, episode: str) -> str | None:
        return self._call(lambda: self.zep.graph.episode.get(graph, episode)).content


    # -- views -----------------------------------------------------------------------------

    @staticmethod
    def _batch(batch: Any) -> BatchView:
        progress = batch.progress
        counts = None
        if progress is not None:
            counts = {"processing": progress.processing_items or 0, "succeeded": progress.succeeded_items or 0,
                      "failed": progress.failed_items or 0}
        return BatchView(batch.uuid_, batch.status, counts, progress.total_items if progress is not None else None)

    @staticmethod
    def _item(item: Any) -> ItemView:
        error = getattr(item, "error", None)  # an extra field in SDK 4.0.1 (docs changelog 2026-11-08)
        code = error.get("code") if isinstance(error, dict) else getattr(error, "code", None)
        if item.type == "thread_message":
            destination = item.thread_uuid
        else:
            destination = item.user_uuid or item.graph_uuid
        return ItemView(item.uuid_, item.sequence_index, item.type, item.status, destination, code, item.episode_uuid)
