"""Tests through zep-cloud 3.x (wire v2). They are collected only where zep-cloud 3 is
installed (the nox session ``tests_v2``)."""

from __future__ import annotations

import os
from importlib.metadata import PackageNotFoundError, version

import pytest

# zep-cloud 3.x lets ZEP_API_URL override base_url (wire contract §6, gotcha 1).
os.environ.pop("ZEP_API_URL", None)


def _zep_major() -> str | None:
    try:
        return version("zep-cloud").split(".")[0]
    except PackageNotFoundError:
        return None


if _zep_major() != "3":
    collect_ignore_glob = ["test_*.py"]
else:
    from zep_cloud.client import Zep

    @pytest.fixture
    def zep(server, api_key) -> "Zep":  # type: ignore[no-untyped-def]
        """A v2 client (zep-cloud 3.x never retries unless asked)."""
        return Zep(api_key=api_key, base_url=server.zep_v2_url)
