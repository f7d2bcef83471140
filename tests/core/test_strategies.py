"""emulator.strategies, without any SDK: valid items obey every rule of the wire references,
each flawed item breaks exactly its named rule, ``defects=`` restricts, bad arguments are
refused, and importing the package loads no emulator module.

The rules are checked by :func:`zep_violations` / :func:`synap_violations`, written here from
zep-wire-contract.md §1 and §3, synap-wire-contract.md §2 and §4 and decisions.md — not by
calling the emulator, and not by reusing the strategies' own code.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.strategies import Flawed, synap, zep_v2, zep_v4

GRAPHS = ("8c4f1f7e-0c55-4d7e-9a53-0b7c1b0a5e01", "8c4f1f7e-0c55-4d7e-9a53-0b7c1b0a5e02")
USERS = ("1d0e7a3c-6f0b-4a55-8f3e-2c9d4b1a7e03",)
THREADS = ("5b2a9c8d-3e4f-4a1b-9c0d-7e6f5a4b3c04",)

# Each version's wire names (zep-wire-contract.md §1a / §1b) and roles.
V4 = {"graph": "graph_uuid", "user": "user_uuid", "thread": "thread_uuid", "time": "reference_time",
      "roles": {"system", "assistant", "user", "function", "tool"}}
V2 = {"graph": "graph_id", "user": "user_id", "thread": "thread_id", "time": "created_at",
      "roles": {"norole", "system", "assistant", "user", "function", "tool"}}
VERSIONS = [(zep_v4, V4), (zep_v2, V2)]


def destinations(module: ModuleType, graphs: tuple[str, ...] = GRAPHS, users: tuple[str, ...] = USERS,
                 threads: tuple[str, ...] = THREADS) -> dict[str, tuple[str, ...]]:
    """The keyword arguments naming destinations, in *module*'s spelling."""
    if module is zep_v4:
        return {"graph_uuids": graphs, "user_uuids": users, "thread_uuids": threads}
    return {"graph_ids": graphs, "user_ids": users, "thread_ids": threads}


# -- the rules, from the references --------------------------------------------------------------

_OFFSET = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})")
_NAIVE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?")


def _scalar(value: Any) -> bool:
    """§3: strings, numbers (finite), booleans."""
    if isinstance(value, (str, bool, int)):
        return True
    return isinstance(value, float) and math.isfinite(value)


def _parses(data: str) -> bool:
    def refuse(constant: str) -> Any:
        raise ValueError(constant)

    try:
        json.loads(data, parse_constant=refuse)
    except ValueError:
        return False
    return True


def zep_violations(item: dict[str, Any], names: dict[str, Any], known: dict[str, tuple[str, ...]]) -> set[str]:
    """Every rule *item* breaks, named as the strategies' defects where there is one (anything
    else gets a descriptive name, which no test expects). *known*: the existing destinations
    per kind (graph, user, thread)."""
    broken: set[str] = set()
    graph, user, thread, time = names["graph"], names["user"], names["thread"], names["time"]
    common = {"type", "metadata", time}
    if item.get("type") == "graph_episode":
        allowed = common | {graph, user, "data", "data_type", "document_id", "source_description"}
        targets = [f for f in (graph, user) if f in item]
        if len(targets) == 0:
            broken.add(zep_v4.NO_TARGET)
        if len(targets) == 2:
            broken.add(zep_v4.TWO_TARGETS)
        if graph in item and item[graph] not in known["graph"]:
            broken.add(zep_v4.UNKNOWN_GRAPH)
        if user in item and item[user] not in known["user"]:
            broken.add(zep_v4.UNKNOWN_USER)
        data = item.get("data")
        if not isinstance(data, str) or not data.strip():
            broken.add("data_missing")
        else:
            if len(data) > 10_000:
                broken.add(zep_v4.EPISODE_TOO_LARGE)
            if item.get("data_type") == "json" and not _parses(data):
                broken.add(zep_v4.INVALID_JSON)
        if item.get("data_type", "text") not in ("text", "json", "message"):
            broken.add("bad_data_type")
        for field in ("document_id", "source_description"):
            if field in item and not isinstance(item[field], str):
                broken.add(f"bad_{field}")
    elif item.get("type") == "thread_message":
        allowed = common | {thread, "content", "role", "name"}
        if thread not in item:
            broken.add("thread_missing")
        elif item[thread] not in known["thread"]:
            broken.add(zep_v4.UNKNOWN_THREAD)
        content = item.get("content")
        if not isinstance(content, str) or not content.strip():
            broken.add("content_missing")
        elif len(content) > 4_096:
            broken.add(zep_v4.MESSAGE_TOO_LARGE)
        if item.get("role") not in names["roles"]:
            broken.add("bad_role")
        if "name" in item and not (isinstance(item["name"], str) and len(item["name"]) <= 100):
            broken.add("bad_name")
    else:
        return {"bad_type"}
    if set(item) - allowed:
        broken.add("unexpected_fields")
    if "metadata" in item:
        md = item["metadata"]
        if not isinstance(md, dict) or not all(isinstance(k, str) for k in md):
            broken.add("bad_metadata")
        else:
            if len(md) > 10:
                broken.add(zep_v4.TOO_MANY_METADATA_KEYS)
            for value in md.values():
                if isinstance(value, dict):
                    broken.add(zep_v4.NESTED_METADATA)
                elif not (_scalar(value) or (isinstance(value, list) and value and all(map(_scalar, value)))):
                    broken.add("bad_metadata")
    if time in item:
        stamp = item[time]
        if not isinstance(stamp, str):
            broken.add("bad_timestamp")
        elif _OFFSET.fullmatch(stamp):
            datetime.fromisoformat(stamp)  # a real date and time
        elif _NAIVE.fullmatch(stamp):
            datetime.fromisoformat(stamp)
            broken.add(zep_v4.NAIVE_TIMESTAMP)
        else:
            broken.add("bad_timestamp")
    try:
        json.dumps(item, allow_nan=False)
    except (TypeError, ValueError):
        broken.add("not_json")
    return broken


KNOWN = {"graph": GRAPHS, "user": USERS, "thread": THREADS}


def synap_violations(doc: dict[str, Any], isolation: str = "strict") -> set[str]:
    """Every rule a document breaks (decisions.md "What makes a document invalid",
    synap-wire-contract.md §2 and §4), one document at a time."""
    broken: set[str] = set()
    allowed = {"document", "document_type", "document_id", "document_created_at", "user_id", "customer_id",
               "scope", "mode", "metadata"}
    if set(doc) - allowed or "document" not in doc:
        broken.add("bad_fields")
    content = doc.get("document")
    if content == "" or content == {}:
        broken.add(synap.EMPTY_DOCUMENT)
    elif isinstance(content, str):
        if not content.strip():
            broken.add("blank_document")
    elif not isinstance(content, dict):
        broken.add("bad_document")
    if doc.get("document_type", "ai-chat-conversation") not in {
        "ai-chat-conversation", "document", "email", "pdf", "image", "audio", "meeting-transcript"
    }:
        broken.add("bad_document_type")
    if doc.get("mode", "long-range") not in {"fast", "long-range"}:
        broken.add("bad_mode")
    if isolation == "strict" and doc.get("user_id") and not doc.get("customer_id"):
        broken.add(synap.USER_WITHOUT_CUSTOMER)
    if isolation == "equals_customer" and doc.get("customer_id"):
        broken.add(synap.CUSTOMER_UNDER_B2C)
    if doc.get("scope") is not None:
        broken.add(synap.SCOPE_WITHOUT_NESTING)
        if not (isinstance(doc["scope"], dict) and all(isinstance(v, str) for v in doc["scope"].values())):
            broken.add("bad_scope")
    if "document_created_at" in doc:
        stamp = doc["document_created_at"]
        if not (isinstance(stamp, str) and _OFFSET.fullmatch(stamp) and datetime.fromisoformat(stamp).tzinfo):
            broken.add("bad_document_created_at")
    if "metadata" in doc and not isinstance(doc["metadata"], dict):
        broken.add("bad_metadata")
    try:
        json.dumps(doc, allow_nan=False)
    except (TypeError, ValueError):
        broken.add("not_json")
    return broken


# -- Zep: valid items -----------------------------------------------------------------------------


@pytest.mark.parametrize("module,names", VERSIONS, ids=["v4", "v2"])
@settings(max_examples=60)
@given(data=st.data())
def test_valid_items_break_no_rule(module: ModuleType, names: dict[str, Any], data: st.DataObject) -> None:
    items = data.draw(module.items(**destinations(module), max_size=8))
    assert 1 <= len(items) <= 8
    for item in items:
        assert zep_violations(item, names, KNOWN) == set(), item


@pytest.mark.parametrize("module,names", VERSIONS, ids=["v4", "v2"])
@settings(max_examples=40)
@given(data=st.data())
def test_items_use_only_the_destinations_given(module: ModuleType, names: dict[str, Any], data: st.DataObject) -> None:
    """Only threads given: only thread messages; only a user: only episodes into that user's graph."""
    only_threads = data.draw(module.items(**destinations(module, (), (), THREADS), max_size=5))
    assert {item["type"] for item in only_threads} == {"thread_message"}
    assert {item[names["thread"]] for item in only_threads} <= set(THREADS)
    only_user = data.draw(module.items(**destinations(module, (), USERS, ()), max_size=5))
    assert all(item["type"] == "graph_episode" and item[names["user"]] == USERS[0] for item in only_user)
    assert all(names["graph"] not in item for item in only_user)


@pytest.mark.parametrize("module,names", VERSIONS, ids=["v4", "v2"])
@settings(max_examples=40)
@given(data=st.data())
def test_timestamped_controls_the_timestamp(module: ModuleType, names: dict[str, Any], data: st.DataObject) -> None:
    time = names["time"]
    with_time = data.draw(module.items(**destinations(module), max_size=5, timestamped=True))
    assert all(time in item for item in with_time)
    without = data.draw(module.items(**destinations(module), max_size=5, timestamped=False))
    assert all(time not in item for item in without)
    episode = data.draw(module.graph_episode(GRAPHS[0], timestamped=True))
    message = data.draw(module.thread_message(THREADS[0], timestamped=False))
    assert time in episode and time not in message


@pytest.mark.parametrize("module,names", VERSIONS, ids=["v4", "v2"])
@settings(max_examples=40)
@given(data=st.data())
def test_single_item_strategies(module: ModuleType, names: dict[str, Any], data: st.DataObject) -> None:
    """graph_episode takes a str or a strategy for its one target; thread_message a thread."""
    by_user = data.draw(module.graph_episode(None, st.sampled_from(USERS)))
    assert by_user[names["user"]] in USERS and names["graph"] not in by_user
    message = data.draw(module.thread_message(THREADS[0], max_text=10))
    assert len(message["content"]) <= 10
    for item in (by_user, message):
        assert zep_violations(item, names, KNOWN) == set()


def reached(strategy: st.SearchStrategy[Any], examples: int = 150) -> list[Any]:
    """*examples* values of *strategy* (the profile is derandomised, so always the same ones)."""
    seen: list[Any] = []

    @settings(max_examples=examples, database=None)
    @given(strategy)
    def collect(value: Any) -> None:
        seen.append(value)

    collect()
    return seen


def test_strategies_reach_the_variants() -> None:
    """json / message / text episodes, Z and numeric offsets, microseconds, list metadata
    values, norole in v2, every synap document type and both kinds of content: each turns up."""
    episodes = reached(zep_v4.graph_episode(GRAPHS[0], timestamped=True))
    assert {it.get("data_type") for it in episodes} == {None, "text", "json", "message"}
    stamps = [it["reference_time"] for it in episodes]
    assert any(t.endswith("Z") for t in stamps)
    assert any(re.search(r"[+]\d\d:\d\d$", t) for t in stamps) and any(re.search(r"-\d\d:\d\d$", t) for t in stamps)
    assert any(re.search(r"\.\d{6}", t) for t in stamps) and any(re.search(r"\.\d{3}[Z+-]", t) for t in stamps)
    assert any(isinstance(v, list) for it in episodes for v in it.get("metadata", {}).values())
    assert any(len(it.get("metadata", {})) == 10 for it in reached(zep_v4.graph_episode(GRAPHS[0]), 300))
    assert {it["role"] for it in reached(zep_v2.thread_message("t"), 100)} == V2["roles"]
    docs = [doc for batch in reached(synap.documents(max_size=5)) for doc in batch]
    assert {doc.get("document_type") for doc in docs} == {None, *synap.DOCUMENT_TYPES}
    assert {type(doc["document"]) for doc in docs} == {str, dict}
    assert {("user_id" in doc, "customer_id" in doc) for doc in docs} == {(False, False), (False, True), (True, True)}


# -- Zep: flawed items ------------------------------------------------------------------------------


@pytest.mark.parametrize("module,names", VERSIONS, ids=["v4", "v2"])
@settings(max_examples=120)
@given(data=st.data())
def test_each_flawed_item_breaks_exactly_its_rule(module: ModuleType, names: dict[str, Any], data: st.DataObject) -> None:
    flawed = data.draw(module.flawed_items(**destinations(module)))
    assert isinstance(flawed, Flawed)
    assert flawed.defect in module.DEFECTS
    assert zep_violations(flawed.item, names, KNOWN) == {flawed.defect}, flawed


@pytest.mark.parametrize("module,names", VERSIONS, ids=["v4", "v2"])
@pytest.mark.parametrize("defect", zep_v4.DEFECTS)
@settings(max_examples=8)
@given(data=st.data())
def test_every_defect_can_be_asked_for(module: ModuleType, names: dict[str, Any], defect: str, data: st.DataObject) -> None:
    flawed = data.draw(module.flawed_items(**destinations(module), defects=[defect]))
    assert flawed.defect == defect
    assert zep_violations(flawed.item, names, KNOWN) == {defect}


@pytest.mark.parametrize("module", [zep_v4, zep_v2], ids=["v4", "v2"])
@settings(max_examples=40)
@given(data=st.data())
def test_defects_restricts(module: ModuleType, data: st.DataObject) -> None:
    chosen = data.draw(st.lists(st.sampled_from(module.DEFECTS), min_size=1, max_size=3, unique=True))
    flawed = data.draw(module.flawed_items(**destinations(module), defects=chosen))
    assert flawed.defect in chosen


@pytest.mark.parametrize("module,names", VERSIONS, ids=["v4", "v2"])
@settings(max_examples=40)
@given(data=st.data())
def test_defects_need_no_more_than_they_say(module: ModuleType, names: dict[str, Any], data: st.DataObject) -> None:
    """With no destinations, NO_TARGET and the UNKNOWN_* defects are still made; with only a
    thread, MESSAGE_TOO_LARGE and the thread-borne defects too."""
    bare = data.draw(module.flawed_items())
    assert bare.defect in {module.NO_TARGET, module.UNKNOWN_GRAPH, module.UNKNOWN_USER, module.UNKNOWN_THREAD}
    assert zep_violations(bare.item, names, {"graph": (), "user": (), "thread": ()}) == {bare.defect}
    threads_only = data.draw(module.flawed_items(**destinations(module, (), (), THREADS)))
    assert threads_only.defect not in {module.TWO_TARGETS, module.INVALID_JSON, module.EPISODE_TOO_LARGE}
    assert zep_violations(threads_only.item, names, KNOWN) == {threads_only.defect}


def test_stage_tables() -> None:
    """One prediction per defect; v4 turns away an unknown graph at add (rejected_items), v2
    has no rejected_items and finds it at process."""
    for module in (zep_v4, zep_v2):
        assert set(module.STAGE) == set(module.DEFECTS)
        assert len(module.DEFECTS) == len(set(module.DEFECTS)) == 11
    assert set(zep_v4.STAGE.values()) == {"add", "rejected_item", "process", "item"}
    assert zep_v4.STAGE[zep_v4.UNKNOWN_GRAPH] == "rejected_item"
    assert zep_v2.STAGE[zep_v2.UNKNOWN_GRAPH] == "process"
    assert "rejected_item" not in zep_v2.STAGE.values()
    for module in (zep_v4, zep_v2):
        assert module.STAGE[module.UNKNOWN_USER] == module.STAGE[module.UNKNOWN_THREAD] == "process"
        assert {d for d, s in module.STAGE.items() if s == "item"} == {
            module.INVALID_JSON, module.EPISODE_TOO_LARGE, module.MESSAGE_TOO_LARGE
        }
        assert {d for d, s in module.STAGE.items() if s == "add"} == {
            module.NAIVE_TIMESTAMP, module.TOO_MANY_METADATA_KEYS, module.NESTED_METADATA, module.TWO_TARGETS,
            module.NO_TARGET,
        }
    assert (zep_v4.MAX_ITEMS_PER_ADD, zep_v4.MAX_ITEMS_PER_BATCH) == (500, 50_000)
    assert (zep_v2.MAX_ITEMS_PER_ADD, zep_v2.MAX_ITEMS_PER_BATCH) == (500, 50_000)


# -- Zep: arguments ----------------------------------------------------------------------------------


@pytest.mark.parametrize("module", [zep_v4, zep_v2], ids=["v4", "v2"])
def test_bad_arguments_are_refused(module: ModuleType) -> None:
    with pytest.raises(ValueError, match="at least one destination"):
        module.items()
    with pytest.raises(ValueError, match="exactly one"):
        module.graph_episode()
    with pytest.raises(ValueError, match="exactly one"):
        module.graph_episode(GRAPHS[0], USERS[0])
    with pytest.raises(ValueError, match="min_size"):
        module.items(**destinations(module), min_size=0)
    with pytest.raises(ValueError, match="min_size"):
        module.items(**destinations(module), min_size=5, max_size=4)
    with pytest.raises(ValueError, match="max_text"):
        module.thread_message(THREADS[0], max_text=4_097)
    with pytest.raises(TypeError, match="not one str"):
        module.items(**{**destinations(module), list(destinations(module))[0]: GRAPHS[0]})
    with pytest.raises(ValueError, match="unknown defect"):
        module.flawed_items(**destinations(module), defects=["no_such_defect"])
    with pytest.raises(ValueError, match="needs a graph and a user"):
        module.flawed_items(**destinations(module, GRAPHS, (), ()), defects=[module.TWO_TARGETS])
    with pytest.raises(ValueError, match="needs a thread"):
        module.flawed_items(defects=[module.MESSAGE_TOO_LARGE])


# -- Synap ----------------------------------------------------------------------------------------------


@settings(max_examples=60)
@given(synap.documents(max_size=10))
def test_valid_documents_break_no_rule(docs: list[dict[str, Any]]) -> None:
    assert 1 <= len(docs) <= 10
    for doc in docs:
        assert synap_violations(doc) == set(), doc
    ids = [doc["document_id"] for doc in docs if "document_id" in doc]
    assert len(ids) == len(set(ids))


@settings(max_examples=30)
@given(synap.batches(user_ids=["u1", "u2"], customer_ids=["c1"], with_document_id=True))
def test_batches_are_one_call_of_unique_ids(docs: list[dict[str, Any]]) -> None:
    assert 1 <= len(docs) <= synap.MAX_DOCUMENTS_PER_BATCH == 100
    assert len({doc["document_id"] for doc in docs}) == len(docs)
    for doc in docs:
        assert synap_violations(doc) == set()
        assert doc.get("user_id") in (None, "u1", "u2") and doc.get("customer_id") in (None, "c1")


@settings(max_examples=40)
@given(synap.documents(isolation=synap.EQUALS_CUSTOMER, max_size=10, with_document_id=False))
def test_b2c_documents_carry_no_customer(docs: list[dict[str, Any]]) -> None:
    for doc in docs:
        assert synap_violations(doc, "equals_customer") == set()
        assert "customer_id" not in doc and "document_id" not in doc


@settings(max_examples=30)
@given(synap.document(user_ids=[], customer_ids=[]))
def test_empty_id_pools_mean_client_scope(doc: dict[str, Any]) -> None:
    assert "user_id" not in doc and "customer_id" not in doc


@pytest.mark.parametrize("isolation", [synap.STRICT, synap.EQUALS_CUSTOMER])
@settings(max_examples=60)
@given(data=st.data())
def test_each_flawed_document_breaks_exactly_its_rule(isolation: str, data: st.DataObject) -> None:
    flawed = data.draw(synap.flawed_documents(isolation=isolation))
    assert isinstance(flawed, Flawed) and flawed.defect in synap.DEFECTS
    assert synap_violations(flawed.item, isolation) == {flawed.defect}, flawed
    assert "document_id" not in flawed.item


@settings(max_examples=30)
@given(data=st.data())
def test_synap_defects_restrict(data: st.DataObject) -> None:
    chosen = data.draw(st.lists(st.sampled_from([synap.EMPTY_DOCUMENT, synap.USER_WITHOUT_CUSTOMER,
                                                  synap.SCOPE_WITHOUT_NESTING]), min_size=1, unique=True))
    assert data.draw(synap.flawed_documents(chosen)).defect in chosen


def test_synap_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="min_size"):
        synap.documents(max_size=101)
    with pytest.raises(ValueError, match="isolation"):
        synap.document(isolation="b2b")
    with pytest.raises(ValueError, match="only under isolation 'strict'"):
        synap.flawed_documents([synap.USER_WITHOUT_CUSTOMER], isolation=synap.EQUALS_CUSTOMER)
    with pytest.raises(ValueError, match="unknown defect"):
        synap.flawed_documents(["unknown_document_type"])


# -- the shared pieces -----------------------------------------------------------------------------------


@settings(max_examples=60)
@given(st.data())
def test_common_timestamps_and_metadata(data: st.DataObject) -> None:
    from emulator.strategies import _common

    stamp = data.draw(_common.timestamps())
    assert _OFFSET.fullmatch(stamp) and datetime.fromisoformat(stamp).tzinfo is not None
    naive = data.draw(_common.naive_timestamps())
    assert _NAIVE.fullmatch(naive) and datetime.fromisoformat(naive).tzinfo is None
    md = data.draw(_common.metadata())
    assert zep_violations({"type": "thread_message", "thread_uuid": THREADS[0], "content": "x", "role": "user",
                           "metadata": md}, V4, KNOWN) == set()
    assert len(data.draw(_common.text(max_size=7))) <= 7
    assert not _parses(data.draw(_common.invalid_json()))


# -- imports ----------------------------------------------------------------------------------------------


def test_importing_the_strategies_loads_no_emulator_module() -> None:
    """The strategies are written from the references: importing them (in a fresh interpreter)
    loads no emulator.core / emulator.wire module, nor any SDK."""
    code = (
        "import sys, emulator.strategies\n"
        "from emulator.strategies import zep_v2, zep_v4, synap, Flawed\n"
        "print('\\n'.join(sorted(m for m in sys.modules if m.startswith(('emulator', 'zep_cloud', 'maximem_synap')))))\n"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root)
    loaded = set(result.stdout.split())
    assert "emulator.strategies" in loaded
    assert not {m for m in loaded if m.startswith(("emulator.core", "emulator.wire", "zep_cloud", "maximem_synap"))}
    assert loaded <= {"emulator", "emulator.strategies", "emulator.strategies._common", "emulator.strategies.zep_v2",
                      "emulator.strategies.zep_v4", "emulator.strategies.synap"}
