"""Users, graphs, threads, messages and episodes of one tenant.

Zep v2 addresses users, graphs and threads by the ids the client chose (``user_id``,
``graph_id``, ``thread_id``); v4 by server UUIDs. Every record here keeps both, and the store
indexes both, so one tenant's data reads the same through either API version
(design.md "One world, many views").

Each user owns a user graph (v4 ``User.graph_uuid``; a v4 ``graph_uuid`` path parameter also
accepts the user's own uuid, per the 4.0.1 docstrings). A thread belongs to one user, and a
thread message's episode lands in that user's graph.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from .batches import KeySpace, Ref, TargetKind
from .errors import Conflict, InvalidInput, NotFound


@dataclass(slots=True, eq=False)
class Episode:
    """An episode of a graph. It exists from the moment its item or live add is queued,
    ``processed`` false, and becomes processed when the processor reaches it (``processed_at``,
    the clock then); one whose item fails, is skipped or is canceled is ``dropped``: gone from
    every read. ``reference_time`` is None only while an item that carried none waits (it is
    then dated when processed). ``message`` links a thread message's episode to its message."""

    uuid: str
    graph: "Graph"
    content: str
    source: str
    reference_time: datetime | None
    created_at: datetime
    source_description: str | None = None
    document_id: str | None = None
    metadata: dict[str, Any] | None = None
    thread: "Thread | None" = None
    role: str | None = None
    role_name: str | None = None
    message: "Message | None" = None
    processed: bool = False
    processed_at: datetime | None = None
    dropped: bool = False

    @property
    def reported_time(self) -> datetime:
        """The reference time a read shows: the supplied or processing-time one, else (while
        an undated item waits) the time it was received."""
        return self.reference_time or self.created_at


@dataclass(slots=True, eq=False)
class Graph:
    uuid: str
    graph_id: str | None
    created_at: datetime
    updated_at: datetime
    name: str | None = None
    description: str | None = None
    time_zone: str | None = None
    #: The owner, for a user graph; None for a standalone graph.
    user: "User | None" = None
    #: In queue order, which is processing order; dropped ones stay until read past
    #: (:meth:`live_episodes`), so that dropping one never shifts the others.
    episodes: list[Episode] = field(default_factory=list)
    deleted: bool = False
    #: The entities and edges derived from the processed episodes (core/knowledge.py), made
    #: on first read.
    knowledge: Any = None

    def live_episodes(self) -> list[Episode]:
        """The episodes a read shows (not dropped), in queue order."""
        return [e for e in self.episodes if not e.dropped]

    @property
    def type(self) -> str:
        return "user" if self.user is not None else "standard"


@dataclass(slots=True, eq=False)
class User:
    uuid: str
    user_id: str
    created_at: datetime
    updated_at: datetime
    graph: Graph = None  # type: ignore[assignment]  # set right after construction
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    metadata: dict[str, Any] | None = None
    time_zone: str | None = None
    disable_default_ontology: bool | None = None
    deleted: bool = False


@dataclass(slots=True, eq=False)
class Message:
    """A thread message; like :class:`Episode`, it exists unprocessed from the moment it is
    queued, and a dropped one is gone from every read."""

    uuid: str
    thread: "Thread"
    content: str
    role: str
    created_at: datetime
    reference_time: datetime | None
    name: str | None = None
    metadata: dict[str, Any] | None = None
    processed: bool = False
    dropped: bool = False

    @property
    def reported_time(self) -> datetime:
        """The reference time a read shows: the supplied or processing-time one, else (while
        an undated item waits) the time it was received."""
        return self.reference_time or self.created_at


@dataclass(slots=True, eq=False)
class Thread:
    uuid: str
    thread_id: str
    user: User
    created_at: datetime
    updated_at: datetime
    messages: list[Message] = field(default_factory=list)
    deleted: bool = False
    dropped_messages: int = 0

    def live_messages(self) -> list[Message]:
        """The messages a read shows, in order; dropped ones are swept out here, on read."""
        if self.dropped_messages:
            self.messages = [m for m in self.messages if not m.dropped]
            self.dropped_messages = 0
        return self.messages

    def drop_message(self, message: Message) -> None:
        if not message.dropped:
            message.dropped = True
            self.dropped_messages += 1


class GraphStore:
    """The records of one tenant, indexed by client id and by uuid."""

    def __init__(self, new_id: Callable[[], str]) -> None:
        self.new_id = new_id
        self.users_by_uuid: dict[str, User] = {}
        self.users_by_id: dict[str, User] = {}
        self.graphs_by_uuid: dict[str, Graph] = {}
        self.graphs_by_id: dict[str, Graph] = {}
        self.threads_by_uuid: dict[str, Thread] = {}
        self.threads_by_id: dict[str, Thread] = {}
        self.episodes_by_uuid: dict[str, Episode] = {}

    # -- users -------------------------------------------------------------------------------

    def create_user(self, user_id: str | None, now: datetime, **fields: Any) -> User:
        if user_id is not None and user_id in self.users_by_id:
            raise Conflict("user_exists", f"a user with user_id {user_id!r} already exists", param="user_id")
        uid = self.new_id()
        user = User(uuid=uid, user_id=user_id if user_id is not None else uid, created_at=now, updated_at=now, **fields)
        user.graph = Graph(uuid=self.new_id(), graph_id=None, created_at=now, updated_at=now, user=user)
        self.users_by_uuid[user.uuid] = user
        self.users_by_id[user.user_id] = user
        self.graphs_by_uuid[user.graph.uuid] = user.graph
        return user

    def user(self, space: KeySpace, value: str) -> User:
        index = self.users_by_uuid if space is KeySpace.UUID else self.users_by_id
        user = index.get(value)
        if user is None:
            raise NotFound("user_not_found", f"user {value!r} not found")
        return user

    def delete_user(self, user: User) -> None:
        """The user goes with their graph (and its episodes) and their threads."""
        user.deleted = True
        self._forget_graph(user.graph)
        del self.users_by_uuid[user.uuid]
        del self.users_by_id[user.user_id]
        for thread in [t for t in self.threads_by_uuid.values() if t.user is user]:
            self.delete_thread(thread)

    # -- graphs ------------------------------------------------------------------------------

    def create_graph(self, graph_id: str | None, now: datetime, **fields: Any) -> Graph:
        if graph_id is not None and graph_id in self.graphs_by_id:
            raise Conflict("graph_exists", f"a graph with graph_id {graph_id!r} already exists", param="graph_id")
        uid = self.new_id()
        graph = Graph(uuid=uid, graph_id=graph_id if graph_id is not None else uid, created_at=now, updated_at=now, **fields)
        self.graphs_by_uuid[graph.uuid] = graph
        self.graphs_by_id[graph.graph_id] = graph  # type: ignore[index]
        return graph

    def graph(self, space: KeySpace, value: str) -> Graph:
        """A graph by client id or uuid; by uuid, a user's uuid names that user's graph."""
        if space is KeySpace.UUID:
            graph = self.graphs_by_uuid.get(value)
            if graph is None and value in self.users_by_uuid:
                graph = self.users_by_uuid[value].graph
        else:
            graph = self.graphs_by_id.get(value)
        if graph is None:
            raise NotFound("graph_not_found", f"graph {value!r} not found")
        return graph

    def delete_graph(self, graph: Graph) -> None:
        if graph.user is not None:
            raise InvalidInput("user_graph", "a user's graph is deleted with the user, not on its own")
        del self.graphs_by_id[graph.graph_id]  # type: ignore[arg-type]
        self._forget_graph(graph)

    def _forget_graph(self, graph: Graph) -> None:
        graph.deleted = True
        self.graphs_by_uuid.pop(graph.uuid, None)
        for episode in graph.episodes:
            self.episodes_by_uuid.pop(episode.uuid, None)

    # -- threads -----------------------------------------------------------------------------

    def create_thread(self, thread_id: str | None, user: User, now: datetime) -> Thread:
        if thread_id is not None and thread_id in self.threads_by_id:
            raise Conflict("thread_exists", f"a thread with thread_id {thread_id!r} already exists", param="thread_id")
        uid = self.new_id()
        thread = Thread(uuid=uid, thread_id=thread_id if thread_id is not None else uid, user=user, created_at=now, updated_at=now)
        self.threads_by_uuid[thread.uuid] = thread
        self.threads_by_id[thread.thread_id] = thread
        return thread

    def thread(self, space: KeySpace, value: str) -> Thread:
        index = self.threads_by_uuid if space is KeySpace.UUID else self.threads_by_id
        thread = index.get(value)
        if thread is None:
            raise NotFound("thread_not_found", f"thread {value!r} not found")
        return thread

    def delete_thread(self, thread: Thread) -> None:
        thread.deleted = True
        self.threads_by_uuid.pop(thread.uuid, None)
        self.threads_by_id.pop(thread.thread_id, None)

    # -- batch item targets ------------------------------------------------------------------

    def resolve(self, ref: Ref) -> tuple[Graph, Thread | None] | None:
        """The destination graph (and thread) a batch item's reference names, or None."""
        try:
            if ref.kind is TargetKind.GRAPH:
                return self.graph(ref.space, ref.value), None
            if ref.kind is TargetKind.USER:
                return self.user(ref.space, ref.value).graph, None
            thread = self.thread(ref.space, ref.value)
            return thread.user.graph, thread
        except NotFound:
            return None

    # -- episodes ----------------------------------------------------------------------------

    def add_episode(self, episode: Episode) -> Episode:
        episode.graph.episodes.append(episode)
        self.episodes_by_uuid[episode.uuid] = episode
        return episode

    def drop_episode(self, episode: Episode) -> None:
        episode.dropped = True
        self.episodes_by_uuid.pop(episode.uuid, None)

    def episode(self, episode_uuid: str) -> Episode:
        episode = self.episodes_by_uuid.get(episode_uuid)
        if episode is None:
            raise NotFound("episode_not_found", f"episode {episode_uuid!r} not found")
        return episode
