"""The control plane's reset, seen through zep-cloud 4.0.1: what it forgets and what it keeps."""

from __future__ import annotations

import httpx
import pytest
from zep_cloud.client import Zep
from zep_cloud.errors import NotFoundError

from emulator.core.processor import ProcessingMode
from emulator.core.world import WorldConfig
from emulator.server import BackgroundServer


def test_reset_with_a_key_forgets_only_that_tenant(server: BackgroundServer, zep: Zep, api_key: str) -> None:
    other = Zep(api_key=f"{api_key}-other", base_url=server.zep_v4_url, max_retries=0)
    mine, theirs = zep.batch.create(), other.batch.create()
    answer = httpx.post(f"{server.base_url}/_emulator/reset", headers={"Authorization": f"Api-Key {api_key}"})
    assert answer.status_code == 200 and answer.json() == {"reset": "tenant", "tenants": 1}
    with pytest.raises(NotFoundError) as gone:
        zep.batch.get(mine.uuid_)  # type: ignore[arg-type]
    assert gone.value.body.error.code == "batch_not_found"  # type: ignore[union-attr]
    assert other.batch.get(theirs.uuid_).uuid_ == theirs.uuid_  # type: ignore[arg-type]
    assert list(zep.batch.list()) == []  # the key still works: it gets a fresh, empty tenant


def test_reset_without_a_key_forgets_everything() -> None:
    with BackgroundServer(WorldConfig(processing=ProcessingMode.INSTANT)) as server:
        clients = [Zep(api_key=key, base_url=server.zep_v4_url, max_retries=0) for key in ("a", "b")]
        for client in clients:
            client.batch.create()
        answer = httpx.post(f"{server.base_url}/_emulator/reset")
        assert answer.json() == {"reset": "all", "tenants": 2}
        assert [len(list(client.batch.list())) for client in clients] == [0, 0]
