"""The webhook outbox and Svix signing (core/webhooks.py), checked against the published
algorithm through the ``svix`` library's own verifier."""

from __future__ import annotations

import base64
import random
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from svix.webhooks import Webhook, WebhookVerificationError

from emulator.core.errors import InvalidInput, NotFound
from emulator.core.ids import IdFactory
from emulator.core.webhooks import (
    DEFAULT_RETRY_DELAYS,
    Attempt,
    DeliveryFault,
    DeliveryState,
    Endpoint,
    Message,
    Outbox,
    headers,
    new_secret,
    sign,
)

T0 = datetime(2030, 1, 1, tzinfo=timezone.utc)
EVENT = "ingest.batch.completed"


def _now() -> datetime:
    """Svix's verifier refuses timestamps more than five minutes from the wall clock."""
    return datetime.now(timezone.utc)


def test_a_signature_verifies_with_the_svix_library_and_a_tampered_body_does_not() -> None:
    outbox = Outbox()
    endpoint = outbox.register(url="http://127.0.0.1:9/hook", now=T0)
    (delivery,) = outbox.emit(EVENT, {"event_name": EVENT, "status": "succeeded"}, _now())
    sent = headers(delivery)
    assert set(sent) == {"svix-id", "svix-timestamp", "svix-signature", "content-type"}
    assert sent["content-type"] == "application/json"
    assert sent["svix-id"] == delivery.message.msg_id
    assert delivery.message.body == b'{"event_name":"ingest.batch.completed","status":"succeeded"}'
    Webhook(endpoint.secret).verify(delivery.message.body, sent)  # raises if wrong
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint.secret).verify(delivery.message.body.replace(b"succeeded", b"failed"), sent)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(delivery.message.body, sent)


def test_sign_matches_a_known_vector() -> None:
    # Key bytes 0..23, fixed id, timestamp and body; the value is HMAC-SHA256 computed by the
    # svix library, so this pins the exact string format ("v1," + standard base64).
    secret = "whsec_" + base64.b64encode(bytes(range(24))).decode()
    body = b'{"a":1}'
    expected = Webhook(secret).sign("msg_x", datetime.fromtimestamp(1_700_000_000, timezone.utc), body.decode())
    assert sign(secret, "msg_x", 1_700_000_000, body) == expected
    assert sign(secret, "msg_x", 1_700_000_001, body) != expected
    assert re.fullmatch(r"v1,[A-Za-z0-9+/]{43}=", expected)


def test_a_per_attempt_timestamp_is_signed_in() -> None:
    outbox = Outbox()
    endpoint = outbox.register(callback=lambda message, headers: None, now=T0)
    (delivery,) = outbox.emit(EVENT, {"x": 1}, T0)
    later = int(_now().timestamp())
    sent = headers(delivery, later)
    assert sent["svix-timestamp"] == str(later) != str(delivery.message.timestamp)
    assert delivery.message.timestamp == int(T0.timestamp())
    Webhook(endpoint.secret).verify(delivery.message.body, sent)


def test_secrets_are_whsec_and_24_bytes_of_base64_and_seedable() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret[len("whsec_"):], validate=True)) == 24
    assert new_secret() != secret
    assert new_secret(random.Random(3)) == new_secret(random.Random(3)) != new_secret(random.Random(4))


def test_a_given_secret_is_kept_and_a_missing_one_generated() -> None:
    outbox = Outbox()
    mine = "whsec_" + base64.b64encode(b"k" * 32).decode()
    assert outbox.register(url="https://example.test/h", secret=mine, now=T0).secret == mine
    generated = outbox.register(url="https://example.test/h", now=T0).secret
    assert generated.startswith("whsec_") and generated != mine


@pytest.mark.parametrize(
    "kwargs, code, param",
    [
        ({}, "invalid_endpoint", "url"),
        ({"url": "https://example.test/h", "callback": print}, "invalid_endpoint", "url"),
        ({"url": "ftp://example.test/h"}, "invalid_url", "url"),
        ({"url": "http:///no-host"}, "invalid_url", "url"),
        ({"url": "example.test/h"}, "invalid_url", "url"),
        ({"url": "http://[::1/h"}, "invalid_url", "url"),
        ({"url": 42}, "invalid_url", "url"),
        ({"callback": "not callable"}, "invalid_endpoint", "callback"),
        ({"url": "http://h", "secret": "sk_abc"}, "invalid_secret", "secret"),
        ({"url": "http://h", "secret": "whsec_not base64!"}, "invalid_secret", "secret"),
        ({"url": "http://h", "secret": "whsec_"}, "invalid_secret", "secret"),
        ({"url": "http://h", "events": []}, "invalid_events", "events"),
        ({"url": "http://h", "events": [""]}, "invalid_events", "events"),
        ({"url": "http://h", "retry_delays": [1, -1]}, "invalid_retry_delays", "retry_delays"),
        ({"url": "http://h", "retry_delays": [float("inf")]}, "invalid_retry_delays", "retry_delays"),
    ],
)
def test_bad_registrations_are_refused_and_change_nothing(kwargs: dict[str, Any], code: str, param: str) -> None:
    outbox = Outbox()
    with pytest.raises(InvalidInput) as refused:
        outbox.register(**kwargs, now=T0)
    assert (refused.value.code, refused.value.param) == (code, param)
    assert outbox.endpoints() == []


def test_endpoints_list_and_remove() -> None:
    outbox = Outbox()
    a = outbox.register(url="http://127.0.0.1:1/a", now=T0)
    b = outbox.register(url="http://127.0.0.1:1/b", events=EVENT, retry_delays=(0.1,), now=T0)
    assert outbox.endpoints() == [a, b]
    assert b.events == frozenset({EVENT}) and b.retry_delays == (0.1,)
    assert a.events is None and a.retry_delays == DEFAULT_RETRY_DELAYS
    assert outbox.remove(a.uuid) is a
    assert outbox.endpoints() == [b]
    with pytest.raises(NotFound) as missing:
        outbox.remove(a.uuid)
    assert missing.value.code == "endpoint_not_found"
    assert outbox.emit(EVENT, {}, T0)[0].endpoint is b  # a removed endpoint gets nothing new


def test_only_subscribed_endpoints_get_a_delivery_of_one_shared_message() -> None:
    outbox = Outbox()
    every = outbox.register(url="http://127.0.0.1:1/all", now=T0)
    batches = outbox.register(url="http://127.0.0.1:1/b", events=[EVENT], now=T0)
    episodes = outbox.register(url="http://127.0.0.1:1/e", events=["episode.processed"], now=T0)
    made = outbox.emit(EVENT, {"n": 1}, T0)
    assert [d.endpoint for d in made] == [every, batches]
    assert made[0].message is made[1].message and made[0].uuid != made[1].uuid
    assert all(d.state is DeliveryState.PENDING and d.attempts == [] for d in made)
    assert [d.endpoint for d in outbox.emit("episode.processed", {}, T0)] == [every, episodes]
    assert outbox.emit("byom.rate_limited", {}, T0)[0].endpoint is every
    outbox.remove(every.uuid)
    assert outbox.emit("byom.rate_limited", {}, T0) == []
    assert len(outbox.deliveries()) == 5
    assert [d.endpoint for d in outbox.deliveries(endpoint_uuid=batches.uuid)] == [batches]


def test_the_log_keeps_the_newest_deliveries_and_finds_them_by_uuid() -> None:
    outbox = Outbox(max_deliveries=1000)
    outbox.register(url="http://127.0.0.1:1/h", now=T0)
    made = [outbox.emit(EVENT, {"i": i}, T0)[0] for i in range(1005)]
    kept = outbox.deliveries()
    assert len(kept) == 1000
    assert [d.message.payload["i"] for d in kept] == list(range(5, 1005))  # newest last
    assert outbox.delivery(made[-1].uuid) is made[-1]
    with pytest.raises(NotFound):
        outbox.delivery(made[0].uuid)
    made[-1].state = DeliveryState.FAILED
    assert outbox.deliveries(state=DeliveryState.FAILED) == [made[-1]]


def test_seeded_outboxes_draw_the_same_ids_and_secrets() -> None:
    def run(seed: int | None) -> list[str]:
        outbox = Outbox(IdFactory(seed))
        endpoint = outbox.register(url="http://127.0.0.1:1/h", now=T0)
        deliveries = outbox.emit(EVENT, {}, T0) + outbox.emit(EVENT, {}, T0)
        return [endpoint.uuid, endpoint.secret] + [x for d in deliveries for x in (d.uuid, d.message.msg_id)]

    first = run(42)
    assert run(42) == first
    assert run(43) != first
    assert run(None) != run(None)
    for msg_id in first[3::2]:
        assert re.fullmatch(r"msg_[0-9A-Za-z]{27}", msg_id)
    assert first[3] != first[5]


def test_the_fault_hook_is_asked_per_endpoint_and_recorded() -> None:
    outbox = Outbox()
    a = outbox.register(url="http://127.0.0.1:1/a", now=T0)
    b = outbox.register(url="http://127.0.0.1:1/b", now=T0)
    asked: list[tuple[str, str]] = []

    def hook(endpoint: Endpoint, message: Message) -> DeliveryFault | None:
        asked.append((endpoint.uuid, message.event_name))
        return DeliveryFault(drop=True) if endpoint is a else None

    outbox.fault_hook = hook
    made = outbox.emit(EVENT, {}, T0)
    assert asked == [(a.uuid, EVENT), (b.uuid, EVENT)]
    assert [d.fault for d in made] == [DeliveryFault(drop=True), None]


def test_json_forms_are_snake_case_with_the_secret_and_without_the_callback() -> None:
    outbox = Outbox()
    callback_endpoint = outbox.register(callback=lambda m, h: None, events=["b", EVENT], retry_delays=[0, 2], now=T0)
    assert callback_endpoint.to_json() == {
        "uuid": callback_endpoint.uuid,
        "url": None,
        "in_process": True,
        "secret": callback_endpoint.secret,
        "events": ["b", EVENT],
        "retry_delays": [0.0, 2.0],
        "created_at": "2030-01-01T00:00:00Z",
    }
    (delivery,) = outbox.emit(EVENT, {"k": "v"}, T0)
    delivery.fault = DeliveryFault(delay_seconds=0.5)
    delivery.attempts.append(
        Attempt(number=1, at=T0 + timedelta(seconds=1), status_code=500, error="HTTP 500", duration_ms=1.23456,
                timestamp=1_893_456_001)
    )
    assert not delivery.attempts[0].ok
    assert delivery.to_json() == {
        "uuid": delivery.uuid,
        "endpoint_uuid": callback_endpoint.uuid,
        "msg_id": delivery.message.msg_id,
        "event_name": EVENT,
        "payload": {"k": "v"},
        "state": "pending",
        "fault": {"drop": False, "delay_seconds": 0.5, "duplicate": False},
        "attempts": [{"number": 1, "at": "2030-01-01T00:00:01Z", "status_code": 500, "error": "HTTP 500",
                      "duration_ms": 1.235, "timestamp": 1_893_456_001, "duplicate": False}],
        "created_at": "2030-01-01T00:00:00Z",
    }


@pytest.mark.parametrize("status, ok", [(200, True), (204, True), (299, True), (301, False), (404, False), (500, False)])
def test_only_a_2xx_is_a_successful_attempt(status: int, ok: bool) -> None:
    assert Attempt(1, T0, status, None, 1.0, 0).ok is ok
