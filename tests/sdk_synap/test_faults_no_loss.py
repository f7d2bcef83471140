"""A lost answer, retried by maximem-synap 0.6.9 itself: what happens to each mutating memories
call of the Synap route table (emulator/app.py ``DIALECTS``, wire synap: ``POST
/api/v1/memories/batch`` = ``memories.batch_create`` and ``POST /api/v1/memories/create`` =
``memories.create``; the docs' ``/v1`` aliases are not what the SDK calls, and telemetry is the
SDK's own background post).

The fault: an ``after_commit`` request fault, once — the call runs and its documents are stored,
then its answer is replaced by a 503 or the connection is dropped unanswered
(emulator/core/faults.py).

What the SDK does (``maximem_synap/transport/http_client.py``, ``HTTPTransport.request`` and
``_should_retry``; synap-wire-contract.md §3.2):

- it sends no idempotency key of any kind (its own comment: "the durable fix is a
  server-honoured idempotency key ... Until the server supports one, declining the retry is the
  only client-side option");
- a 5xx is a ``ServiceUnavailableError`` with the outcome "known" (the server answered), so it
  is retried even for a POST; a connection closed before any answer ("Server disconnected") is
  a ``NetworkTimeoutError`` that it also retries for a POST (the stale keep-alive case), so
  both faults below are retried — up to ``max_attempts`` (3) with ``backoff_base`` × 2^n
  (the plugin's ``synap_sdk`` sets 0.01 s, no jitter), logging a WARNING per retry;
- a 409 is permanent (``ConflictError``, never retried).

So the retry is a second, independent submission, and the state is what the real service would
have after receiving it twice:

- a document **without** ``document_id`` is stored twice (the server assigns each copy its own
  id) — two ingestions, the same content twice in the scope's graph; the SDK's answer describes
  the second copy;
- a document **with** ``document_id`` is stored once: the retry names an id already stored,
  which ``batch_create`` answers in place as ``failed`` "document_id '<id>' already exists" (the
  call is a 200) and ``create`` answers 409, raised as ``ConflictError`` (decisions.md "Synap",
  synap-wire-contract.md §2.2: "a duplicate document_id on create gives 409 Conflict"). The
  caller is told its document failed although it is stored and processed.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from maximem_synap import ConflictError
from maximem_synap.memories.models import CreateMemoryRequest

from emulator import Emulator
from emulator.handle import Fault

from .state import episodes_of_user, stored_documents

EFFECTS = {"503": {"status": 503}, "dropped": {"drop_connection": True}}
BATCH = "/api/v1/memories/batch"
CREATE = "/api/v1/memories/create"
TEXT = "User: I work at Acme."


@pytest.fixture(params=list(EFFECTS))
def effect(request: pytest.FixtureRequest) -> dict[str, Any]:
    return EFFECTS[request.param]


@pytest.fixture
def retry_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.WARNING, logger="synap.sdk.transport.http")
    return caplog


def lose_answer(emulator: Emulator, path: str, effect: dict[str, Any]) -> Fault:
    return emulator.faults.request(method="POST", path=path, after_commit=True, times=1, **effect)


def assert_retried_once(emulator: Emulator, fault: Fault, path: str, effect: dict[str, Any], status: int,
                        retry_log: pytest.LogCaptureFixture) -> None:
    """Two attempts, the first lost to the fault and retried by the SDK itself (its WARNING
    says so), the second answered *status* by running again — no key, no replay."""
    first, retry = emulator.requests.find(method="POST", path=path)
    assert (first.status, first.fault) == (None if effect.get("drop_connection") else 503, fault.id) and fault.hits == 1
    assert (retry.status, retry.fault, retry.replayed, retry.idempotency_key) == (status, None, None, None)
    retried = [r.getMessage() for r in retry_log.records if r.name == "synap.sdk.transport.http"]
    assert len(retried) == 1 and retried[0].startswith("Request failed (attempt 1/3), retrying")


def document(document_id: str | None = None) -> CreateMemoryRequest:
    return CreateMemoryRequest(document=TEXT, user_id="u1", customer_id="c1", document_id=document_id)


async def test_batch_create_without_document_id_retried_stores_the_document_twice(
    emulator: Emulator, synap_sdk: Any, effect: dict[str, Any], retry_log: pytest.LogCaptureFixture
) -> None:
    """No ``document_id``: the retry is a new document — two stored, two ids, the content twice
    in the user's graph; the SDK's answer is the second copy, queued."""
    fault = lose_answer(emulator, BATCH, effect)
    answer = await synap_sdk.memories.batch_create([document()])
    assert (answer.succeeded, answer.failed, answer.results[0].status) == (1, 0, "queued")
    stored = stored_documents(emulator)
    assert len(stored) == 2 and stored[0]["document_id"] != stored[1]["document_id"]
    assert stored[1]["uuid"] == str(answer.results[0].ingestion_id)
    assert episodes_of_user(emulator, "c1", "u1") == [TEXT, TEXT]
    for receipt in stored:
        done = await synap_sdk.memories.status(receipt["uuid"])
        assert done.status == "completed" and done.memories_created == 1
    assert_retried_once(emulator, fault, BATCH, effect, 200, retry_log)


async def test_batch_create_with_document_id_retried_stores_it_once_and_reports_it_failed(
    emulator: Emulator, synap_sdk: Any, effect: dict[str, Any], retry_log: pytest.LogCaptureFixture
) -> None:
    """With ``document_id``: the retry's copy is refused in place ("already exists") — the SDK
    returns ``succeeded=0, failed=1`` — while the first attempt's document is stored once and
    completes with its memory."""
    fault = lose_answer(emulator, BATCH, effect)
    answer = await synap_sdk.memories.batch_create([document("doc-1")])
    (result,) = answer.results
    assert (answer.succeeded, answer.failed) == (0, 1)
    assert (result.status, result.document_id) == ("failed", "doc-1")
    assert result.error_message == "document_id 'doc-1' already exists"
    (stored,) = stored_documents(emulator)
    assert stored["document_id"] == "doc-1" and stored["uuid"] != str(result.ingestion_id)
    assert episodes_of_user(emulator, "c1", "u1") == [TEXT]
    done = await synap_sdk.memories.status(stored["uuid"])
    assert done.status == "completed" and done.memories_created == 1
    assert (await synap_sdk.memories.get(done.memory_ids[0])).content == "u1 works at Acme"
    assert_retried_once(emulator, fault, BATCH, effect, 200, retry_log)


async def test_create_with_document_id_retried_stores_it_once_and_raises_a_conflict(
    emulator: Emulator, synap_sdk: Any, effect: dict[str, Any], retry_log: pytest.LogCaptureFixture
) -> None:
    """``memories.create`` with ``document_id``: the retry gets 409 — ``ConflictError``, which the
    SDK does not retry further — and the document is stored once."""
    fault = lose_answer(emulator, CREATE, effect)
    with pytest.raises(ConflictError, match="document_id 'doc-2' already exists"):
        await synap_sdk.memories.create(document=TEXT, user_id="u1", customer_id="c1", document_id="doc-2")
    assert [d["document_id"] for d in stored_documents(emulator)] == ["doc-2"]
    assert episodes_of_user(emulator, "c1", "u1") == [TEXT]
    assert_retried_once(emulator, fault, CREATE, effect, 409, retry_log)


async def test_create_without_document_id_retried_stores_the_document_twice(
    emulator: Emulator, synap_sdk: Any, effect: dict[str, Any], retry_log: pytest.LogCaptureFixture
) -> None:
    """``memories.create`` without ``document_id``: stored twice; the SDK returns the second."""
    fault = lose_answer(emulator, CREATE, effect)
    answer = await synap_sdk.memories.create(document=TEXT, user_id="u1", customer_id="c1")
    stored = stored_documents(emulator)
    assert len(stored) == 2 and stored[1]["uuid"] == str(answer.ingestion_id) and answer.status == "queued"
    assert episodes_of_user(emulator, "c1", "u1") == [TEXT, TEXT]
    assert_retried_once(emulator, fault, CREATE, effect, 200, retry_log)
