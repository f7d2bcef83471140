"""Shared fixtures: one in-process emulator for the whole session, a fresh tenant (API key)
per test, and a small client for the control plane."""

from __future__ import annotations

import uuid
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Iterator

import httpx
import pytest
from hypothesis import HealthCheck, settings

from emulator.core.processor import ProcessingMode
from emulator.core.world import WorldConfig
from emulator.server import BackgroundServer


def _zep_major() -> str | None:
    try:
        return version("zep-cloud").split(".")[0]
    except PackageNotFoundError:
        return None


# The two zep-cloud lines share one import name, so each environment runs one SDK suite:
# directory -> (zep-cloud major it needs, the nox session that has it).
_ZEP = _zep_major()
_SDK_SUITES = {"sdk_v4": ("4", "tests"), "sdk_v2": ("3", "tests_v2")}
collect_ignore = [suite for suite, (major, _) in _SDK_SUITES.items() if _ZEP != major]


def pytest_report_header() -> list[str]:
    return [
        f"tests/{suite} not collected: it needs zep-cloud {major}.x (installed: {_ZEP or 'none'}); run `nox -s {session}`"
        for suite, (major, session) in _SDK_SUITES.items()
        if _ZEP != major
    ]


settings.register_profile("default", deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("explore", deadline=None, max_examples=1000, derandomize=False)
settings.load_profile("default")


class Control:
    """The control plane over HTTP, acting on one tenant (the test's API key)."""

    def __init__(self, base_url: str, api_key: str) -> None:
        self.http = httpx.Client(base_url=base_url, headers={"Authorization": f"Api-Key {api_key}"}, timeout=30)

    def _post(self, path: str, body: Any = None) -> dict[str, Any]:
        response = self.http.post(path, json=body)
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]

    def set_mode(self, mode: str) -> None:
        response = self.http.put("/_emulator/processing", json={"mode": mode})
        response.raise_for_status()

    def step(self, items: int = 1) -> dict[str, Any]:
        return self._post("/_emulator/processing/step", {"items": items})

    def run_until_idle(self) -> dict[str, Any]:
        return self._post("/_emulator/processing/run-until-idle")

    def cancel(self, batch_id: str) -> dict[str, Any]:
        return self._post(f"/_emulator/batches/{batch_id}/cancel")

    def close(self) -> None:
        self.http.close()


@pytest.fixture(scope="session")
def server() -> Iterator[BackgroundServer]:
    """The emulator, instant by default; a test switches its own tenant's mode via control."""
    with BackgroundServer(WorldConfig(processing=ProcessingMode.INSTANT)) as srv:
        yield srv


@pytest.fixture
def api_key() -> str:
    return f"test-{uuid.uuid4()}"


@pytest.fixture
def control(server: BackgroundServer, api_key: str) -> Iterator[Control]:
    ctl = Control(server.base_url, api_key)
    yield ctl
    ctl.close()


@pytest.fixture
def raw(server: BackgroundServer) -> Iterator[httpx.Client]:
    """A bare HTTP client on the server, for what an SDK cannot send (bad auth, bad JSON)."""
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        yield client
