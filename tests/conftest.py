"""Shared fixtures: one in-process emulator for the whole session, a fresh tenant (API key)
per test, and a small client for the control plane."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Callable, Iterator

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


def _installed(distribution: str) -> bool:
    try:
        version(distribution)
    except PackageNotFoundError:
        return False
    return True


# The Synap suite runs wherever maximem-synap is installed (the nox session ``tests``).
if not _installed("maximem-synap"):
    collect_ignore.append("sdk_synap")


def pytest_report_header() -> list[str]:
    lines = [
        f"tests/{suite} not collected: it needs zep-cloud {major}.x (installed: {_ZEP or 'none'}); run `nox -s {session}`"
        for suite, (major, session) in _SDK_SUITES.items()
        if _ZEP != major
    ]
    if "sdk_synap" in collect_ignore:
        lines.append("tests/sdk_synap not collected: it needs maximem-synap 0.6.9; run `nox -s tests`")
    return lines


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


# -- the temporal scenarios of the reference, for the SDK suites ---------------------------------

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "temporal"


@dataclass(frozen=True)
class Scenario:
    """One fixture of fixtures/temporal: episodes in (in processing order), edges expected out."""

    name: str
    data: dict[str, Any]

    @property
    def reassert(self) -> str:
        return str(self.data["settings"]["reassert"])

    @property
    def clock_start(self) -> str:
        return str(self.data["clock"]["start"])

    @property
    def tick_seconds(self) -> float:
        return float(self.data["clock"]["step_seconds"])

    @property
    def episodes(self) -> list[dict[str, Any]]:
        return list(self.data["episodes"])

    @property
    def graphs(self) -> list[str]:
        return list(dict.fromkeys(e["graph"] for e in self.data["episodes"]))

    @staticmethod
    def data_type(episode: dict[str, Any]) -> str:
        """The fixtures carry no type: content that is a JSON object is a json episode."""
        try:
            return "json" if isinstance(json.loads(episode["content"]), dict) else "text"
        except ValueError:
            return "text"

    def expected(self, graph: str, episode_uuid: Callable[[str], str]) -> list[tuple[Any, ...]]:
        """The graph's expected edges as comparable rows (every field, the episodes as uuids),
        sorted; *episode_uuid* maps a fixture item id to the uuid the server gave it."""
        return sorted(
            (row["source"], row["relation"], row["target"], row["fact"], _instant(row["valid_at"]),
             _instant(row["invalid_at"]), _instant(row["expired_at"]), _instant(row["created_at"]),
             tuple(episode_uuid(i) for i in row["episodes"]))
            for row in self.data["expected"]["edges"]
            if row["graph"] == graph
        )


def _instant(text: str | None) -> Any:
    """An RFC 3339 instant as a comparable value (None stays None)."""
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00"))


def edge_row(source: str | None, relation: str | None, target: str | None, fact: str | None, valid_at: str | None,
             invalid_at: str | None, expired_at: str | None, created_at: str | None, episodes: Any) -> tuple[Any, ...]:
    """An edge read through an SDK, in :meth:`Scenario.expected`'s row shape."""
    return (source, relation, target, fact, _instant(valid_at), _instant(invalid_at), _instant(expired_at),
            _instant(created_at), tuple(episodes or ()))


SCENARIOS = [Scenario(p.stem, json.loads(p.read_text())) for p in sorted(SCENARIO_DIR.glob("*.json"))]


@pytest.fixture(scope="session")
def scenario_servers() -> Iterator[Callable[[str], BackgroundServer]]:
    """One instant-mode server per re-assertion policy (a server-wide setting), made on demand."""
    servers: dict[str, BackgroundServer] = {}

    def get(reassert: str) -> BackgroundServer:
        if reassert not in servers:
            servers[reassert] = BackgroundServer(WorldConfig(processing=ProcessingMode.INSTANT, reassert=reassert)).start()  # type: ignore[arg-type]
        return servers[reassert]

    yield get
    for srv in servers.values():
        srv.stop()


@pytest.fixture
def scenario_clock() -> Callable[[BackgroundServer, Scenario], None]:
    """Set a server's clock as a scenario wants it, over the control plane: frozen at its start,
    moving one step per processed item."""

    def set_clock(srv: BackgroundServer, scenario: Scenario) -> None:
        body = {"frozen_at": scenario.clock_start, "tick_seconds": scenario.tick_seconds}
        httpx.put(f"{srv.base_url}/_emulator/clock", json=body, timeout=30).raise_for_status()

    return set_clock
