"""The real-target path, checked without a real account: the suite is run with
``--contract-target=zep`` against a separate emulator posing as the service (its URL in
``ZEP_BASE_URL``, any key in ``ZEP_API_KEY``). It must pass, stay within the call cap, and
leave the account as it found it (every graph and user it made deleted) — the guards a run
against a real account relies on."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from emulator.core.processor import ProcessingMode
from emulator.core.tenants import Service
from emulator.core.world import World, WorldConfig
from emulator.server import BackgroundServer

pytestmark = pytest.mark.emulator_only

ROOT = Path(__file__).parent.parent
MAX_CALLS = 120


def test_a_run_against_a_service_stays_in_budget_and_cleans_up() -> None:
    pytest.importorskip("zep_cloud", reason="the Zep machine needs zep-cloud")
    key = f"real-{uuid.uuid4().hex}"
    with BackgroundServer(WorldConfig(processing=ProcessingMode.INSTANT)) as service:
        env = {**os.environ, "ZEP_API_KEY": key, "ZEP_BASE_URL": service.base_url}
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "contracts/test_zep.py", "--contract-target=zep",
             f"--contract-max-calls={MAX_CALLS}", "--contract-max-items=40", "-p", "no:cacheprovider", "-q", "-rs"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
        )
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        assert "1 passed, 1 skipped" in run.stdout, run.stdout[-2000:]

        calls = httpx.get(f"{service.base_url}/_emulator/requests", params={"limit": 10_000},
                          headers={"Authorization": f"Api-Key {key}"}).json()
        zep_calls = [c for c in calls["requests"] if c["api"].startswith("zep")]
        assert 20 <= len(zep_calls) <= MAX_CALLS

        def leftovers(world: World) -> tuple[int, int]:
            store = world.tenants.get(Service.ZEP, key).store
            return len(store.graphs_by_uuid), len(store.users_by_uuid)

        assert service.call(leftovers) == (0, 0)  # what the run made, it deleted
