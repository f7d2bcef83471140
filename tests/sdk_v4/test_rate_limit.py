"""The rate-limit mode through zep-cloud 4.0.1: a 429 in v4's error shape with Retry-After, which
the SDK's own retry waits out; a refused call changes nothing and is not kept as the answer of
its Idempotency-Key."""

from __future__ import annotations

from typing import Iterator

import httpx
import pytest
from zep_cloud.client import Zep
from zep_cloud.core.api_error import ApiError

from emulator.server import BackgroundServer


@pytest.fixture
def limited(server: BackgroundServer, api_key: str) -> Iterator[None]:
    url, headers = f"{server.base_url}/_emulator/rate-limit", {"Authorization": f"Api-Key {api_key}"}
    httpx.put(url, json={"per_second": 1, "burst": 1}, headers=headers).raise_for_status()
    yield
    httpx.put(url, json={"per_second": None}, headers=headers).raise_for_status()


def test_a_429_is_in_v4_shape_and_changes_nothing(server: BackgroundServer, api_key: str, limited: None) -> None:
    zep = Zep(api_key=api_key, base_url=server.zep_v4_url, max_retries=0)
    zep.batch.create()  # the one token
    with pytest.raises(ApiError) as refused:
        zep.batch.create()
    assert refused.value.status_code == 429
    assert refused.value.headers["retry-after"] == "1" and refused.value.headers["x-ratelimit-remaining"] == "0"
    assert refused.value.body["error"]["code"] == "rate_limited"  # type: ignore[index]


def test_the_sdk_waits_out_retry_after_and_its_retry_is_not_replayed_as_429(
    server: BackgroundServer, api_key: str, limited: None
) -> None:
    zep = Zep(api_key=api_key, base_url=server.zep_v4_url)  # the SDK's default retries
    first = zep.batch.create()
    second = zep.batch.create()  # 429 Retry-After: 1, then the same request (same Idempotency-Key) again
    assert first.uuid_ != second.uuid_ and second.status == "draft"
    httpx.put(f"{server.base_url}/_emulator/rate-limit", json={"per_second": None},
              headers={"Authorization": f"Api-Key {api_key}"}).raise_for_status()
    assert len(list(zep.batch.list())) == 2  # one batch per call: the refused attempt made none
