"""Fault rules and the request journal as plain data: matching, how often a rule fires (once,
N times, a seeded probability), whose rules apply, and a journal that stays bounded."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from pydantic import ValidationError

from emulator.core.faults import FAULT_SPEC, FaultBook, ItemFault, RequestFault, WebhookFault
from emulator.core.journal import Entry, Journal, Query

T0 = datetime(2030, 1, 1, tzinfo=timezone.utc)


def fired(book: FaultBook, calls: int, tenant: str = "k") -> list[bool]:
    return [book.for_request("POST", "/api/v4/batches/b1/items", "zep-v4", tenant) is not None for _ in range(calls)]


def test_times_and_globs_and_methods() -> None:
    book = FaultBook()
    book.add(RequestFault(method="post", path="/api/v4/batches/*/items", status=503, times=2), tenant=None)
    assert fired(book, 4) == [True, True, False, False]
    assert book.for_request("GET", "/api/v4/batches/b1/items", "zep-v4", "k") is None
    [rule] = book.listed()
    assert (rule.hits, rule.exhausted, rule.to_json()["remaining"]) == (2, True, 0)


def test_a_seeded_probability_fires_on_the_same_calls_every_time() -> None:
    def pattern(seed: int | None, made_before: int = 0) -> list[bool]:
        book = FaultBook()
        for _ in range(made_before):  # another tenant's rules, as other tests would make them
            book.add(RequestFault(status=500, probability=0.3), tenant="someone else")
        book.add(RequestFault(status=500, probability=0.3, seed=seed), tenant="k")
        return fired(book, 200)

    first = pattern(5)
    assert first == pattern(5, made_before=3)
    assert 30 < sum(first) < 90 and first != pattern(6)
    unseeded = pattern(None)
    assert unseeded == pattern(None, made_before=3) and unseeded != first  # the rule itself decides


def test_an_unseeded_rules_stream_follows_its_json_and_its_tenants_ordinal() -> None:
    """Two identical unseeded rules of one tenant draw different streams (the second is the
    tenant's second rule); a clear starts the tenant's count again, so the same test run twice
    on one server gets the same faults."""
    def streams(book: FaultBook) -> list[list[bool]]:
        rules = [book.add(RequestFault(status=500, probability=0.5), tenant="k") for _ in range(2)]
        return [[rule.fire() for _ in range(64)] for rule in rules]

    book = FaultBook()
    once = streams(book)
    assert once[0] != once[1]
    book.clear("k")
    assert streams(book) == once
    other = FaultBook()
    other.add(RequestFault(status=503, probability=0.5), tenant="k")  # different JSON, different stream
    assert [other.listed()[0].fire() for _ in range(64)] != once[0]


def test_a_tenants_rule_applies_to_that_tenant_only() -> None:
    book = FaultBook()
    book.add(RequestFault(status=500), tenant="mine")
    assert fired(book, 1, "mine") == [True] and fired(book, 1, "other") == [False]
    assert [f.tenant for f in book.listed("mine")] == ["mine"] and book.listed("other") == []
    book.clear("other")
    assert len(book.listed()) == 1
    book.clear("mine")
    assert book.listed() == []


def test_webhook_rules_match_event_and_url() -> None:
    book = FaultBook()
    book.add(WebhookFault(event="ingest.batch.completed", url="http://127.0.0.1:*/hook", action="duplicate"), tenant=None)
    assert book.for_webhook("k", "ingest.batch.completed", "http://127.0.0.1:9000/hook") is not None
    assert book.for_webhook("k", "episode.processed", "http://127.0.0.1:9000/hook") is None
    assert book.for_webhook("k", "ingest.batch.completed", None) is None  # an in-process callback has no URL


@pytest.mark.parametrize("bad", [
    {"kind": "request"},  # no effect
    {"kind": "request", "status": 503, "drop_connection": True},
    {"kind": "request", "latency_ms": 5, "after_commit": True},
    {"kind": "request", "retry_after": 1},
    {"kind": "request", "status": 302},
    {"kind": "item", "content": "("},
    {"kind": "item", "action": "explode"},
    {"kind": "item", "probability": 0},
    {"kind": "webhook", "action": "delay"},
    {"kind": "webhook", "action": "drop", "delay_seconds": 2},
    {"kind": "volcano"},
])
def test_rules_that_make_no_sense_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        FAULT_SPEC.validate_python(bad)


def test_index_is_an_alias_of_sequence_index() -> None:
    assert FAULT_SPEC.validate_python({"kind": "item", "index": 6}) == ItemFault(sequence_index=6)


def entry(serial: int, tenant: str, method: str = "GET", path: str = "/api/v4/batches", status: int | None = 200) -> Entry:
    return Entry(f"req_{serial:08d}", serial, T0, method, path, "", "zep-v4", tenant, status, 1.0)


def test_the_journal_keeps_the_newest_and_filters() -> None:
    journal = Journal(capacity=3)
    for serial in range(1, 6):
        journal.record(entry(serial, "a" if serial % 2 else "b", "POST" if serial > 3 else "GET"))
    assert [e.serial for e in journal.find()] == [3, 4, 5]
    assert [e.serial for e in journal.find(Query(method="post"))] == [4, 5]
    assert [e.serial for e in journal.find(Query(tenant="a"))] == [3, 5]
    assert [e.serial for e in journal.find(Query(after=3), limit=1)] == [5]
    assert [e.serial for e in journal.find(Query(path="/api/v4/*"))] == [3, 4, 5]
    assert journal.clear("a") == 2 and [e.serial for e in journal.find()] == [4]
    assert entry(9, "a", status=None).to_json()["status"] is None
