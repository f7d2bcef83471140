"""Small pure rules: RFC 3339 timestamps, item metadata, cursors, idempotency keys, list
filter predicates."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from emulator.core.errors import Conflict, InvalidInput
from emulator.core.idempotency import IdempotencyStore
from emulator.core.metadata import check_item_metadata
from emulator.core.timestamps import format_rfc3339, parse_rfc3339
from emulator.wire.cursors import decode_cursor, encode_cursor
from emulator.wire.list_predicates import parse_structured, value_holds


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2024-06-15T10:30:00Z", datetime(2024, 6, 15, 10, 30, tzinfo=timezone.utc)),
        ("2024-06-15T12:30:00+02:00", datetime(2024, 6, 15, 10, 30, tzinfo=timezone.utc)),
        ("2024-06-15t10:30:00.123456789z", datetime(2024, 6, 15, 10, 30, 0, 123456, tzinfo=timezone.utc)),
    ],
)
def test_rfc3339_with_offset_is_parsed_to_utc(text: str, expected: datetime) -> None:
    assert parse_rfc3339(text, "created_at") == expected


@pytest.mark.parametrize("text", ["2024-06-15T10:30:00", "2024-06-15", "yesterday", "2024-13-40T10:30:00Z", "1718447400"])
def test_bad_timestamps_name_the_field(text: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_rfc3339(text, "items[2].created_at")
    assert err.value.code == "invalid_timestamp" and err.value.param == "items[2].created_at"


def test_timestamps_go_out_in_utc_with_z() -> None:
    assert format_rfc3339(datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)) == "2024-01-02T03:04:05Z"
    plus_two = timezone(timedelta(hours=2))
    assert format_rfc3339(datetime(2024, 1, 2, 5, 4, 5, 7, tzinfo=plus_two)) == "2024-01-02T03:04:05.000007Z"


@pytest.mark.parametrize(
    "metadata",
    [{"a": "x", "b": 1, "c": 2.5, "d": True, "e": ["x", 1]}, {f"k{i}": i for i in range(10)}, None],
)
def test_valid_metadata(metadata: object) -> None:
    assert check_item_metadata(metadata, "m") == metadata


@pytest.mark.parametrize(
    "metadata",
    [{f"k{i}": i for i in range(11)}, {"a": {"nested": 1}}, {"a": []}, {"a": [None]}, {"a": None}, {"a": float("nan")}, ["x"]],
)
def test_invalid_metadata(metadata: object) -> None:
    with pytest.raises(InvalidInput) as err:
        check_item_metadata(metadata, "items[0].metadata")
    assert err.value.code == "invalid_metadata"
    assert err.value.param is not None and err.value.param.startswith("items[0].metadata")


def test_cursor_round_trip_and_forgeries() -> None:
    token = encode_cursor("items:abc", 350)
    assert decode_cursor("items:abc", token) == 350
    for forged in ["bogus", "", encode_cursor("items:other", 350), token[:-2] + "AA"]:
        with pytest.raises(InvalidInput) as err:
            decode_cursor("items:abc", forged)
        assert err.value.code == "invalid_cursor"


def test_idempotency_replay_reuse_in_use_and_expiry() -> None:
    store = IdempotencyStore()
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    key = ("POST", "/api/v4/batches", "k1")
    assert store.begin(key, b"{}", now) is None
    with pytest.raises(Conflict) as in_use:
        store.begin(key, b"{}", now)
    assert in_use.value.code == "idempotency_key_in_use"
    store.finish(key, "the first answer", 16)
    assert store.begin(key, b"{}", now) == "the first answer"
    with pytest.raises(InvalidInput) as reused:
        store.begin(key, b'{"metadata":{}}', now)
    assert reused.value.code == "idempotency_key_reused"
    assert store.begin(key, b"{}", now + timedelta(hours=24, seconds=1)) is None  # expired: runs afresh
    assert store.bytes == 0


def test_idempotency_abandon_frees_the_key() -> None:
    store = IdempotencyStore()
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    store.begin("k", b"", now)
    store.abandon("k")
    assert store.begin("k", b"", now) is None and len(store) == 1


def test_idempotency_store_is_capped_in_bytes_oldest_first() -> None:
    store = IdempotencyStore(max_bytes=100)
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    for key in ("a", "b", "c"):
        store.begin(key, b"", now)
        store.finish(key, key, 40)
    assert store.bytes == 80 and len(store) == 2
    assert store.begin("a", b"", now) is None  # pushed out: a late retry would run afresh
    assert store.begin("c", b"", now) == "c"


@pytest.mark.parametrize(
    "operator, stored, wanted, holds",
    [
        ("eq", 5, 5.0, True),  # numbers as numbers
        ("eq", "5", 5, False),  # a number never equals a string
        ("eq", True, 1, False),  # a boolean equals only a boolean
        ("eq", True, True, True),
        ("gt", 10, 7, True),
        ("gt", "10", "7", False),  # strings in code point order
        ("gt", True, False, False),  # booleans are not ordered
        ("lte", "b", "b", True),
        ("ne", None, "x", False),  # absent: only is_null holds
        ("is_null", None, None, True),
        ("is_not_null", "", None, True),  # an empty string is there
        ("ne", ["a", "b"], "c", True),
        ("ne", ["a", "b"], "a", False),  # ne on an array: no element equals
        ("eq", ["a", "b"], "b", True),  # element-wise
        ("gte", [1, 20], 15, True),
        ("in", "crm", ["crm", "email"], True),
        ("in", ["x", "email"], ["crm", "email"], True),
        ("in", 2, ["2"], False),
        ("contains", "newsletter", "news", True),
        ("contains", ["news", "x"], "new", False),  # an array: an equal element
        ("contains", 5, "5", False),
    ],
)
def test_filter_value_rules(operator: str, stored: object, wanted: object, holds: bool) -> None:
    assert value_holds(operator, stored, wanted) is holds


def test_structured_filters_scope_by_their_canonical_json_and_empty_ones_hold() -> None:
    a = parse_structured({"metadata_filters": {"type": "or", "filters": []}, "edge_uuids": ["x"]})
    b = parse_structured({"metadata_filters": {"filters": [], "type": "or"}})
    assert a.key == b.key and a.key != parse_structured({"metadata_filters": {"type": "and"}}).key
    assert not parse_structured({}) and a
    assert a.metadata_ok([{"k": 1}]) and a.dates_ok(lambda field: None) and a.properties_ok({})
    nulls = parse_structured({"metadata_filters": {"type": None, "filters": None, "groups": None},
                              "date_filters": {"any_of": [{"all_of": None}]}})
    assert nulls.metadata_ok([None]) and nulls.dates_ok(lambda field: None)  # null is the same as absent
