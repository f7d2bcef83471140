"""The webhook sender: runs the deliveries that :class:`emulator.core.webhooks.Outbox` emits.

Contract facts it implements:

- At least once (decisions.md, "Webhook ``ingest.batch.completed``"): an attempt fails on a
  non-2xx answer, a connection error, or no answer within 15 s (zep-wire-contract.md §8;
  docs.svix.com "Retry Schedule": "15s with Svix", 3xx redirects count as failures, so
  redirects are not followed). A failed attempt is retried after each of the endpoint's
  ``retry_delays`` in turn.
- Every attempt carries the same ``svix-id`` and body (docs.svix.com: the id "will be the same
  when the same webhook is being resent"); each attempt is signed afresh with its own
  ``svix-timestamp``, the time the attempt is made (docs.svix.com "Why Verify Webhooks": the
  timestamp is "for when the webhook attempt occurred"). That time comes from *clock*, the
  wall clock by default, because Svix receivers reject a timestamp more than five minutes from
  their own clock; a frozen emulator clock would make every delivery fail verification.
- Faults (decided at emit time, kept on ``delivery.fault``): drop sends nothing; delay waits
  before the first attempt; duplicate sends the identical request (same id, timestamp and
  signature) once more after the first success, recorded as an extra attempt.

An in-process callback endpoint is called with the message and the headers instead of an
HTTP request; an exception (or no return within the timeout, for an async callback) is a
failed attempt.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from datetime import datetime, timezone
from typing import Awaitable, Callable, Iterable

import aiohttp

from .core.webhooks import Attempt, Delivery, DeliveryState, headers

log = logging.getLogger(__name__)

#: Seconds a receiver has to answer (zep-wire-contract.md §8, decisions.md).
DELIVERY_TIMEOUT_SECONDS = 15.0

Sleep = Callable[[float], Awaitable[object]]
WallClock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


async def deliver(
    delivery: Delivery,
    session: aiohttp.ClientSession,
    sleep: Sleep = asyncio.sleep,
    *,
    timeout: float = DELIVERY_TIMEOUT_SECONDS,
    clock: WallClock = utc_now,
) -> None:
    """Run *delivery* to the end: ``succeeded``, ``failed`` (every attempt used) or
    ``dropped``. Never raises for a receiver's failure; every attempt is appended to
    ``delivery.attempts`` as it finishes. *session* is only used for URL endpoints."""
    fault = delivery.fault
    if fault is not None and fault.drop:
        delivery.state = DeliveryState.DROPPED
        return
    if fault is not None and fault.delay_seconds > 0:
        await sleep(fault.delay_seconds)
    delivery.state = DeliveryState.DELIVERING
    delays = delivery.endpoint.retry_delays
    for number in range(1, len(delays) + 2):
        at = clock()
        sent = headers(delivery, int(at.timestamp()))
        attempt = await _attempt(delivery, session, sent, number, at, timeout)
        delivery.attempts.append(attempt)
        if attempt.ok:
            delivery.state = DeliveryState.SUCCEEDED
            if fault is not None and fault.duplicate:
                again = await _attempt(delivery, session, sent, number + 1, clock(), timeout)
                again.duplicate = True
                delivery.attempts.append(again)
            return
        log.debug("webhook %s attempt %d failed: %s", delivery.uuid, number, attempt.error or attempt.status_code)
        if number <= len(delays):
            await sleep(delays[number - 1])
    delivery.state = DeliveryState.FAILED


async def _attempt(
    delivery: Delivery,
    session: aiohttp.ClientSession,
    sent: dict[str, str],
    number: int,
    at: datetime,
    timeout: float,
) -> Attempt:
    """One send of *delivery* with the headers *sent*; never raises (but lets cancellation
    through)."""
    status: int | None = None
    error: str | None = None
    started = time.perf_counter()
    endpoint = delivery.endpoint
    try:
        if endpoint.callback is not None:
            result = endpoint.callback(delivery.message, dict(sent))
            if inspect.isawaitable(result):
                await asyncio.wait_for(result, timeout)
        else:
            assert endpoint.url is not None
            async with session.post(
                endpoint.url,
                data=delivery.message.body,
                headers=sent,
                timeout=aiohttp.ClientTimeout(total=timeout),
                allow_redirects=False,
            ) as response:
                status = response.status
                if not 200 <= status < 300:
                    error = f"HTTP {status}"
    except asyncio.TimeoutError:
        error = f"timeout: no answer within {timeout:g} s"
    except Exception as exc:  # a connection failure (aiohttp.ClientError) or a callback's own
        error = f"{type(exc).__name__}: {exc}"
    duration_ms = (time.perf_counter() - started) * 1000
    return Attempt(
        number=number, at=at, status_code=status, error=error, duration_ms=duration_ms,
        timestamp=int(sent["svix-timestamp"]),
    )


class Dispatcher:
    """Runs deliveries as tasks on the running event loop, with one shared
    :class:`aiohttp.ClientSession` made on first use. ``close`` cancels what is still in
    flight and closes the session; the dispatcher can be used again afterwards."""

    def __init__(
        self,
        *,
        sleep: Sleep = asyncio.sleep,
        timeout: float = DELIVERY_TIMEOUT_SECONDS,
        clock: WallClock = utc_now,
    ) -> None:
        self.sleep = sleep
        self.timeout = timeout
        self.clock = clock
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def in_flight(self) -> int:
        """How many deliveries have not finished yet."""
        return len(self._tasks)

    def dispatch(self, deliveries: Iterable[Delivery]) -> list[asyncio.Task[None]]:
        """Start each delivery; must be called on the event loop (from a coroutine or a
        callback running on it)."""
        loop = asyncio.get_running_loop()
        started = []
        for delivery in deliveries:
            task = loop.create_task(self._run(delivery), name=f"webhook-delivery-{delivery.uuid}")
            self._tasks.add(task)
            task.add_done_callback(self._finished)
            started.append(task)
        return started

    async def idle(self, timeout: float | None = None) -> bool:
        """Wait until no delivery is in flight (deliveries dispatched meanwhile included).
        True when idle, False if *timeout* seconds passed first."""
        deadline = None if timeout is None else asyncio.get_running_loop().time() + timeout
        while self._tasks:
            remaining = None if deadline is None else deadline - asyncio.get_running_loop().time()
            if remaining is not None and remaining <= 0:
                return False
            await asyncio.wait(set(self._tasks), timeout=remaining)
        return True

    async def close(self) -> None:
        """Cancel the deliveries in flight (they keep the state they had reached) and close
        the session."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

    async def _run(self, delivery: Delivery) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        await deliver(delivery, self._session, self.sleep, timeout=self.timeout, clock=self.clock)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("webhook delivery task failed", exc_info=task.exception())
