"""Webhooks: endpoints, Svix-style signing, and the per-tenant outbox of deliveries.

What this module reproduces (and where it comes from):

- decisions.md, row "Webhook ``ingest.batch.completed``": a signed JSON POST to each
  registered endpoint, delivered at least once (a non-2xx or no answer within 15 s is retried
  with backoff, same ``svix-id``).
- reference/zep-wire-contract.md §8 and docs.svix.com ("Verifying Webhooks Manually"): the
  headers ``svix-id`` (the message id, stable across redeliveries), ``svix-timestamp`` (unix
  seconds) and ``svix-signature`` (``v1,<base64>``); the signature is
  base64(HMAC-SHA256(key=base64decode(secret without ``whsec_``), msg=``"{id}.{timestamp}.{body}"``));
  secrets look like ``whsec_<base64>``.

This is the core: plain Python, no HTTP. It decides *what* is sent to *whom* and keeps the log
of what happened; :mod:`emulator.delivery` does the sending and fills in the attempts. The
payload is the caller's (the wire knows the Zep field names); this module only serialises it,
once, so that the bytes signed are the bytes sent.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import random
import secrets as _secrets
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Callable, Iterable
from urllib.parse import urlsplit

import orjson

from .errors import InvalidInput, NotFound
from .ids import IdFactory
from .timestamps import format_rfc3339

#: Svix's secret prefix (docs.svix.com; zep-wire-contract.md §8).
SECRET_PREFIX = "whsec_"
#: Bytes of key material in a generated secret (Svix's own secrets carry 24).
SECRET_BYTES = 24
#: Seconds between attempts: the first attempt is immediate, then one retry after each entry.
#: decisions.md only says "retried with backoff"; Svix's schedule starts 5 s, 5 min, 30 min ...
#: (docs.svix.com "Retry Schedule"), far too slow for a test double, so this is a compressed one.
DEFAULT_RETRY_DELAYS: tuple[float, ...] = (1.0, 5.0, 30.0)
#: At most this many deliveries are kept per outbox; the oldest are forgotten first.
MAX_DELIVERIES = 1000

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_MSG_ID_CHARS = 27  # Svix message ids are "msg_" + a 27-character base62 KSUID


def new_secret(rng: random.Random | None = None) -> str:
    """A Svix signing secret, ``whsec_`` + base64 of 24 random bytes.

    With *rng* the bytes come from it (seeded runs get the same secrets); without, from the
    OS's CSPRNG."""
    raw = rng.randbytes(SECRET_BYTES) if rng is not None else _secrets.token_bytes(SECRET_BYTES)
    return SECRET_PREFIX + base64.b64encode(raw).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_`` secret: the base64-decoded part after the prefix
    (docs.svix.com). Raises :class:`InvalidInput` (param ``secret``) for anything else."""
    if not isinstance(secret, str) or not secret.startswith(SECRET_PREFIX):
        raise InvalidInput("invalid_secret", f"secret must start with {SECRET_PREFIX!r}", param="secret")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX):], validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(
            "invalid_secret", f"secret: the part after {SECRET_PREFIX!r} must be base64", param="secret"
        ) from None
    if not key:
        raise InvalidInput("invalid_secret", "secret: the key after the prefix is empty", param="secret")
    return key


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``svix-signature`` header value: ``v1,`` + base64(HMAC-SHA256(key, msg)) where
    key = base64decode(secret without ``whsec_``) and msg = ``f"{msg_id}.{timestamp}."`` + body
    (docs.svix.com "Verifying Webhooks Manually"; zep-wire-contract.md §8)."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def new_msg_id(rng: random.Random) -> str:
    """A Svix-style message id: ``msg_`` + 27 base62 characters, drawn from *rng*."""
    return "msg_" + "".join(rng.choices(_BASE62, k=_MSG_ID_CHARS))


class DeliveryState(str, Enum):
    PENDING = "pending"          # emitted, not yet attempted (or waiting out a delay fault)
    DELIVERING = "delivering"    # attempts under way
    SUCCEEDED = "succeeded"      # an attempt got a 2xx (or the callback returned)
    FAILED = "failed"            # every attempt failed
    DROPPED = "dropped"          # a drop fault: nothing was sent


@dataclass(frozen=True)
class DeliveryFault:
    """What the fault book decided for one delivery: ``drop`` (send nothing),
    ``delay_seconds`` (wait before the first attempt), ``duplicate`` (after a successful
    attempt, send the identical request once more: at-least-once means receivers must
    deduplicate on ``svix-id``)."""

    drop: bool = False
    delay_seconds: float = 0.0
    duplicate: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"drop": self.drop, "delay_seconds": self.delay_seconds, "duplicate": self.duplicate}


@dataclass(frozen=True)
class Message:
    """One event, sent alike to every subscribed endpoint. ``body`` is the exact JSON that is
    signed and sent (serialised once); ``timestamp`` is the unix second of ``emit`` by the
    emulator's clock."""

    msg_id: str
    event_name: str
    payload: dict[str, Any]
    body: bytes
    timestamp: int


#: An in-process receiver: called with the message and the headers an HTTP receiver would get.
Callback = Callable[[Message, dict[str, str]], Any]


@dataclass(eq=False)
class Endpoint:
    """A registered receiver: exactly one of ``url`` (POSTed to) or ``callback`` (called in
    process, for Python tests). ``events`` None means every event. ``retry_delays``: seconds
    to wait after each failed attempt before the next one (so ``len + 1`` attempts at most)."""

    uuid: str
    url: str | None
    callback: Callback | None
    secret: str
    events: frozenset[str] | None
    retry_delays: tuple[float, ...]
    created_at: datetime

    def subscribed(self, event_name: str) -> bool:
        return self.events is None or event_name in self.events

    def to_json(self) -> dict[str, Any]:
        """The control API's form. It carries the secret (a local test double: tests need it to
        verify signatures) and never the callback object, only whether there is one."""
        return {
            "uuid": self.uuid,
            "url": self.url,
            "in_process": self.callback is not None,
            "secret": self.secret,
            "events": sorted(self.events) if self.events is not None else None,
            "retry_delays": list(self.retry_delays),
            "created_at": format_rfc3339(self.created_at),
        }


@dataclass
class Attempt:
    """One send of a delivery. ``status_code`` None: no HTTP answer (a connection error, a
    timeout, or an in-process callback); ``error`` None: no error. ``timestamp`` is the
    ``svix-timestamp`` it was signed with. ``duplicate``: the extra send of a duplicate fault."""

    number: int
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: float
    timestamp: int
    duplicate: bool = False

    @property
    def ok(self) -> bool:
        """Svix counts a 2xx as delivered, anything else (3xx included) as a failure
        (docs.svix.com "Retry Schedule")."""
        return self.error is None and (self.status_code is None or 200 <= self.status_code < 300)

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "at": format_rfc3339(self.at),
            "status_code": self.status_code,
            "error": self.error,
            "duration_ms": round(self.duration_ms, 3),
            "timestamp": self.timestamp,
            "duplicate": self.duplicate,
        }


@dataclass(eq=False)
class Delivery:
    """One message to one endpoint, and every attempt made at it."""

    uuid: str
    endpoint: Endpoint
    message: Message
    created_at: datetime
    fault: DeliveryFault | None = None
    state: DeliveryState = DeliveryState.PENDING
    attempts: list[Attempt] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "uuid": self.uuid,
            "endpoint_uuid": self.endpoint.uuid,
            "msg_id": self.message.msg_id,
            "event_name": self.message.event_name,
            "payload": self.message.payload,
            "state": self.state.value,
            "fault": self.fault.to_json() if self.fault is not None else None,
            "attempts": [attempt.to_json() for attempt in self.attempts],
            "created_at": format_rfc3339(self.created_at),
        }


def headers(delivery: Delivery, timestamp: int | None = None) -> dict[str, str]:
    """The request headers of a delivery: ``svix-id``, ``svix-timestamp``, ``svix-signature``
    (zep-wire-contract.md §8) and ``content-type: application/json``. *timestamp* defaults to
    the message's; the sender passes the time of each attempt (Svix's timestamp is "when the
    webhook attempt occurred", docs.svix.com "Why Verify Webhooks")."""
    message = delivery.message
    ts = message.timestamp if timestamp is None else timestamp
    return {
        "svix-id": message.msg_id,
        "svix-timestamp": str(ts),
        "svix-signature": sign(delivery.endpoint.secret, message.msg_id, ts, message.body),
        "content-type": "application/json",
    }


FaultHook = Callable[[Endpoint, Message], DeliveryFault | None]


class Outbox:
    """One tenant's (one API key's) webhook endpoints and the log of its deliveries.

    Every id (endpoint and delivery uuids, message ids, generated secrets) is drawn from *ids*:
    seeded, the same calls give the same ids on every run. ``fault_hook``, when set (by the
    fault book), is asked once per delivery and its answer is kept on ``delivery.fault``."""

    def __init__(self, ids: IdFactory | None = None, max_deliveries: int = MAX_DELIVERIES) -> None:
        self._ids = ids if ids is not None else IdFactory()
        self._rng = random.Random(self._ids.uuid())  # message ids and secrets: the same stream
        self._endpoints: dict[str, Endpoint] = {}
        self._deliveries: dict[str, Delivery] = {}  # insertion order: oldest first
        self.max_deliveries = max_deliveries
        self.fault_hook: FaultHook | None = None

    # -- endpoints --------------------------------------------------------------------------

    def register(
        self,
        *,
        url: str | None = None,
        callback: Callback | None = None,
        secret: str | None = None,
        events: Iterable[str] | None = None,
        retry_delays: Iterable[float] | None = None,
        now: datetime,
    ) -> Endpoint:
        """Add an endpoint. Raises :class:`InvalidInput` (and adds nothing) unless exactly one
        of *url* (http or https, with a host) and *callback* is given, *secret* (when given) is
        ``whsec_`` + base64, *events* (when given) is a non-empty set of names, and
        *retry_delays* are finite non-negative seconds. A secret is generated when None."""
        if (url is None) == (callback is None):
            raise InvalidInput("invalid_endpoint", "give exactly one of url and callback", param="url")
        if url is not None:
            _check_url(url)
        if callback is not None and not callable(callback):
            raise InvalidInput("invalid_endpoint", "callback must be callable", param="callback")
        if secret is not None:
            secret_key(secret)
        subscribed = _check_events(events)
        delays = _check_delays(retry_delays)
        endpoint = Endpoint(
            uuid=self._ids.uuid(),
            url=url,
            callback=callback,
            secret=secret if secret is not None else new_secret(self._rng),
            events=subscribed,
            retry_delays=delays,
            created_at=now,
        )
        self._endpoints[endpoint.uuid] = endpoint
        return endpoint

    def endpoints(self) -> list[Endpoint]:
        """Registered endpoints, oldest first."""
        return list(self._endpoints.values())

    def endpoint(self, uuid: str) -> Endpoint:
        try:
            return self._endpoints[uuid]
        except KeyError:
            raise NotFound("endpoint_not_found", f"no webhook endpoint {uuid!r}", param="uuid") from None

    def remove(self, uuid: str) -> Endpoint:
        """Unregister an endpoint (its past deliveries stay in the log)."""
        endpoint = self.endpoint(uuid)
        del self._endpoints[uuid]
        return endpoint

    # -- messages and deliveries ------------------------------------------------------------

    def emit(self, event_name: str, payload: dict[str, Any], now: datetime) -> list[Delivery]:
        """One :class:`Message` for *payload*, and one pending :class:`Delivery` of it per
        endpoint subscribed to *event_name*, logged and returned for the sender to run.
        No subscriber: no message, an empty list."""
        targets = [e for e in self._endpoints.values() if e.subscribed(event_name)]
        if not targets:
            return []
        message = Message(
            msg_id=new_msg_id(self._rng),
            event_name=event_name,
            payload=payload,
            body=orjson.dumps(payload),  # compact JSON, serialised once: signed bytes == sent bytes
            timestamp=int(now.timestamp()),
        )
        made = []
        for endpoint in targets:
            fault = self.fault_hook(endpoint, message) if self.fault_hook is not None else None
            delivery = Delivery(uuid=self._ids.uuid(), endpoint=endpoint, message=message, created_at=now, fault=fault)
            self._deliveries[delivery.uuid] = delivery
            made.append(delivery)
        while len(self._deliveries) > self.max_deliveries:
            del self._deliveries[next(iter(self._deliveries))]
        return made

    def deliveries(
        self, *, endpoint_uuid: str | None = None, state: DeliveryState | None = None
    ) -> list[Delivery]:
        """The logged deliveries, oldest first (newest last), optionally of one endpoint or in
        one state. At most ``max_deliveries`` are kept."""
        return [
            d
            for d in self._deliveries.values()
            if (endpoint_uuid is None or d.endpoint.uuid == endpoint_uuid) and (state is None or d.state is state)
        ]

    def delivery(self, uuid: str) -> Delivery:
        try:
            return self._deliveries[uuid]
        except KeyError:
            raise NotFound("delivery_not_found", f"no webhook delivery {uuid!r}", param="uuid") from None


def _check_url(url: str) -> None:
    try:
        parts = urlsplit(url)
        scheme, host = parts.scheme, parts.hostname
    except (TypeError, ValueError, AttributeError):  # not a string; an unbalanced "[" in the netloc
        scheme, host = None, None
    if scheme not in ("http", "https") or not host:
        raise InvalidInput("invalid_url", f"url must be an http(s) URL with a host, not {url!r}", param="url")


def _check_events(events: Iterable[str] | None) -> frozenset[str] | None:
    if events is None:
        return None
    if isinstance(events, str):  # a lone name would otherwise become a set of characters
        events = [events]
    names = frozenset(events)
    if not names or not all(isinstance(n, str) and n for n in names):
        raise InvalidInput(
            "invalid_events", "events must be non-empty event names (or omitted for every event)", param="events"
        )
    return names


def _check_delays(delays: Iterable[float] | None) -> tuple[float, ...]:
    if delays is None:
        return DEFAULT_RETRY_DELAYS
    values = tuple(delays)
    if not all(
        isinstance(d, (int, float)) and not isinstance(d, bool) and math.isfinite(d) and d >= 0 for d in values
    ):
        raise InvalidInput(
            "invalid_retry_delays", "retry_delays must be finite, non-negative seconds", param="retry_delays"
        )
    return tuple(float(d) for d in values)
