"""Identifier generation.

Zep names every record by a UUID (v4 exposes them as ``uuid``; v2 as ``batch_id``,
``item_id``, ``episode_uuid`` ...). With a seed the emulator draws them from a seeded PRNG,
so the same sequence of calls yields the same ids on every run; without one they are
``uuid4``.
"""

from __future__ import annotations

import random
import uuid


class IdFactory:
    def __init__(self, seed: int | None = None) -> None:
        self._rng = random.Random(seed) if seed is not None else None

    def uuid(self) -> str:
        if self._rng is None:
            return str(uuid.uuid4())
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))


def is_uuid(value: str) -> bool:
    """True for the canonical 36-character hyphenated form the services issue."""
    if len(value) != 36:
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
