"""Synap's memories API through maximem-synap 0.6.9: the seed's example, the batch limits,
fail_fast both ways, every validity rule in both isolation modes, each terminal status through
wait_for_completion, memories.get, and the errors the SDK must raise."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable

import httpx
import pytest
from maximem_synap import (
    AuthenticationError,
    ConflictError,
    ContextNotFoundError,
    InvalidInputError,
    MaximemSynapSDK,
    RateLimitError,
)
from maximem_synap.memories.models import CreateMemoryRequest

from emulator.core.processor import ProcessingMode
from emulator.core.tenants import Service
from emulator.core.world import WorldConfig
from emulator.server import BackgroundServer

from ..conftest import Control
from .conftest import Connect, sdk_config


def doc(text: str = "User: I live in Paris.", **fields: Any) -> CreateMemoryRequest:
    fields.setdefault("user_id", "user_1")
    fields.setdefault("customer_id", "cust_1")
    return CreateMemoryRequest(document=text, **fields)


async def test_the_seed_example_verbatim(sdk: MaximemSynapSDK) -> None:
    batch = await sdk.memories.batch_create(
        documents=[
            CreateMemoryRequest(
                document="User: My favorite color is blue.\nAssistant: Noted!",
                document_type="ai-chat-conversation",
                user_id="user_789",
                customer_id="cust_456",
                mode="fast",
            ),
            CreateMemoryRequest(
                document="User: I work at Acme Corp as a senior engineer.",
                document_type="ai-chat-conversation",
                user_id="user_789",
                customer_id="cust_456",
            ),
        ],
        fail_fast=False,
    )
    assert (batch.total, batch.succeeded, batch.failed) == (2, 2, 0)
    assert [r.status for r in batch.results] == ["queued", "queued"]
    facts = []
    for result in batch.results:
        status = await sdk.memories.wait_for_completion(str(result.ingestion_id), poll_interval_seconds=0.05)
        assert status.status == "completed" and status.memories_created == len(status.memory_ids) == 1
        facts.append((await sdk.memories.get(status.memory_ids[0])).content)
    assert facts == ["user_789 favorite color blue", "user_789 works at Acme Corp as senior engineer"]


async def test_a_hundred_documents_are_accepted_and_a_hundred_and_one_or_none_refused(sdk: MaximemSynapSDK) -> None:
    for count in (101, 0):
        with pytest.raises(InvalidInputError, match="1 to 100 documents"):
            await sdk.memories.batch_create([doc(f"User: I own car {i}.", document_id=f"d{i}") for i in range(count)])
    batch = await sdk.memories.batch_create([doc(f"User: I own car {i}.", document_id=f"d{i}") for i in range(100)])
    assert (batch.total, batch.succeeded, batch.failed) == (100, 100, 0)  # the refused call reserved no ids
    assert [r.document_id for r in batch.results] == [f"d{i}" for i in range(100)]


async def test_fail_fast_refuses_the_whole_call_and_without_it_the_valid_ones_go_in(sdk: MaximemSynapSDK) -> None:
    documents = [doc(document_id="a"), doc(user_id="lonely", customer_id=None, document_id="b"), doc(document_id="c")]
    with pytest.raises(InvalidInputError, match=r"documents\[1\]: user_id requires customer_id"):
        await sdk.memories.batch_create(documents, fail_fast=True)
    batch = await sdk.memories.batch_create(documents, fail_fast=False)
    assert (batch.total, batch.succeeded, batch.failed) == (3, 2, 1)
    assert [(r.document_id, r.status) for r in batch.results] == [("a", "queued"), ("b", "failed"), ("c", "queued")]
    refused = batch.results[1]
    assert "user_id requires customer_id" in (refused.error_message or "")
    polled = await sdk.memories.status(str(refused.ingestion_id))
    assert (polled.status, polled.error_message, polled.memories_created) == ("failed", refused.error_message, 0)


STRICT_RULES = [
    ({"document": ""}, "document is empty"),
    ({"user_id": "u", "customer_id": None}, "user_id requires customer_id"),
    ({"scope": {"team": "payments"}}, "scope is not accepted"),
]
B2C_RULES = [
    ({"document": ""}, "document is empty"),
    ({"customer_id": "cust_1"}, "customer_id is not accepted"),
    ({"customer_id": None, "scope": {}}, "scope is not accepted"),
]


@pytest.mark.parametrize("mode, rules, valid", [
    ("strict", STRICT_RULES, [{"user_id": "u", "customer_id": "c"}, {"user_id": None, "customer_id": "c"}, {"user_id": None, "customer_id": None}]),
    ("equals_customer", B2C_RULES, [{"user_id": "u", "customer_id": None}, {"user_id": None, "customer_id": None}]),
])
async def test_validity_rules_in_each_isolation_mode(
    connect: Connect, isolation: Callable[[str], None], mode: str, rules: list[tuple[dict[str, Any], str]],
    valid: list[dict[str, Any]],
) -> None:
    isolation(mode)
    sdk = await connect()
    base = {"document": "User: I like tea.", "user_id": "u", "customer_id": "c" if mode == "strict" else None}
    documents = [CreateMemoryRequest(**{**base, **fields}) for fields, _ in rules]
    documents += [CreateMemoryRequest(**{**base, **fields}) for fields in valid]
    batch = await sdk.memories.batch_create(documents)
    for result, (_, reason) in zip(batch.results, rules):
        assert result.status == "failed" and reason in (result.error_message or "")
    assert [r.status for r in batch.results[len(rules):]] == ["queued"] * len(valid)


async def test_duplicate_document_ids_within_a_batch_and_across_calls(sdk: MaximemSynapSDK) -> None:
    batch = await sdk.memories.batch_create([doc(document_id="x"), doc(document_id="x")])
    assert [r.status for r in batch.results] == ["queued", "failed"]
    assert "appears twice" in (batch.results[1].error_message or "")
    again = await sdk.memories.batch_create([doc(document_id="x")])
    assert "already exists" in (again.results[0].error_message or "")
    with pytest.raises(ConflictError):
        await sdk.memories.create("User: I like tea.", user_id="u", customer_id="c", document_id="x")


async def test_unknown_type_and_mode_fail_in_place_over_raw_http(server: BackgroundServer, synap_key: str) -> None:
    """The SDK's models refuse these locally, so they can only come from another client."""
    base = {"document": "hello", "user_id": "u", "customer_id": "c"}
    body = {"documents": [{**base, "document_type": "note"}, {**base, "mode": "slow"}, base], "fail_fast": False}
    answer = httpx.post(f"{server.base_url}/api/v1/memories/batch", json=body, headers={"Authorization": f"Bearer {synap_key}"})
    assert answer.status_code == 200
    results = answer.json()["results"]
    assert [r["status"] for r in results] == ["failed", "failed", "queued"]
    assert "document_type 'note'" in results[0]["error_message"] and "mode 'slow'" in results[1]["error_message"]
    alias = httpx.post(f"{server.base_url}/v1/memories", json=base, headers={"Authorization": f"Bearer {synap_key}"})
    assert alias.status_code == 200 and alias.json()["status"] == "queued"


async def test_wait_for_completion_reaches_each_terminal_status(sdk: MaximemSynapSDK) -> None:
    cases = {
        "completed": CreateMemoryRequest(document={"name": "Ann", "city": "Oslo"}, user_id="u", customer_id="c"),
        "partial_success": CreateMemoryRequest(document={"name": "Bo", "city": "Rome", "valid_from": "someday"},
                                               user_id="u", customer_id="c"),
        "failed": CreateMemoryRequest(document={"name": "Cy", "valid_from": "someday"}, user_id="u", customer_id="c"),
    }
    batch = await sdk.memories.batch_create(list(cases.values()))
    for (expected, _), result in zip(cases.items(), batch.results):
        status = await sdk.memories.wait_for_completion(str(result.ingestion_id), poll_interval_seconds=0.05)
        assert status.status == expected
        assert (status.memories_created > 0) == (expected != "failed")
        assert (status.error_message is not None) == (expected != "completed")
        assert status.completed_at is not None and status.started_at is not None


async def test_an_ingestion_is_queued_until_processing_reaches_it(
    server: BackgroundServer, synap_key: str, sdk: MaximemSynapSDK
) -> None:
    control = Control(server.base_url, synap_key)
    try:
        control.set_mode("manual")
        created = await sdk.memories.create("User: I live in Lima.", user_id="u", customer_id="c")
        assert (await sdk.memories.status(str(created.ingestion_id))).status == "queued"
        assert control.run_until_idle()["processed"] == 1
        done = await sdk.memories.wait_for_completion(str(created.ingestion_id), poll_interval_seconds=0.05)
        assert done.status == "completed" and done.memories_created == 1
    finally:
        control.close()


async def test_a_newer_document_supersedes_the_older_memory(sdk: MaximemSynapSDK) -> None:
    older = doc("User: I live in Paris.", document_created_at=datetime(2023, 1, 1, tzinfo=timezone.utc))
    newer = doc("User: I moved to Berlin.", document_created_at=datetime(2024, 6, 1, tzinfo=timezone.utc))
    batch = await sdk.memories.batch_create([newer, older])  # out of order, as a backfill may be
    ids = [(await sdk.memories.status(str(r.ingestion_id))).memory_ids[0] for r in batch.results]
    berlin, paris = [await sdk.memories.get(i) for i in ids]
    assert (berlin.content, paris.content) == ("user_1 lives in Berlin", "user_1 lives in Paris")
    assert paris.source_document_id == batch.results[1].document_id


async def test_memory_extras_carry_the_validity_interval(server: BackgroundServer, synap_key: str, sdk: MaximemSynapSDK) -> None:
    batch = await sdk.memories.batch_create([
        doc("User: I moved to Berlin.", document_created_at=datetime(2024, 6, 1, tzinfo=timezone.utc)),
        doc("User: I live in Paris.", document_created_at=datetime(2023, 1, 1, tzinfo=timezone.utc)),
    ])
    paris_id = (await sdk.memories.status(str(batch.results[1].ingestion_id))).memory_ids[0]
    raw = httpx.get(f"{server.base_url}/api/v1/memories/{paris_id}", headers={"Authorization": f"Bearer {synap_key}"}).json()
    assert (raw["valid_at"], raw["invalid_at"]) == ("2023-01-01T00:00:00Z", "2024-06-01T00:00:00Z")


async def test_unknown_ids_are_not_found(sdk: MaximemSynapSDK) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    with pytest.raises(ContextNotFoundError):
        await sdk.memories.status(missing)
    with pytest.raises(ContextNotFoundError):
        await sdk.memories.get(missing)


async def test_telemetry_is_accepted_and_kept(server: BackgroundServer, synap_key: str, connect: Connect) -> None:
    sdk = await connect()
    await sdk.memories.create("User: I like tea.", user_id="u", customer_id="c")
    await sdk.shutdown()  # the final flush posts the queued events

    def events(world: Any) -> list[str]:
        desk = world.tenants.find(Service.SYNAP, synap_key).memories
        return [e["event_type"] for post in desk.telemetry for e in post["events"]]

    assert "memory_create" in server.call(events)


async def test_a_wrong_key_is_an_authentication_error(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    with BackgroundServer(WorldConfig(processing=ProcessingMode.INSTANT, api_keys=["synap_right"])) as srv:
        sdk = MaximemSynapSDK(api_key="synap_wrong", config=sdk_config(srv.base_url), _force_new=True)
        await sdk.initialize()  # whoami's 401 is not fatal to the SDK (it logs a warning)
        try:
            with pytest.raises(AuthenticationError):
                await sdk.memories.create("User: hi.", user_id="u", customer_id="c")
        finally:
            await sdk.shutdown()


async def test_an_empty_bucket_is_a_rate_limit_error_with_its_retry_after(
    server: BackgroundServer, synap_key: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rate-limit mode answers 429 with an integer Retry-After, which the SDK raises as
    RateLimitError (retries off here: with them, it would wait and try again)."""
    monkeypatch.setenv("HOME", str(tmp_path))
    httpx.put(f"{server.base_url}/_emulator/rate-limit", json={"per_second": 0.25, "burst": 2},
              headers={"Authorization": f"Bearer {synap_key}"}).raise_for_status()
    config = sdk_config(server.base_url)
    config.retry_policy = None
    sdk = MaximemSynapSDK(api_key=synap_key, config=config, _force_new=True)
    await sdk.initialize()  # whoami takes the first token
    try:
        created = await sdk.memories.create("User: I like tea.", user_id="u", customer_id="c")
        with pytest.raises(RateLimitError) as limited:
            await sdk.memories.status(str(created.ingestion_id))
        assert limited.value.retry_after_seconds == 4
    finally:
        httpx.put(f"{server.base_url}/_emulator/rate-limit", json={"per_second": None},
                  headers={"Authorization": f"Bearer {synap_key}"}).raise_for_status()
        await sdk.shutdown()
