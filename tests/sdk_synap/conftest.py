"""Fixtures for the tests through maximem-synap 0.6.9, hermetic as reference/synap-wire-contract.md
§7 prescribes: no SYNAP_* or proxy variables, no local model, no cache files (``cache_backend``
off, and HOME pointed at an empty directory that each test checks stays empty), fast retries,
a fresh API key and ``_force_new`` per test, ``shutdown()`` at the end — and a check that the
SDK logged nothing at WARNING or above (telemetry and whoami included)."""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path
from typing import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from maximem_synap import MaximemSynapSDK, RetryPolicy, SDKConfig, TimeoutConfig

from emulator.server import BackgroundServer

for _name in [n for n in os.environ if n.startswith("SYNAP_")]:
    del os.environ[_name]
for _name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
    os.environ.pop(_name, None)
os.environ["NO_PROXY"] = "127.0.0.1,localhost"
os.environ["SYNAP_SDK_LOCAL_MODEL"] = "off"

Connect = Callable[..., Awaitable[MaximemSynapSDK]]


def sdk_config(base_url: str) -> SDKConfig:
    return SDKConfig(
        api_base_url=base_url,
        grpc_host="127.0.0.1", grpc_port=1, grpc_use_tls=False,
        cache_backend=None,
        history_search_model=None,
        retry_policy=RetryPolicy(backoff_base=0.01, backoff_jitter=False),
        timeouts=TimeoutConfig(connect=1, read=5, write=5),
    )


@pytest.fixture
def synap_key() -> str:
    return f"synap_{uuid.uuid4().hex}"


@pytest.fixture
def isolation(server: BackgroundServer, synap_key: str) -> Callable[[str], None]:
    """Set this test's Synap tenant's isolation mode (before the SDK's whoami reads it)."""

    def set_isolation(mode: str) -> None:
        httpx.put(f"{server.base_url}/_emulator/synap/isolation", json={"isolation": mode},
                  headers={"Authorization": f"Bearer {synap_key}"}).raise_for_status()

    return set_isolation


@pytest.fixture
async def connect(server: BackgroundServer, synap_key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                  caplog: pytest.LogCaptureFixture) -> AsyncIterator[Connect]:
    """``await connect()`` gives an initialised SDK on the test server (``key=`` and
    ``base_url=`` override); every SDK made is shut down at the end, and the test fails if the
    SDK warned or wrote under HOME."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    caplog.set_level(logging.WARNING, logger="synap")
    made: list[MaximemSynapSDK] = []

    async def make(key: str | None = None, base_url: str | None = None) -> MaximemSynapSDK:
        sdk = MaximemSynapSDK(api_key=key or synap_key, config=sdk_config(base_url or server.base_url), _force_new=True)
        made.append(sdk)
        await sdk.initialize()
        return sdk

    yield make
    for sdk in made:
        if sdk._initialized:  # a test may have shut it down itself; a second shutdown's flush warns
            await sdk.shutdown()
    assert list(home.iterdir()) == []
    warned = [r for r in caplog.records if r.name.startswith("synap") and r.levelno >= logging.WARNING]
    assert warned == [], [r.getMessage() for r in warned]


@pytest.fixture
async def sdk(connect: Connect) -> MaximemSynapSDK:
    return await connect()
