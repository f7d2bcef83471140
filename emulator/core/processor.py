"""The processor: per-graph FIFO queues and the three processing modes.

Zep's guide: "Items in a batch are grouped by destination graph and processed in the order
they were added." So each destination graph has one FIFO; ``process`` appends a batch's
items to their graphs' queues in ``sequence_index`` order, and a graph's items are taken
strictly from the front. Different graphs interleave (round robin in ``step``; concurrently
in realtime) and nothing may depend on how.

Modes, per tenant (default from the server's settings):
- ``instant``: queued work is drained before ``process`` returns, so a batch is terminal by
  the time the call answers;
- ``manual``: nothing moves until :meth:`Processor.step` or :meth:`Processor.run_until_idle`
  (the control plane's ``processing/step`` and ``processing/run-until-idle``);
- ``realtime``: one asyncio worker per non-empty graph queue; each item spends
  ``item_seconds`` of wall time in ``processing``.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from datetime import datetime
from enum import Enum
from typing import Callable, Iterable, Sequence

from .batches import Item, ItemStatus
from .clock import Clock
from .ingest import Outcome

log = logging.getLogger(__name__)

Ingest = Callable[[Item, datetime], Outcome]


class ProcessingMode(str, Enum):
    REALTIME = "realtime"
    INSTANT = "instant"
    MANUAL = "manual"


class WorkQueue:
    """One tenant's queued items: a FIFO per destination graph, and the order in which graphs
    with work are visited."""

    def __init__(self, mode: ProcessingMode, ingest: Ingest, clock: Clock) -> None:
        self.mode = mode
        self.ingest = ingest
        #: The tenant's clock: items are stamped, and the clock ticks, on it.
        self.clock = clock
        self.queues: dict[str, deque[Item]] = {}
        self.ready: deque[str] = deque()
        self.workers: dict[str, asyncio.Task[None]] = {}
        #: Items a fault keeps in ``processing``, by graph: that graph waits behind them.
        self.held: dict[str, Item] = {}
        self.pending = 0

    def busy(self, graph_uuid: str) -> bool:
        """Whether the graph's front item must wait: a realtime worker is on the graph, or
        an item of it is held."""
        return graph_uuid in self.workers or graph_uuid in self.held

    def extend(self, items: Iterable[Item]) -> None:
        """Append items (in sequence order) to their destination graphs' FIFOs; a graph that
        had no work joins the back of the line."""
        queues = self.queues
        count = 0
        for item in items:
            graph_uuid = item.graph.uuid
            queue = queues.get(graph_uuid)
            if queue is None:
                queue = queues[graph_uuid] = deque()
                self.ready.append(graph_uuid)
            queue.append(item)
            count += 1
        self.pending += count

    def pop_front(self) -> Item:
        """The next item in round-robin order: the front graph's oldest item; that graph then
        goes to the back of the line (or leaves it, if it has nothing more)."""
        graph_uuid = self.ready[0]
        queue = self.queues[graph_uuid]
        item = queue.popleft()
        self.pending -= 1
        if queue:
            self.ready.rotate(-1)
        else:
            del self.queues[graph_uuid]
            self.ready.popleft()
        return item

    def pop(self, graph_uuid: str) -> Item:
        """The oldest item of one graph (a realtime worker's own queue)."""
        queue = self.queues[graph_uuid]
        item = queue.popleft()
        self.pending -= 1
        if not queue:
            del self.queues[graph_uuid]
            self.ready.remove(graph_uuid)
        return item


class Processor:
    def __init__(self, clock: Clock, default_mode: ProcessingMode, item_seconds: float) -> None:
        self.clock = clock
        self.default_mode = default_mode
        self.item_seconds = item_seconds
        self.queues: list[WorkQueue] = []

    def new_queue(self, ingest: Ingest, clock: Clock | None = None) -> WorkQueue:
        """A tenant's queue, on the tenant's clock (default: the processor's)."""
        wq = WorkQueue(self.default_mode, ingest, clock or self.clock)
        self.queues.append(wq)
        return wq

    def forget(self, wq: WorkQueue) -> None:
        for task in wq.workers.values():
            task.cancel()
        self.queues.remove(wq)

    # -- feeding -----------------------------------------------------------------------------

    def enqueue(self, wq: WorkQueue, items: Iterable[Item]) -> None:
        """Append items (already ``queued``, in sequence order) to their graphs' FIFOs."""
        wq.extend(items)
        self.kick(wq)

    def kick(self, wq: WorkQueue) -> None:
        """Start whatever the queue's mode says should run now."""
        if wq.mode is ProcessingMode.INSTANT:
            self._drain(wq, None)
        elif wq.mode is ProcessingMode.REALTIME:
            loop = asyncio.get_running_loop()
            for graph_uuid in list(wq.ready):
                if not wq.busy(graph_uuid):
                    wq.workers[graph_uuid] = loop.create_task(self._worker(wq, graph_uuid))

    def set_mode(self, wq: WorkQueue, mode: ProcessingMode) -> None:
        wq.mode = mode
        self.kick(wq)

    # -- stepping (manual and instant) ------------------------------------------------------

    def step(self, items: int, only: Sequence[WorkQueue] | None = None) -> int:
        """Process up to *items* queued items, one graph after another (round robin), and
        return how many were processed. *only*: these tenants' queues (None: every tenant's)."""
        done = 0
        for wq in self._targets(only):
            done += self._drain(wq, items - done)
            if done >= items:
                break
        return done

    def run_until_idle(self, only: Sequence[WorkQueue] | None = None) -> int:
        return sum(self._drain(wq, None) for wq in self._targets(only))

    def pending(self, only: Sequence[WorkQueue] | None = None) -> int:
        return sum(wq.pending for wq in self._targets(only))

    def _targets(self, only: Sequence[WorkQueue] | None) -> list[WorkQueue]:
        return list(only) if only is not None else list(self.queues)

    def _drain(self, wq: WorkQueue, limit: int | None) -> int:
        """Process queued items one after another. They share one clock reading unless the
        clock ticks per item, in which case each starts at the reading after the last one's tick."""
        done = 0
        clock = wq.clock
        now = clock.now()
        ready, workers, held = wq.ready, wq.workers, wq.held
        while ready and (limit is None or done < limit):
            if ready[0] in workers or ready[0] in held:  # the graph's front item must wait
                if all(wq.busy(g) for g in ready):
                    break
                ready.rotate(-1)
                continue
            item = wq.pop_front()
            if item.status is ItemStatus.QUEUED:  # not canceled while it waited
                item.batch.move_item(item, ItemStatus.PROCESSING, now)
                if self._complete(wq, item, now) and clock.item_done():
                    now = clock.now()
                done += 1
        return done

    # -- realtime ----------------------------------------------------------------------------

    async def _worker(self, wq: WorkQueue, graph_uuid: str) -> None:
        try:
            while wq.mode is ProcessingMode.REALTIME and graph_uuid in wq.queues and graph_uuid not in wq.held:
                item = wq.pop(graph_uuid)
                if item.status is not ItemStatus.QUEUED:
                    continue
                item.batch.move_item(item, ItemStatus.PROCESSING, wq.clock.now())
                await asyncio.sleep(self.item_seconds)
                if self._complete(wq, item, wq.clock.now()):
                    wq.clock.item_done()
        finally:
            wq.workers.pop(graph_uuid, None)
        if graph_uuid in wq.queues and graph_uuid not in wq.held:  # the mode changed under this worker
            self.kick(wq)

    # -- held items ------------------------------------------------------------------------------

    def release(self, wq: WorkQueue, item: Item, outcome: Outcome | None) -> None:
        """End the hold on *item*: move it to *outcome* (None: it was canceled meanwhile and
        stays so) and let its graph's queue move on, as the queue's mode says."""
        graph_uuid = item.graph.uuid
        if wq.held.get(graph_uuid) is item:
            del wq.held[graph_uuid]
        if outcome is not None and item.status is ItemStatus.PROCESSING:
            item.error = outcome.error
            item.batch.move_item(item, outcome.status, wq.clock.now())
            wq.clock.item_done()
        if wq in self.queues:
            self.kick(wq)

    # -- one item ------------------------------------------------------------------------------

    @staticmethod
    def _complete(wq: WorkQueue, item: Item, now: datetime) -> bool:
        """Complete a ``processing`` item and move it to its outcome (nothing, if it was
        canceled while it was processing). An outcome of ``processing`` means a fault holds
        the item: it stays, and its graph waits, until :meth:`release`. Returns whether the
        item ended."""
        if item.status is not ItemStatus.PROCESSING:
            return True
        try:
            outcome = wq.ingest(item, now)
        except Exception:  # an emulator bug must not wedge the batch
            log.exception("ingesting item %s failed", item.uuid)
            outcome = Outcome(ItemStatus.FAILED, {"code": "internal_error", "message": "the emulator failed on this item"})
        if outcome.status is ItemStatus.PROCESSING:
            wq.held[item.graph.uuid] = item
            return False
        item.error = outcome.error
        item.batch.move_item(item, outcome.status, now)
        return True
