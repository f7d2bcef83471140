"""The knowledge of a graph: the entities and dated edges its processed episodes yield,
derived when first read.

Every episode of a graph goes through one pipeline (reference/temporal-invalidation.md §5.1):
extraction (core/extract.py, the user's registered extractors first) turns it into facts, and
the temporal engine (core/temporal.py) applies them in the graph's processing order, with the
episode's reference time and, as ``now``, the clock's reading when the episode was processed.
Batch items of both wire versions and the live adds all write episodes, so all reach the
engine the same way.

The derivation is lazy: a graph's :class:`GraphKnowledge` is made on the first read of its
edges or nodes and then brought up to date on each read, applying the episodes processed since
(processed episodes are a prefix of the graph's queue, because each graph's items are processed
strictly in order). Applying at read time gives exactly what applying at processing time would
- same order, same reference times, same ``now`` - while a backfill that nobody reads facts
from pays nothing for extraction. One consequence is documented in the README: an extractor
registered after episodes were processed but before their graph's facts are first read applies
to them too.

Entity and edge uuids come from an id stream of the graph's own (:meth:`IdFactory.derived`),
so with a seed they are the same however reads and other calls interleave.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field

from .extract import EpisodeView, ExtractionContext, ExtractorRegistry
from .graph import Episode, Graph, User
from .ids import IdFactory
from .temporal import AppliedEpisode, Edge, Entity, FactGraph, Reassert

log = logging.getLogger(__name__)


@dataclass
class KnowledgeSettings:
    """How facts are extracted and resolved, for every graph of a world: the extractor
    registry (with its relation rules) and the re-assertion policy of §5.6."""

    registry: ExtractorRegistry = field(default_factory=ExtractorRegistry)
    reassert: Reassert = "revive"


class PluginError(RuntimeError):
    """A ``--plugin`` module that cannot be loaded or has no ``register(registry)``."""


def load_plugin(name: str, registry: ExtractorRegistry) -> None:
    """Import module *name* and call its ``register(registry)``: how the standalone server
    (``--plugin MODULE``) gets a user's extractors and contradiction rules."""
    try:
        module = importlib.import_module(name)
    except ImportError as exc:
        raise PluginError(f"plugin {name!r} cannot be imported: {exc}") from None
    register = getattr(module, "register", None)
    if not callable(register):
        raise PluginError(f"plugin {name!r} has no register(registry) function")
    register(registry)


def owner_name(user: User) -> str:
    """The name a user graph's first-person pronouns and subject-less JSON resolve to (§5.3:
    "the user's name or user_id"): first and last name when the user has one, else user_id."""
    full = " ".join(part for part in (user.first_name, user.last_name) if part and part.strip())
    return full or user.user_id


def episode_view(episode: Episode) -> EpisodeView:
    """An episode as extractors see it. A message episode shows the message's own text, its
    author's name as speaker (for a ``user`` message without a name: the user), and its role
    (§5.4 "For Batch API thread messages, use the item's name/role")."""
    graph = episode.graph
    owner = owner_name(graph.user) if graph.user is not None else None
    message = episode.message
    speaker = episode.role_name
    if speaker is None and episode.role == "user":
        speaker = owner
    return EpisodeView(
        kind=episode.source,  # type: ignore[arg-type]
        content=message.content if message is not None else episode.content,
        reference_time=episode.reported_time,
        owner=owner,
        graph_label=graph.graph_id,
        speaker=speaker if message is not None else None,
        role=episode.role,
        source_description=episode.source_description,
    )


class GraphKnowledge:
    """One graph's entities and edges, and how far through its episodes they are."""

    def __init__(self, graph: Graph, settings: KnowledgeSettings, ids: IdFactory) -> None:
        relations = settings.registry.relations
        self.graph = graph
        self.settings = settings
        self.facts = FactGraph(
            ids.derived(f"graph/{graph.uuid}").uuid,
            cardinality=relations.cardinality_of,
            terminators=relations.terminators,
            reassert=settings.reassert,
        )
        self.applied = 0  # how many of graph.episodes have been applied (or passed over, dropped)
        #: What each applied episode did (its ``entity_edges``, what it retired and by what).
        self.by_episode: dict[str, AppliedEpisode] = {}
        #: Notes the extractors left per episode (an unparseable date, an ignored option).
        self.warnings: dict[str, list[str]] = {}

    def catch_up(self) -> "GraphKnowledge":
        """Apply the episodes processed since the last read, in order."""
        episodes = self.graph.episodes
        k = self.applied
        while k < len(episodes):
            episode = episodes[k]
            if not episode.dropped:
                if not episode.processed:
                    break
                self._apply(episode)
            k += 1
        self.applied = k
        return self

    def _apply(self, episode: Episode) -> None:
        """Extract and apply one episode. If a (user) extractor raises or hands back a fact the
        engine refuses, the episode yields no facts (a contradiction rule that raises part-way
        keeps those applied before it); the error is logged and kept in :attr:`warnings`, and
        the graph stays readable: one bad plug-in call must not make every later read fail."""
        registry = self.settings.registry
        view = episode_view(episode)
        ctx = ExtractionContext(entities=self.facts.entity_names)
        assert episode.reference_time is not None and episode.processed_at is not None  # processed
        try:
            facts = registry.extract(view, ctx)
            rules = [rule.contradicts for rule in registry.contradiction_rules_for(view)]
            self.by_episode[episode.uuid] = self.facts.apply(
                facts, episode.uuid, episode.reference_time, episode.processed_at, contradicts=rules
            )
        except Exception as exc:
            log.exception("extracting facts from episode %s failed", episode.uuid)
            ctx.warnings.append(f"no facts: extraction failed with {exc!r}")
        if ctx.warnings:
            self.warnings[episode.uuid] = list(ctx.warnings)

    # -- reading ---------------------------------------------------------------------------

    def edges(self) -> list[Edge]:
        return self.facts.edges()

    def entities(self) -> list[Entity]:
        return self.facts.entities()


def knowledge_of(graph: Graph, settings: KnowledgeSettings, ids: IdFactory) -> GraphKnowledge:
    """The graph's knowledge, made on first use, brought up to date."""
    if graph.knowledge is None:
        graph.knowledge = GraphKnowledge(graph, settings, ids)
    return graph.knowledge.catch_up()
