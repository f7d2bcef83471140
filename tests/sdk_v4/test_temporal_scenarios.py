"""The reference's temporal scenarios (fixtures/temporal, §5.9) end to end through zep-cloud
4.0.1: each fixture's episodes go in as one Batch API batch, in its order, with the server's
clock frozen at the fixture's start and stepping one minute per processed item; then every
field of every edge read back through ``graph.edge.list`` is checked, and the nodes and
episodes that carry them."""

from __future__ import annotations

from typing import Any, Callable

import pytest
from zep_cloud.client import Zep
from zep_cloud.types import BatchItemInput

from emulator.server import BackgroundServer

from ..conftest import SCENARIOS, Scenario, edge_row


def _ingest(zep: Zep, scenario: Scenario) -> tuple[dict[str, str], dict[str, str]]:
    """Graphs made, one batch of the scenario's episodes processed; returns graph name -> uuid
    and fixture item id -> episode uuid."""
    graphs = {name: zep.graph.create(name=name).uuid_ for name in scenario.graphs}
    batch = zep.batch.create().uuid_
    items = []
    for episode in scenario.episodes:
        fields: dict[str, Any] = {"type": "graph_episode", "graph_uuid": graphs[episode["graph"]],
                                  "data": episode["content"], "data_type": Scenario.data_type(episode)}
        if episode.get("reference_time"):
            fields["reference_time"] = episode["reference_time"]
        items.append(BatchItemInput(**fields))
    zep.batch.add_items(batch, items=items)
    zep.batch.process(batch)
    assert zep.batch.get(batch).status == "succeeded"
    listed = list(zep.batch.list_items(batch))
    episodes = {e["id"]: item.episode_uuid for e, item in zip(scenario.episodes, listed)}
    return graphs, episodes  # type: ignore[return-value]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario_edges_through_the_v4_sdk(
    scenario: Scenario,
    scenario_servers: Callable[[str], BackgroundServer],
    scenario_clock: Callable[[BackgroundServer, Scenario], None],
    api_key: str,
) -> None:
    srv = scenario_servers(scenario.reassert)
    scenario_clock(srv, scenario)
    zep = Zep(api_key=api_key, base_url=srv.zep_v4_url, max_retries=0)
    graphs, episodes = _ingest(zep, scenario)
    for name, graph_uuid in graphs.items():
        edges = list(zep.graph.edge.list(graph_uuid, page_size=100))
        got = sorted(
            edge_row(e.source_node_name, e.name, e.target_node_name, e.fact, e.valid_at, e.invalid_at, e.expired_at,
                     e.created_at, e.episode_uuids)
            for e in edges
        )
        assert got == scenario.expected(name, episodes.__getitem__)
        nodes = {n.uuid_: n for n in zep.graph.node.list(graph_uuid, page_size=100)}
        for edge in edges:
            assert nodes[edge.source_node_uuid].name == edge.source_node_name
            assert nodes[edge.target_node_uuid].name == edge.target_node_name
            assert set(edge.episode_uuids or ()) <= set(nodes[edge.source_node_uuid].episode_uuids)
            assert zep.graph.edge.get(graph_uuid, edge.uuid_).invalid_at == edge.invalid_at
    for episode in scenario.episodes:
        read = zep.graph.episode.get(graphs[episode["graph"]], episodes[episode["id"]])
        assert (read.content, read.processed) == (episode["content"], True)
