"""emulator.strategies.zep_v2 through zep-cloud 3.30.0 against the emulator: valid items built
into ``BatchAddItem`` (or sent as plain dicts) all end ``succeeded``, and each flawed item gets
the answer ``zep_v2.STAGE`` gives it (``add`` → 400 and nothing stored; ``process`` → process
400 and the batch ``invalid``; ``item`` → that item ``failed``). One batch per example; a test's
examples share its tenant and destinations; the server processes instantly."""

from __future__ import annotations

from typing import Optional

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from zep_cloud import BatchAddItem
from zep_cloud.client import Zep
from zep_cloud.errors import BadRequestError

from emulator.strategies import Flawed, zep_v2

pytestmark = pytest.mark.zep_v2

DESTINATIONS = {"graph_ids": ["graph-strategies"], "user_ids": ["user-strategies"], "thread_ids": ["thread-strategies"]}


def shared_tenant(max_examples: int) -> settings:
    """A few examples that share the test's fixtures (its tenant), one batch each."""
    return settings(max_examples=max_examples,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture
def world(zep: Zep) -> None:
    zep.graph.create(graph_id=DESTINATIONS["graph_ids"][0])
    zep.user.add(user_id=DESTINATIONS["user_ids"][0])
    zep.thread.create(thread_id=DESTINATIONS["thread_ids"][0], user_id=DESTINATIONS["user_ids"][0])


def statuses(zep: Zep, batch_id: str) -> list[Optional[str]]:
    page = zep.batch.list_items(batch_id, limit=200)
    return [item.status for item in page.items or []]


def new_batch(zep: Zep) -> str:
    batch_id = zep.batch.create().batch_id
    assert batch_id
    return batch_id


@shared_tenant(5)
@given(items=zep_v2.items(**DESTINATIONS, max_size=10), as_dicts=st.booleans())
def test_valid_items_all_succeed(zep: Zep, world: None, items: list[dict], as_dicts: bool) -> None:
    batch_id = new_batch(zep)
    sent = items if as_dicts else [BatchAddItem(**item) for item in items]
    added = zep.batch.add(batch_id, items=sent)  # type: ignore[arg-type]
    assert [d.sequence_index for d in added] == list(range(len(items)))
    zep.batch.process(batch_id)
    assert zep.batch.get(batch_id).status == "succeeded"
    assert statuses(zep, batch_id) == ["succeeded"] * len(items)


@pytest.mark.parametrize("defect", zep_v2.DEFECTS)
@shared_tenant(3)
@given(data=st.data())
def test_each_defect_shows_where_its_stage_says(zep: Zep, world: None, defect: str, data: st.DataObject) -> None:
    others = data.draw(zep_v2.items(**DESTINATIONS, max_size=3), label="others")
    flawed: Flawed = data.draw(zep_v2.flawed_items(**DESTINATIONS, defects=[defect]), label="flawed")
    at = data.draw(st.integers(0, len(others)), label="position")
    sent = [BatchAddItem(**item) for item in others[:at] + [flawed.item] + others[at:]]
    batch_id = new_batch(zep)
    stage = zep_v2.STAGE[defect]
    if stage == "add":
        with pytest.raises(BadRequestError):
            zep.batch.add(batch_id, items=sent)
        assert statuses(zep, batch_id) == []
        return
    assert len(zep.batch.add(batch_id, items=sent)) == len(sent)
    if stage == "process":
        with pytest.raises(BadRequestError):
            zep.batch.process(batch_id)
        assert zep.batch.get(batch_id).status == "invalid"
        return
    assert stage == "item"
    zep.batch.process(batch_id)
    expected = ["succeeded"] * len(sent)
    expected[at] = "failed"
    assert statuses(zep, batch_id) == expected
    assert zep.batch.get(batch_id).status == "partial"
