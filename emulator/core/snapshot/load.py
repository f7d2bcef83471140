"""Loading: validate with the schema (shape and types, one ``model_validate``), build every
record and check every reference (``build.py``), and only then install (``install.py``).
A snapshot that is refused raises ``InvalidInput("invalid_state")`` and has changed nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import ValidationError

from ..tenants import Tenant
from .build import build_all, id_factory, rate
from .built import ClockSetting
from .install import install_all, restore_clock
from .refusal import bad, refusal
from .schema import Snapshot, TenantSnapshot, WorldSnapshot

if TYPE_CHECKING:
    from ..world import World

S = TypeVar("S", bound=Snapshot)


def load_world(world: "World", data: Any) -> None:
    """Replace every tenant, the server clock, the world's id source and the server-wide
    defaults with *data* (a ``dump_world``). The world's processor keeps running; queued
    work of the snapshot is queued again. Raises ``InvalidInput("invalid_state")`` and changes
    nothing if *data* is not a valid world snapshot."""
    top = _validate(WorldSnapshot, data)
    clock = ClockSetting.of(top.clock)
    seed = id_factory(top.seed)
    built = build_all(world, top.tenants, None)
    # -- nothing has been changed so far; from here on nothing can fail --
    registry = world.tenants
    restore_clock(world.clock, clock)
    registry.drop_all()
    world.ids = registry.ids = seed
    world.processor.default_mode = top.processing
    registry.isolation = top.isolation
    registry.rate_limit = rate(top.rate_limit)
    install_all(world, built)


def load_tenant(world: "World", data: Any, key: str | None = None) -> list[Tenant]:
    """Restore the tenants of *data* (a ``dump_tenant`` or ``dump_key``), each replacing any
    tenant of the same service and key; with *key*, under that API key instead of the dumped
    one. Returns the restored tenants. Raises ``InvalidInput("invalid_state")`` and changes
    nothing if *data* is not a valid tenant snapshot."""
    top = _validate(TenantSnapshot, data)
    built = build_all(world, top.tenants, key)
    if len({b.key for b in built}) > 1:
        raise bad("$.tenants", "a tenant snapshot holds the tenants of one key")
    return install_all(world, built)


def _validate(model: type[S], data: Any) -> S:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise refusal(exc, model) from None
