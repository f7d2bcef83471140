"""Fact extraction: the deterministic, rule-based stand-in for Zep's LLM
(reference/temporal-invalidation.md §5.2–§5.4, plug-in API §5.8).

An extractor turns one episode into :class:`~emulator.core.facts.ExtractedFact` s, in a
deterministic order; the temporal engine (core/temporal.py) dates, deduplicates and resolves
them. Everything here is pure: the output depends only on the episode and the context (no clock,
no randomness, no I/O), so the same episode always yields the same facts.

- JSON episodes (§5.3): :class:`JsonExtractor`.
- Text and message episodes (§5.4): ``TextExtractor`` in :mod:`emulator.core.extract_text` — the
  triple syntax first, then its sentence-pattern table.
- Plug-ins (§5.8): :class:`ExtractorRegistry` holds user extractors and contradiction rules, and
  the :class:`RelationRules` (cardinality and terminator registries) the engine consults.

Two choices hold for every built-in extractor:

- ``fact`` is left None, so the edge text is the engine's template "{source} {relation words}
  {target}" ("Alice lives in Berlin"), which is §5.3's default; only a non-default
  :attr:`JsonRules.fact_template` makes the JSON extractor render the text itself.
- ``cardinality`` is left None unless the data's shape decides it (a JSON array, ``@multi``), so
  :class:`RelationRules`, whose defaults are the §5.4 table's column, is the one place to change it.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Callable, Literal, Mapping, Protocol

import orjson

from .facts import Cardinality, ExtractedFact

EpisodeKind = Literal["text", "json", "message"]
KINDS: tuple[str, ...] = ("text", "json", "message")


# --- names, relations, dates -------------------------------------------------------------------


_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_ACRONYM = re.compile(r"([A-Z]+)([A-Z][a-z])")
_NON_ALNUM = re.compile(r"[^A-Za-z0-9]+")


@lru_cache(maxsize=4096)
def relation_name(text: str) -> str:
    """*text* in SCREAMING_SNAKE_CASE (§5.3 ``REL(k)``): ``favoriteColor``, ``favorite color`` and
    ``favorite-color`` all give ``FAVORITE_COLOR``, ``address.city`` gives ``ADDRESS_CITY``,
    ``HTTPServer`` gives ``HTTP_SERVER``. Accents are dropped and other non-ASCII characters
    removed, so the result always matches ``[A-Z0-9]+(_[A-Z0-9]+)*`` — or is "" when nothing is
    left, which callers treat as "no relation". Idempotent: ``LIVES_IN`` stays ``LIVES_IN``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    split = _ACRONYM.sub(r"\1_\2", _CAMEL.sub(r"\1_\2", ascii_text))
    return _NON_ALNUM.sub("_", split).strip("_").upper()


_ISO = re.compile(
    r"(?P<y>\d{4})(?:-(?P<mo>\d{2})(?:-(?P<d>\d{2})(?:[Tt ](?P<h>\d{2}):(?P<mi>\d{2})"
    r"(?::(?P<s>\d{2})(?:[.,](?P<f>\d+))?)?(?P<tz>[Zz]|[+-]\d{2}(?::?\d{2})?)?)?)?)?"
)


def parse_date(value: str) -> datetime | None:
    """An ISO 8601 date or timestamp as an aware UTC datetime, or None if it is not one.

    Accepted: ``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD`` (missing parts are the first month / day at
    00:00Z) and ``YYYY-MM-DDTHH:MM[:SS[.f]]`` with an optional ``Z`` or ``±HH[:MM]`` offset. A
    naive timestamp counts as UTC, an offset is converted to UTC (§5.1, §5.3, §5.4)."""
    m = _ISO.fullmatch(value.strip())
    if m is None:
        return None
    fraction = (m["f"] or "0")[:6].ljust(6, "0")
    try:
        parsed = datetime(
            int(m["y"]), int(m["mo"] or 1), int(m["d"] or 1), int(m["h"] or 0), int(m["mi"] or 0),
            int(m["s"] or 0), int(fraction), tzinfo=timezone.utc,
        )
        tz = m["tz"]
        if tz and tz not in "Zz":
            sign = -1 if tz[0] == "-" else 1
            digits = tz[1:].replace(":", "")
            offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
            parsed = parsed.replace(tzinfo=timezone(sign * offset)).astimezone(timezone.utc)
        return parsed
    except (ValueError, OverflowError):  # 2024-13-01, an offset of 24 h, year 1 shifted before 1
        return None


def render_fact(template: str, source: str, relation: str, target: str) -> str:
    """*template* with ``{source}``, ``{target}``, ``{relation}`` and ``{rel_words}`` (the relation
    lower-cased, underscores as spaces) filled in; §5.3's default is "{source} {rel_words} {target}"."""
    words = relation.lower().replace("_", " ")
    return template.format(source=source, target=target, relation=relation, rel_words=words)


# --- relation registries -------------------------------------------------------------------------

#: The §5.4 table's cardinality column. Relations not listed default to single (§5.5).
DEFAULT_CARDINALITY: Mapping[str, Cardinality] = MappingProxyType({
    "LIVES_IN": Cardinality.SINGLE,
    "WORKS_AT": Cardinality.SINGLE,
    "MARRIED_TO": Cardinality.SINGLE,
    "IS_A": Cardinality.MULTI,
    "LIKES": Cardinality.MULTI,
    "OWNS": Cardinality.MULTI,
    "NO_LONGER_WORKS_AT": Cardinality.SINGLE,
    "MOVED_OUT_OF": Cardinality.SINGLE,
})

#: Terminator -> the relation it ends for the same source and target (§5.4 table, §5.5 rule 2).
DEFAULT_TERMINATORS: Mapping[str, str] = MappingProxyType({
    "NO_LONGER_WORKS_AT": "WORKS_AT",
    "MOVED_OUT_OF": "LIVES_IN",
})


@dataclass
class RelationRules:
    """The relation-cardinality and terminator registries (§5.5, §5.8: "plain dictionaries in the
    config"), seeded with the §5.4 defaults. Keys are SCREAMING_SNAKE relation names; values of
    ``cardinality`` may be :class:`Cardinality` or its strings ``"single"`` / ``"multi"``."""

    cardinality: dict[str, Cardinality | str] = field(default_factory=lambda: dict(DEFAULT_CARDINALITY))
    terminators: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_TERMINATORS))
    default_cardinality: Cardinality = Cardinality.SINGLE

    def cardinality_of(self, relation: str, hint: Cardinality | str | None = None) -> Cardinality:
        """§5.5 priority: the fact's own hint, then the registry, then the default (single)."""
        if hint is not None:
            return Cardinality(hint)
        declared = self.cardinality.get(relation)
        return self.default_cardinality if declared is None else Cardinality(declared)

    def terminates(self, relation: str, hint: str | None = None) -> str | None:
        """The relation that *relation* ends (the fact's own ``terminates`` hint first):
        ``terminates("MOVED_OUT_OF") == "LIVES_IN"``; None for an ordinary relation."""
        return hint if hint is not None else self.terminators.get(relation)

    def terminated_by(self, relation: str) -> tuple[str, ...]:
        """The relations declared to end *relation*, sorted:
        ``terminated_by("WORKS_AT") == ("NO_LONGER_WORKS_AT",)``."""
        return tuple(sorted(t for t, ended in self.terminators.items() if ended == relation))


# --- what an extractor sees ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EpisodeView:
    """One episode as extractors see it (§5.8 ``EpisodeView``); no wire names.

    ``kind`` is "text", "json" or "message". ``owner`` is the user's name (or user_id) on a user
    graph, None on a standalone graph; ``graph_label`` names the graph (its graph_id), the JSON
    subject of last resort on a standalone graph (§5.3). ``speaker`` / ``role`` are a message's
    author name and role (None when unknown)."""

    kind: EpisodeKind
    content: str
    reference_time: datetime
    owner: str | None = None
    graph_label: str | None = None
    speaker: str | None = None
    role: str | None = None
    source_description: str | None = None


@dataclass(frozen=True, slots=True)
class ExtractionContext:
    """What an extractor may read besides the episode (§5.8 ``ctx``).

    ``owner``: the graph owner's display name; when set it wins over ``EpisodeView.owner`` (so a
    caller can pass "Alice Smith" while the episode carries the user_id). ``entities``: the
    graph's entities before this item, key (:func:`normalise_name`) -> display name, read-only.
    ``warnings``: the one writable part, a sink to which built-ins append human-readable notes
    (an unparseable date, a skipped array item, an ignored triple option); the caller may attach
    them to the episode (§5.3 "with a warning attached to the episode")."""

    owner: str | None = None
    entities: Mapping[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.entities, MappingProxyType):  # a view, not a copy: O(1) per item
            object.__setattr__(self, "entities", MappingProxyType(self.entities))  # type: ignore[arg-type]


def name_or_none(value: str | None) -> str | None:
    """*value* trimmed, or None if it is None or blank: a blank name never becomes an entity."""
    return (value.strip() or None) if value is not None else None


def owner_of(episode: EpisodeView, ctx: ExtractionContext) -> str | None:
    """The name first-person pronouns and subject-less JSON resolve to: ``ctx.owner``, else
    ``episode.owner`` (None on a standalone graph), trimmed; blank counts as None."""
    return name_or_none(ctx.owner) or name_or_none(episode.owner)


class FactExtractor(Protocol):
    """§5.8: pure — the output depends only on *episode* and *ctx*, in a deterministic order."""

    def extract(self, episode: EpisodeView, ctx: ExtractionContext) -> list[ExtractedFact]: ...


class EdgeLike(Protocol):
    """What a contradiction rule reads of an edge: ``source_key`` / ``target_key`` are entity keys
    (:func:`normalise_name`), ``relation`` is SCREAMING_SNAKE. The engine passes its own edges."""

    @property
    def source_key(self) -> str: ...

    @property
    def relation(self) -> str: ...

    @property
    def target_key(self) -> str: ...


class ContradictionRule(Protocol):
    """§5.5 rule 3: a user-declared predicate, true if *new* retires *old* (both in one graph;
    the engine applies it, with R1–R3, in addition to the built-in rules 1 and 2)."""

    def contradicts(self, new: EdgeLike, old: EdgeLike) -> bool: ...


# --- JSON episodes (§5.3) --------------------------------------------------------------------------


@dataclass(frozen=True)
class JsonRules:
    """The §5.3 knobs. Keys are compared by their :func:`relation_name` form, so ``validFrom``,
    ``valid_from`` and ``Valid From`` are one key. ``relation_by_key`` maps a field's dotted path
    (``"city"``, ``"address.city"``) to a relation; ``subject_key_by_source`` maps a
    ``source_description`` to the one subject key of the top-level object. A ``fact_template``
    makes the extractor render ``fact`` (None: the engine's template)."""

    subject_keys: tuple[str, ...] = ("name", "full_name", "title", "username", "user", "email", "id")
    valid_at_keys: tuple[str, ...] = ("valid_at", "valid_from", "effective_at", "effective_date", "start_date", "since")
    invalid_at_keys: tuple[str, ...] = ("invalid_at", "valid_to", "valid_until", "end_date", "ended_at", "until")
    relation_by_key: Mapping[str, str] = field(default_factory=dict)
    subject_key_by_source: Mapping[str, str] = field(default_factory=dict)
    fact_template: str | None = None
    max_depth: int = 32


_Dates = tuple[datetime | None, datetime | None]


class JsonExtractor:
    """§5.3, walking the JSON in document order, depth first:

    - the top-level object (or each object of a top-level array) has a subject: the first
      subject key holding a non-empty scalar, else the owner, else the graph label; that key is
      not a fact (other subject-list keys are ordinary fields);
    - reserved temporal keys set ``valid_at`` / ``invalid_at`` (the first parseable one of each
      wins; unparseable or non-string values are ignored with a warning) and are never facts; a
      nested object's dates are its own reserved keys, each falling back to its parent's;
    - a scalar ``k: v`` gives ``subject -[REL(k)]-> v`` (cardinality left to the registry, whose
      default is single); booleans give ``true``/``false``, numbers their Python ``repr``
      (``1e3`` -> ``1000.0``); ``null``, blank strings and non-finite numbers give nothing;
    - a nested object with a subject key is an entity E: ``subject -[REL(k)]-> E`` (dated by E's
      dates), then E's own fields; without one it is flattened (``address.city`` -> ``ADDRESS_CITY``);
    - an array gives one MULTI fact per scalar item and per object item with a subject key (then
      that entity's fields); other items are skipped, object items with a warning;
    - invalid JSON gives no facts, or *text_fallback*'s if one is configured.
    """

    def __init__(self, rules: JsonRules | None = None, text_fallback: FactExtractor | None = None) -> None:
        self.rules = rules or JsonRules()
        self.text_fallback = text_fallback
        self._subjects = tuple(relation_name(k) for k in self.rules.subject_keys)
        self._valid_keys = frozenset(relation_name(k) for k in self.rules.valid_at_keys)
        self._invalid_keys = frozenset(relation_name(k) for k in self.rules.invalid_at_keys)
        self._reserved = self._valid_keys | self._invalid_keys
        if self.rules.fact_template is not None:
            render_fact(self.rules.fact_template, "s", "R", "t")  # a bad template fails here, not per item

    def extract(self, episode: EpisodeView, ctx: ExtractionContext) -> list[ExtractedFact]:
        try:
            data = orjson.loads(episode.content)
        except ValueError:  # orjson.JSONDecodeError
            return self.text_fallback.extract(episode, ctx) if self.text_fallback else []
        override = self.rules.subject_key_by_source.get(episode.source_description or "")
        subjects = (relation_name(override),) if override else self._subjects
        fallback = owner_of(episode, ctx) or name_or_none(episode.graph_label)
        out: list[ExtractedFact] = []
        for root in data if isinstance(data, list) else [data]:
            if not isinstance(root, dict):
                continue
            key = self._subject_key(root, subjects)
            subject = _scalar_text(root[key]) if key is not None else fallback
            if subject is None:
                ctx.warnings.append("JSON object without a subject on a graph without an owner: skipped")
                continue
            self._walk(root, subject, "", key, self._dates(root, (None, None), ctx), 0, out, ctx)
        return out

    def _walk(self, obj: dict[str, Any], subject: str, prefix: str, skip: str | None, dates: _Dates,
              depth: int, out: list[ExtractedFact], ctx: ExtractionContext) -> None:
        for key, value in obj.items():
            if key == skip or value is None or relation_name(key) in self._reserved:
                continue
            path = f"{prefix}.{key}" if prefix else key
            if isinstance(value, (dict, list)) and depth >= self.rules.max_depth:
                ctx.warnings.append(f"JSON nested deeper than {self.rules.max_depth} levels at {path!r}: skipped")
                continue
            rel = relation_name(self.rules.relation_by_key.get(path, path))
            if isinstance(value, dict):
                child_key = self._subject_key(value, self._subjects)
                child_dates = self._dates(value, dates, ctx)
                if child_key is None:
                    self._walk(value, subject, path, None, child_dates, depth + 1, out, ctx)
                elif rel:
                    entity = _scalar_text(value[child_key]) or ""
                    out.append(self._fact(subject, rel, entity, child_dates, None))
                    self._walk(value, entity, "", child_key, child_dates, depth + 1, out, ctx)
            elif isinstance(value, list):
                if rel:
                    self._array(value, subject, rel, path, dates, depth, out, ctx)
            elif rel and (text := _scalar_text(value)) is not None:
                out.append(self._fact(subject, rel, text, dates, None))

    def _array(self, items: list[Any], subject: str, rel: str, path: str, dates: _Dates, depth: int,
               out: list[ExtractedFact], ctx: ExtractionContext) -> None:
        for index, item in enumerate(items):
            if isinstance(item, dict):
                child_key = self._subject_key(item, self._subjects)
                if child_key is None:
                    ctx.warnings.append(f"JSON array item {path}[{index}] has no subject key: skipped")
                    continue
                entity = _scalar_text(item[child_key]) or ""
                child_dates = self._dates(item, dates, ctx)
                out.append(self._fact(subject, rel, entity, child_dates, Cardinality.MULTI))
                self._walk(item, entity, "", child_key, child_dates, depth + 1, out, ctx)
            elif not isinstance(item, list) and (text := _scalar_text(item)) is not None:
                out.append(self._fact(subject, rel, text, dates, Cardinality.MULTI))

    def _subject_key(self, obj: dict[str, Any], subjects: tuple[str, ...]) -> str | None:
        """The key (as written) of the first subject key, in *subjects* order, with a non-empty scalar."""
        found: dict[str, str] = {}
        for key, value in obj.items():
            if not isinstance(value, (dict, list)) and _scalar_text(value) is not None:
                found.setdefault(relation_name(key), key)
        return next((found[s] for s in subjects if s in found), None)

    def _dates(self, obj: dict[str, Any], inherited: _Dates, ctx: ExtractionContext) -> _Dates:
        valid: datetime | None = None
        invalid: datetime | None = None
        for key, value in obj.items():
            rel = relation_name(key)
            if value is None or rel not in self._reserved:
                continue
            parsed = parse_date(value) if isinstance(value, str) else None
            if parsed is None:
                ctx.warnings.append(f"JSON date {key!r}: {value!r} is not an ISO 8601 date: ignored")
            elif rel in self._valid_keys and valid is None:
                valid = parsed
            elif rel in self._invalid_keys and invalid is None:
                invalid = parsed
        return (valid if valid is not None else inherited[0], invalid if invalid is not None else inherited[1])

    def _fact(self, source: str, rel: str, target: str, dates: _Dates, cardinality: Cardinality | None) -> ExtractedFact:
        template = self.rules.fact_template
        text = render_fact(template, source, rel, target) if template is not None else None
        return ExtractedFact(source, rel, target, fact=text, valid_at=dates[0], invalid_at=dates[1], cardinality=cardinality)


def _scalar_text(value: Any) -> str | None:
    """A JSON scalar as an entity name / literal: strings trimmed, ``true``/``false``, numbers as
    written; None for blank strings, non-finite numbers and non-scalars."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    return None


# --- the plug-in registry (§5.8) -----------------------------------------------------------------

EpisodeMatch = Callable[[EpisodeView], bool]


@dataclass(frozen=True, slots=True)
class RegisteredExtractor:
    """One :meth:`ExtractorRegistry.register` call."""

    kind: str
    extractor: FactExtractor
    match: EpisodeMatch | None = None
    chain: bool = False


@dataclass(frozen=True, slots=True)
class RegisteredRule:
    """One :meth:`ExtractorRegistry.register_contradiction` call: *rule* applies to episodes of
    *kind* (None: any) for which *match* is true (None: all)."""

    rule: ContradictionRule
    kind: str | None = None
    match: EpisodeMatch | None = None

    def applies_to(self, episode: EpisodeView) -> bool:
        return (self.kind is None or self.kind == episode.kind) and (self.match is None or self.match(episode))


class _CallableExtractor:
    def __init__(self, fn: Callable[[EpisodeView, ExtractionContext], list[ExtractedFact]]) -> None:
        self.fn = fn

    def extract(self, episode: EpisodeView, ctx: ExtractionContext) -> list[ExtractedFact]:
        return list(self.fn(episode, ctx))


class _CallableRule:
    def __init__(self, fn: Callable[[EdgeLike, EdgeLike], bool]) -> None:
        self.fn = fn

    def contradicts(self, new: EdgeLike, old: EdgeLike) -> bool:
        return bool(self.fn(new, old))


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"episode kind must be one of {', '.join(KINDS)}, not {kind!r}")


def default_builtins() -> dict[str, FactExtractor]:
    """A fresh set of built-ins: :class:`JsonExtractor` for "json", one
    :class:`~emulator.core.extract_text.TextExtractor` for "text" and "message"."""
    from .extract_text import TextExtractor  # imported here: extract_text builds on this module

    text = TextExtractor()
    return {"json": JsonExtractor(), "text": text, "message": text}


class ExtractorRegistry:
    """User extractors and contradiction rules, the built-ins, and the :class:`RelationRules`.

    :meth:`extract` tries the extractors registered for the episode's kind, **most recently
    registered first**; the first whose ``match(episode)`` is true (or that has no ``match``)
    wins. Its facts come first; with ``chain=True`` the built-in extractor's facts follow. When
    no registered extractor matches, the built-in runs alone. An extractor may be an object with
    ``extract(episode, ctx)`` or a plain function of ``(episode, ctx)``; its exceptions propagate.

    Contradiction rules (§5.5 rule 3) are only kept here: :meth:`contradiction_rules_for` lists,
    in registration order, those that apply to an episode, and the engine ORs them with its
    built-in rules."""

    def __init__(self, builtins: Mapping[str, FactExtractor] | None = None,
                 relations: RelationRules | None = None) -> None:
        self.builtins: dict[str, FactExtractor] = dict(builtins) if builtins is not None else default_builtins()
        self.relations = relations if relations is not None else RelationRules()
        self.extractors: list[RegisteredExtractor] = []  # most recent first
        self.contradiction_rules: list[RegisteredRule] = []  # registration order

    def register(self, kind: str, extractor: FactExtractor | Callable[..., list[ExtractedFact]],
                 match: EpisodeMatch | None = None, chain: bool = False) -> RegisteredExtractor:
        _check_kind(kind)
        if not hasattr(extractor, "extract"):
            if not callable(extractor):
                raise TypeError("an extractor has an extract(episode, ctx) method or is a function")
            extractor = _CallableExtractor(extractor)
        entry = RegisteredExtractor(kind, extractor, match, chain)  # type: ignore[arg-type]
        self.extractors.insert(0, entry)
        return entry

    def register_contradiction(self, rule: ContradictionRule | Callable[[EdgeLike, EdgeLike], bool],
                               kind: str | None = None, match: EpisodeMatch | None = None) -> RegisteredRule:
        if kind is not None:
            _check_kind(kind)
        if not hasattr(rule, "contradicts"):
            if not callable(rule):
                raise TypeError("a contradiction rule has a contradicts(new, old) method or is a function")
            rule = _CallableRule(rule)
        entry = RegisteredRule(rule, kind, match)  # type: ignore[arg-type]
        self.contradiction_rules.append(entry)
        return entry

    def select(self, episode: EpisodeView) -> RegisteredExtractor | None:
        """The registered extractor that handles *episode*, or None (the built-in alone)."""
        for entry in self.extractors:
            if entry.kind == episode.kind and (entry.match is None or entry.match(episode)):
                return entry
        return None

    def extract(self, episode: EpisodeView, ctx: ExtractionContext) -> list[ExtractedFact]:
        chosen = self.select(episode)
        facts: list[ExtractedFact] = []
        if chosen is not None:
            facts.extend(chosen.extractor.extract(episode, ctx))
            if not chosen.chain:
                return facts
        builtin = self.builtins.get(episode.kind)
        if builtin is not None:
            facts.extend(builtin.extract(episode, ctx))
        return facts

    def contradiction_rules_for(self, episode: EpisodeView) -> list[ContradictionRule]:
        return [entry.rule for entry in self.contradiction_rules if entry.applies_to(episode)]
