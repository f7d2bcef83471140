"""The contract suite's options and fixtures.

- ``--contract-target=emulator`` (default): the machines run against an in-process emulator,
  a fresh tenant per example, processing ``manual``.
- ``--contract-target=zep`` / ``=synap``: the same machines against a real account, from
  ``ZEP_API_KEY`` / ``ZEP_BASE_URL`` or ``SYNAP_API_KEY`` / ``SYNAP_BASE_URL``, with a cap on
  calls and items (``--contract-max-calls``, ``--contract-max-items``), few and short examples,
  and everything the run made removed at the end. Without the key, those runs skip and say
  what to set. Tests marked ``emulator_only`` (they need the control plane) skip there.
- ``--hypothesis-profile=contracts``: many more examples and longer sequences, on demand.
"""

from __future__ import annotations

from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, settings

from contracts.targets import Budget, EmulatorSession, Target, real_target

TARGETS = ("emulator", "zep", "synap")
#: Hypothesis's own health checks that a slow, HTTP-bound machine trips without being wrong.
SLOW_IS_FINE = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]

settings.register_profile(
    "contracts", max_examples=300, stateful_step_count=60, deadline=None, suppress_health_check=SLOW_IS_FINE,
)

#: The budget in the normal test command (CI): enough to walk every rule many times over,
#: small enough for the whole command to stay well under its 20 minutes.
CI_BUDGET = {"max_examples": 50, "stateful_step_count": 40}
#: Against a real account: a few short sequences (the call and item caps bound them too).
REAL_BUDGET = {"max_examples": 3, "stateful_step_count": 15}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("contracts", "the contract suite (contracts/)")
    group.addoption("--contract-target", choices=TARGETS, default="emulator",
                    help="run the contract machines against the in-process emulator (default) or a real account")
    group.addoption("--contract-max-calls", type=int, default=400,
                    help="against a real account: at most this many API calls in the run (default 400)")
    group.addoption("--contract-max-items", type=int, default=60,
                    help="against a real account: at most this many items/documents sent in the run (default 60)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "emulator_only: needs the emulator's control plane; skipped on a real target")


def pytest_report_header(config: pytest.Config) -> str:
    return f"contract target: {config.getoption('contract_target')}"


@pytest.fixture(autouse=True)
def _emulator_only(request: pytest.FixtureRequest) -> None:
    chosen = request.config.getoption("contract_target")
    if request.node.get_closest_marker("emulator_only") and chosen != "emulator":
        pytest.skip(f"needs the emulator's control plane; --contract-target={chosen} is a real service, which has none")


@pytest.fixture(scope="session")
def contract_budget(request: pytest.FixtureRequest) -> Budget:
    if request.config.getoption("contract_target") == "emulator":
        return Budget()
    return Budget(request.config.getoption("contract_max_calls"), request.config.getoption("contract_max_items"))


def _target(request: pytest.FixtureRequest, service: str) -> Target:
    chosen = request.config.getoption("contract_target")
    if chosen == "emulator":
        factory: Callable[..., Any] = request.getfixturevalue("emulator_factory")
        return Target("emulator", lambda: EmulatorSession(factory(processing="manual").start()))
    if chosen != service:
        pytest.skip(f"--contract-target={chosen}: this machine drives {service}")
    made = real_target(service, request.getfixturevalue("contract_budget"))
    if isinstance(made, str):
        pytest.skip(made)
    return made


@pytest.fixture
def zep_target(request: pytest.FixtureRequest) -> Target:
    return _target(request, "zep")


@pytest.fixture
def synap_target(request: pytest.FixtureRequest) -> Target:
    return _target(request, "synap")


def machine_settings(config: pytest.Config, target: Target) -> settings:
    """The Hypothesis settings of a machine run: the ``contracts`` profile when asked for, else
    the CI budget (derandomized: a run that passes once passes every time); capped on a real
    target."""
    if config.getoption("hypothesis_profile", None) == "contracts":
        chosen = settings.get_profile("contracts")
    else:
        chosen = settings(settings.get_profile("default"), deadline=None, derandomize=True,
                          suppress_health_check=SLOW_IS_FINE, **CI_BUDGET)
    if target.real:
        chosen = settings(chosen, **{k: min(v, getattr(chosen, k)) for k, v in REAL_BUDGET.items()})
    return chosen


@pytest.fixture
def contract_settings(request: pytest.FixtureRequest) -> Callable[[Target], settings]:
    return lambda target: machine_settings(request.config, target)
