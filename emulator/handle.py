"""``Emulator``: one tenant of an emulator, and every control a test needs, from Python.

The same handle is the pytest fixture ``emulator`` (emulator/pytest_plugin.py) and a context
manager outside pytest::

    with Emulator(processing="manual", seed=7) as emu:
        zep = Zep(api_key=emu.api_key, base_url=emu.zep_v4_url)
        ...
        emu.step(3)

Standing alone it starts its own server (on its own event loop in a background thread, bound
to 127.0.0.1:0) and stops it at the end; given a running ``server`` it only takes a fresh
tenant there — a new API key, so tests sharing the server cannot see each other — and resets
that tenant at the end. Everything it does to the world runs on the server's loop
(:meth:`BackgroundServer.call`), never around it, so it is safe from sync and async tests
alike. Its controls act on its own tenant only (processing, clock, seed, faults, journal,
webhooks, snapshots), exactly as the HTTP control plane does for a call that carries the
tenant's key.

Unless told otherwise the handle's tenant processes ``instant``: a batch has finished by
the time ``process`` answers. ``processing="manual"`` holds everything until :meth:`step` or
:meth:`run_until_idle`; ``"realtime"`` spends the server's item time per item.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Any, Callable, Iterable, TypeVar

from .core.clock import EmulatorClock
from .core.faults import FAULT_SPEC, ActiveFault, ItemFault, RequestFault, WebhookFault
from .core.journal import Entry, Query
from .core.memories import Isolation
from .core.processor import ProcessingMode
from .core.snapshot import dump_key, load_tenant
from .core.tenants import Service, Tenant
from .core.webhooks import Delivery, DeliveryState, Endpoint
from .core.world import World, WorldConfig
from .server import BackgroundServer
from .wire.zep_webhooks import outbox_of

T = TypeVar("T")

#: How often the ``wait_for`` helpers look again.
POLL_SECONDS = 0.005


class Emulator:
    def __init__(
        self,
        processing: str | ProcessingMode | None = None,
        seed: int | str | None = None,
        synap_isolation: str | Isolation | None = None,
        *,
        server: BackgroundServer | None = None,
        config: WorldConfig | None = None,
        api_key: str | None = None,
    ) -> None:
        if server is not None and config is not None:
            raise TypeError("give a running server or a config for a new one, not both")
        self.processing = ProcessingMode(processing) if processing is not None else ProcessingMode.INSTANT
        self.seed = seed
        self.synap_isolation = Isolation(synap_isolation) if synap_isolation is not None else None
        self._own_server = server is None
        self.server = server if server is not None else BackgroundServer(config or WorldConfig(seed=seed))
        #: The tenant's API key: Zep takes it as ``Api-Key``, Synap as ``Bearer``.
        self.api_key = api_key or f"emu-{uuid.uuid4().hex}"
        self.clock = ClockControl(self)
        self.faults = FaultControl(self)
        self.requests = RequestJournal(self)
        self.webhooks = WebhookControl(self)

    # -- life ---------------------------------------------------------------------------------

    def start(self) -> "Emulator":
        if self._own_server:
            self.server.start()
        self.call(self._configure)
        return self

    def close(self) -> None:
        if self._own_server:
            self.server.stop()
        else:
            self.call(lambda world: world.forget(self.api_key))

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _configure(self, world: World) -> None:
        """The tenants of the key (Zep and Synap), set as asked; done again by :meth:`reset`."""
        for service in Service:
            tenant = world.tenants.get(service, self.api_key)
            tenant.set_mode(self.processing)
            if self.seed is not None:
                tenant.seed(self.seed)
            if self.synap_isolation is not None and tenant.memories is not None:
                tenant.memories.isolation = self.synap_isolation

    def reset(self) -> None:
        """Forget everything of this tenant (data, queued work, faults, journal, webhooks,
        clock) and start it afresh with the same settings and key."""
        self.call(lambda world: (world.forget(self.api_key), self._configure(world)))

    # -- where things are ---------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def zep_v2_url(self) -> str:
        """``base_url`` for zep-cloud 3.x (wire v2)."""
        return self.server.zep_v2_url

    @property
    def zep_v4_url(self) -> str:
        """``base_url`` for zep-cloud 4.x (wire v4)."""
        return self.server.zep_v4_url

    @property
    def synap_url(self) -> str:
        """``api_base_url`` for maximem-synap (it adds ``/api/v1`` itself)."""
        return self.server.base_url

    def call(self, fn: Callable[[World], T]) -> T:
        """Run ``fn(world)`` on the server's loop and return its result."""
        return self.server.call(fn)

    def tenants(self, world: World) -> list[Tenant]:
        return [t for t in (world.tenants.find(s, self.api_key) for s in Service) if t is not None]

    def tenant(self, world: World, service: Service = Service.ZEP) -> Tenant:
        return world.tenants.get(service, self.api_key)

    # -- processing ---------------------------------------------------------------------------

    def step(self, items: int = 1) -> int:
        """Process up to *items* queued items of this tenant; returns how many it processed."""
        if items < 1:
            raise ValueError("step at least one item")
        return self.call(lambda world: world.processor.step(items, [t.work for t in self.tenants(world)]))

    def run_until_idle(self) -> int:
        """Process everything this tenant has queued; returns how many items that was."""
        return self.call(lambda world: world.processor.run_until_idle([t.work for t in self.tenants(world)]))

    def pending(self) -> int:
        return self.call(lambda world: world.processor.pending([t.work for t in self.tenants(world)]))

    def set_rate_limit(self, per_second: float | None, burst: int = 1) -> None:
        """The rate-limit mode for this tenant: a full token bucket of *burst* tokens refilled at
        *per_second* on the tenant's clock (a request finding it empty gets a 429 with
        ``Retry-After``); None turns it off."""
        self.call(lambda world: [t.limit_rate(per_second, burst) for t in self.tenants(world)])

    def set_processing(self, mode: str | ProcessingMode) -> None:
        self.processing = ProcessingMode(mode)
        self.call(lambda world: [t.set_mode(self.processing) for t in self.tenants(world)])

    # -- snapshots ----------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """This tenant's state as versioned JSON data (core/snapshot)."""
        return self.call(lambda world: dump_key(world, self.api_key))

    def restore(self, state: dict[str, Any]) -> None:
        """Replace this tenant's state with *state* (a :meth:`snapshot`, possibly of another
        key or another server): reads through the SDKs then give back what was there."""
        self.call(lambda world: load_tenant(world, state, self.api_key))


class ClockControl:
    """This tenant's clock. Reading follows the server's clock until the test sets its own
    (freeze, advance, tick); from then on only this tenant's time is changed."""

    def __init__(self, emu: Emulator) -> None:
        self._emu = emu

    def _own(self, world: World) -> EmulatorClock:
        return world.tenants.clock_of(self._emu.api_key).own()

    def now(self) -> datetime:
        return self._emu.call(lambda world: world.tenants.clock_of(self._emu.api_key).now())

    def freeze(self, at: datetime | None = None) -> datetime:
        """Stop the clock (at *at*, timezone-aware, or where it stands); returns the instant."""
        return self._emu.call(lambda world: self._own(world).freeze(at))

    def unfreeze(self) -> None:
        self._emu.call(lambda world: self._own(world).unfreeze())

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward (frozen or not); returns the new reading."""
        return self._emu.call(lambda world: self._own(world).advance(seconds))

    def tick(self, seconds: float) -> None:
        """Move the clock *seconds* forward each time the processor finishes an item."""

        def set_tick(world: World) -> None:
            self._own(world).tick = seconds

        self._emu.call(set_tick)


class Fault:
    """A rule this tenant added; its counters are read live."""

    def __init__(self, emu: Emulator, fault_id: str) -> None:
        self._emu = emu
        self.id = fault_id

    def _get(self, world: World) -> ActiveFault:
        return world.faults.get(self.id, self._emu.api_key)

    @property
    def hits(self) -> int:
        """How many times the fault fired."""
        return self._emu.call(lambda world: self._get(world).hits)

    @property
    def held(self) -> list[str]:
        """The uuids of the items a ``hold`` rule keeps in processing now."""
        return self._emu.call(lambda world: [item.uuid for _, item in self._get(world).held])

    def release(self) -> list[str]:
        """End the hold on the items this rule keeps; returns their uuids."""

        return self._emu.call(lambda world: world.faults.release(self._get(world)))

    def remove(self) -> None:
        self._emu.call(lambda world: world.faults.remove(self._get(world)))

    def __repr__(self) -> str:
        return f"Fault({self.id!r})"


class FaultControl:
    """Fault rules for this tenant (core/faults.py has every field)."""

    def __init__(self, emu: Emulator) -> None:
        self._emu = emu

    def add(self, rule: dict[str, Any] | RequestFault | ItemFault | WebhookFault) -> Fault:
        spec = rule if isinstance(rule, (RequestFault, ItemFault, WebhookFault)) else FAULT_SPEC.validate_python(rule)
        fault_id = self._emu.call(lambda world: world.faults.add(spec, self._emu.api_key).id)
        return Fault(self._emu, fault_id)

    def request(self, **fields: Any) -> Fault:
        """A request fault, e.g. ``request(method="POST", path="/api/v4/batches/*/items",
        status=503, after_commit=True, times=1)``."""
        return self.add(RequestFault(**fields))

    def item(self, **fields: Any) -> Fault:
        """An item fault, e.g. ``item(sequence_index=6, code="boom", message="...")`` or
        ``item(document_id="d1", action="hold")``."""
        return self.add(ItemFault(**fields))

    def webhook(self, **fields: Any) -> Fault:
        """A webhook fault, e.g. ``webhook(action="duplicate", times=1)``."""
        return self.add(WebhookFault(**fields))

    def list(self) -> list[dict[str, Any]]:
        return self._emu.call(lambda world: [f.to_json() for f in world.faults.listed(self._emu.api_key)])

    def clear(self) -> None:
        """Remove this tenant's rules (releasing what they held)."""
        self._emu.call(lambda world: world.faults.clear(self._emu.api_key))


class RequestJournal:
    """This tenant's calls, as the server's journal has them (core/journal.py ``Entry``)."""

    def __init__(self, emu: Emulator) -> None:
        self._emu = emu

    def find(self, method: str | None = None, path: str | None = None, api: str | None = None,
             status: int | None = None) -> list[Entry]:
        """Matching calls, oldest first (``path`` is a glob, ``*`` crossing ``/``)."""
        query = Query(method=method, path=path, api=api, status=status, tenant=self._emu.api_key)
        return self._emu.call(lambda world: world.journal.find(query))

    def all(self) -> list[Entry]:
        return self.find()

    def wait_for(self, predicate: Callable[[Entry], bool], timeout: float = 5.0) -> Entry:
        """The first call (oldest first) that satisfies *predicate*, waiting up to *timeout*
        seconds for it to arrive; TimeoutError naming the last calls seen otherwise."""
        return _wait(lambda: next((e for e in self.all() if predicate(e)), None), timeout,
                     lambda: f"no request matched within {timeout} s; last: {[(e.method, e.path, e.status) for e in self.all()[-5:]]}")

    def clear(self) -> None:
        self._emu.call(lambda world: world.journal.clear(self._emu.api_key))


class WebhookControl:
    """This tenant's webhook endpoints (Zep's ``ingest.batch.completed``) and deliveries."""

    def __init__(self, emu: Emulator) -> None:
        self._emu = emu

    def register(self, url: str | None = None, *, callback: Callable[..., Any] | None = None, secret: str | None = None,
                 events: Iterable[str] | None = None, retry_delays: Iterable[float] | None = None) -> Endpoint:
        """An endpoint: a *url* the server POSTs to, or an in-process *callback* called as
        ``callback(message, headers)`` on the server's thread (an async one is awaited on its
        loop). The returned endpoint carries its ``secret``."""

        def register(world: World) -> Endpoint:
            tenant = self._emu.tenant(world)
            outbox = outbox_of(tenant, world.send_webhooks)
            return outbox.register(url=url, callback=callback, secret=secret, events=events, retry_delays=retry_delays,
                                   now=tenant.clock.now())

        return self._emu.call(register)

    def deliveries(self, state: str | DeliveryState | None = None) -> list[Delivery]:
        wanted = DeliveryState(state) if state is not None else None

        def deliveries(world: World) -> list[Delivery]:
            outbox = self._emu.tenant(world).outbox
            return [] if outbox is None else outbox.deliveries(state=wanted)

        return self._emu.call(deliveries)

    def wait_for(self, predicate: Callable[[Delivery], bool] | None = None, timeout: float = 5.0) -> Delivery:
        """The first delivery that has ended (succeeded, failed or dropped) and satisfies
        *predicate*, waiting up to *timeout* seconds; TimeoutError otherwise."""
        ended = {DeliveryState.SUCCEEDED, DeliveryState.FAILED, DeliveryState.DROPPED}

        def find() -> Delivery | None:
            return next((d for d in self.deliveries() if d.state in ended and (predicate is None or predicate(d))), None)

        return _wait(find, timeout, lambda: f"no webhook delivery ended as wanted within {timeout} s: "
                                            f"{[(d.message.event_name, d.state.value) for d in self.deliveries()]}")


def _wait(find: Callable[[], T | None], timeout: float, describe: Callable[[], str]) -> T:
    deadline = time.monotonic() + timeout
    while True:
        found = find()
        if found is not None:
            return found
        if time.monotonic() >= deadline:
            raise TimeoutError(describe())
        time.sleep(POLL_SECONDS)
