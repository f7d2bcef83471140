"""Live adds and graph reads through zep-cloud 3.30.0: graph.add, the deprecated graph.add_batch
and thread.add_messages_batch (which become listed batches), thread.add_messages, and the
episode / edge / node reads with the cursor in ``Zep-Next-Cursor``."""

from __future__ import annotations

import pytest
from zep_cloud.client import Zep
from zep_cloud.core.api_error import ApiError
from zep_cloud.errors import BadRequestError, NotFoundError
from zep_cloud.types import EpisodeData, Message

from ..conftest import Control


def test_graph_add_is_unprocessed_until_processing_reaches_it(zep: Zep, control: Control) -> None:
    control.set_mode("manual")
    zep.graph.create(graph_id="g1")
    episode = zep.graph.add(graph_id="g1", type="text", data="Alice lives in Paris.", created_at="2024-01-01T00:00:00Z")
    assert (episode.processed, episode.created_at, episode.source) == (False, "2024-01-01T00:00:00Z", "text")
    assert episode.task_id is not None and zep.task.get(episode.task_id).status == "pending"
    assert zep.graph.edge.get_by_graph_id("g1") == []
    control.run_until_idle()
    assert zep.graph.episode.get(episode.uuid_).processed is True
    assert zep.task.get(episode.task_id).status == "succeeded"
    assert [e.fact for e in zep.graph.edge.get_by_graph_id("g1")] == ["Alice lives in Paris"]
    assert zep.batch.list().batches == []  # a live add is not a Batch API batch


def test_deprecated_batch_calls_create_listed_batches(zep: Zep) -> None:
    zep.graph.create(graph_id="g1")
    zep.user.add(user_id="bob", first_name="Bob")
    zep.thread.create(thread_id="t1", user_id="bob")
    episodes = zep.graph.add_batch(graph_id="g1", episodes=[EpisodeData(data=f"note {i}", type="text") for i in range(3)])
    assert [e.content for e in episodes] == ["note 0", "note 1", "note 2"]
    answer = zep.thread.add_messages_batch("t1", messages=[Message(content="I joined Acme.", role="user")])
    batches = zep.batch.list().batches or []
    assert sorted(b.item_count for b in batches) == [1, 3] and {b.status for b in batches} == {"succeeded"}
    assert zep.task.get(episodes[0].task_id).status == "succeeded"  # type: ignore[arg-type]
    assert answer.task_id is not None and len(answer.message_uuids or []) == 1
    assert [e.fact for e in zep.graph.edge.get_by_user_id("bob")] == ["Bob works at Acme"]


def test_thread_add_messages_stores_ignored_roles_without_facts(zep: Zep) -> None:
    zep.user.add(user_id="carol", first_name="Carol")
    zep.thread.create(thread_id="t2", user_id="carol")
    answer = zep.thread.add_messages("t2", messages=[Message(content="I live in Oslo.", role="user"),
                                                     Message(content="I live in Rome.", role="tool")],
                                     ignore_roles=["tool"])
    assert len(answer.message_uuids or []) == 2
    assert [m.content for m in zep.thread.get("t2").messages or []] == ["I live in Oslo.", "I live in Rome."]
    assert [e.fact for e in zep.graph.edge.get_by_user_id("carol")] == ["Carol lives in Oslo"]
    assert [e.content for e in zep.graph.episode.get_by_user_id("carol").episodes or []] == ["user: I live in Oslo."]


def test_edges_page_through_the_next_cursor_header(zep: Zep) -> None:
    zep.graph.create(graph_id="g1")
    for year, city in ((2021, "Paris"), (2023, "Berlin"), (2022, "Rome")):
        zep.graph.add(graph_id="g1", type="text", data=f"Dan lives in {city}.", created_at=f"{year}-01-01T00:00:00Z")
    seen: list[str | None] = []
    cursor = None
    while True:
        page = zep.graph.edge.with_raw_response.get_by_graph_id("g1", limit=2, order_by="valid_at", direction="asc",
                                                                cursor=cursor)
        seen += [e.target_node_name for e in page.data]
        cursor = page.headers.get("zep-next-cursor")
        if cursor is None:
            break
    assert seen == ["Paris", "Rome", "Berlin"]
    assert [e.content for e in zep.graph.episode.get_by_graph_id("g1", lastn=2).episodes or []] == [
        "Dan lives in Berlin.", "Dan lives in Rome."]
    nodes = zep.graph.node.get_by_graph_id("g1")
    dan = next(n for n in nodes if n.name == "Dan")
    assert dan.summary == "Dan lives in Berlin" and zep.graph.node.get(dan.uuid_).name == "Dan"


def test_bad_calls_answer_in_the_v2_shape(zep: Zep) -> None:
    zep.graph.create(graph_id="g1")
    with pytest.raises(BadRequestError) as refused:
        zep.graph.add(graph_id="g1", type="json", data="{oops")
    assert refused.value.body["code"] == "invalid_json"  # type: ignore[index]
    with pytest.raises(ApiError) as bad_cursor:
        zep.graph.edge.get_by_graph_id("g1", cursor="forged")
    assert bad_cursor.value.status_code == 400 and "cursor" in bad_cursor.value.body["message"]  # type: ignore[index]
    with pytest.raises(ApiError) as missing:  # graph.add maps only 400 and 500 to classes
        zep.graph.add(graph_id="nope", type="text", data="x")
    assert missing.value.status_code == 404 and missing.value.body["code"] == "graph_not_found"  # type: ignore[index]
    with pytest.raises(NotFoundError):
        zep.graph.edge.get("00000000-0000-4000-8000-000000000000")
    assert zep.graph.episode.get_by_graph_id("g1").episodes == []
