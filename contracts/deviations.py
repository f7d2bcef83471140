"""Deliberate deviations from the documented behaviour, for the proof that the suite can fail
(``contracts/test_proof_of_failure.py``).

Each is a context manager that patches the in-process emulator for as long as it is open —
nothing here is reachable through settings, flags, environment variables or the control plane,
so no user can switch one on by accident. The server runs in a thread of the same process, so
a patch of a module global or a class attribute reaches it at once.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

import pytest

from emulator.core import batches, memories, temporal, tenants
from emulator.core.batches import Batch, BatchStatus, ItemStatus


@contextmanager
def add_limit_off_by_one() -> Iterator[None]:
    """One add call takes 501 items instead of 500."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(batches, "MAX_ITEMS_PER_ADD", batches.MAX_ITEMS_PER_ADD + 1)
        yield


@contextmanager
def second_process_accepted() -> Iterator[None]:
    """``process`` on a batch already processed answers 202 with the batch, as if it had run
    again, instead of 409."""
    original = tenants.Tenant.process

    def process(self: tenants.Tenant, batch: Batch, task_type: str = "batch.process") -> Any:
        if batch.status not in (BatchStatus.DRAFT, BatchStatus.INVALID):
            return self.task_for(batch, task_type)
        return original(self, batch, task_type)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tenants.Tenant, "process", process)
        yield


@contextmanager
def fail_fast_accepts_valid_half() -> Iterator[None]:
    """Synap ``batch_create(fail_fast=True)`` with an invalid document queues the valid ones
    (as ``fail_fast=False`` would) instead of refusing the whole call."""
    original = memories.MemoryDesk.submit

    def submit(self: memories.MemoryDesk, tenant: Any, docs: Any, fail_fast: bool, task_type: str) -> Any:
        return original(self, tenant, docs, False, task_type)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(memories.MemoryDesk, "submit", submit)
        yield


@contextmanager
def drifting_item_counter() -> Iterator[None]:
    """The batch's ``succeeded`` counter counts the third item twice."""
    original = Batch.move_item

    def move_item(self: Batch, item: Any, new: ItemStatus, now: Any) -> None:
        original(self, item, new, now)
        if new is ItemStatus.SUCCEEDED and item.sequence_index == 2:
            self.counts[ItemStatus.SUCCEEDED] += 1

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Batch, "move_item", move_item)
        yield


@contextmanager
def invalidation_off() -> Iterator[None]:
    """A new fact contradicts nothing: older facts are never ended, backfilled ones never born
    ended."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(temporal.FactGraph, "_contradicted", lambda self, new, extra: [])
        yield
