"""The reference's temporal scenarios (fixtures/temporal, §5.9) end to end through zep-cloud
3.30.0: each fixture's episodes go in as one Batch API batch (graphs by ``graph_id``, times in
``created_at``), with the server's clock frozen at the fixture's start and stepping one minute
per processed item; then every field of every edge read back through
``graph.edge.get_by_graph_id`` is checked."""

from __future__ import annotations

from typing import Any, Callable

import pytest
from zep_cloud.client import Zep
from zep_cloud.types import BatchAddItem

from emulator.server import BackgroundServer

from ..conftest import SCENARIOS, Scenario, edge_row


def _ingest(zep: Zep, scenario: Scenario, prefix: str) -> dict[str, str]:
    """Graphs made, one batch of the scenario's episodes processed; returns fixture item id ->
    episode uuid."""
    for name in scenario.graphs:
        zep.graph.create(graph_id=f"{prefix}-{name}")
    batch = zep.batch.create().batch_id
    items = []
    for episode in scenario.episodes:
        fields: dict[str, Any] = {"type": "graph_episode", "graph_id": f"{prefix}-{episode['graph']}",
                                  "data": episode["content"], "data_type": Scenario.data_type(episode)}
        if episode.get("reference_time"):
            fields["created_at"] = episode["reference_time"]
        items.append(BatchAddItem(**fields))
    zep.batch.add(batch, items=items)
    zep.batch.process(batch)
    assert zep.batch.get(batch).status == "succeeded"
    listed = zep.batch.list_items(batch).items or []
    return {e["id"]: item.episode_uuid for e, item in zip(scenario.episodes, listed)}  # type: ignore[misc]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario_edges_through_the_v2_sdk(
    scenario: Scenario,
    scenario_servers: Callable[[str], BackgroundServer],
    scenario_clock: Callable[[BackgroundServer, Scenario], None],
    api_key: str,
) -> None:
    srv = scenario_servers(scenario.reassert)
    scenario_clock(srv, scenario)
    zep = Zep(api_key=api_key, base_url=srv.zep_v2_url)
    episodes = _ingest(zep, scenario, "s")
    for name in scenario.graphs:
        edges = zep.graph.edge.get_by_graph_id(f"s-{name}")
        got = sorted(
            edge_row(e.source_node_name, e.name, e.target_node_name, e.fact, e.valid_at, e.invalid_at, e.expired_at,
                     e.created_at, e.episodes)
            for e in edges
        )
        assert got == scenario.expected(name, episodes.__getitem__)
        for edge in edges:
            assert zep.graph.edge.get(edge.uuid_).expired_at == edge.expired_at
    for episode in scenario.episodes:
        read = zep.graph.episode.get(episodes[episode["id"]])
        assert (read.content, read.processed) == (episode["content"], True)
