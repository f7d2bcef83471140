"""What ``World.reset`` does to give memory back (emulator/core/reclaim.py): the caches of
data-drawn values are emptied, a full collection runs at once, and in a running loop a second
one follows :data:`SETTLE_SECONDS` later - one for a burst of resets. (What that does to the
process's RSS is measured by benchmarks/soak.py.)"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from emulator.core import reclaim
from emulator.core.extract import relation_name
from emulator.core.processor import ProcessingMode
from emulator.core.timestamps import format_rfc3339
from emulator.core.world import World, WorldConfig


@pytest.fixture
def full_collections() -> Iterator[list[float]]:
    """The loop time (or 0.0 outside a loop) at the end of each full collection from now on."""
    seen: list[float] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "stop" and info["generation"] == 2:
            try:
                seen.append(asyncio.get_running_loop().time())
            except RuntimeError:
                seen.append(0.0)

    gc.callbacks.append(count)
    yield seen
    gc.callbacks.remove(count)


def test_a_reset_empties_the_caches_of_data_drawn_values_and_collects(full_collections: list[float]) -> None:
    world = World(WorldConfig(processing=ProcessingMode.MANUAL, seed=3))
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    for i in range(50):
        format_rfc3339(start + timedelta(seconds=i))
        relation_name(f"works for company {i}")
    assert format_rfc3339.cache_info().currsize >= 50
    assert relation_name.cache_info().currsize >= 50

    world.reset()

    assert format_rfc3339.cache_info().currsize == 0
    assert relation_name.cache_info().currsize == 0
    assert len(full_collections) == 1  # no loop in this thread: no second pass


async def test_in_a_loop_a_second_collection_follows_once_after_a_burst_of_resets(full_collections: list[float]) -> None:
    world = World(WorldConfig(processing=ProcessingMode.MANUAL, seed=3))
    loop = asyncio.get_running_loop()
    world.reset()
    await asyncio.sleep(reclaim.SETTLE_SECONDS / 5)
    last_reset = loop.time()
    world.reset()
    assert len(full_collections) == 2  # one at once per reset

    await asyncio.sleep(reclaim.SETTLE_SECONDS * 2)

    assert len(full_collections) == 3  # the first reset's second pass was replaced by the last one's
    assert full_collections[-1] - last_reset >= reclaim.SETTLE_SECONDS * 0.9
