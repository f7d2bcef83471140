"""What a tenant's dump holds beyond its indexes: unlisted batches, deleted records something
still points at, messages swept out of their thread, and the work queue as it stands."""

from __future__ import annotations

from typing import Iterable

from ..batches import Batch, Item, ItemStatus
from ..graph import Graph, Message, Thread, User
from ..tenants import Tenant


def all_batches(tenant: Tenant) -> list[Batch]:
    """Listed batches in order, then the unlisted ones (live adds) reachable from tasks,
    receipts and the work queue, in the order they are found."""
    found: dict[str, Batch] = dict(tenant.batches)
    for task in tenant.tasks.values():
        if task.batch is not None:
            found.setdefault(task.batch.uuid, task.batch)
    if tenant.memories is not None:
        for receipt in tenant.memories.receipts.values():
            if receipt.item is not None:
                found.setdefault(receipt.item.batch.uuid, receipt.item.batch)
    for queue in tenant.work.queues.values():
        for item in queue:
            found.setdefault(item.batch.uuid, item.batch)
    return list(found.values())


def reachable(tenant: Tenant, batches: list[Batch]) -> tuple[dict[str, User], dict[str, Graph], dict[str, Thread]]:
    """The live users, graphs and threads in index order, then the deleted ones something still
    points at (an item, an episode, an owner)."""
    store = tenant.store
    users, graphs, threads = dict(store.users_by_uuid), dict(store.graphs_by_uuid), dict(store.threads_by_uuid)

    def add_graph(graph: Graph) -> None:
        if graph.uuid not in graphs:
            graphs[graph.uuid] = graph
        if graph.user is not None and graph.user.uuid not in users:
            add_user(graph.user)

    def add_user(user: User) -> None:
        users.setdefault(user.uuid, user)
        if user.graph.uuid not in graphs:
            add_graph(user.graph)

    def add_thread(thread: Thread) -> None:
        threads.setdefault(thread.uuid, thread)
        if thread.user.uuid not in users:
            add_user(thread.user)

    for user in list(users.values()):
        add_user(user)
    for graph in list(graphs.values()):
        add_graph(graph)
    for thread in list(threads.values()):
        add_thread(thread)
    for batch in batches:
        for item in batch.items:
            if item.graph is not None and item.graph.uuid not in graphs:
                add_graph(item.graph)
            if item.thread is not None and item.thread.uuid not in threads:
                add_thread(item.thread)
    scanned = 0
    while scanned < len(graphs):  # an episode may name a thread only it still knows
        pending = list(graphs.values())[scanned:]
        scanned = len(graphs)
        for graph in pending:
            for episode in graph.episodes:
                if episode.thread is not None and episode.thread.uuid not in threads:
                    add_thread(episode.thread)
    return users, graphs, threads


def swept_messages(threads: Iterable[Thread], batches: list[Batch], graphs: Iterable[Graph]) -> dict[str, list[Message]]:
    """Per thread uuid: dropped messages no longer in the thread's list that an item or an
    episode still names."""
    listed = {m.uuid for thread in threads for m in thread.messages}
    swept: dict[str, list[Message]] = {}
    seen: set[str] = set()

    def note(message: Message | None) -> None:
        if message is not None and message.uuid not in listed and message.uuid not in seen:
            seen.add(message.uuid)
            swept.setdefault(message.thread.uuid, []).append(message)

    for batch in batches:
        for item in batch.items:
            note(item.message)
    for graph in graphs:
        for episode in graph.episodes:
            note(episode.message)
    return swept


def waiting(tenant: Tenant, batches: list[Batch]) -> list[Item]:
    """The work queue as it stands, flattened: each graph's FIFO in the order the graphs take
    turns, an item a realtime worker holds at the front of its graph's. Items canceled while
    they waited are kept: they still take their turn (and are passed over), so a restored
    queue hands out the rest in exactly the original order."""
    work = tenant.work
    held: dict[str, list[Item]] = {}
    for batch in batches:
        for item in batch.items:
            if item.status is ItemStatus.PROCESSING:
                held.setdefault(item.graph.uuid, []).append(item)
    order = [item for graph_uuid, items in held.items() if graph_uuid not in work.queues for item in items]
    for graph_uuid in work.ready:
        order += held.get(graph_uuid, [])
        order += work.queues[graph_uuid]
    return order
