"""Installing built tenants (``build.py``) into the world. Nothing here can fail: everything was
checked before, so a snapshot is either refused having changed nothing, or installed whole."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ..batches import Item
from ..clock import EmulatorClock
from ..processor import ProcessingMode
from ..ratelimit import TokenBucket
from ..tenants import Tenant
from .built import Built, ClockSetting, Desk

if TYPE_CHECKING:
    from ..world import World


def restore_clock(clock: EmulatorClock, setting: ClockSetting) -> None:
    clock.restore(setting.frozen_at, setting.offset, setting.tick)


def install_all(world: "World", built: list[Built]) -> list[Tenant]:
    """Each built tenant in place of any tenant of its service and key, then its waiting work
    back in line. Returns the installed tenants, in order."""
    tenants = [_install(world, b) for b in built]
    for tenant, b in zip(tenants, built):
        _resume(world, tenant, b.queue)
    return tenants


def _install(world: "World", built: Built) -> Tenant:
    registry = world.tenants
    old = registry.find(built.service, built.key)
    if old is not None:
        registry.drop(old)
    key_clock = registry.clock_of(built.key)
    if built.clock is None:
        key_clock.follow_server()
    else:
        restore_clock(key_clock.own(), built.clock)
    isolation = built.desk.isolation if built.desk is not None else registry.isolation
    tenant = Tenant(built.key, built.service, key_clock, built.ids, world.processor, world.knowledge, isolation,
                    registry.faults)
    tenant.work.mode = built.mode
    _fill_store(tenant, built)
    tenant.batches = {b.uuid: b for b in built.batches}
    tenant.tasks = {t.uuid: t for t in built.tasks}
    for serial, task in enumerate(built.tasks):
        task.serial = serial
    tenant.next_task_serial = len(built.tasks)
    tenant.next_serial = built.next_serial
    if built.desk is not None:
        _fill_desk(tenant, built.desk)
    if built.rate_limit is not None:
        tenant.rate_limit = TokenBucket.full(*built.rate_limit, tenant.clock.now())
    registry.adopt(tenant)
    return tenant


def _fill_store(tenant: Tenant, built: Built) -> None:
    """The store's indexes, from the live (not deleted) records, in the dumped order."""
    store = tenant.store
    for user in built.users:
        if not user.deleted:
            store.users_by_uuid[user.uuid] = user
            store.users_by_id[user.user_id] = user
    for graph in built.graphs:
        if graph.deleted:
            continue
        store.graphs_by_uuid[graph.uuid] = graph
        if graph.user is None:
            store.graphs_by_id[graph.graph_id] = graph  # type: ignore[index]
        for episode in graph.episodes:
            if not episode.dropped:
                store.episodes_by_uuid[episode.uuid] = episode
    for thread in built.threads:
        if not thread.deleted:
            store.threads_by_uuid[thread.uuid] = thread
            store.threads_by_id[thread.thread_id] = thread


def _fill_desk(tenant: Tenant, desk: Desk) -> None:
    memories = tenant.memories
    assert memories is not None  # a Synap tenant
    memories.isolation = desk.isolation
    for receipt in desk.receipts:
        memories.receipts[receipt.uuid] = receipt
        if receipt.item is not None:
            memories.by_document[receipt.document_id] = receipt
    memories.telemetry.extend(desk.telemetry)


def _resume(world: "World", tenant: Tenant, queue: list[Item]) -> None:
    """Put the waiting items back in line and start what the tenant's mode says runs now. In
    realtime mode without a running loop the items wait for the next kick."""
    if not queue:
        return
    tenant.work.extend(queue)
    if tenant.work.mode is ProcessingMode.REALTIME:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
    world.processor.kick(tenant.work)
