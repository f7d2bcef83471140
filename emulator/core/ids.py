"""Identifier generation.

Zep names every record by a UUID (v4 exposes them as ``uuid``; v2 as ``batch_id``,
``item_id``, ``episode_uuid`` ...). Ids are version-4 UUID strings drawn from a PRNG: seeded,
the same sequence of calls yields the same ids on every run; unseeded, the PRNG is seeded
from the OS's entropy. (An emulator needs unique ids, not unguessable ones, and building the
string from 128 random bits is several times cheaper than ``str(uuid.uuid4())`` — ids are
minted twice per item on the backfill hot path.)

Every factory has a seed — an unseeded one draws a random one — so a derived stream is
always a function of (seed, label), and a snapshot that records a factory's seed and state
(:meth:`IdFactory.state`) gives back the same ids after a restore.
"""

from __future__ import annotations

import random
import re
from typing import Any

_VERSION_4 = 0x4000 << 64  # version nibble
_VARIANT = 0x8000 << 48  # RFC 4122 variant bits
_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class IdFactory:
    def __init__(self, seed: int | str | None = None) -> None:
        self.seed: int | str = seed if seed is not None else random.SystemRandom().getrandbits(64)
        self._rng = random.Random(self.seed)

    def derived(self, label: str) -> "IdFactory":
        """An independent id stream for *label*: seeded, its ids depend only on the seed, the
        label and the calls made on it, not on what else was minted in between (the derived
        facts of a graph get the same uuids whenever they are first read)."""
        return IdFactory(f"{self.seed}/{label}")

    def state(self) -> dict[str, Any]:
        """The seed and the stream's position, as JSON data (a snapshot's)."""
        version, internal, gauss = self._rng.getstate()
        return {"seed": self.seed, "position": [version, list(internal), gauss]}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> "IdFactory":
        factory = cls(state["seed"])
        version, internal, gauss = state["position"]
        factory._rng.setstate((version, tuple(internal), gauss))
        return factory

    def uuid(self) -> str:
        h = "%032x" % ((self._rng.getrandbits(128) & _CLEAR) | _VERSION_4 | _VARIANT)
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def is_uuid(value: str) -> bool:
    """True for the canonical 36-character hyphenated form the services issue."""
    return _UUID.fullmatch(value) is not None
