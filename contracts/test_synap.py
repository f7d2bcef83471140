"""Synap's memories API contract, through maximem-synap (the nox session ``tests``)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Callable

import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from contracts.targets import Target


def test_memories_contract(synap_target: Target, contract_settings: Callable[[Target], settings]) -> None:
    try:
        version("maximem-synap")
    except PackageNotFoundError:
        pytest.skip("needs maximem-synap 0.6.9 (not installed here); run `nox -s tests`")
    from contracts.machines.synap import SynapMachine

    run_state_machine_as_test(lambda: SynapMachine(synap_target.session()), settings=contract_settings(synap_target))
