"""Pieces the strategy modules share: the :class:`Flawed` pair, text, timestamps, metadata and
JSON values, and the one Zep item generator that :mod:`.zep_v2` and :mod:`.zep_v4` both use,
parameterised by the wire names of each version (:class:`ZepWire`).

Standard library and ``hypothesis`` only: nothing here imports the emulator, so the strategies
describe the services as the wire references do, not as the emulator happens to behave.
References: ``zep-wire-contract.md`` §1 (item fields) and §3 (item rules and limits),
``synap-wire-contract.md`` §2 (``CreateMemoryRequest``), ``decisions.md`` (what the emulator
decided where the services are silent).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple, Union

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

__all__ = [
    "Flawed",
    "MAX_TEXT",
    "text",
    "timestamps",
    "naive_timestamps",
    "metadata",
    "metadata_scalars",
    "json_objects",
]


class Flawed(NamedTuple):
    """An item (or document) that breaks exactly one rule, and the name of that rule.

    ``item`` is a plain JSON-shaped dict in the wire shape the SDK sends; ``defect`` is one of
    the defect constants of the module that made it (e.g. ``zep_v4.NAIVE_TIMESTAMP``)."""

    item: dict[str, Any]
    defect: str


#: The default upper bound on generated text, so that examples stay small and fast. Every
#: strategy that makes free text takes ``max_text`` to raise it.
MAX_TEXT = 200

# The timestamps stay in 1970..2100: four-digit years, and no instant that an offset would push
# outside what ``datetime`` can hold in UTC.
_EARLIEST = datetime(1970, 1, 2)
_LATEST = datetime(2100, 12, 30)
# JSON numbers that survive every JSON reader unchanged (IEEE-754 doubles hold these integers).
_SAFE_INT = 2**53


# -- text --------------------------------------------------------------------------------------

# Printable: no control, format, surrogate, private-use or unassigned code points, and no line
# or paragraph separators.
_PRINTABLE = st.characters(exclude_categories=("C", "Zl", "Zp"))
_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def text(*, min_size: int = 1, max_size: int = MAX_TEXT) -> SearchStrategy[str]:
    """Short printable text of *min_size* to *max_size* characters (Python ``len``: code points).

    With ``min_size >= 1`` the text is never blank (something other than whitespace), since
    the services require ``data`` / ``content`` / ``document`` to carry something
    (zep-wire-contract.md §1 field docs; synap-wire-contract.md §2: ``document`` is required).
    """
    if min_size < 0 or max_size < min_size:
        raise ValueError(f"text needs 0 <= min_size <= max_size; got {min_size}, {max_size}")
    strategy = st.text(_PRINTABLE, min_size=min_size, max_size=max_size)
    return strategy.filter(str.strip) if min_size >= 1 else strategy


def long_text(min_size: int, max_size: int) -> SearchStrategy[str]:
    """Printable text of *min_size* to *max_size* characters, built by repeating a short drawn
    piece (Hypothesis does not draw 10,000 characters one by one cheaply)."""

    def build(piece: str, size: int) -> str:
        return (piece * (size // len(piece) + 1))[:size]

    return st.builds(build, text(min_size=1, max_size=20), st.integers(min_size, max_size))


def identifiers(prefix: str) -> SearchStrategy[str]:
    """Client-chosen ids such as ``user-k3``: a prefix and 1 to 8 lower-case letters or digits
    (a small space, so that drawn ids repeat and scopes are shared between documents)."""
    return st.text(_ID_ALPHABET, min_size=1, max_size=8).map(lambda tail: f"{prefix}-{tail}")


def fresh_uuids(avoid: Sequence[str] = ()) -> SearchStrategy[str]:
    """Version-4 UUID strings, none equal to one in *avoid*: an id that names nothing the
    caller made. (Drawn by Hypothesis, so reproducible; fresh with respect to *avoid*, not
    globally.)"""
    known = {value.lower() for value in avoid}
    return st.uuids(version=4).map(str).filter(lambda value: value not in known)


# -- timestamps -----------------------------------------------------------------------------------


def _utc_offsets() -> SearchStrategy[str]:
    """``Z``, or ``+HH:MM`` / ``-HH:MM`` from -12:00 to +14:00 with minutes 00, 30 or 45 (the
    offsets in use in the world, ``+00:00`` among them)."""

    def offset(hours: int, minutes: int) -> str:
        if hours in (-12, 14):
            minutes = 0
        return f"{'-' if hours < 0 else '+'}{abs(hours):02d}:{minutes:02d}"

    return st.one_of(st.just("Z"), st.builds(offset, st.integers(-12, 14), st.sampled_from((0, 30, 45))))


def _wall_clock() -> SearchStrategy[str]:
    """``YYYY-MM-DDTHH:MM:SS``, sometimes with a fraction of 3 or 6 digits (milliseconds or
    microseconds)."""

    def render(moment: datetime, fraction: int) -> str:
        base = moment.strftime("%Y-%m-%dT%H:%M:%S")
        if fraction == 3:
            return f"{base}.{moment.microsecond // 1000:03d}"
        if fraction == 6:
            return f"{base}.{moment.microsecond:06d}"
        return base

    return st.builds(render, st.datetimes(min_value=_EARLIEST, max_value=_LATEST), st.sampled_from((0, 0, 3, 6)))


def timestamps() -> SearchStrategy[str]:
    """RFC 3339 timestamps with an offset: ``2024-06-15T10:30:00Z``, ``...T10:30:00.123456+05:30``.

    zep-wire-contract.md §3 "Field rules": ``created_at`` (v2) / ``reference_time`` (v4) are
    RFC 3339 with a timezone; decisions.md "Timestamps on the wire": an offset other than ``Z``
    is accepted and normalised. Also a timezone-aware ``document_created_at`` for Synap
    (synap-wire-contract.md §2)."""
    return st.builds(lambda wall, offset: wall + offset, _wall_clock(), _utc_offsets())


def naive_timestamps() -> SearchStrategy[str]:
    """ISO 8601 date-times with no offset (``2024-06-15T10:30:00``): what zep-ingest refuses and
    decisions.md makes a 400 for the field (zep-wire-contract.md §3 "Field rules")."""
    return _wall_clock()


# -- metadata and JSON ------------------------------------------------------------------------------

#: zep-wire-contract.md §3 "Field rules": metadata has at most 10 keys.
MAX_METADATA_KEYS = 10


def metadata_scalars() -> SearchStrategy[Union[str, int, float, bool]]:
    """A metadata scalar: a string, an integer, a finite float or a boolean (v4 field docs:
    "Values must be strings, numbers, booleans, or arrays of scalars"; no NaN/Infinity,
    zep-wire-contract.md §3). Integers stay within +-2**53 so every JSON reader keeps them."""
    return st.one_of(
        text(min_size=0, max_size=40),
        st.integers(-_SAFE_INT, _SAFE_INT),
        st.floats(allow_nan=False, allow_infinity=False),
        st.booleans(),
    )


def metadata_values() -> SearchStrategy[Any]:
    """A scalar, or a non-empty list of up to 5 scalars (zep-ingest also refuses empty arrays
    and null elements, zep-wire-contract.md §3)."""
    scalars = metadata_scalars()
    return st.one_of(scalars, st.lists(scalars, min_size=1, max_size=5))


def metadata_keys() -> SearchStrategy[str]:
    """A metadata key: a non-blank string of up to 20 characters (string keys, §3)."""
    return text(min_size=1, max_size=20)


def metadata(*, min_keys: int = 0, max_keys: int = MAX_METADATA_KEYS) -> SearchStrategy[dict[str, Any]]:
    """A metadata object that obeys the rule of zep-wire-contract.md §3 with the defaults: 0 to
    10 string keys, each value a scalar (:func:`metadata_scalars`) or a non-empty list of
    scalars. *min_keys* / *max_keys* change the key count only (the flawed strategies use
    11+ keys)."""
    if min_keys < 0 or max_keys < min_keys:
        raise ValueError(f"metadata needs 0 <= min_keys <= max_keys; got {min_keys}, {max_keys}")
    return st.dictionaries(metadata_keys(), metadata_values(), min_size=min_keys, max_size=max_keys)


def _json_scalars() -> SearchStrategy[Any]:
    return st.one_of(metadata_scalars(), st.none())


def json_objects(*, min_keys: int = 1, max_keys: int = 5) -> SearchStrategy[dict[str, Any]]:
    """A small JSON object: *min_keys* to *max_keys* keys; values scalars (null included), lists
    of up to 3 scalars, or objects of up to 3 scalars. Strict JSON (no NaN/Infinity), so any
    JSON parser reads ``json.dumps`` of it. About 1,000 characters at most when dumped."""
    values = st.one_of(
        _json_scalars(),
        st.lists(_json_scalars(), max_size=3),
        st.dictionaries(text(min_size=1, max_size=12), _json_scalars(), max_size=3),
    )
    return st.dictionaries(text(min_size=1, max_size=12), values, min_size=min_keys, max_size=max_keys)


def dump_json(value: Any) -> str:
    """``json.dumps`` refusing NaN/Infinity, keeping non-ASCII characters as they are."""
    return json.dumps(value, allow_nan=False, ensure_ascii=False)


def invalid_json() -> SearchStrategy[str]:
    """Text that no JSON parser reads: a JSON object with its closing brace cut off, or prose
    that opens with ``<``. Non-empty, and far below every size limit."""
    truncated = json_objects(min_keys=0, max_keys=3).map(lambda obj: dump_json(obj)[:-1])
    prose = text(min_size=1, max_size=60).map(lambda body: "<" + body)
    return st.one_of(truncated, prose)


def is_json(data: str) -> bool:
    """Whether *data* parses as strict JSON (NaN and Infinity are not JSON)."""

    def refuse(constant: str) -> Any:
        raise ValueError(constant)

    try:
        json.loads(data, parse_constant=refuse)
    except ValueError:
        return False
    return True


# -- arguments ---------------------------------------------------------------------------------

Ids = Union[str, SearchStrategy[str]]


def as_strategy(value: Ids, name: str) -> SearchStrategy[str]:
    """A str as a one-value strategy; a strategy as it is."""
    if isinstance(value, str):
        return st.just(value)
    if isinstance(value, SearchStrategy):
        return value
    raise TypeError(f"{name} must be a str or a strategy of str; got {type(value).__name__}")


def as_tuple(values: Sequence[str], name: str) -> tuple[str, ...]:
    """A sequence of ids as a tuple; a bare str is refused (it would be read as its letters)."""
    if isinstance(values, str):
        raise TypeError(f"{name} takes a sequence of ids, not one str; write ({values!r},)")
    result = tuple(values)
    for value in result:
        if not isinstance(value, str):
            raise TypeError(f"{name} must hold str ids; got {type(value).__name__}")
    return result


# -- Zep items: one mechanism, two spellings ----------------------------------------------------------

#: zep-wire-contract.md §3 "Batch-size limits" (docs: up to 500 items per add call, 50,000 per
#: batch); decisions.md "Items per add call" / "Items per batch".
MAX_ITEMS_PER_ADD = 500
MAX_ITEMS_PER_BATCH = 50_000
#: zep-wire-contract.md §3 "Content sizes": episode ``data`` <= 10,000 characters, thread message
#: ``content`` <= 4,096 (zep-ingest, citing the docs). (A message ``name`` may have 100; the
#: strategies make at most 40.)
MAX_EPISODE_DATA_CHARS = 10_000
MAX_MESSAGE_CONTENT_CHARS = 4_096

# The defect names, shared by zep_v2 and zep_v4 (each documents them in its own spelling).
NAIVE_TIMESTAMP = "naive_timestamp"
TOO_MANY_METADATA_KEYS = "too_many_metadata_keys"
NESTED_METADATA = "nested_metadata"
TWO_TARGETS = "two_targets"
NO_TARGET = "no_target"
INVALID_JSON = "invalid_json"
EPISODE_TOO_LARGE = "episode_too_large"
MESSAGE_TOO_LARGE = "message_too_large"
UNKNOWN_GRAPH = "unknown_graph"
UNKNOWN_USER = "unknown_user"
UNKNOWN_THREAD = "unknown_thread"

ZEP_DEFECTS: tuple[str, ...] = (
    NAIVE_TIMESTAMP,
    TOO_MANY_METADATA_KEYS,
    NESTED_METADATA,
    TWO_TARGETS,
    NO_TARGET,
    INVALID_JSON,
    EPISODE_TOO_LARGE,
    MESSAGE_TOO_LARGE,
    UNKNOWN_GRAPH,
    UNKNOWN_USER,
    UNKNOWN_THREAD,
)

# Episode ``data_type`` values the batch docs describe (zep-wire-contract.md §3 "Enums"; v2's
# enum also lists fact_triple, which the batch docs never describe, so it is not generated).
DATA_TYPES = ("text", "json", "message")


@dataclass(frozen=True)
class ZepWire:
    """The spelling of one Zep wire version: the item fields that name the destination graph,
    user and thread and the item's timestamp, and the roles a thread message may carry."""

    graph: str
    user: str
    thread: str
    time: str
    roles: tuple[str, ...]

    # -- valid items ------------------------------------------------------------------------------

    def _optional_fields(self, timestamped: bool | None) -> SearchStrategy[dict[str, Any]]:
        """The common optional fields: ``metadata`` (valid, §3) and the timestamp — present
        when *timestamped* is True, absent when False, either when None."""
        required: dict[str, SearchStrategy[Any]] = {}
        optional: dict[str, SearchStrategy[Any]] = {"metadata": metadata()}
        if timestamped is True:
            required[self.time] = timestamps()
        elif timestamped is None:
            optional[self.time] = timestamps()
        return st.fixed_dictionaries(required, optional=optional)

    def graph_episode(
        self, graph: Ids | None, user: Ids | None, timestamped: bool | None = None, max_text: int = MAX_TEXT
    ) -> SearchStrategy[dict[str, Any]]:
        """A valid ``graph_episode``: exactly one of the graph and user fields (§3 "Targets");
        ``data_type`` text (or absent, which means text), json (``data`` is a JSON object) or
        message (``data`` is ``"speaker: text"``); ``data`` non-empty and at most *max_text*
        characters for text and message data (at most 10,000, §3); optional
        ``source_description``, ``document_id``, ``metadata`` and timestamp."""
        if (graph is None) == (user is None):
            raise ValueError(f"a graph_episode needs exactly one of {self.graph} and {self.user}")
        _check_max_text(max_text, MAX_EPISODE_DATA_CHARS, "episode data")
        field, target = (self.graph, graph) if graph is not None else (self.user, user)
        assert target is not None
        as_strategy(target, field)  # type check before the cache hashes it
        return self._graph_episode(field, target, timestamped, max_text)

    @lru_cache(maxsize=256)  # see _item_lists
    def _graph_episode(
        self, field: str, target: Ids, timestamped: bool | None, max_text: int
    ) -> SearchStrategy[dict[str, Any]]:
        required = {"type": st.just("graph_episode"), field: as_strategy(target, field)}
        optional = {"source_description": text(max_size=80), "document_id": text(max_size=40)}
        shape = st.fixed_dictionaries(required, optional=optional)
        return st.builds(_merge, shape, _episode_data(max_text), self._optional_fields(timestamped))

    def thread_message(
        self, thread: Ids, timestamped: bool | None = None, max_text: int = MAX_TEXT
    ) -> SearchStrategy[dict[str, Any]]:
        """A valid ``thread_message``: the thread field, non-empty ``content`` of at most
        *max_text* characters (at most 4,096, §3), a ``role`` of this version's enum (§1),
        an optional sender ``name`` (at most 100 characters, §3), metadata and timestamp."""
        _check_max_text(max_text, MAX_MESSAGE_CONTENT_CHARS, "message content")
        as_strategy(thread, self.thread)  # type check before the cache hashes it
        return self._thread_message(thread, timestamped, max_text)

    @lru_cache(maxsize=256)  # see _item_lists
    def _thread_message(self, thread: Ids, timestamped: bool | None, max_text: int) -> SearchStrategy[dict[str, Any]]:
        required = {
            "type": st.just("thread_message"),
            self.thread: as_strategy(thread, self.thread),
            "content": text(max_size=max_text),
            "role": st.sampled_from(self.roles),
        }
        shape = st.fixed_dictionaries(required, optional={"name": text(max_size=40)})
        return st.builds(_merge, shape, self._optional_fields(timestamped))

    @lru_cache(maxsize=256)  # see _item_lists
    def _any_item(
        self,
        graphs: tuple[str, ...],
        users: tuple[str, ...],
        threads: tuple[str, ...],
        timestamped: bool | None = None,
        max_text: int = MAX_TEXT,
    ) -> SearchStrategy[dict[str, Any]]:
        """A valid item for one of the given destinations."""
        kinds: list[SearchStrategy[dict[str, Any]]] = []
        if graphs:
            kinds.append(self.graph_episode(st.sampled_from(graphs), None, timestamped, max_text))
        if users:
            kinds.append(self.graph_episode(None, st.sampled_from(users), timestamped, max_text))
        if threads:
            kinds.append(self.thread_message(st.sampled_from(threads), timestamped, max_text))
        if not kinds:
            raise ValueError(f"give at least one destination: {self.graph}s, {self.user}s or {self.thread}s")
        return st.one_of(*kinds)

    def items(
        self,
        graphs: Sequence[str],
        users: Sequence[str],
        threads: Sequence[str],
        min_size: int,
        max_size: int,
        timestamped: bool | None = None,
        max_text: int = MAX_TEXT,
    ) -> SearchStrategy[list[dict[str, Any]]]:
        """A list of valid items spread over the destinations (graph episodes for graphs and
        users, thread messages for threads); 1 <= min_size <= max_size <= 50,000."""
        if not 1 <= min_size <= max_size <= MAX_ITEMS_PER_BATCH:
            raise ValueError(f"items needs 1 <= min_size <= max_size <= {MAX_ITEMS_PER_BATCH}; got {min_size}, {max_size}")
        dests = (
            as_tuple(graphs, self.graph + "s"), as_tuple(users, self.user + "s"), as_tuple(threads, self.thread + "s"),
        )
        return _item_lists(self, dests, min_size, max_size, timestamped, max_text)

    # -- flawed items ------------------------------------------------------------------------------

    def flawed_items(
        self, graphs: Sequence[str], users: Sequence[str], threads: Sequence[str], defects: Sequence[str] | None
    ) -> SearchStrategy[Flawed]:
        """One item with exactly one defect, drawn from *defects* (default: every defect the
        destinations allow). Everything else about the item is valid and, apart from the
        UNKNOWN_* defects, names only the given destinations.

        What each defect needs: TWO_TARGETS a graph and a user; INVALID_JSON and
        EPISODE_TOO_LARGE a graph or a user; MESSAGE_TOO_LARGE a thread; NAIVE_TIMESTAMP and
        the two metadata defects any destination; NO_TARGET and the UNKNOWN_* defects none."""
        dests = (
            as_tuple(graphs, self.graph + "s"), as_tuple(users, self.user + "s"), as_tuple(threads, self.thread + "s"),
        )
        possible = [d for d in ZEP_DEFECTS if _NEEDS[d](*dests)]
        # never empty when not restricted: NO_TARGET and the UNKNOWN_* defects need nothing
        chosen = choose_defects(defects, ZEP_DEFECTS, possible,
                                lambda d: f"defect {d!r} needs {_NEEDS_TEXT[d]}, which were not given")
        return _flawed(self, dests, chosen)

    def _defect_builder(
        self, defect: str, graphs: tuple[str, ...], users: tuple[str, ...], threads: tuple[str, ...]
    ) -> SearchStrategy[dict[str, Any]]:
        known = graphs + users + threads
        targets = (graphs, users, threads)
        episodes = (graphs, users, ())
        if defect == NAIVE_TIMESTAMP:
            return st.builds(_with, self._any_item(*targets), st.just(self.time), naive_timestamps())
        if defect == TOO_MANY_METADATA_KEYS:
            too_many = metadata(min_keys=MAX_METADATA_KEYS + 1, max_keys=MAX_METADATA_KEYS + 5)
            return st.builds(_with, self._any_item(*targets), st.just("metadata"), too_many)
        if defect == NESTED_METADATA:
            return st.builds(_with, self._any_item(*targets), st.just("metadata"), _nested_metadata())
        if defect == TWO_TARGETS:
            return st.builds(_with, self._any_item(graphs, (), ()), st.just(self.user), st.sampled_from(users))
        if defect == NO_TARGET:
            return self.graph_episode(fresh_uuids(known), None).map(lambda item: _without(item, self.graph))
        if defect == INVALID_JSON:
            item = self._any_item(*episodes).map(lambda item: {**item, "data_type": "json"})
            return st.builds(_with, item, st.just("data"), invalid_json())
        if defect == EPISODE_TOO_LARGE:
            item = self._any_item(*episodes).map(lambda item: {**item, "data_type": "text"})
            too_large = long_text(MAX_EPISODE_DATA_CHARS + 1, MAX_EPISODE_DATA_CHARS + 100)
            return st.builds(_with, item, st.just("data"), too_large)
        if defect == MESSAGE_TOO_LARGE:
            too_large = long_text(MAX_MESSAGE_CONTENT_CHARS + 1, MAX_MESSAGE_CONTENT_CHARS + 100)
            return st.builds(_with, self._any_item((), (), threads), st.just("content"), too_large)
        if defect == UNKNOWN_GRAPH:
            return self.graph_episode(fresh_uuids(known), None)
        if defect == UNKNOWN_USER:
            return self.graph_episode(None, fresh_uuids(known))
        if defect == UNKNOWN_THREAD:
            return self.thread_message(fresh_uuids(known))
        raise AssertionError(defect)  # pragma: no cover


# Cached: a test that builds its strategy inside the example (``data.draw(items(...))`` with
# destinations made at run time) gets the same strategy object each time, and Hypothesis does
# not redo the work it does on a strategy's first draw.
_Dests = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]


@lru_cache(maxsize=256)
def _item_lists(
    wire: ZepWire, dests: _Dests, min_size: int, max_size: int, timestamped: bool | None, max_text: int
) -> SearchStrategy[list[dict[str, Any]]]:
    one = wire._any_item(*dests, timestamped, max_text)
    return st.lists(one, min_size=min_size, max_size=max_size)


def choose_defects(defects: Sequence[str] | None, known: Sequence[str], possible: list[str],
                   why_not: Callable[[str], str]) -> tuple[str, ...]:
    """The defects a ``flawed_*`` strategy draws from: *possible* unless the caller restricts
    them, in which case each must be a *known* one that is possible here (else ``why_not``)."""
    if defects is None:
        return tuple(possible)
    if isinstance(defects, str):
        raise TypeError(f"defects takes a sequence of defect names, not one str; write ({defects!r},)")
    chosen = list(dict.fromkeys(defects))
    if not chosen:
        raise ValueError("defects is empty")
    for defect in chosen:
        if defect not in known:
            raise ValueError(f"unknown defect {defect!r}; the defects are {', '.join(known)}")
        if defect not in possible:
            raise ValueError(why_not(defect))
    return tuple(chosen)


@lru_cache(maxsize=256)
def _flawed(wire: ZepWire, dests: _Dests, chosen: tuple[str, ...]) -> SearchStrategy[Flawed]:
    builders = {defect: wire._defect_builder(defect, *dests) for defect in chosen}
    return st.sampled_from(chosen).flatmap(lambda defect: builders[defect].map(lambda item: Flawed(item, defect)))


def _check_max_text(max_text: int, limit: int, what: str) -> None:
    if not 1 <= max_text <= limit:
        raise ValueError(f"max_text must be 1 to {limit} ({what} limit, zep-wire-contract.md §3); got {max_text}")


def _merge(*parts: dict[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for part in parts:
        merged.update(part)
    return merged


def _with(item: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    return {**item, key: value}


def _without(item: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k != key}


def _episode_data(max_text: int) -> SearchStrategy[dict[str, Any]]:
    """``data`` with its ``data_type``: text (``data_type`` "text" or absent), a JSON object
    (json), or a chat line ``"speaker: text"`` (message); at most *max_text* characters for
    text and message, a small object (well under 10,000 characters) for json."""

    def chat_line(speaker: str, body: str) -> str:
        return (speaker + ": " + body)[:max_text]

    speakers = st.text(st.characters(categories=("L",)), min_size=1, max_size=20)
    plain = st.fixed_dictionaries({"data": text(max_size=max_text)}, optional={"data_type": st.just("text")})
    as_json = st.fixed_dictionaries({"data": json_objects().map(dump_json), "data_type": st.just("json")})
    message = st.fixed_dictionaries(
        {"data": st.builds(chat_line, speakers, text(max_size=max_text)), "data_type": st.just("message")}
    )
    return st.one_of(plain, as_json, message)


def _nested_metadata() -> SearchStrategy[dict[str, Any]]:
    """Valid metadata of at most 9 keys plus one key whose value is an object (§3: "no nested
    objects")."""

    def nest(base: dict[str, Any], key: str, inner: dict[str, Any]) -> dict[str, Any]:
        return {**base, key: inner}

    inner = st.dictionaries(metadata_keys(), metadata_scalars(), max_size=3)
    return st.builds(nest, metadata(max_keys=MAX_METADATA_KEYS - 1), metadata_keys(), inner)


_Needs = Callable[[tuple[str, ...], tuple[str, ...], tuple[str, ...]], bool]
_NEEDS: dict[str, _Needs] = {
    NAIVE_TIMESTAMP: lambda g, u, t: bool(g or u or t),
    TOO_MANY_METADATA_KEYS: lambda g, u, t: bool(g or u or t),
    NESTED_METADATA: lambda g, u, t: bool(g or u or t),
    TWO_TARGETS: lambda g, u, t: bool(g and u),
    NO_TARGET: lambda g, u, t: True,
    INVALID_JSON: lambda g, u, t: bool(g or u),
    EPISODE_TOO_LARGE: lambda g, u, t: bool(g or u),
    MESSAGE_TOO_LARGE: lambda g, u, t: bool(t),
    UNKNOWN_GRAPH: lambda g, u, t: True,
    UNKNOWN_USER: lambda g, u, t: True,
    UNKNOWN_THREAD: lambda g, u, t: True,
}
_NEEDS_TEXT = {
    NAIVE_TIMESTAMP: "a destination",
    TOO_MANY_METADATA_KEYS: "a destination",
    NESTED_METADATA: "a destination",
    TWO_TARGETS: "a graph and a user",
    NO_TARGET: "nothing",
    INVALID_JSON: "a graph or a user",
    EPISODE_TOO_LARGE: "a graph or a user",
    MESSAGE_TOO_LARGE: "a thread",
    UNKNOWN_GRAPH: "nothing",
    UNKNOWN_USER: "nothing",
    UNKNOWN_THREAD: "nothing",
}
