"""Live adds and graph reads through zep-cloud 4.0.1: graph.episode.add / list / get,
thread.add_messages, graph.edge.list / get, graph.node.list / get, and the tasks they return."""

from __future__ import annotations

from typing import Any, Iterator

import pytest
from zep_cloud.client import Zep
from zep_cloud.errors import BadRequestError, NotFoundError
from zep_cloud.types import AddMessage, BatchItemInput

from emulator.core.facts import ExtractedFact
from emulator.core.processor import ProcessingMode
from emulator.core.world import WorldConfig
from emulator.server import BackgroundServer

from ..conftest import Control


def _graph(zep: Zep) -> str:
    uuid = zep.graph.create(name="g").uuid_
    assert uuid is not None
    return uuid


def test_a_live_episode_is_unprocessed_until_processing_reaches_it(zep: Zep, control: Control) -> None:
    control.set_mode("manual")
    graph = _graph(zep)
    added = zep.graph.episode.add(graph, data="Alice lives in Paris.", reference_time="2024-01-01T00:00:00Z")
    assert added.episode is not None and added.task is not None
    assert (added.episode.processed, added.episode.source, added.task.type, added.task.status) == (
        False, "text", "graph.add", "pending")
    assert zep.graph.episode.get(graph, added.episode.uuid_).processed is False  # type: ignore[arg-type]
    assert list(zep.graph.edge.list(graph)) == []  # no facts before processing
    assert control.step(1)["processed"] == 1
    assert zep.graph.episode.get(graph, added.episode.uuid_).processed is True  # type: ignore[arg-type]
    assert zep.task.get(added.task.uuid_).status == "succeeded"  # type: ignore[arg-type]
    assert [e.fact for e in zep.graph.edge.list(graph)] == ["Alice lives in Paris"]


def test_a_running_batch_shows_its_episodes_processed_or_not_truthfully(zep: Zep, control: Control) -> None:
    control.set_mode("manual")
    graph = _graph(zep)
    batch = zep.batch.create().uuid_
    assert batch is not None
    zep.batch.add_items(batch, items=[BatchItemInput(type="graph_episode", graph_uuid=graph, data=f"episode {i}")
                                      for i in range(5)])
    zep.batch.process(batch)
    control.step(3)
    listed = list(zep.graph.episode.list(graph, order_by="created_at", order="asc"))
    assert [(e.content, e.processed) for e in listed] == [(f"episode {i}", i < 3) for i in range(5)]
    assert zep.batch.get(batch).status == "processing"


def test_thread_messages_land_in_the_users_graph_and_ignored_roles_say_nothing(zep: Zep) -> None:
    user = zep.user.create(user_id="alice", first_name="Alice")
    thread = zep.thread.create(user_uuid=user.uuid_)  # type: ignore[arg-type]
    added = zep.thread.add_messages(
        thread.uuid_,  # type: ignore[arg-type]
        messages=[AddMessage(content="I work at Acme.", role="user"), AddMessage(content="I moved to Rome.", role="tool")],
        ignore_roles=["tool"],
    )
    assert [(m.content, m.processed) for m in added.messages or []] == [("I work at Acme.", True), ("I moved to Rome.", True)]
    assert added.task is not None and added.task.type == "thread.add_messages"
    assert [e.fact for e in zep.graph.edge.list(user.uuid_)] == ["Alice works at Acme"]  # type: ignore[arg-type]
    assert [e.content for e in zep.graph.episode.list(user.uuid_)] == ["user: I work at Acme."]  # type: ignore[arg-type]
    # 4.0.1 Task.result, "populated once the task reaches succeeded or partial": the episode of
    # each message that wrote one (the ignored role wrote none).
    [episode] = list(zep.graph.episode.list(user.uuid_))  # type: ignore[arg-type]
    finished = zep.task.get(added.task.uuid_)  # type: ignore[arg-type]
    assert finished.result is not None and [e.episode_uuid for e in finished.result.episodes or []] == [episode.uuid_]


def test_a_live_adds_task_has_its_episode_as_result_once_finished(zep: Zep, control: Control) -> None:
    """graph.episode.add's task: no result, started_at or completed_at while it waits (4.0.1:
    "absent until then"); once processed, result.episode_uuid is the episode it added. A
    batch.process task has no documented result, so it has none."""
    graph = _graph(zep)
    control.set_mode("manual")
    added = zep.graph.episode.add(graph, data="Carol works at Acme.")
    assert added.task is not None and added.episode is not None
    waiting = zep.task.with_raw_response.get(added.task.uuid_)
    assert waiting.data.status == "pending"
    assert {"result", "started_at", "completed_at"}.isdisjoint(waiting.response.json())
    control.run_until_idle()
    done = zep.task.get(added.task.uuid_)
    assert done.status == "succeeded" and done.started_at and done.completed_at
    assert done.result is not None and done.result.episode_uuid == added.episode.uuid_

    batch = zep.batch.create()
    zep.batch.add_items(batch.uuid_, items=[BatchItemInput(type="graph_episode", graph_uuid=graph, data="x")])
    process_task = zep.batch.process(batch.uuid_).task
    control.run_until_idle()
    assert process_task is not None and zep.task.get(process_task.uuid_).status == "succeeded"
    assert zep.task.get(process_task.uuid_).result is None


def test_edges_page_and_sort_by_valid_at(zep: Zep) -> None:
    graph = _graph(zep)
    for year, city in ((2021, "Paris"), (2023, "Berlin"), (2022, "Rome")):
        zep.graph.episode.add(graph, data=f"Bob lives in {city}.", reference_time=f"{year}-01-01T00:00:00Z")
    first = zep.graph.edge.list(graph, page_size=2, order_by="valid_at", order="asc")
    assert [e.target_node_name for e in first.items or []] == ["Paris", "Rome"]
    every = list(zep.graph.edge.list(graph, page_size=2, order_by="valid_at", order="asc"))  # the pager follows cursors
    assert [(e.target_node_name, e.invalid_at) for e in every] == [
        ("Paris", "2022-01-01T00:00:00Z"), ("Rome", "2023-01-01T00:00:00Z"), ("Berlin", None)]
    assert first.response.total_size is None and first.has_next  # 4.0.1 EdgePage: "Omitted for this collection"
    descending = list(zep.graph.edge.list(graph, order_by="uuid"))
    assert [e.uuid_ for e in descending] == sorted((e.uuid_ for e in every), reverse=True)  # type: ignore[type-var]


def test_list_for_document_pages_the_documents_episodes_in_the_order_added(zep: Zep) -> None:
    """graph.episode.list_for_document (GET /graphs/{g}/documents/{d}/episodes): the graph's
    episodes of that document_id, oldest first, paged; another document's and undocumented
    episodes are left out; a document with none is an empty page; no total_size."""
    graph = _graph(zep)
    batch = zep.batch.create()
    sent = [("handbook", "chunk 1"), (None, "loose note"), ("handbook", "chunk 2"), ("faq", "q1"),
            ("handbook", "chunk 3")]
    zep.batch.add_items(batch.uuid_, items=[
        BatchItemInput(type="graph_episode", graph_uuid=graph, data=data, document_id=doc) if doc else
        BatchItemInput(type="graph_episode", graph_uuid=graph, data=data) for doc, data in sent])
    zep.batch.process(batch.uuid_)
    first = zep.graph.episode.list_for_document(graph, "handbook", page_size=2)
    assert [e.content for e in first.items or []] == ["chunk 1", "chunk 2"]
    assert first.has_next and first.response.total_size is None
    every = list(zep.graph.episode.list_for_document(graph, "handbook", page_size=2))
    assert [(e.content, e.document_id) for e in every] == [(f"chunk {n}", "handbook") for n in (1, 2, 3)]
    assert [e.content for e in zep.graph.episode.list_for_document(graph, "faq")] == ["q1"]
    assert list(zep.graph.episode.list_for_document(graph, "missing")) == []
    with pytest.raises(BadRequestError):
        zep.graph.episode.list_for_document(graph, "handbook", page_size=0)


def test_filters_and_nodes(zep: Zep) -> None:
    graph = _graph(zep)
    zep.graph.episode.add(graph, data="Carol works at Acme. Carol likes jazz.")
    carol = next(n for n in zep.graph.node.list(graph) if n.name == "Carol")
    assert carol.episode_uuids_truncated is False and len(carol.episode_uuids) == 1
    assert carol.degree == 2 and carol.labels == ["Entity"]
    assert zep.graph.node.get(graph, carol.uuid_).name == "Carol"  # type: ignore[arg-type]
    works = list(zep.graph.edge.list(graph, filters={"edge_types": ["WORKS_AT"]}))
    assert [e.fact for e in works] == ["Carol works at Acme"]
    episode = carol.episode_uuids[0]
    assert [e.uuid_ for e in zep.graph.episode.list(graph, filters={"mentioned_node_uuids": [carol.uuid_]})] == [episode]


def _typed_facts(episode: Any, ctx: Any) -> list[ExtractedFact]:
    """``Alice:Person WORKS_AT Acme:Company``, one fact per line, ends typed."""
    facts = []
    for line in episode.content.splitlines():
        source, relation, target = line.split()
        (s_name, s_type), (t_name, t_type) = source.split(":"), target.split(":")
        facts.append(ExtractedFact(s_name, relation, t_name, source_type=s_type, target_type=t_type))
    return facts


@pytest.fixture
def typed_zep() -> Iterator[Zep]:
    """A server of its own whose text extractor reads typed triples, so nodes carry labels."""
    with BackgroundServer(WorldConfig(processing=ProcessingMode.INSTANT)) as typed:
        typed.world.knowledge.registry.register("text", _typed_facts)
        yield Zep(api_key="typed", base_url=typed.zep_v4_url, max_retries=0)


def test_edge_label_filters_look_at_both_ends(typed_zep: Zep) -> None:
    """4.0.1 EdgeListFilters: with node_labels "the source node and the target node of each
    edge must each have at least one of these labels"; exclude_node_labels "excludes an edge
    when its source node or its target node has one of these labels". Nodes filter on their own."""
    graph = _graph(typed_zep)
    typed_zep.graph.episode.add(graph, data="Alice:Person WORKS_AT Acme:Company\n"
                                            "Alice:Person KNOWS Bob:Person\n"
                                            "Acme:Company OWNS Widget:Product")

    def edges(**filters: list[str]) -> list[str | None]:
        return sorted(e.name for e in typed_zep.graph.edge.list(graph, filters=filters))  # type: ignore[arg-type, misc]

    assert edges(node_labels=["Person"]) == ["KNOWS"]
    assert edges(node_labels=["Person", "Company"]) == ["KNOWS", "WORKS_AT"]
    assert edges(node_labels=["Entity"]) == ["KNOWS", "OWNS", "WORKS_AT"]
    assert edges(exclude_node_labels=["Person"]) == ["OWNS"]
    assert edges(node_labels=["Company", "Product"], exclude_node_labels=["Person"]) == ["OWNS"]
    nodes = typed_zep.graph.node.list(graph, filters={"node_labels": ["Person"]})  # type: ignore[arg-type]
    assert sorted(n.name for n in nodes) == ["Alice", "Bob"]  # type: ignore[type-var]


@pytest.mark.parametrize(
    "call, code",
    [
        (lambda z, g: list(z.graph.edge.list(g, filters={"content_policy_violated": True})), "unsupported_filter"),
        (lambda z, g: z.graph.edge.list(g, page_size=101), "invalid_parameter"),
        (lambda z, g: z.graph.edge.list(g, order_by="degree"), "invalid_parameter"),
        (lambda z, g: z.graph.episode.add(g, data="x", reference_time="2024-01-01T00:00:00"), "invalid_timestamp"),
        (lambda z, g: z.graph.episode.add(g, data="{oops", type="json"), "invalid_json"),
        (lambda z, g: z.graph.episode.add(g, data="x" * 10_001), "content_too_large"),
    ],
    ids=["unknown-filter", "page-size-101", "order-by-degree", "naive-time", "bad-json", "too-long"],
)
def test_bad_graph_calls_are_400_and_store_nothing(zep: Zep, call: Any, code: str) -> None:
    graph = _graph(zep)
    with pytest.raises(BadRequestError) as refused:
        call(zep, graph)
    assert refused.value.body.error.code == code  # type: ignore[union-attr]
    assert list(zep.graph.episode.list(graph)) == []


def test_thirty_one_messages_are_refused(zep: Zep) -> None:
    user = zep.user.create(user_id="dave")
    thread = zep.thread.create(user_uuid=user.uuid_)  # type: ignore[arg-type]
    with pytest.raises(BadRequestError):
        zep.thread.add_messages(thread.uuid_, messages=[AddMessage(content="hi", role="user")] * 31)  # type: ignore[arg-type]
    assert list(zep.thread.list_messages(thread.uuid_)) == []  # type: ignore[arg-type]


def test_unknown_records_are_404(zep: Zep) -> None:
    graph = _graph(zep)
    missing = "00000000-0000-4000-8000-000000000000"
    for call in (lambda: zep.graph.edge.get(graph, missing), lambda: zep.graph.node.get(graph, missing),
                 lambda: zep.graph.episode.get(graph, missing), lambda: zep.graph.episode.add(missing, data="x")):
        with pytest.raises(NotFoundError):
            call()


@pytest.fixture
def dated_graph(zep: Zep) -> tuple[str, dict[str, str]]:
    """Three episodes: Alice at Acme (2021, crm), Bob at Initech (2022, email), Alice at Globex
    (2023, no metadata), which ends the Acme fact (invalid_at 2023). Returns the graph and the
    episode uuids by company."""
    graph = _graph(zep)
    sent = [("Alice works at Acme.", "2021-01-01", {"source": "crm", "priority": 5, "tags": ["a", "b"]}),
            ("Bob works at Initech.", "2022-01-01", {"source": "email", "priority": 10}),
            ("Alice works at Globex.", "2023-01-01", None)]
    uuids = {}
    for data, day, metadata in sent:
        added = zep.graph.episode.add(graph, data=data, reference_time=f"{day}T00:00:00Z", metadata=metadata)  # type: ignore[arg-type]
        assert added.episode is not None
        uuids[data.split()[-1].rstrip(".")] = added.episode.uuid_
    return graph, uuids


def test_metadata_filters_on_episodes(zep: Zep, dated_graph: tuple[str, dict[str, str]]) -> None:
    """4.0.1 EpisodeListFilters.metadata_filters: eq / ne / gt / in / contains / is_null, and/or
    groups nested; numbers compare as numbers; ne and comparisons skip an episode without the
    key; an array matches element-wise."""
    graph, uuid = dated_graph
    by_uuid = {v: k for k, v in uuid.items()}

    def listed(*filters: dict[str, Any], kind: str = "and", groups: list[dict[str, Any]] | None = None) -> list[str]:
        group: dict[str, Any] = {"type": kind, "filters": list(filters), "groups": groups or []}
        found = zep.graph.episode.list(graph, filters={"metadata_filters": group})  # type: ignore[arg-type]
        return sorted(by_uuid[e.uuid_] for e in found)  # type: ignore[index]

    assert listed({"property_name": "source", "operator": "eq", "value": "crm"}) == ["Acme"]
    assert listed({"property_name": "priority", "operator": "gt", "value": 7}) == ["Initech"]  # 10 > 7, not "10" < "7"
    assert listed({"property_name": "source", "operator": "ne", "value": "crm"}) == ["Initech"]
    assert listed({"property_name": "source", "operator": "is_null"}) == ["Globex"]
    assert listed({"property_name": "source", "operator": "is_not_null"}) == ["Acme", "Initech"]
    assert listed({"property_name": "source", "operator": "in", "value": ["crm", "email"]}) == ["Acme", "Initech"]
    assert listed({"property_name": "source", "operator": "contains", "value": "mai"}) == ["Initech"]
    assert listed({"property_name": "tags", "operator": "contains", "value": "b"}) == ["Acme"]
    assert listed({"property_name": "tags", "operator": "eq", "value": "a"}) == ["Acme"]
    assert listed({"property_name": "source", "operator": "eq", "value": "email"},
                  {"property_name": "priority", "operator": "lt", "value": 6}, kind="or") == ["Acme", "Initech"]
    assert listed({"property_name": "priority", "operator": "gte", "value": 5}, groups=[
        {"type": "or", "filters": [{"property_name": "tags", "operator": "eq", "value": "z"},
                                   {"property_name": "source", "operator": "eq", "value": "email"}]}]) == ["Initech"]
    assert listed() == ["Acme", "Globex", "Initech"]  # an empty group holds for every episode


def test_structured_filters_on_edges_and_nodes(zep: Zep, dated_graph: tuple[str, dict[str, str]]) -> None:
    """An edge or node passes metadata_filters when one of its episodes does; date_filters OR
    their any_of groups and AND each group's all_of, a null date passing only is_null; a node
    has only created_at; property_filters look at attributes."""
    graph, _ = dated_graph

    def edges(**filters: Any) -> list[str]:
        return sorted(str(e.target_node_name) for e in zep.graph.edge.list(graph, filters=filters))  # type: ignore[arg-type]

    def nodes(**filters: Any) -> list[str]:
        return sorted(str(n.name) for n in zep.graph.node.list(graph, filters=filters))  # type: ignore[arg-type]

    crm = {"type": "and", "filters": [{"property_name": "source", "operator": "eq", "value": "crm"}]}
    assert edges(metadata_filters=crm) == ["Acme"]
    assert nodes(metadata_filters=crm) == ["Acme", "Alice"]
    ended = {"any_of": [{"all_of": [{"field": "invalid_at", "operator": "is_not_null"}]}]}
    assert edges(date_filters=ended) == ["Acme"]
    assert edges(date_filters={"any_of": [{"all_of": [{"field": "invalid_at", "operator": "is_null"}]}]}) == ["Globex", "Initech"]
    in_2022 = {"all_of": [{"field": "valid_at", "operator": "gte", "value": "2022-01-01T00:00:00Z"},
                          {"field": "valid_at", "operator": "lt", "value": "2023-01-01T00:00:00Z"}]}
    first = {"all_of": [{"field": "valid_at", "operator": "eq", "value": "2021-01-01T00:00:00+00:00"}]}
    assert edges(date_filters={"any_of": [in_2022]}) == ["Initech"]
    assert edges(date_filters={"any_of": [in_2022, first]}) == ["Acme", "Initech"]
    assert edges(date_filters=ended, metadata_filters=crm, edge_types=["WORKS_AT"]) == ["Acme"]  # all must hold
    assert nodes(date_filters=ended) == []  # a node has no invalid_at
    assert len(nodes(date_filters={"any_of": [{"all_of": [{"field": "created_at", "operator": "is_not_null"}]}]})) == 5
    assert edges(property_filters=[{"property_name": "rank", "operator": "is_null"}]) == ["Acme", "Globex", "Initech"]
    assert edges(property_filters=[{"property_name": "rank", "operator": "eq", "value": 1}]) == []


@pytest.mark.parametrize(
    "list_call, filters, code, param",
    [
        ("edge", {"metadata_filters": {"filters": [{"property_name": "k", "operator": "eq"}]}},
         "invalid_request", "filters.metadata_filters.filters[0]"),
        ("edge", {"metadata_filters": {"filters": [{"property_name": "k", "operator": "in", "value": "x"}]}},
         "invalid_request", "filters.metadata_filters.filters[0]"),
        ("episode", {"metadata_filters": {"filters": [{"property_name": "k", "operator": "contains", "value": 3}]}},
         "invalid_request", "filters.metadata_filters.filters[0]"),
        ("node", {"metadata_filters": {"type": "xor"}}, "invalid_request", "filters.metadata_filters.type"),
        ("edge", {"date_filters": {"any_of": [{"all_of": [{"field": "valid_at", "operator": "is_null",
                                                           "value": "2024-01-01T00:00:00Z"}]}]}},
         "invalid_request", "filters.date_filters.any_of[0].all_of[0]"),
        ("edge", {"date_filters": {"any_of": [{"all_of": [{"field": "valid_at", "operator": "gt",
                                                           "value": "2024-01-01T00:00:00"}]}]}},
         "invalid_request", "filters.date_filters.any_of[0].all_of[0]"),
        ("edge", {"property_filters": [{"property_name": "k", "operator": "in", "value": ["a,b"]}]},
         "invalid_request", "filters.property_filters[0]"),
        ("edge", {"property_filters": [{"property_name": "k", "operator": "is_null"}] * 101},
         "invalid_request", "filters.property_filters"),
        ("edge", {"property_filters": [{"property_name": "k", "operator": "in", "value": list(range(1001))}]},
         "invalid_request", "filters"),
        ("edge", {"content_policy_violated": True}, "unsupported_filter", "filters.content_policy_violated"),
        ("episode", {"date_filters": {"any_of": []}}, "unsupported_filter", "filters.date_filters"),
        ("node", {"source_node_uuids": []}, "unsupported_filter", "filters.source_node_uuids"),
    ],
    ids=["eq-without-value", "in-with-a-scalar", "contains-a-number", "unknown-group-type", "is-null-with-value",
         "naive-date", "in-member-with-comma", "101-property-filters", "1001-in-values", "content-policy",
         "dates-on-episodes", "source-nodes-on-nodes"],
)
def test_bad_structured_filters_are_400_naming_the_field(
    zep: Zep, list_call: str, filters: dict[str, Any], code: str, param: str
) -> None:
    graph = _graph(zep)
    lister = {"edge": zep.graph.edge.list, "node": zep.graph.node.list, "episode": zep.graph.episode.list}[list_call]
    with pytest.raises(BadRequestError) as refused:
        lister(graph, filters=filters)  # type: ignore[operator]
    assert (refused.value.body.error.code, refused.value.body.error.param) == (code, param)  # type: ignore[union-attr]
