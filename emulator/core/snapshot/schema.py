"""The snapshot layout as pydantic models: one per record kind, fields in the dumped order.

One ``model_validate`` of :class:`WorldSnapshot` or :class:`TenantSnapshot` checks a snapshot's
whole shape and every type: each field present (``null`` only where the layout allows it), no
other field, strings, integers and true/false that are exactly that (no booleans for
integers, no coercion), finite numbers, RFC 3339 timestamps (parsed by ``core/timestamps.py``
to UTC datetimes), enums by value, and JSON data (metadata, errors, telemetry) copied, so a
loaded record shares nothing with the data it came from. What a model cannot see — records
pointing at each other by uuid, invariants across records — ``build.py`` checks.

Field types pydantic does not spell by itself are in ``fields.py``. The errors a model raises
are spelt by ``refusal.py``; those raised here are :class:`PydanticCustomError` whose message
is the problem as a refusal states it.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any, ClassVar, Optional

from pydantic import BaseModel, ConfigDict, field_validator, model_validator
from pydantic_core import PydanticCustomError

from ..batches import BatchStatus, ItemKind, ItemStatus, KeySpace, TargetKind
from ..memories import Isolation
from ..processor import ProcessingMode
from ..tenants import Service
from .fields import ByValue, JsonArray, JsonObject, Seed, Time

FORMAT = "memory-batch-emulator/state"
VERSION = 1


class Record(BaseModel):
    """Every field is required (``None`` where the layout allows ``null``) and no other field
    is allowed; values are taken as they are (strict mode: an integer passes for a number, and
    nothing else is coerced, but enums are read by value); numbers are finite. The schemas are
    built on first use (``defer_build``), not when the server starts."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, defer_build=True)


class Clock(Record):
    """CLOCK: an ``EmulatorClock``'s state."""

    frozen_at: Optional[Time]
    offset_seconds: float
    tick_seconds: float

    @field_validator("offset_seconds")
    @classmethod
    def _offset_in_range(cls, value: float) -> float:
        try:
            timedelta(seconds=value)
        except OverflowError:
            raise PydanticCustomError("clock_offset", "out of range") from None
        return value

    @field_validator("tick_seconds")
    @classmethod
    def _tick_forward(cls, value: float) -> float:
        if value < 0:
            raise PydanticCustomError("clock_tick", "the clock only moves forward")
        return value


class Ids(Record):
    """IDS: an ``IdFactory``'s seed and position (``IdFactory.state()``)."""

    seed: Seed
    position: list[Any]

    @field_validator("position")
    @classmethod
    def _generator_state(cls, value: list[Any]) -> list[Any]:
        try:
            version, internal, gauss = value
            if not isinstance(internal, list) or not all(type(n) is int for n in internal):
                raise TypeError("the generator state is a list of integers")
            random.Random(0).setstate((version, tuple(internal), gauss))
        except (TypeError, ValueError, OverflowError) as exc:
            raise PydanticCustomError("id_state", "not an id generator's state ({reason})", {"reason": str(exc)}) from None
        return value


class Rate(Record):
    """RATE: a rate-limit mode, restored as a full token bucket."""

    per_second: float
    burst: int

    @model_validator(mode="after")
    def _positive(self) -> "Rate":
        if not self.per_second > 0 or self.burst < 1:
            raise PydanticCustomError("rate_limit", "a rate limit needs per_second > 0 and burst >= 1")
        return self


class User(Record):
    """USER: ``graph`` is the uuid of the user's own graph, which names the user back."""

    uuid: str
    user_id: str
    created_at: Time
    updated_at: Time
    graph: str
    email: Optional[str]
    first_name: Optional[str]
    last_name: Optional[str]
    metadata: JsonObject
    time_zone: Optional[str]
    disable_default_ontology: Optional[bool]
    deleted: bool


class Episode(Record):
    """EPISODE: ``thread`` and ``message`` are uuids (a thread message's episode)."""

    uuid: str
    content: str
    source: str
    reference_time: Optional[Time]
    created_at: Time
    source_description: Optional[str]
    document_id: Optional[str]
    metadata: JsonObject
    thread: Optional[str]
    role: Optional[str]
    role_name: Optional[str]
    message: Optional[str]
    processed: bool
    processed_at: Optional[Time]
    dropped: bool


class Graph(Record):
    """GRAPH, with its episodes in queue order."""

    uuid: str
    graph_id: Optional[str]
    created_at: Time
    updated_at: Time
    name: Optional[str]
    description: Optional[str]
    time_zone: Optional[str]
    user: Optional[str]
    deleted: bool
    episodes: list[Episode]


class Message(Record):
    """MESSAGE: of the thread it is listed (or swept) under."""

    uuid: str
    content: str
    role: str
    created_at: Time
    reference_time: Optional[Time]
    name: Optional[str]
    metadata: JsonObject
    processed: bool
    dropped: bool


class Thread(Record):
    """THREAD: its listed messages, and the dropped ones a read swept out of the list that an
    item or an episode still names."""

    uuid: str
    thread_id: str
    user: str
    created_at: Time
    updated_at: Time
    deleted: bool
    messages: list[Message]
    swept_messages: list[Message]


class Target(Record):
    """An input's destination as the client named it (``batches.Ref``)."""

    kind: ByValue[TargetKind]
    space: ByValue[KeySpace]
    value: str


class Input(Record):
    """INPUT: an item as the client sent it."""

    kind: ByValue[ItemKind]
    target: Target
    data: str
    data_type: Optional[str]
    role: Optional[str]
    name: Optional[str]
    metadata: JsonObject
    reference_time: Optional[Time]
    document_id: Optional[str]
    source_description: Optional[str]


class Item(Record):
    """ITEM: ``graph``, ``thread``, ``episode`` and ``message`` are uuids of the records it
    resolved to and wrote; ``sequence_index`` is its place in the batch."""

    uuid: str
    sequence_index: int
    status: ByValue[ItemStatus]
    created_at: Time
    updated_at: Time
    started_at: Optional[Time]
    error: JsonObject
    graph: Optional[str]
    thread: Optional[str]
    episode: Optional[str]
    message: Optional[str]
    input: Input


class Batch(Record):
    """BATCH, with its items in sequence order."""

    uuid: str
    serial: int
    listed: bool
    created_at: Time
    updated_at: Time
    metadata: JsonObject
    ignore_roles: Optional[list[str]]
    strict_ontology: Optional[bool]
    status: ByValue[BatchStatus]
    processed_at: Optional[Time]
    started_at: Optional[Time]
    completed_at: Optional[Time]
    invalid_items: Optional[list[int]]
    task: Optional[str]
    items: list[Item]


class Task(Record):
    """TASK: ``batch`` is the uuid of the batch it tracks, if any."""

    uuid: str
    type: str
    created_at: Time
    batch: Optional[str]


class Receipt(Record):
    """A Synap document's receipt: ``item`` is the uuid of the item that stores it, if any."""

    uuid: str
    document_id: str
    queued_at: Time
    item: Optional[str]
    error: Optional[str]


class Memories(Record):
    """MEMORIES: a Synap tenant's desk."""

    isolation: ByValue[Isolation]
    receipts: list[Receipt]
    telemetry: JsonArray


class Tenant(Record):
    """TENANT: one service of one key."""

    service: ByValue[Service]
    key: str
    clock: Optional[Clock]
    ids: Ids
    processing: ByValue[ProcessingMode]
    rate_limit: Optional[Rate]
    next_serial: int
    users: list[User]
    graphs: list[Graph]
    threads: list[Thread]
    batches: list[Batch]
    queue: list[str]
    tasks: list[Task]
    memories: Optional[Memories]


class Snapshot(Record):
    """The header every snapshot starts with; a subclass names its scope. The header's fields
    come first, so a document of another kind is refused for that, not for what it lacks."""

    SCOPE: ClassVar[str]

    format: str
    version: int
    scope: str

    @field_validator("format", mode="plain")
    @classmethod
    def _format(cls, value: Any) -> str:
        if value != FORMAT:
            raise PydanticCustomError("snapshot_format", "not a {format} snapshot", {"format": FORMAT})
        return FORMAT

    @field_validator("version", mode="plain")
    @classmethod
    def _version(cls, value: Any) -> int:
        if type(value) is not int or value != VERSION:
            raise PydanticCustomError(
                "snapshot_version", "version {version} is not supported (this emulator reads version {supported})",
                {"version": repr(value), "supported": VERSION},
            )
        return VERSION

    @field_validator("scope", mode="plain")
    @classmethod
    def _scope(cls, value: Any) -> str:
        if value != cls.SCOPE:
            raise PydanticCustomError(
                "snapshot_scope", "expected a {scope} snapshot, got {got}", {"scope": cls.SCOPE, "got": repr(value)}
            )
        return cls.SCOPE


class WorldSnapshot(Snapshot):
    """The whole world (``dump_world``)."""

    SCOPE: ClassVar[str] = "world"

    clock: Clock
    seed: Ids
    processing: ByValue[ProcessingMode]
    isolation: ByValue[Isolation]
    rate_limit: Optional[Rate]
    tenants: list[Tenant]


class TenantSnapshot(Snapshot):
    """One tenant (``dump_tenant``) or both services of one key (``dump_key``)."""

    SCOPE: ClassVar[str] = "tenant"

    tenants: list[Tenant]
