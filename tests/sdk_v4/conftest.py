"""Tests through zep-cloud 4.x (wire v4) and zep-ingest. They are collected only where
zep-cloud 4 is installed (the nox session ``tests``); zep-cloud 3 lives in ``tests_v2``."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

import pytest


def _zep_major() -> str | None:
    try:
        return version("zep-cloud").split(".")[0]
    except PackageNotFoundError:
        return None


if _zep_major() != "4":
    collect_ignore_glob = ["test_*.py"]
else:
    from zep_cloud.client import Zep

    @pytest.fixture
    def zep(server, api_key) -> "Zep":  # type: ignore[no-untyped-def]
        """A v4 client with the SDK's retries off, so error tests see each answer once."""
        return Zep(api_key=api_key, base_url=server.zep_v4_url, max_retries=0)
