"""The webhook sender (emulator/delivery.py) against a real aiohttp receiver on 127.0.0.1 that
checks every request with the ``svix`` library, as a Zep customer's endpoint would."""

from __future__ import annotations

import asyncio
import random
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, AsyncIterator, Callable

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from svix.webhooks import Webhook, WebhookVerificationError

from emulator.core.ids import IdFactory
from emulator.core.webhooks import Delivery, DeliveryFault, DeliveryState, Message, Outbox, new_secret
from emulator.delivery import DELIVERY_TIMEOUT_SECONDS, Dispatcher, deliver

SECRET = new_secret(random.Random(7))
EVENT = "ingest.batch.completed"
PAYLOAD = {"event_name": EVENT, "batch_id": "b-1", "status": "succeeded"}
HANG = -1  # a planned "status" that makes the receiver never answer


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    verified: bool


@dataclass
class Receiver:
    """Answers each request with the next planned status (200 once the plan runs out)."""

    url: str
    plan: list[int] = field(default_factory=list)
    got: list[Received] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        sent = dict(request.headers)
        try:
            Webhook(SECRET).verify(body, sent)
            verified = True
        except WebhookVerificationError:
            verified = False
        self.got.append(Received(sent, body, verified))
        self.log.append("received")
        status = self.plan.pop(0) if self.plan else 200
        if status == HANG:
            await self.release.wait()
            status = 200
        if not verified:
            status = 400
        return web.Response(status=status, headers={"Location": self.url} if 300 <= status < 400 else None)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rx = Receiver(url="")
    app = web.Application()
    app.router.add_post("/hook", rx.handle)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    rx.url = str(server.make_url("/hook"))
    yield rx
    rx.release.set()
    await server.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


class FakeSleep:
    """Records the delays asked for and returns at once (after yielding to the loop)."""

    def __init__(self, log: list[str] | None = None) -> None:
        self.delays: list[float] = []
        self.log = log

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        if self.log is not None:
            self.log.append(f"sleep {seconds:g}")
        await asyncio.sleep(0)


def one_delivery(target: str | Callable[..., Any], *, retry_delays: tuple[float, ...] = (0.0,),
                 fault: DeliveryFault | None = None) -> Delivery:
    outbox = Outbox(IdFactory(1))
    where = {"url": target} if isinstance(target, str) else {"callback": target}
    outbox.register(**where, secret=SECRET, retry_delays=retry_delays, now=datetime.now(timezone.utc))
    if fault is not None:
        outbox.fault_hook = lambda endpoint, message: fault
    (delivery,) = outbox.emit(EVENT, PAYLOAD, datetime.now(timezone.utc))
    return delivery


def statuses(delivery: Delivery) -> list[int | None]:
    return [a.status_code for a in delivery.attempts]


async def test_success_on_the_first_attempt(receiver: Receiver, session: aiohttp.ClientSession) -> None:
    delivery = one_delivery(receiver.url)
    sleep = FakeSleep()
    await deliver(delivery, session, sleep)
    assert delivery.state is DeliveryState.SUCCEEDED
    assert statuses(delivery) == [200] and delivery.attempts[0].error is None
    assert sleep.delays == []
    (got,) = receiver.got
    assert got.verified and got.body == delivery.message.body
    assert got.headers["svix-id"] == delivery.message.msg_id
    assert got.headers["Content-Type"] == "application/json"
    assert int(got.headers["svix-timestamp"]) == delivery.attempts[0].timestamp


async def test_a_500_is_retried_with_the_same_svix_id(receiver: Receiver, session: aiohttp.ClientSession) -> None:
    receiver.plan = [500, 200]
    delivery = one_delivery(receiver.url, retry_delays=(0.25, 9.0))
    sleep = FakeSleep()
    await deliver(delivery, session, sleep)
    assert delivery.state is DeliveryState.SUCCEEDED
    assert statuses(delivery) == [500, 200]
    assert [a.number for a in delivery.attempts] == [1, 2]
    assert delivery.attempts[0].error == "HTTP 500"
    assert sleep.delays == [0.25]
    assert [r.headers["svix-id"] for r in receiver.got] == [delivery.message.msg_id] * 2
    assert all(r.verified and r.body == delivery.message.body for r in receiver.got)


async def test_every_attempt_failing_ends_failed_with_each_attempt_logged(
    receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    receiver.plan = [503, 502, 500]
    delivery = one_delivery(receiver.url, retry_delays=(1.0, 5.0))
    sleep = FakeSleep()
    await deliver(delivery, session, sleep)
    assert delivery.state is DeliveryState.FAILED
    assert statuses(delivery) == [503, 502, 500]
    assert [a.error for a in delivery.attempts] == ["HTTP 503", "HTTP 502", "HTTP 500"]
    assert sleep.delays == [1.0, 5.0]  # no sleep after the last attempt
    assert len(receiver.got) == 3 and len({r.headers["svix-id"] for r in receiver.got}) == 1


async def test_a_redirect_is_a_failure_and_is_not_followed(receiver: Receiver, session: aiohttp.ClientSession) -> None:
    receiver.plan = [302]
    delivery = one_delivery(receiver.url, retry_delays=())
    await deliver(delivery, session, FakeSleep())
    assert delivery.state is DeliveryState.FAILED and statuses(delivery) == [302]
    assert len(receiver.got) == 1


async def test_a_drop_fault_sends_nothing(receiver: Receiver, session: aiohttp.ClientSession) -> None:
    delivery = one_delivery(receiver.url, fault=DeliveryFault(drop=True))
    await deliver(delivery, session, FakeSleep())
    assert delivery.state is DeliveryState.DROPPED
    assert delivery.attempts == [] and receiver.got == []


async def test_a_duplicate_fault_sends_the_identical_request_twice(
    receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    delivery = one_delivery(receiver.url, fault=DeliveryFault(duplicate=True))
    await deliver(delivery, session, FakeSleep())
    assert delivery.state is DeliveryState.SUCCEEDED
    assert statuses(delivery) == [200, 200]
    assert [(a.number, a.duplicate) for a in delivery.attempts] == [(1, False), (2, True)]
    first, second = receiver.got
    svix = ("svix-id", "svix-timestamp", "svix-signature")
    assert [first.headers[h] for h in svix] == [second.headers[h] for h in svix]
    assert first.body == second.body == delivery.message.body and first.verified and second.verified


async def test_a_delay_fault_waits_before_the_first_attempt(receiver: Receiver, session: aiohttp.ClientSession) -> None:
    gate = asyncio.Event()
    asked: list[float] = []

    async def held_sleep(seconds: float) -> None:
        asked.append(seconds)
        receiver.log.append(f"sleep {seconds:g}")
        await gate.wait()

    delivery = one_delivery(receiver.url, fault=DeliveryFault(delay_seconds=2.5))
    running = asyncio.create_task(deliver(delivery, session, held_sleep))
    await asyncio.sleep(0.05)
    assert asked == [2.5] and receiver.got == [] and delivery.state is DeliveryState.PENDING
    gate.set()
    await asyncio.wait_for(running, 5)
    assert receiver.log == ["sleep 2.5", "received"]
    assert delivery.state is DeliveryState.SUCCEEDED and statuses(delivery) == [200]


async def test_a_receiver_that_never_answers_times_out(receiver: Receiver, session: aiohttp.ClientSession) -> None:
    assert DELIVERY_TIMEOUT_SECONDS == 15.0
    receiver.plan = [HANG]
    delivery = one_delivery(receiver.url, retry_delays=())
    await deliver(delivery, session, FakeSleep(), timeout=0.2)
    assert delivery.state is DeliveryState.FAILED
    (attempt,) = delivery.attempts
    assert attempt.status_code is None and attempt.error is not None and attempt.error.startswith("timeout")
    assert 150 <= attempt.duration_ms < 2000
    assert len(receiver.got) == 1


async def test_a_refused_connection_is_a_failed_attempt(session: aiohttp.ClientSession) -> None:
    with socket.socket() as s:  # a port nothing listens on once this closes
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    delivery = one_delivery(f"http://127.0.0.1:{port}/hook", retry_delays=(0.0,))
    await deliver(delivery, session, FakeSleep())
    assert delivery.state is DeliveryState.FAILED
    assert statuses(delivery) == [None, None]
    assert all(a.error and "Connect" in a.error for a in delivery.attempts)


async def test_each_attempt_is_signed_at_its_own_time(receiver: Receiver, session: aiohttp.ClientSession) -> None:
    receiver.plan = [500]
    start = datetime.now(timezone.utc).replace(microsecond=0)
    times = iter([start, start + timedelta(seconds=7)])
    delivery = one_delivery(receiver.url)
    await deliver(delivery, session, FakeSleep(), clock=lambda: next(times))
    assert [a.timestamp for a in delivery.attempts] == [int(start.timestamp()), int(start.timestamp()) + 7]
    assert [a.at for a in delivery.attempts] == [start, start + timedelta(seconds=7)]
    first, second = receiver.got
    assert first.headers["svix-id"] == second.headers["svix-id"]
    assert first.headers["svix-signature"] != second.headers["svix-signature"]
    assert first.verified and second.verified


async def test_a_callback_endpoint_gets_the_message_and_verifiable_headers(session: aiohttp.ClientSession) -> None:
    calls: list[tuple[Message, dict[str, str]]] = []

    def callback(message: Message, sent: dict[str, str]) -> None:
        calls.append((message, sent))
        if len(calls) == 1:
            raise RuntimeError("receiver crashed")

    delivery = one_delivery(callback)
    await deliver(delivery, session, FakeSleep())
    assert delivery.state is DeliveryState.SUCCEEDED
    assert [a.error for a in delivery.attempts] == ["RuntimeError: receiver crashed", None]
    assert len(calls) == 2
    message, sent = calls[1]
    assert message is delivery.message and message.payload == PAYLOAD
    Webhook(SECRET).verify(message.body, sent)


async def test_an_async_callback_is_awaited(session: aiohttp.ClientSession) -> None:
    seen: list[str] = []

    async def callback(message: Message, sent: dict[str, str]) -> None:
        await asyncio.sleep(0)
        seen.append(sent["svix-id"])

    delivery = one_delivery(callback)
    await deliver(delivery, session, FakeSleep())
    assert seen == [delivery.message.msg_id] and delivery.state is DeliveryState.SUCCEEDED


async def test_the_dispatcher_runs_deliveries_and_waits_for_idle(receiver: Receiver) -> None:
    outbox = Outbox(IdFactory(2))
    now = datetime.now(timezone.utc)
    for _ in range(3):
        outbox.register(url=receiver.url, secret=SECRET, retry_delays=(0.0,), now=now)
    receiver.plan = [500]
    dispatcher = Dispatcher(sleep=FakeSleep())
    try:
        tasks = dispatcher.dispatch(outbox.emit(EVENT, PAYLOAD, now))
        assert len(tasks) == 3 and dispatcher.in_flight == 3
        assert await dispatcher.idle(5) is True
        assert dispatcher.in_flight == 0
        assert [d.state for d in outbox.deliveries()] == [DeliveryState.SUCCEEDED] * 3
        assert sorted(len(d.attempts) for d in outbox.deliveries()) == [1, 1, 2]
        assert len(receiver.got) == 4 and all(r.verified for r in receiver.got)
    finally:
        await dispatcher.close()


async def test_closing_the_dispatcher_cancels_what_is_in_flight(receiver: Receiver) -> None:
    receiver.plan = [HANG]
    delivery = one_delivery(receiver.url, retry_delays=())
    dispatcher = Dispatcher(sleep=FakeSleep())
    (task,) = dispatcher.dispatch([delivery])
    await _until(lambda: bool(receiver.got))
    assert await dispatcher.idle(0.05) is False
    await dispatcher.close()
    assert task.cancelled() and dispatcher.in_flight == 0
    assert delivery.state is DeliveryState.DELIVERING and delivery.attempts == []


async def _until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout)

