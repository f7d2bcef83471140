"""Fixtures for the tests through zep-cloud 3.x (wire v2); tests/conftest.py collects this
directory only where zep-cloud 3 is installed (the nox session ``tests_v2``)."""

from __future__ import annotations

import os

import pytest
from zep_cloud.client import Zep

from emulator.server import BackgroundServer

# zep-cloud 3.x lets ZEP_API_URL override base_url (wire contract §6, gotcha 1).
os.environ.pop("ZEP_API_URL", None)


@pytest.fixture
def zep(server: BackgroundServer, api_key: str) -> Zep:
    """A v2 client (zep-cloud 3.x never retries unless asked)."""
    return Zep(api_key=api_key, base_url=server.zep_v2_url)
