"""emulator.strategies through the real SDKs: zep-cloud 4.0.1 against the emulator, and
maximem-synap 0.6.9's ``CreateMemoryRequest``.

Valid items from ``zep_v4.items`` go into ``BatchItemInput(**item)`` (or as plain dicts), are
added and processed, and all end ``succeeded``; each flawed item, sent among valid ones, gets
the answer its ``zep_v4.STAGE`` entry says: ``add`` → 400 and nothing stored; ``rejected_item``
→ listed in ``rejected_items``; ``process`` → process 400 and the batch ``invalid``; ``item``
→ that item ``failed``. One batch per example; the tenant and its graph, user and thread are
shared by a test's examples (hence the function-scoped-fixture health check is off), and the
server processes instantly, so every batch is terminal when ``process`` answers.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from zep_cloud.client import Zep
from zep_cloud.errors import BadRequestError
from zep_cloud.types import BatchItemInput, Graph, Thread, User

from emulator.strategies import Flawed, synap, zep_v4



def shared_tenant(max_examples: int) -> settings:
    """A few examples that share the test's fixtures (its tenant), one batch each."""
    return settings(max_examples=max_examples,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture
def world(zep: Zep) -> tuple[Graph, User, Thread]:
    graph = zep.graph.create(name="strategies")
    user = zep.user.create(user_id=f"user-{uuid.uuid4()}")
    thread = zep.thread.create(user_uuid=user.uuid_)
    return graph, user, thread


def destinations(world: tuple[Graph, User, Thread]) -> dict[str, list[str]]:
    graph, user, thread = world
    assert graph.uuid_ and user.uuid_ and thread.uuid_
    return {"graph_uuids": [graph.uuid_], "user_uuids": [user.uuid_], "thread_uuids": [thread.uuid_]}


def statuses(zep: Zep, batch_uuid: str) -> list[str | None]:
    return [item.status for item in zep.batch.list_items(batch_uuid, page_size=200)]


@shared_tenant(6)
@given(data=st.data())
def test_valid_items_all_succeed(zep: Zep, world: tuple[Graph, User, Thread], data: st.DataObject) -> None:
    items = data.draw(zep_v4.items(**destinations(world), max_size=10))
    batch = zep.batch.create()
    assert batch.uuid_
    added = zep.batch.add_items(batch.uuid_, items=[BatchItemInput(**item) for item in items])
    assert added.rejected_items == []
    assert [it.sequence_index for it in added.items or []] == list(range(len(items)))
    zep.batch.process(batch.uuid_)
    assert zep.batch.get(batch.uuid_).status == "succeeded"
    assert statuses(zep, batch.uuid_) == ["succeeded"] * len(items)


@shared_tenant(3)
@given(data=st.data())
def test_plain_dicts_go_through_add_items(zep: Zep, world: tuple[Graph, User, Thread], data: st.DataObject) -> None:
    """``add_items(items=[dict, ...])``: the SDK sends the dicts as they are."""
    items = data.draw(zep_v4.items(**destinations(world), max_size=5, timestamped=True))
    batch = zep.batch.create()
    assert batch.uuid_
    added = zep.batch.add_items(batch.uuid_, items=items)  # type: ignore[arg-type]
    assert added.rejected_items == [] and len(added.items or []) == len(items)
    zep.batch.process(batch.uuid_)
    assert statuses(zep, batch.uuid_) == ["succeeded"] * len(items)


@pytest.mark.parametrize("defect", zep_v4.DEFECTS)
@shared_tenant(3)
@given(data=st.data())
def test_each_defect_shows_where_its_stage_says(
    zep: Zep, world: tuple[Graph, User, Thread], defect: str, data: st.DataObject
) -> None:
    """The flawed item goes in among 1–3 valid ones, at a drawn position."""
    dests = destinations(world)
    others = data.draw(zep_v4.items(**dests, max_size=3), label="others")
    flawed: Flawed = data.draw(zep_v4.flawed_items(**dests, defects=[defect]), label="flawed")
    at = data.draw(st.integers(0, len(others)), label="position")
    sent = [BatchItemInput(**item) for item in others[:at] + [flawed.item] + others[at:]]
    batch = zep.batch.create()
    assert batch.uuid_
    stage = zep_v4.STAGE[defect]

    if stage == "add":
        with pytest.raises(BadRequestError) as refused:
            zep.batch.add_items(batch.uuid_, items=sent)
        assert refused.value.status_code == 400
        assert statuses(zep, batch.uuid_) == []  # nothing from the call is stored
        assert zep.batch.get(batch.uuid_).status == "draft"
        return

    added = zep.batch.add_items(batch.uuid_, items=sent)
    if stage == "rejected_item":
        assert [r.index for r in added.rejected_items or []] == [at]
        assert len(added.items or []) == len(others)
        return

    assert added.rejected_items == []
    if stage == "process":
        with pytest.raises(BadRequestError) as refused:
            zep.batch.process(batch.uuid_)
        assert refused.value.status_code == 400
        assert zep.batch.get(batch.uuid_).status == "invalid"
        return

    assert stage == "item"
    zep.batch.process(batch.uuid_)
    expected = ["succeeded"] * len(sent)
    expected[at] = "failed"
    assert statuses(zep, batch.uuid_) == expected
    assert zep.batch.get(batch.uuid_).status == "partial"
    failed = list(zep.batch.list_items(batch.uuid_, page_size=200))[at]
    assert getattr(failed, "error", None)  # {code, message}, an extra field for SDK 4.0.1


# -- Synap: CreateMemoryRequest ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def create_memory_request() -> Any:
    models = pytest.importorskip("maximem_synap.memories.models")
    return models.CreateMemoryRequest


@shared_tenant(20)
@given(docs=synap.batches(max_size=30), flawed=synap.flawed_documents())
def test_synap_documents_build_create_memory_request(
    create_memory_request: Any, docs: list[dict[str, Any]], flawed: Flawed
) -> None:
    """Every valid document, and every flawed one (none is refused locally), builds the SDK's
    model, and what the SDK would send keeps every field the strategy set."""
    for doc in docs + [flawed.item]:
        sent = create_memory_request(**doc).model_dump(mode="json")
        for key in ("document", "document_type", "document_id", "user_id", "customer_id", "mode", "metadata", "scope"):
            if key in doc:
                assert sent[key] == doc[key]
        assert (sent["document_created_at"] is None) == ("document_created_at" not in doc)


def test_synap_refuses_unknown_type_and_mode_locally(create_memory_request: Any) -> None:
    """Why synap.flawed_documents offers no unknown document_type or mode: the SDK refuses them."""
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        create_memory_request(document="x", document_type="note")
    with pytest.raises(ValidationError):
        create_memory_request(document="x", mode="slow")
