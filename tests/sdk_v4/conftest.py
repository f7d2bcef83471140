"""Fixtures for the tests through zep-cloud 4.x (wire v4) and zep-ingest; tests/conftest.py
collects this directory only where zep-cloud 4 is installed (the nox session ``tests``)."""

from __future__ import annotations

import pytest
from zep_cloud.client import Zep

from emulator.server import BackgroundServer


@pytest.fixture
def zep(server: BackgroundServer, api_key: str) -> Zep:
    """A v4 client with the SDK's retries off, so error tests see each answer once."""
    return Zep(api_key=api_key, base_url=server.zep_v4_url, max_retries=0)
