"""Zep's Batch API contract, through whichever zep-cloud line this environment has: 4.x drives
wire v4 (the nox session ``tests``), 3.x drives wire v2 (``tests_v2``)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Callable

import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from contracts.targets import Target

#: wire version -> the zep-cloud major that speaks it, and the nox session that installs it.
LINES = {"v4": ("4", "tests"), "v2": ("3", "tests_v2")}


def _installed_major() -> str | None:
    try:
        return version("zep-cloud").split(".")[0]
    except PackageNotFoundError:
        return None


@pytest.mark.parametrize("wire", list(LINES))
def test_batch_api_contract(wire: str, zep_target: Target, contract_settings: Callable[[Target], settings]) -> None:
    major, session = LINES[wire]
    if _installed_major() != major:
        pytest.skip(f"wire {wire} needs zep-cloud {major}.x (installed: {_installed_major() or 'none'}); run `nox -s {session}`")
    from contracts.machines.zep import ZepBatchMachine

    if wire == "v4":
        from contracts.drivers.zep_v4 import ZepV4Driver as driver
    else:
        from contracts.drivers.zep_v2 import ZepV2Driver as driver  # type: ignore[assignment]
    run_state_machine_as_test(lambda: ZepBatchMachine(zep_target.session(), driver), settings=contract_settings(zep_target))
