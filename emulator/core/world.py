"""The world: the clock, the id source, the processor and every tenant, built from settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from .clock import EmulatorClock
from .ids import IdFactory
from .journal import DEFAULT_CAPACITY, Journal
from .knowledge import KnowledgeSettings, load_plugin
from .limits import DEFAULT_BODY_TIMEOUT
from .memories import Isolation
from .processor import ProcessingMode, Processor
from .reclaim import reclaim
from .temporal import Reassert
from .tenants import TenantRegistry
from .webhooks import Delivery


@dataclass
class WorldConfig:
    processing: ProcessingMode = ProcessingMode.REALTIME
    item_seconds: float = 0.01
    api_keys: list[str] | None = None
    seed: int | None = None
    reassert: Reassert = "revive"
    #: Modules whose ``register(registry)`` adds extractors and contradiction rules.
    plugins: list[str] = field(default_factory=list)
    #: The Synap isolation mode tenants start with: strict (B2B) or equals_customer (B2C).
    synap_isolation: Isolation = Isolation.STRICT
    #: How many requests the journal keeps (the newest).
    journal_capacity: int = DEFAULT_CAPACITY
    #: How long the server waits for the whole body of a mutating request (``--body-timeout``);
    #: a body still incomplete then is answered 408 and its connection closed (emulator/app.py).
    body_timeout: float = DEFAULT_BODY_TIMEOUT


class World:
    def __init__(self, config: WorldConfig | None = None) -> None:
        self.config = config or WorldConfig()
        self.clock = EmulatorClock()
        self.ids = IdFactory(self.config.seed)
        self.processor = Processor(self.clock, self.config.processing, self.config.item_seconds)
        #: The extractor registry and engine settings every graph's facts are derived with;
        #: register plug-ins on ``world.knowledge.registry``.
        self.knowledge = KnowledgeSettings(reassert=self.config.reassert)
        for name in self.config.plugins:
            load_plugin(name, self.knowledge.registry)
        self.tenants: TenantRegistry = TenantRegistry(self.clock, self.ids, self.processor, self.config.api_keys, self.knowledge,
                                      self.config.synap_isolation)
        #: Every fault rule in force (core/faults.py).
        self.faults = self.tenants.faults
        #: The requests the server answered (core/journal.py).
        self.journal = Journal(self.config.journal_capacity)
        #: Where webhook deliveries go to be sent; the app sets its sender (emulator/delivery.py).
        #: Without one, deliveries stay in the log as pending.
        self.send_webhooks: Callable[[list[Delivery]], object] = lambda deliveries: None

    def forget(self, key: str) -> int:
        """Forget one key: its fault rules (releasing what they held, so no work is left
        half-way), its journal entries, and its tenants (data, queued work, idempotency keys,
        webhooks, clock). Returns how many tenants were dropped."""
        self.faults.clear(key)
        self.journal.clear(key)
        dropped = [t for t in self.tenants.all() if t.key == key]
        for tenant in dropped:
            self.tenants.drop(tenant)
        return len(dropped)

    def reset(self) -> int:
        """Forget everything: every rule, journal entry and tenant, and put every server-wide
        setting (mode, isolation, rate limit, seed, clock) back to what the server started
        with. Returns how many tenants were dropped."""
        self.faults.clear()
        self.journal.clear()
        count = len(self.tenants.all())
        self.tenants.drop_all()
        # Before anything new is made: what outlives the reset must not land among the dropped
        # data and pin its memory (core/reclaim.py).
        reclaim()
        self.processor.default_mode = self.config.processing
        self.tenants.isolation = self.config.synap_isolation
        self.tenants.rate_limit = None
        self.reseed(self.config.seed)
        self.clock.reset()
        return count

    def reseed(self, seed: int | str | None) -> None:
        """A new server seed (None: a random one): every tenant's id stream is derived afresh
        from it and its key (as ``--seed`` does at start), and tenants made later derive theirs
        from it too."""
        self.ids = self.tenants.ids = IdFactory(seed)
        for tenant in self.tenants.all():
            tenant.reseed(self.tenants.id_stream(tenant.service, tenant.key))
