"""Core fixtures: a world in manual mode with one Zep tenant and a graph, user and thread."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from emulator.core.batches import ItemInput, ItemKind, KeySpace, Ref, TargetKind
from emulator.core.graph import Graph, Thread, User
from emulator.core.processor import ProcessingMode
from emulator.core.tenants import Service, Tenant
from emulator.core.world import World, WorldConfig


@dataclass
class Setup:
    world: World
    tenant: Tenant
    graph: Graph
    other_graph: Graph
    user: User
    thread: Thread


@pytest.fixture
def setup() -> Setup:
    world = World(WorldConfig(processing=ProcessingMode.MANUAL, seed=1))
    tenant = world.tenants.get(Service.ZEP, "key")
    now = world.clock.now()
    user = tenant.store.create_user("alice", now)
    return Setup(
        world=world,
        tenant=tenant,
        graph=tenant.store.create_graph("g1", now),
        other_graph=tenant.store.create_graph("g2", now),
        user=user,
        thread=tenant.store.create_thread("t1", user, now),
    )


def episode(graph_id: str = "g1", data: str = "hello", data_type: str = "text") -> ItemInput:
    return ItemInput(ItemKind.GRAPH_EPISODE, Ref(TargetKind.GRAPH, KeySpace.CLIENT_ID, graph_id), data, data_type)


def message(thread_id: str = "t1", content: str = "hi", role: str = "user") -> ItemInput:
    return ItemInput(ItemKind.THREAD_MESSAGE, Ref(TargetKind.THREAD, KeySpace.CLIENT_ID, thread_id), content, role=role)
