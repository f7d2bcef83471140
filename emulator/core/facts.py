"""The fact: what extraction hands the temporal engine (reference/temporal-invalidation.md
§5.8 ``ExtractedFact``).

Extraction (core/extract.py) turns one episode into facts, in a deterministic order; the
temporal engine (core/temporal.py) turns facts into entities and edges with ``valid_at`` /
``invalid_at``. This module is the whole contract between the two, and the type a user's own
extractor returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any


def normalise_name(name: str) -> str:
    """An entity's key in its graph: lower-cased, whitespace runs collapsed to one space,
    trimmed (reference §5.2; Graphiti's ``_normalize_string_exact``). "  Alice  SMITH" and
    "alice smith" are one entity; its display name stays as first seen."""
    return " ".join(name.lower().split())


class Cardinality(str, Enum):
    """Whether a subject holds one value of a relation at a time (a new target contradicts
    the old one) or many (targets accumulate)."""

    SINGLE = "single"
    MULTI = "multi"


@dataclass(frozen=True, slots=True)
class ExtractedFact:
    """``source -[relation]-> target``, as an extractor found it in one episode.

    ``relation`` is SCREAMING_SNAKE_CASE. ``fact`` is the edge's text (None: the engine's
    template "{source} {relation words} {target}"). ``valid_at`` / ``invalid_at`` are explicit
    dates from the episode (None: ``valid_at`` defaults to the episode's reference time, and
    ``invalid_at`` stays open). ``cardinality`` None defers to the relation registry.
    ``terminates`` names the relation this one ends for the same source and target
    (``NO_LONGER_WORKS_AT`` terminates ``WORKS_AT``)."""

    source: str
    relation: str
    target: str
    fact: str | None = None
    valid_at: datetime | None = None
    invalid_at: datetime | None = None
    cardinality: Cardinality | None = None
    terminates: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    source_type: str | None = None
    target_type: str | None = None
