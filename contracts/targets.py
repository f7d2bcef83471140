"""Where the contract machines run: the emulator in-process (the default), or a real Zep or
Synap account given by the environment.

A *target* lives for the pytest session and hands each Hypothesis example a *session*: on the
emulator a fresh tenant (a new API key, manual processing, so the machine decides when time
passes); on a real service the same account, with a run-unique name prefix for everything the
machine creates and one budget of calls and processed items shared by the whole run.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass, field
from typing import Callable, Literal, Protocol

Api = Literal["zep_v2", "zep_v4", "synap"]

#: What a real target defaults to (the SDKs' own defaults).
ZEP_DEFAULT_BASE_URL = "https://api.getzep.com"
SYNAP_DEFAULT_BASE_URL = "https://synap-cloud-prod.maximem.ai"

#: The environment a real target reads, and what each holds.
ENVIRONMENT = {
    "zep": ("ZEP_API_KEY", "ZEP_BASE_URL"),
    "synap": ("SYNAP_API_KEY", "SYNAP_BASE_URL"),
}


class BudgetExhausted(RuntimeError):
    """Raised by a driver asked for a call the run's budget no longer allows; machines check
    :meth:`Budget.allows` in their preconditions first, so this only fires on a bug."""


@dataclass
class Budget:
    """A cap on calls and on items sent for processing, for a run against a real account
    (``None``: no cap, as on the emulator)."""

    calls: int | None = None
    items: int | None = None
    spent_calls: int = 0
    spent_items: int = 0

    def allows(self, calls: int = 1, items: int = 0) -> bool:
        return (self.calls is None or self.spent_calls + calls <= self.calls) and (
            self.items is None or self.spent_items + items <= self.items
        )

    def spend(self, calls: int = 1, items: int = 0) -> None:
        if not self.allows(calls, items):
            raise BudgetExhausted(
                f"the run's budget is spent ({self.spent_calls}/{self.calls} calls, {self.spent_items}/{self.items} items)"
            )
        self.spent_calls += calls
        self.spent_items += items


class Session(Protocol):
    """What one machine (one Hypothesis example) gets from its target."""

    target: str  # "emulator", "zep" or "synap"
    #: The emulator's control plane is there (steps, cancel, isolation modes ...).
    controllable: bool
    #: The account holds only what this session made, so listings can be compared exactly.
    exclusive: bool
    api_key: str
    budget: Budget
    #: Prefixes every name and id the machine chooses, so a real account's own data is never touched.
    prefix: str
    #: How many waits :meth:`let_time_pass` may take for one batch to finish before the machine gives up.
    patience: int

    def url(self, api: Api) -> str: ...

    def let_time_pass(self, items: int = 1) -> None:
        """Let processing move on: *items* items on the emulator, a poll interval on a real service."""

    def close(self) -> None: ...


@dataclass
class EmulatorSession:
    """A fresh tenant on the session's in-process emulator, processing ``manual``: nothing
    moves until the machine lets time pass, so every intermediate status is observable."""

    emulator: object  # emulator.Emulator (imported by the caller, not by the model)
    target: str = "emulator"
    controllable: bool = True
    exclusive: bool = True
    budget: Budget = field(default_factory=Budget)
    prefix: str = ""
    patience: int = 2_000

    @property
    def api_key(self) -> str:
        return self.emulator.api_key  # type: ignore[attr-defined,no-any-return]

    def url(self, api: Api) -> str:
        return {"zep_v2": self.emulator.zep_v2_url, "zep_v4": self.emulator.zep_v4_url,  # type: ignore[attr-defined]
                "synap": self.emulator.synap_url}[api]  # type: ignore[attr-defined]

    def let_time_pass(self, items: int = 1) -> None:
        self.emulator.step(items)  # type: ignore[attr-defined]

    def close(self) -> None:
        self.emulator.close()  # type: ignore[attr-defined]


@dataclass
class RealSession:
    """The user's real account. Time passes by waiting; the control plane is not there."""

    target: str
    api_key: str
    base_url: str
    budget: Budget
    poll_seconds: float = 2.0
    patience: int = 150  # x 2 s: five minutes for a batch to finish
    controllable: bool = False
    exclusive: bool = False
    prefix: str = field(default_factory=lambda: f"contract-{uuid.uuid4().hex[:10]}-")

    def url(self, api: Api) -> str:
        base = self.base_url.rstrip("/")
        suffix = {"zep_v2": "/api/v2", "zep_v4": "/api/v4", "synap": ""}[api]
        return base if not suffix or base.endswith(suffix) else base + suffix

    def let_time_pass(self, items: int = 1) -> None:
        time.sleep(self.poll_seconds)

    def close(self) -> None:
        pass


class Target:
    """Hands out sessions; ``make`` is the emulator factory or ``None`` for a real service."""

    def __init__(self, name: str, make: Callable[[], Session]) -> None:
        self.name = name
        self._make = make

    @property
    def real(self) -> bool:
        return self.name != "emulator"

    def session(self) -> Session:
        return self._make()


def real_target(service: str, budget: Budget) -> Target | str:
    """The real *service* from the environment, or the message saying what to set."""
    key_var, url_var = ENVIRONMENT[service]
    api_key = os.environ.get(key_var, "")
    if not api_key:
        return (f"--contract-target={service} runs against a real {service.capitalize()} account: "
                f"set {key_var} (and {url_var} for another host than the default)")
    default = ZEP_DEFAULT_BASE_URL if service == "zep" else SYNAP_DEFAULT_BASE_URL
    base_url = os.environ.get(url_var) or default
    return Target(service, lambda: RealSession(service, api_key, base_url, budget))
