"""The document desk (core/memories.py): validity rules, fail_fast, scopes and outcomes,
without HTTP."""

from __future__ import annotations

import pytest

from emulator.core.errors import Conflict, InvalidInput
from emulator.core.memories import Document, Isolation, MemoryDesk, Progress
from emulator.core.processor import ProcessingMode
from emulator.core.tenants import Service, Tenant
from emulator.core.world import World, WorldConfig


def desk_of(isolation: Isolation = Isolation.STRICT) -> tuple[World, Tenant, MemoryDesk]:
    world = World(WorldConfig(processing=ProcessingMode.MANUAL, seed=2, synap_isolation=isolation))
    tenant = world.tenants.get(Service.SYNAP, "key")
    assert tenant.memories is not None and world.tenants.get(Service.ZEP, "key").memories is None
    return world, tenant, tenant.memories


@pytest.mark.parametrize("isolation, doc, reason", [
    (Isolation.STRICT, Document(""), "empty"),
    (Isolation.STRICT, Document({}), "empty"),
    (Isolation.STRICT, Document("x", document_type="note"), "document_type"),
    (Isolation.STRICT, Document("x", mode="slow"), "mode"),
    (Isolation.STRICT, Document("x", user_id="u"), "requires customer_id"),
    (Isolation.EQUALS_CUSTOMER, Document("x", customer_id="c"), "customer_id is not accepted"),
    (Isolation.STRICT, Document("x", scope={}), "scope"),
    (Isolation.STRICT, Document("x", document_id="d"), "appears twice"),
])
def test_each_rule(isolation: Isolation, doc: Document, reason: str) -> None:
    _, _, desk = desk_of(isolation)
    assert reason in (desk.problem(doc, {"d"}) or "")


def test_valid_documents_in_each_mode() -> None:
    _, _, strict = desk_of(Isolation.STRICT)
    assert [strict.problem(d, set()) for d in (Document("x", user_id="u", customer_id="c"), Document("x", customer_id="c"),
                                                Document("x"))] == [None, None, None]
    _, _, b2c = desk_of(Isolation.EQUALS_CUSTOMER)
    assert b2c.problem(Document("x", user_id="u"), set()) is None


def test_fail_fast_stores_nothing_and_names_the_first_bad_document() -> None:
    _, tenant, desk = desk_of()
    docs = [Document("a", document_id="1"), Document("", document_id="2"), Document("x", mode="?", document_id="3")]
    with pytest.raises(InvalidInput, match=r"documents\[1\]: document is empty"):
        desk.submit(tenant, docs, fail_fast=True, task_type="t")
    assert desk.receipts == {} and desk.by_document == {} and tenant.store.episodes_by_uuid == {}
    receipts = desk.submit(tenant, docs, fail_fast=False, task_type="t")
    assert [r.item is not None for r in receipts] == [True, False, False]
    assert list(desk.by_document) == ["1"]  # refused documents reserve no id


def test_create_conflicts_on_a_stored_document_id() -> None:
    _, tenant, desk = desk_of()
    desk.submit(tenant, [Document("a", document_id="1")], fail_fast=True, task_type="t")
    with pytest.raises(Conflict):
        desk.check_one(Document("b", document_id="1"))
    with pytest.raises(InvalidInput):
        desk.check_one(Document(""))


def test_scopes_are_graphs_and_a_user_scope_resolves_first_person() -> None:
    world, tenant, desk = desk_of()
    receipts = desk.submit(tenant, [Document("User: I live in Oslo.", user_id="ann", customer_id="acme"),
                                    Document("Acme Corp moved to Lyon.", document_type="document", customer_id="acme"),
                                    Document({"name": "Zed", "city": "Rome"})], fail_fast=True, task_type="t")
    assert [r.item.graph.graph_id for r in receipts if r.item] == [
        tenant.store.users_by_id["acme/ann"].graph.graph_id, "customer/acme", "client"]
    assert [desk.outcome(tenant, r).progress for r in receipts] == [Progress.QUEUED] * 3
    world.processor.run_until_idle()
    outcomes = [desk.outcome(tenant, r) for r in receipts]
    assert [o.progress for o in outcomes] == [Progress.COMPLETED] * 3
    assert [[m.fact for m in o.memories] for o in outcomes] == [["ann lives in Oslo"], ["Acme Corp lives in Lyon"],
                                                                ["Zed city Rome"]]
