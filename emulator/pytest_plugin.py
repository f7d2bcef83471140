"""The pytest plugin (entry point ``pytest11``: installing the package is enough).

Fixtures:

- ``emulator`` — an :class:`~emulator.handle.Emulator` on a session-wide server: a fresh
  tenant (new API key) per test, reset at teardown, so tests are isolated without restarting
  anything. Under pytest-xdist each worker has its own server.
- ``emulator_factory`` (session scope) — makes more handles on the same server, for fixtures of
  any scope: ``with emulator_factory(processing="manual") as emu: ...``.
- ``emulator_server`` (session scope) — the :class:`~emulator.server.BackgroundServer` itself.
- ``zep_client`` / ``async_zep_client`` (zep-cloud 4.x, wire v4), ``zep_v2_client``
  (zep-cloud 3.x, wire v2), ``synap_sdk`` (maximem-synap, initialised and hermetic; an async
  fixture, so it needs pytest-asyncio) — each on the ``emulator``'s tenant, and skipped with a
  message saying what to install when its SDK is missing.

The marker ``@pytest.mark.emulator(processing="manual", seed=7, synap_isolation="equals_customer")``
sets the test's tenant up; without it the tenant processes ``instant`` and ids are random.
"""

from __future__ import annotations

import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, AsyncIterator, Callable, Iterator

import pytest

from .core.processor import ProcessingMode
from .core.world import WorldConfig
from .handle import Emulator
from .server import BackgroundServer

try:
    import pytest_asyncio
except ImportError:  # pragma: no cover - depends on the user's environment
    pytest_asyncio = None

MARKER = "emulator"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(processing=None, seed=None, synap_isolation=None): set up the test's emulator tenant "
        "(processing: instant | manual | realtime; seed: ids repeat run after run; "
        "synap_isolation: strict | equals_customer)",
    )


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[BackgroundServer]:
    """One emulator for the session (per xdist worker), on its own loop in a thread."""
    with BackgroundServer(WorldConfig(processing=ProcessingMode.INSTANT)) as server:
        yield server


@pytest.fixture(scope="session")
def emulator_factory(emulator_server: BackgroundServer) -> Callable[..., Emulator]:
    """``emulator_factory(**settings)`` → a new, unstarted handle (a fresh tenant) on the
    session's server; use it as a context manager."""

    def make(**settings: Any) -> Emulator:
        return Emulator(server=emulator_server, **settings)

    return make


@pytest.fixture
def emulator(request: pytest.FixtureRequest, emulator_factory: Callable[..., Emulator]) -> Iterator[Emulator]:
    marker = request.node.get_closest_marker(MARKER)
    if marker is not None and marker.args:
        raise pytest.UsageError(f"@pytest.mark.{MARKER} takes keyword arguments only: processing, seed, synap_isolation")
    settings = dict(marker.kwargs) if marker is not None else {}
    unknown = set(settings) - {"processing", "seed", "synap_isolation"}
    if unknown:
        raise pytest.UsageError(f"@pytest.mark.{MARKER}: unknown setting(s) {sorted(unknown)}; "
                                "known: processing, seed, synap_isolation")
    with emulator_factory(**settings) as emu:
        yield emu


# -- SDK clients -----------------------------------------------------------------------------


def _require(distribution: str, major: str | None, fixture: str) -> None:
    try:
        installed = version(distribution)
    except PackageNotFoundError:
        pytest.skip(f"{fixture} needs {distribution}{f' {major}.x' if major else ''}; it is not installed")
    if major is not None and installed.split(".")[0] != major:
        pytest.skip(f"{fixture} needs {distribution} {major}.x; {installed} is installed")


@pytest.fixture
def zep_client(emulator: Emulator) -> Any:
    """A ``zep_cloud.client.Zep`` (zep-cloud 4.x) on the test's tenant, wire v4."""
    _require("zep-cloud", "4", "zep_client")
    from zep_cloud.client import Zep

    return Zep(api_key=emulator.api_key, base_url=emulator.zep_v4_url)


@pytest.fixture
def async_zep_client(emulator: Emulator) -> Any:
    """A ``zep_cloud.client.AsyncZep`` (zep-cloud 4.x) on the test's tenant, wire v4."""
    _require("zep-cloud", "4", "async_zep_client")
    from zep_cloud.client import AsyncZep

    return AsyncZep(api_key=emulator.api_key, base_url=emulator.zep_v4_url)


@pytest.fixture
def zep_v2_client(emulator: Emulator) -> Any:
    """A ``zep_cloud.client.Zep`` (zep-cloud 3.x) on the test's tenant, wire v2."""
    _require("zep-cloud", "3", "zep_v2_client")
    from zep_cloud.client import Zep

    return Zep(api_key=emulator.api_key, base_url=emulator.zep_v2_url)


#: Variables that would make the Synap SDK reach beyond the emulator (synap-wire-contract.md §7).
_SYNAP_LEAKS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


def _hermetic_synap_env(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """No SYNAP_* settings or proxies from the environment, no local model, HOME in a
    temporary directory (the SDK's files land there, not in the user's home)."""
    for name in [n for n in os.environ if n.startswith("SYNAP_")] + list(_SYNAP_LEAKS):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("SYNAP_SDK_LOCAL_MODEL", "off")
    monkeypatch.setenv("HOME", str(home))


async def _synap_sdk(emulator: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AsyncIterator[Any]:
    _require("maximem-synap", None, "synap_sdk")
    from maximem_synap import MaximemSynapSDK, RetryPolicy, SDKConfig, TimeoutConfig

    home = tmp_path / "synap-home"
    home.mkdir()
    _hermetic_synap_env(monkeypatch, home)
    config = SDKConfig(
        api_base_url=emulator.synap_url,
        grpc_host="127.0.0.1", grpc_port=1, grpc_use_tls=False,  # nothing listens: no streaming
        cache_backend=None,
        history_search_model=None,
        retry_policy=RetryPolicy(backoff_base=0.01, backoff_jitter=False),
        timeouts=TimeoutConfig(connect=1, read=30, write=30),
    )
    sdk = MaximemSynapSDK(api_key=emulator.api_key, config=config, _force_new=True)
    await sdk.initialize()
    yield sdk
    if sdk._initialized:  # the test may have shut it down itself
        await sdk.shutdown()


if pytest_asyncio is not None:

    @pytest_asyncio.fixture
    async def synap_sdk(emulator: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AsyncIterator[Any]:
        """A ``MaximemSynapSDK`` on the test's tenant, initialised; shut down at the end."""
        async for sdk in _synap_sdk(emulator, monkeypatch, tmp_path):
            yield sdk

else:  # pragma: no cover - depends on the user's environment

    @pytest.fixture
    def synap_sdk() -> Any:
        pytest.skip("synap_sdk is an async fixture: it needs pytest-asyncio (pip install pytest-asyncio)")
