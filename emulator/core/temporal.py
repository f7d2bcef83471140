"""The temporal engine: the entities and dated edges of one graph, and the rules that retire
contradicted edges (reference/temporal-invalidation.md §2.3, §5.1 steps 4-7, §5.5-5.7).

One :class:`FactGraph` per graph (entities, candidates and invalidation never cross graphs:
Graphiti filters every search by ``group_id``). :meth:`FactGraph.apply` takes one item's
:class:`~emulator.core.facts.ExtractedFact` list and does, in order:

4. **Date** each fact: ``valid_at`` = its explicit start, else the item's reference time, so it
   is never null (§3 point 6); ``invalid_at`` = its explicit end, or open. All instants are
   normalised to UTC (naive counts as UTC, like Graphiti's ``ensure_utc``).
5. **Deduplicate** within the item: the first ``(source key, relation, target key)`` wins.
6. **Resolve** each fact, in extraction order, against the graph as it stood before the item
   (facts of one item never contradict or duplicate each other):

   - a re-assertion (§5.6) appends the episode to the existing edge and changes nothing else.
     ``reassert="revive"`` (default) merges only into a current edge (``invalid_at`` empty), so
     A→B→A gives three intervals; ``"graphiti_fastpath"`` merges into any edge of the triple,
     retired or not, as Graphiti's verbatim shortcut does (B stays current);
   - otherwise a new edge is made (``created_at = now``) and rules R1-R3 run on it with the
     contradicted candidates C (§5.5: same source, a single-valued relation and a different
     target; or a terminator, same source and same target). C includes retired edges.

7. The episode's ``entity_edges`` = its new and merged edges plus the edges it retired
   (:attr:`AppliedEpisode.entity_edges`).

The rules, word for word from Graphiti 0.31.2 ``_apply_temporal_invalidation`` (N = the new
edge; comparisons are strict, so equal ``valid_at`` values never invalidate either side):

- **R1** N has ``invalid_at`` and no ``expired_at``: ``N.expired_at = now`` (past or future end).
- **R2** only if N is not expired: the earliest c in C that starts strictly after N ends N:
  ``N.invalid_at = c.valid_at``, ``N.expired_at = now`` (born invalid).
- **R3** for each c in C: skip c if it had ended by N's start (``c.invalid_at <= N.valid_at``);
  skip c if N ended by c's start (``N.invalid_at <= c.valid_at``); otherwise, if c starts
  strictly before N, ``c.invalid_at = N.valid_at`` (moving a later end earlier) and
  ``c.expired_at = now`` unless already set (the first expiry wins).

Where we knowingly differ from Graphiti (§5.7): ``valid_at`` is never null; R1 runs even when C
is empty; C is exact (no top-10 search, no LLM false positives); when several facts of one item
retire the same edge, the earliest ``invalid_at`` wins (R3 only ever moves an end earlier, and
the edges are shared across the item) instead of the last write.

Two readings of §5.5 that the reference leaves open:

- a terminator contradicts in both directions: ``NO_LONGER_WORKS_AT Acme`` retires an earlier
  ``WORKS_AT Acme``, and a ``WORKS_AT Acme`` that starts before a stored terminator is born
  invalid at the terminator's start (a later one retires the terminator). Contradiction is
  symmetric ("cannot both be true"), and the one-way reading would make the result depend on
  arrival order, which §2.4 says full contradiction marking does not;
- functional replacement needs *both* edges single-valued (their relation's cardinality when
  each was made), so mixed hints cannot make the outcome depend on arrival order either.

Candidate lookup is indexed, never a scan of the graph: single-valued edges of one
``(source key, relation)`` form a :class:`_Timeline` sorted by ``valid_at``, which yields the
only candidates R2 and R3 can act on (the earliest later one, and those spanning N's start);
terminators and re-assertions use a ``(source key, target key, relation)`` index. User
predicates (``contradicts``, ``contradiction_filter``) see edges of the same source only: extra
contradictions are looked for among that source's edges (a scan of them, per fact), and the
filter narrows the built-in and extra candidates alike.

Pure: no I/O and no clock (``now`` is passed in); ids come from the ``new_id`` callable.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Iterator, Literal, Mapping, Sequence

from .facts import Cardinality, ExtractedFact, normalise_name

Reassert = Literal["revive", "graphiti_fastpath"]
REASSERT_POLICIES: tuple[Reassert, ...] = ("revive", "graphiti_fastpath")
#: ``cardinality(relation, hint)``: the cardinality of a relation, given the extractor's hint.
CardinalityOf = Callable[[str, "Cardinality | None"], Cardinality]
#: ``predicate(new_edge, old_edge)``: does the new edge contradict the old one?
ContradictionPredicate = Callable[["Edge", "Edge"], bool]

#: terminator relation -> the relation it ends for the same source and target (§5.4 table).
DEFAULT_TERMINATORS: Mapping[str, str] = {"NO_LONGER_WORKS_AT": "WORKS_AT", "MOVED_OUT_OF": "LIVES_IN"}

_SINGLE = Cardinality.SINGLE


def default_cardinality(relation: str, hint: Cardinality | None) -> Cardinality:
    """The extractor's hint if it gave one, else single-valued (§5.5's default)."""
    return hint if hint is not None else _SINGLE


def fact_text(source: str, relation: str, target: str) -> str:
    """The default fact text, "{source} {relation words} {target}" (§5.3): "Alice lives in
    Berlin" for ``LIVES_IN``."""
    words = " ".join(word for word in relation.lower().split("_") if word)
    return f"{source} {words} {target}"


@dataclass(slots=True, eq=False)
class Entity:
    """A node. ``name`` is the name as first seen; ``key`` is what identifies it in its graph.
    ``labels`` are the extractor's type labels in first-seen order; ``episodes`` the episodes
    that mentioned it, in order."""

    uuid: str
    name: str
    key: str
    created_at: datetime
    labels: list[str] = field(default_factory=list)
    episodes: list[str] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class Edge:
    """A fact: ``source -[name]-> target``, true in the world from ``valid_at`` (never None)
    until ``invalid_at`` (None: still true); ``created_at`` / ``expired_at`` are the system
    timeline (when the emulator recorded it, and when it learnt that it no longer holds) (§1.1).
    ``episodes`` lists the episodes that asserted it (an invalidating episode is not added).
    ``cardinality`` and ``terminates`` are as resolved when the edge was made."""

    uuid: str
    name: str
    fact: str
    source: Entity
    target: Entity
    valid_at: datetime
    created_at: datetime
    invalid_at: datetime | None = None
    expired_at: datetime | None = None
    episodes: list[str] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)
    cardinality: Cardinality = _SINGLE
    terminates: str | None = None

    # The names extract.ContradictionRule reads (its EdgeLike protocol).
    @property
    def source_key(self) -> str:
        return self.source.key

    @property
    def relation(self) -> str:
        return self.name

    @property
    def target_key(self) -> str:
        return self.target.key

    @property
    def current(self) -> bool:
        """No end recorded (``invalid_at`` empty): what §5.6's ``revive`` merges into."""
        return self.invalid_at is None

    def valid_on(self, at: datetime) -> bool:
        """True in the world at instant *at*: ``valid_at <= at < invalid_at``."""
        return self.valid_at <= at and (self.invalid_at is None or at < self.invalid_at)


@dataclass(slots=True)
class AppliedEpisode:
    """What one item did to the graph. ``edges``: its new and merged edges in extraction order
    (``new`` and ``merged`` split them); ``invalidated``: existing edges it retired (R3), with
    ``invalidated_by`` naming the new edges that retired each (§5.8's audit log); ``entities``:
    the entities its facts mention, in first-mention order."""

    episode_uuid: str
    edges: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)
    invalidated: list[str] = field(default_factory=list)
    invalidated_by: dict[str, list[str]] = field(default_factory=dict)
    entities: list[str] = field(default_factory=list)

    @property
    def entity_edges(self) -> list[str]:
        """The episode's ``entity_edges`` (§5.1 step 7): new and merged edges, then the retired
        ones (an edge both merged and retired by this item is listed once)."""
        seen = set(self.edges)
        return self.edges + [uuid for uuid in self.invalidated if uuid not in seen]


class _Timeline:
    """The single-valued edges of one ``(source key, relation)``, sorted by ``valid_at``.

    ``reaching`` holds the edges whose interval reaches past the start of the next edge in this
    order (an open edge always does). Any other edge ends by its successor's start, so an edge
    spanning instant *t* (``valid_at < t < invalid_at``) is either the last edge starting before
    *t* or one of ``reaching``: R3's candidates are found without walking the history. On a
    well-kept timeline ``reaching`` is the current edge and little else.
    """

    __slots__ = ("starts", "edges", "reaching")

    def __init__(self) -> None:
        self.starts: list[datetime] = []
        self.edges: list[Edge] = []
        self.reaching: dict[Edge, None] = {}  # ordered, so results are deterministic

    def add(self, edge: Edge) -> None:
        k = bisect_right(self.starts, edge.valid_at)
        self.starts.insert(k, edge.valid_at)
        self.edges.insert(k, edge)
        self._refresh(k)
        if k:
            self._refresh(k - 1)  # its successor is now the new edge

    def end_changed(self, edge: Edge) -> None:
        k = bisect_left(self.starts, edge.valid_at)
        while self.edges[k] is not edge:
            k += 1
        self._refresh(k)

    def first_after(self, at: datetime, accept: Callable[[Edge], bool]) -> Edge | None:
        """The earliest accepted edge that starts strictly after *at* (R2's candidate)."""
        for k in range(bisect_right(self.starts, at), len(self.edges)):
            if accept(self.edges[k]):
                return self.edges[k]
        return None

    def spanning(self, at: datetime) -> list[Edge]:
        """The edges that start strictly before *at* and have not ended by it (R3's only
        possible targets)."""
        found = [e for e in self.reaching if e.valid_at < at and (e.invalid_at is None or e.invalid_at > at)]
        k = bisect_left(self.starts, at) - 1
        if k >= 0:
            last = self.edges[k]
            if last not in self.reaching and (last.invalid_at is None or last.invalid_at > at):
                found.append(last)
        return found

    def _refresh(self, k: int) -> None:
        edge = self.edges[k]
        end = edge.invalid_at
        if end is None or (k + 1 < len(self.starts) and end > self.starts[k + 1]):
            self.reaching[edge] = None
        else:
            self.reaching.pop(edge, None)


class _EntityNames(Mapping[str, str]):
    """A live, read-only view of a graph's entities: key -> display name (what
    :class:`~emulator.core.extract.ExtractionContext` hands extractors, at no copying cost)."""

    __slots__ = ("_entities",)

    def __init__(self, entities: dict[str, Entity]) -> None:
        self._entities = entities

    def __getitem__(self, key: str) -> str:
        return self._entities[key].name

    def __iter__(self) -> Iterator[str]:
        return iter(self._entities)

    def __len__(self) -> int:
        return len(self._entities)


class FactGraph:
    """The entities and edges of one graph, and the engine that adds an item's facts to them.

    *new_id* mints every entity and edge uuid (in a deterministic order). *cardinality* maps
    ``(relation, extractor hint)`` to a cardinality; *terminators* maps a terminator relation to
    the relation it ends (a fact's own ``terminates`` takes precedence). *reassert* is
    ``"revive"`` or ``"graphiti_fastpath"`` (§5.6). *contradicts* are extra predicates
    ``(new_edge, old_edge) -> bool``, tried on the edges of the new edge's source only;
    *contradiction_filter*, if given, must also hold for any candidate (built-in or extra) to
    count as contradicted.
    """

    def __init__(
        self,
        new_id: Callable[[], str],
        *,
        cardinality: CardinalityOf = default_cardinality,
        terminators: Mapping[str, str] = DEFAULT_TERMINATORS,
        reassert: Reassert = "revive",
        contradicts: Sequence[ContradictionPredicate] = (),
        contradiction_filter: ContradictionPredicate | None = None,
    ) -> None:
        if reassert not in REASSERT_POLICIES:
            raise ValueError(f"reassert must be 'revive' or 'graphiti_fastpath', not {reassert!r}")
        self._new_id = new_id
        self._cardinality = cardinality
        self._terminators = dict(terminators)
        self._reassert = reassert
        self._extra = tuple(contradicts)
        self._filter = contradiction_filter
        self._entities: dict[str, Entity] = {}  # by key, in creation order
        self._entities_by_uuid: dict[str, Entity] = {}
        #: key -> display name of every entity, live and read-only (an extractor's context).
        self.entity_names: Mapping[str, str] = _EntityNames(self._entities)
        self._edges: dict[str, Edge] = {}  # by uuid, in creation order
        self._timelines: dict[tuple[str, str], _Timeline] = {}  # (source key, relation)
        # (source key, target key, relation) -> its edges: the edge itself while it is the only one (a
        # list per edge would be one more object for the garbage collector to walk per edge)
        self._triples: dict[tuple[str, str, str], Edge | list[Edge]] = {}
        self._by_source: dict[str, list[Edge]] = {}  # source key -> edges, for user predicates
        self._terminated_by: dict[str, list[str]] = {}  # relation -> relations that terminate it
        for terminator, ended in self._terminators.items():
            self._note_terminator(terminator, ended)

    # -- reading ---------------------------------------------------------------------------

    def entities(self) -> list[Entity]:
        """Every entity, in creation order."""
        return list(self._entities.values())

    def entity(self, uuid: str) -> Entity | None:
        return self._entities_by_uuid.get(uuid)

    def find_entity(self, name: str) -> Entity | None:
        """The entity *name* resolves to (by key), if any."""
        return self._entities.get(normalise_name(name))

    def entity_episodes(self, uuid: str) -> list[str]:
        """The episodes that mentioned the entity, in order ([] for an unknown uuid)."""
        entity = self._entities_by_uuid.get(uuid)
        return list(entity.episodes) if entity is not None else []

    def edges(self) -> list[Edge]:
        """Every edge, in creation order."""
        return list(self._edges.values())

    def edge(self, uuid: str) -> Edge | None:
        return self._edges.get(uuid)

    def edges_from(self, entity: Entity) -> Sequence[Edge]:
        """The edges whose source is *entity*, in creation order (indexed: no scan)."""
        return self._by_source.get(entity.key, ())

    # -- writing ---------------------------------------------------------------------------

    def apply(
        self,
        facts: Iterable[ExtractedFact],
        episode_uuid: str,
        reference_time: datetime,
        now: datetime,
        contradicts: Sequence[ContradictionPredicate] | None = None,
    ) -> AppliedEpisode:
        """Add one item's facts (§5.1 steps 4-7). *reference_time* dates facts without an
        explicit start; *now* is the emulator clock's time for this item: the ``created_at``
        of new edges and every ``expired_at`` written. *contradicts*, if given, replaces the
        graph's extra predicates for this item (the user rules that apply to its episode)."""
        ref, now = _utc(reference_time), _utc(now)
        extra = self._extra if contradicts is None else tuple(contradicts)
        # Steps 4-5, and every decision that reads the graph as it stood before the item.
        plan: list[tuple[ExtractedFact, str, str, Edge | None]] = []
        seen: set[tuple[str, str, str]] = set()
        for fact in facts:
            skey, tkey = normalise_name(fact.source), normalise_name(fact.target)
            if not skey or not tkey or not fact.relation:
                raise ValueError(f"a fact needs a source, a relation and a target: {fact!r}")
            triple = (skey, tkey, fact.relation)
            if triple not in seen:
                seen.add(triple)
                plan.append((fact, skey, tkey, self._reasserted(triple)))

        applied = AppliedEpisode(episode_uuid)
        made: list[Edge] = []
        mentioned: dict[str, None] = {}
        for fact, skey, tkey, existing in plan:
            source = self._mention(fact.source, skey, fact.source_type, episode_uuid, now)
            target = self._mention(fact.target, tkey, fact.target_type, episode_uuid, now)
            mentioned[source.uuid] = mentioned[target.uuid] = None
            if existing is not None:
                if episode_uuid not in existing.episodes:
                    existing.episodes.append(episode_uuid)
                applied.edges.append(existing.uuid)
                applied.merged.append(existing.uuid)
                continue
            edge = self._make_edge(fact, source, target, ref, now, episode_uuid)
            made.append(edge)
            applied.edges.append(edge.uuid)
            applied.new.append(edge.uuid)
            for old in self._invalidate(edge, self._contradicted(edge, extra), now):
                if old.uuid not in applied.invalidated_by:
                    applied.invalidated.append(old.uuid)
                    applied.invalidated_by[old.uuid] = []
                applied.invalidated_by[old.uuid].append(edge.uuid)
        for edge in made:  # only now do the item's edges become candidates
            self._index(edge)
        applied.entities = list(mentioned)
        return applied

    # -- the rules -------------------------------------------------------------------------

    def _invalidate(self, new: Edge, contradicted: list[Edge], now: datetime) -> list[Edge]:
        """R1-R3 of §2.3 on the new edge and its contradicted candidates (sorted by valid_at);
        returns the candidates R3 retired."""
        # R1: the edge arrives already ended (past or future end alike).
        if new.invalid_at is not None and new.expired_at is None:
            new.expired_at = now
        # R2: born invalid at the start of the earliest contradicting edge that starts later.
        if new.expired_at is None:
            for c in contradicted:
                if c.valid_at > new.valid_at:
                    new.invalid_at = c.valid_at
                    new.expired_at = now
                    break
        # R3: retire the contradicted edges that started earlier and had not ended.
        retired: list[Edge] = []
        for c in contradicted:
            if c.invalid_at is not None and c.invalid_at <= new.valid_at:
                continue  # c had already ended when the new edge began
            if new.invalid_at is not None and new.invalid_at <= c.valid_at:
                continue  # the new edge ended before c began
            if c.valid_at < new.valid_at:
                c.invalid_at = new.valid_at  # may move a later end earlier, never later
                if c.expired_at is None:
                    c.expired_at = now
                self._end_changed(c)
                retired.append(c)
        return retired

    def _contradicted(self, new: Edge, extra: Sequence[ContradictionPredicate]) -> list[Edge]:
        """The stored edges the new edge contradicts (§5.5), sorted by ``valid_at``. From the
        timeline only the ones R2 or R3 can act on are taken: the earliest later one and those
        spanning the new edge's start; running R1-R3 on the rest would change nothing."""
        skey, tkey = new.source.key, new.target.key
        keep = self._filter

        def accept(old: Edge) -> bool:  # old is on the timeline, so single-valued
            return old.target.key != tkey and (keep is None or keep(new, old))

        found: list[Edge] = []
        if new.cardinality is _SINGLE:
            timeline = self._timelines.get((skey, new.name))
            if timeline is not None:
                later = timeline.first_after(new.valid_at, accept)
                if later is not None:
                    found.append(later)
                found += [old for old in timeline.spanning(new.valid_at) if accept(old)]
        terminated = [(new.terminates, None)] if new.terminates else []
        terminated += [(rel, new.name) for rel in self._terminated_by.get(new.name, ())]
        for rel, must_terminate in terminated:
            for old in self._same_triple((skey, tkey, rel)):
                if (must_terminate is None or old.terminates == must_terminate) and (keep is None or keep(new, old)):
                    found.append(old)
        if extra:
            for old in self._by_source.get(skey, ()):
                if any(p(new, old) for p in extra) and (keep is None or keep(new, old)):
                    found.append(old)
        if len(found) > 1:
            found = sorted(dict.fromkeys(found), key=_valid_at)
        return found

    def _reasserted(self, triple: tuple[str, str, str]) -> Edge | None:
        """The existing edge a fact with this triple merges into (§5.6), if any."""
        same = self._same_triple(triple)
        if not same:
            return None
        if self._reassert == "graphiti_fastpath":
            return same[0]
        return next((edge for edge in reversed(same) if edge.invalid_at is None), None)

    # -- bookkeeping -----------------------------------------------------------------------

    def _mention(self, name: str, key: str, label: str | None, episode_uuid: str, now: datetime) -> Entity:
        entity = self._entities.get(key)
        if entity is None:
            entity = Entity(self._new_id(), name, key, now)
            self._entities[key] = entity
            self._entities_by_uuid[entity.uuid] = entity
        if label and label not in entity.labels:
            entity.labels.append(label)
        if not entity.episodes or entity.episodes[-1] != episode_uuid:
            entity.episodes.append(episode_uuid)
        return entity

    def _make_edge(
        self, fact: ExtractedFact, source: Entity, target: Entity, ref: datetime, now: datetime, episode_uuid: str
    ) -> Edge:
        terminates = fact.terminates or self._terminators.get(fact.relation)
        if terminates:
            self._note_terminator(fact.relation, terminates)
        edge = Edge(
            uuid=self._new_id(),
            name=fact.relation,
            fact=fact.fact or fact_text(source.name, fact.relation, target.name),
            source=source,
            target=target,
            valid_at=_utc(fact.valid_at) if fact.valid_at is not None else ref,
            created_at=now,
            invalid_at=_utc(fact.invalid_at) if fact.invalid_at is not None else None,
            episodes=[episode_uuid],
            attributes=dict(fact.attributes),
            cardinality=Cardinality(self._cardinality(fact.relation, fact.cardinality)),
            terminates=terminates,
        )
        self._edges[edge.uuid] = edge
        return edge

    def _index(self, edge: Edge) -> None:
        skey = edge.source.key
        if edge.cardinality is _SINGLE:
            timeline = self._timelines.get((skey, edge.name))
            if timeline is None:
                timeline = self._timelines[(skey, edge.name)] = _Timeline()
            timeline.add(edge)
        triple = (skey, edge.target.key, edge.name)
        same = self._triples.get(triple)
        if same is None:
            self._triples[triple] = edge
        elif isinstance(same, Edge):
            self._triples[triple] = [same, edge]
        else:
            same.append(edge)
        self._by_source.setdefault(skey, []).append(edge)

    def _same_triple(self, triple: tuple[str, str, str]) -> Sequence[Edge]:
        same = self._triples.get(triple, ())
        return (same,) if isinstance(same, Edge) else same

    def _end_changed(self, edge: Edge) -> None:
        if edge.cardinality is _SINGLE:
            self._timelines[(edge.source.key, edge.name)].end_changed(edge)

    def _note_terminator(self, terminator: str, ended: str) -> None:
        enders = self._terminated_by.setdefault(ended, [])
        if terminator not in enders:
            enders.append(terminator)


def _valid_at(edge: Edge) -> datetime:
    return edge.valid_at


def _utc(value: datetime) -> datetime:
    """``ensure_utc``: naive counts as UTC, aware is converted to UTC."""
    if value.tzinfo is timezone.utc:
        return value
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)
