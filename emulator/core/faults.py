"""Fault rules: what a test makes go wrong, as data.

A rule says what it matches, what happens, and how often. Three kinds:

- ``request``: an HTTP call to a service API (never the control plane), matched by method,
  path (a shell-style glob, ``*`` crossing ``/``: ``/api/v4/batches/*/items``) and API; it
  answers a status with that API's own error body (and ``Retry-After`` when asked), adds
  latency, or drops the connection — before the handler runs (nothing changes) or, with
  ``after_commit``, after it ran and its change is kept: the case idempotency keys exist for.
- ``item``: a batch item (or Synap document) when the processor reaches it, matched by batch,
  ``sequence_index`` (alias ``index``: a document's position among the valid ones of its
  ``documents``, the only ones queued), graph (uuid,
  ``graph_id`` or owning ``user_id``), ``document_id`` or a regular expression searched in its
  content; it fails (with ``code`` and ``message``, writing nothing), is skipped, or stays in
  ``processing`` — its graph's later items waiting behind it, per-graph order being the
  contract — until the rule is released or cleared.
- ``webhook``: a delivery of an event, matched by event name and endpoint URL (glob); it is
  dropped, delayed, or delivered twice with the same ``svix-id``.

How often: every time (default), ``times`` times, and/or with ``probability`` drawn from a
random stream seeded by ``seed`` or, without one, by the rule itself: its JSON and how many
rules its tenant (or, for a server-wide rule, the server) had made before it since the last
clear. Nothing else — not the server's seed, which is random unless given, nor how many rules
other tests made — so a probabilistic fault fires on the same calls in every run, under a
session-wide server and ``pytest -n`` alike. A rule made through a tenant's
key applies to that tenant only; an exhausted rule stays listed, with its ``hits``, until
cleared, so a test can check that it fired.
"""

from __future__ import annotations

import fnmatch
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, Literal, Optional, Protocol, Union

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    TypeAdapter,
    field_validator,
    model_validator,
)

from .errors import NotFound

if TYPE_CHECKING:
    from .batches import Item


class Holder(Protocol):
    """What holds an item for a rule (a tenant): it can finish the item when the hold ends."""

    def release(self, item: "Item") -> None: ...


class _Rule(BaseModel):
    """Numbers and flags are strict: ``true`` is not a count, nor ``"503"`` a status (the JSON
    types the OpenAPI document gives them)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)  # schema made on first use
    #: Fire at most this many times (None: every time it matches).
    times: Optional[StrictInt] = Field(default=None, ge=1)
    #: Fire on each match with this probability, from the rule's seeded stream.
    probability: Optional[StrictFloat] = Field(default=None, gt=0, le=1, allow_inf_nan=False)
    seed: Optional[StrictInt] = None


class RequestFault(_Rule):
    kind: Literal["request"] = "request"
    method: Optional[str] = None
    path: Optional[str] = Field(default=None, min_length=1)
    #: ``zep-v2``, ``zep-v4`` or ``synap`` (the docs' ``/v1`` aliases count as synap).
    api: Optional[Literal["zep-v2", "zep-v4", "synap"]] = None
    status: Optional[StrictInt] = Field(default=None, ge=400, le=599)
    code: Optional[str] = Field(default=None, min_length=1)
    message: Optional[str] = Field(default=None, min_length=1)
    retry_after: Optional[StrictInt] = Field(default=None, ge=0, le=86_400)
    latency_ms: StrictFloat = Field(default=0.0, ge=0, le=60_000, allow_inf_nan=False)
    drop_connection: StrictBool = False
    after_commit: StrictBool = False

    @model_validator(mode="after")
    def _one_effect(self) -> "RequestFault":
        if self.status is not None and self.drop_connection:
            raise ValueError("a request fault answers a status or drops the connection, not both")
        if self.status is None and not self.drop_connection and not self.latency_ms:
            raise ValueError("a request fault needs an effect: status, drop_connection or latency_ms")
        if self.after_commit and self.status is None and not self.drop_connection:
            raise ValueError("after_commit needs status or drop_connection")
        if self.status is None and (self.code or self.message or self.retry_after is not None):
            raise ValueError("code, message and retry_after go with a status")
        return self

    def matches(self, method: str, path: str, api: str) -> bool:
        return (
            (self.method is None or self.method.upper() == method)
            and (self.api is None or self.api == api)
            and (self.path is None or fnmatch.fnmatchcase(path, self.path))
        )


class ItemFault(_Rule):
    kind: Literal["item"] = "item"
    batch: Optional[str] = None
    sequence_index: Optional[StrictInt] = Field(default=None, ge=0, validation_alias=AliasChoices("sequence_index", "index"))
    graph: Optional[str] = None
    document_id: Optional[str] = None
    #: A regular expression searched in the item's content.
    content: Optional[str] = None
    action: Literal["fail", "skip", "hold"] = "fail"
    code: str = Field(default="injected_failure", min_length=1)
    message: str = Field(default="the item failed by an injected fault", min_length=1)

    @field_validator("content")
    @classmethod
    def _compiles(cls, pattern: Optional[str]) -> Optional[str]:
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"content is not a regular expression: {exc}") from None
        return pattern

    def matches(self, item: "Item") -> bool:
        sent, graph = item.input, item.graph
        if self.batch is not None and item.batch.uuid != self.batch:
            return False
        if self.sequence_index is not None and item.sequence_index != self.sequence_index:
            return False
        if self.document_id is not None and sent.document_id != self.document_id:
            return False
        if self.graph is not None:
            user = graph.user if graph is not None else None
            names = () if graph is None else (graph.uuid, graph.graph_id, user.user_id if user is not None else None)
            if self.graph not in names:
                return False
        return self.content is None or re.search(self.content, sent.data) is not None


class WebhookFault(_Rule):
    kind: Literal["webhook"] = "webhook"
    event: Optional[str] = None
    url: Optional[str] = None
    action: Literal["drop", "delay", "duplicate"] = "drop"
    delay_seconds: StrictFloat = Field(default=0.0, ge=0, le=3600, allow_inf_nan=False)

    @model_validator(mode="after")
    def _delay_has_seconds(self) -> "WebhookFault":
        if (self.action == "delay") != (self.delay_seconds > 0):
            raise ValueError("delay_seconds > 0 goes with action 'delay', and only with it")
        return self

    def matches(self, event: str, url: str | None) -> bool:
        return (self.event is None or self.event == event) and (
            self.url is None or (url is not None and fnmatch.fnmatchcase(url, self.url))
        )


FaultSpec = Annotated[Union[RequestFault, ItemFault, WebhookFault], Field(discriminator="kind")]
#: Validates a rule from JSON data; ``kind`` picks the type.
FAULT_SPEC: TypeAdapter[RequestFault | ItemFault | WebhookFault] = TypeAdapter(FaultSpec, config=ConfigDict(defer_build=True))


@dataclass(eq=False)
class ActiveFault:
    """A rule in force: its spec, whom it applies to, and what it has done."""

    id: str
    spec: RequestFault | ItemFault | WebhookFault
    #: The API key whose tenant it applies to; None: every tenant.
    tenant: str | None
    rng: random.Random
    hits: int = 0
    #: What a ``hold`` rule keeps in processing until released: (the tenant, the item).
    held: list[tuple["Holder", "Item"]] = field(default_factory=list)

    @property
    def exhausted(self) -> bool:
        return self.spec.times is not None and self.hits >= self.spec.times

    def fire(self) -> bool:
        """Called on a match: whether the fault happens this time (and count it if so)."""
        if self.exhausted:
            return False
        if self.spec.probability is not None and self.rng.random() >= self.spec.probability:
            return False
        self.hits += 1
        return True

    def applies_to(self, tenant: str | None) -> bool:
        return self.tenant is None or self.tenant == tenant

    def to_json(self) -> dict[str, Any]:
        spec = self.spec.model_dump(exclude_defaults=True)
        spec["kind"] = self.spec.kind
        remaining = None if self.spec.times is None else max(self.spec.times - self.hits, 0)
        return {"id": self.id, "scope": "server" if self.tenant is None else "tenant", "rule": spec, "hits": self.hits,
                "remaining": remaining, "held": [item.uuid for _, item in self.held]}


class FaultBook:
    """Every rule in force in a world, by kind, in the order added (the first that matches and
    fires wins)."""

    def __init__(self) -> None:
        self._next = 1
        #: How many rules each tenant (None: the server) has made since its rules were last
        #: cleared: the ordinal an unseeded rule's stream is drawn from.
        self._made: Counter[str | None] = Counter()
        self.rules: dict[str, ActiveFault] = {}
        #: Item rules alone, so the processor's hot path pays one truth test when there are none.
        self.item_rules: list[ActiveFault] = []

    def add(self, spec: RequestFault | ItemFault | WebhookFault, tenant: str | None) -> ActiveFault:
        fault_id = f"flt_{self._next}"
        self._next += 1
        ordinal = self._made[tenant]
        self._made[tenant] += 1
        scope = "server" if tenant is None else "tenant"
        rng = random.Random(spec.seed if spec.seed is not None else f"{scope}/{ordinal}/{spec.model_dump_json()}")
        fault = ActiveFault(fault_id, spec, tenant, rng)
        self.rules[fault_id] = fault
        if isinstance(spec, ItemFault):
            self.item_rules.append(fault)
        return fault

    def listed(self, tenant: str | None = None) -> list[ActiveFault]:
        """Every rule (None), or those a tenant's key made."""
        return [f for f in self.rules.values() if tenant is None or f.tenant == tenant]

    def get(self, fault_id: str, tenant: str | None = None) -> ActiveFault:
        fault = self.rules.get(fault_id)
        if fault is None or (tenant is not None and fault.tenant != tenant):
            raise NotFound("fault_not_found", f"no fault {fault_id!r}")
        return fault

    @staticmethod
    def release(fault: ActiveFault) -> list[str]:
        """End the hold of *fault* on the items it keeps (each processed as it would have been,
        by the tenant that holds it); the rule stays for items still to come. Returns the
        released items' uuids."""
        held, fault.held = fault.held, []
        for holder, item in held:
            holder.release(item)
        return [item.uuid for _, item in held]

    def remove(self, fault: ActiveFault) -> None:
        """Take a rule out, releasing what it held: nothing stays stuck in processing."""
        del self.rules[fault.id]
        if fault in self.item_rules:
            self.item_rules.remove(fault)
        self.release(fault)

    def clear(self, tenant: str | None = None) -> int:
        """Take out every rule (None) or a tenant's, releasing what they held; returns how many."""
        faults = self.listed(tenant)
        for fault in faults:
            self.remove(fault)
        if tenant is None:
            self._made.clear()
        else:
            self._made.pop(tenant, None)
        return len(faults)

    # -- matching ------------------------------------------------------------------------------

    def for_request(self, method: str, path: str, api: str, tenant: str | None) -> ActiveFault | None:
        for fault in self.rules.values():
            spec = fault.spec
            if isinstance(spec, RequestFault) and fault.applies_to(tenant) and spec.matches(method, path, api) and fault.fire():
                return fault
        return None

    def for_item(self, tenant: str, item: "Item") -> ActiveFault | None:
        for fault in self.item_rules:
            if fault.applies_to(tenant) and fault.spec.matches(item) and fault.fire():  # type: ignore[union-attr]
                return fault
        return None

    def for_webhook(self, tenant: str, event: str, url: str | None) -> ActiveFault | None:
        for fault in self.rules.values():
            spec = fault.spec
            if isinstance(spec, WebhookFault) and fault.applies_to(tenant) and spec.matches(event, url) and fault.fire():
                return fault
        return None
