"""The control plane's clock over HTTP: read, freeze with a per-item tick, advance, refuse bad
values, and put back by a server-wide reset."""

from __future__ import annotations

from datetime import datetime, timezone

import httpx

from emulator.core.processor import ProcessingMode
from emulator.core.world import WorldConfig
from emulator.server import BackgroundServer


def test_freeze_tick_advance_and_reset() -> None:
    with BackgroundServer(WorldConfig(processing=ProcessingMode.INSTANT)) as srv, httpx.Client(base_url=srv.base_url) as http:
        running = http.get("/_emulator/clock").json()
        assert running["frozen"] is False and running["tick_seconds"] == 0
        assert abs(datetime.fromisoformat(running["now"].replace("Z", "+00:00")) - datetime.now(timezone.utc)).total_seconds() < 60
        frozen = http.put("/_emulator/clock", json={"frozen_at": "2030-01-01T00:00:00+02:00", "tick_seconds": 60}).json()
        assert frozen == {"now": "2029-12-31T22:00:00Z", "frozen": True, "tick_seconds": 60.0, "scope": "server"}
        auth = {"Authorization": "Api-Key clock-test"}
        graph = http.post("/api/v4/graphs", json={}, headers=auth).json()["uuid"]
        batch = http.post("/api/v4/batches", json={}, headers=auth).json()["uuid"]
        items = [{"type": "graph_episode", "graph_uuid": graph, "data": f"e{i}"} for i in range(3)]
        http.post(f"/api/v4/batches/{batch}/items", json={"items": items}, headers=auth).raise_for_status()
        http.post(f"/api/v4/batches/{batch}/process", headers=auth).raise_for_status()
        listed = http.post(f"/api/v4/graphs/{graph}/episodes/list?order_by=created_at&order=asc", json={}, headers=auth)
        assert [e["reference_time"] for e in listed.json()["items"]] == [
            "2029-12-31T22:00:00Z", "2029-12-31T22:01:00Z", "2029-12-31T22:02:00Z"]
        assert http.post("/_emulator/clock/advance", json={"seconds": 3600}).json()["now"] == "2029-12-31T23:03:00Z"
        for bad in ({"frozen_at": "2030-01-01T00:00:00"}, {"tick_seconds": -1}, {"frozen_at": None, "speed": 2}):
            refused = http.put("/_emulator/clock", json=bad)
            assert refused.status_code == 400 and "error" in refused.json()
        assert http.post("/_emulator/clock/advance", json={"seconds": -5}).status_code == 400
        assert http.get("/_emulator/clock").json()["now"] == "2029-12-31T23:03:00Z"  # refused calls changed nothing
        http.post("/_emulator/reset").raise_for_status()
        assert http.get("/_emulator/clock").json()["frozen"] is False


def test_a_keys_own_clock_leaves_other_keys_on_the_servers() -> None:
    """A keyed clock call splits that key's clock off the server's: other keys keep reading the
    server's clock (and follow its changes); the keyed one no longer does; a tenant reset
    hands it back to the server's."""
    mine, other = {"Authorization": "Api-Key clock-mine"}, {"Authorization": "Api-Key clock-other"}
    with BackgroundServer() as srv, httpx.Client(base_url=srv.base_url) as http:
        http.put("/_emulator/clock", json={"frozen_at": "2030-01-01T00:00:00Z"}).raise_for_status()
        assert http.get("/_emulator/clock", headers=mine).status_code == 404  # no such tenant yet
        own = http.put("/_emulator/clock", json={"frozen_at": "2001-02-03T04:05:06Z"}, headers=mine).json()
        assert own == {"now": "2001-02-03T04:05:06Z", "frozen": True, "tick_seconds": 0.0, "scope": "tenant"}
        http.post("/api/v4/graphs", json={}, headers=other).raise_for_status()
        assert http.get("/_emulator/clock", headers=other).json()["now"] == "2030-01-01T00:00:00Z"
        http.post("/_emulator/clock/advance", json={"seconds": 60}).raise_for_status()
        assert http.get("/_emulator/clock", headers=other).json() == {
            "now": "2030-01-01T00:01:00Z", "frozen": True, "tick_seconds": 0.0, "scope": "server"}
        assert http.get("/_emulator/clock", headers=mine).json()["now"] == "2001-02-03T04:05:06Z"
        made = http.post("/api/v4/graphs", json={}, headers=mine).json()
        assert made["created_at"] == "2001-02-03T04:05:06Z"
        http.post("/_emulator/reset", headers=mine).raise_for_status()
        http.post("/api/v4/graphs", json={}, headers=mine).raise_for_status()
        assert http.get("/_emulator/clock", headers=mine).json()["now"] == "2030-01-01T00:01:00Z"
