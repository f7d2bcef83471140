"""The reference model of temporal fact invalidation, for one subject's single-valued facts.

Zep's docs and the Graphiti rules (temporal-invalidation.md §2.3–2.4, R1–R3): a fact's
``valid_at`` is its episode's reference time; a newer contradicting fact ends an older one at
its own ``valid_at`` (R3); a backfilled fact older than one already there is born ended at the
earliest later fact's ``valid_at`` (R2). "With full contradiction marking, the final validity
intervals are the same whatever the arrival order" — so for facts "S works at O1", "S works at
O2", ... with distinct reference times, whatever order they arrive in, the fact that starts at
t_k ends at t_{k+1}, and the latest stays open.
"""

from __future__ import annotations

from datetime import datetime


def intervals(facts: dict[str, datetime]) -> dict[str, tuple[datetime, datetime | None]]:
    """{target: reference time} of one subject's facts (distinct times) → {target: (valid_at,
    invalid_at)} once every one of them has been processed."""
    ordered = sorted(facts.items(), key=lambda pair: pair[1])
    result: dict[str, tuple[datetime, datetime | None]] = {}
    for k, (target, start) in enumerate(ordered):
        end = ordered[k + 1][1] if k + 1 < len(ordered) else None
        result[target] = (start, end)
    return result


def sentence(subject: str, target: str) -> str:
    """The episode text of one fact: a sentence every fact extractor reads the same way (the
    "S works at O" pattern of temporal-invalidation.md §5.4; an LLM reads it so too)."""
    return f"{subject} works at {target}."
