"""``PUT /_emulator/seed``: with a key, that key's ids come from the seed alone, so two keys
(or two runs) seeded alike make the same ids; unseeded keys do not."""

from __future__ import annotations

import httpx

from emulator.core.processor import ProcessingMode
from emulator.core.world import WorldConfig
from emulator.server import BackgroundServer


def _ids(http: httpx.Client, key: str) -> list[str]:
    auth = {"Authorization": f"Api-Key {key}"}
    graph = http.post("/api/v4/graphs", json={}, headers=auth).json()["uuid"]
    batch = http.post("/api/v4/batches", json={}, headers=auth).json()["uuid"]
    items = [{"type": "graph_episode", "graph_uuid": graph, "data": "Alice works at Acme."}]
    added = http.post(f"/api/v4/batches/{batch}/items", json={"items": items}, headers=auth).json()
    http.post(f"/api/v4/batches/{batch}/process", headers=auth).raise_for_status()
    edges = http.post(f"/api/v4/graphs/{graph}/edges/list", json={}, headers=auth).json()["items"]
    return [graph, batch, *(i["uuid"] for i in added["items"]), *(e["uuid"] for e in edges)]


def test_seeded_keys_make_the_same_ids_and_unseeded_ones_do_not() -> None:
    with BackgroundServer(WorldConfig(processing=ProcessingMode.INSTANT)) as srv, httpx.Client(base_url=srv.base_url) as http:
        for key in ("seed-a", "seed-b"):
            answer = http.put("/_emulator/seed", json={"seed": 7}, headers={"Authorization": f"Api-Key {key}"})
            assert answer.json() == {"seed": 7, "scope": "tenant"}
        seeded_a, seeded_b = _ids(http, "seed-a"), _ids(http, "seed-b")
        assert len(seeded_a) == 4 and seeded_a == seeded_b
        assert set(_ids(http, "unseeded")).isdisjoint(seeded_a)
        refused = http.put("/_emulator/seed", json={"seed": 1.5}, headers={"Authorization": "Api-Key seed-c"})
        assert refused.status_code == 400 and refused.json()["error"]["code"]


def test_a_server_seed_makes_each_keys_ids_repeatable_across_servers() -> None:
    runs = []
    for _ in range(2):
        with BackgroundServer(WorldConfig(processing=ProcessingMode.INSTANT)) as srv, httpx.Client(base_url=srv.base_url) as http:
            http.put("/_emulator/seed", json={"seed": "s1"}).raise_for_status()
            runs.append(_ids(http, "fixed-key"))
    assert runs[0] == runs[1]
