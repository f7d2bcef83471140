"""Fact extraction (core/extract.py, core/extract_text.py): the JSON rules of
reference/temporal-invalidation.md §5.3, the triple syntax and sentence patterns of §5.4, entity
keys (§5.2), the relation registries (§5.5) and the plug-in API (§5.8)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any, NamedTuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.core.extract import (
    DEFAULT_CARDINALITY,
    DEFAULT_TERMINATORS,
    EpisodeView,
    ExtractionContext,
    ExtractorRegistry,
    JsonExtractor,
    JsonRules,
    RelationRules,
    parse_date,
    relation_name,
)
from emulator.core.extract_text import SENTENCE_PATTERNS, TextExtractor
from emulator.core.facts import Cardinality, ExtractedFact, normalise_name

REF = datetime(2024, 1, 1, tzinfo=timezone.utc)
SCREAMING_SNAKE = re.compile(r"[A-Z0-9]+(?:_[A-Z0-9]+)*")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def run(kind: str, content: str, ctx: ExtractionContext | None = None,
        registry: ExtractorRegistry | None = None, **episode: Any) -> list[ExtractedFact]:
    view = EpisodeView(kind, content, REF, **episode)  # type: ignore[arg-type]
    return (registry or ExtractorRegistry()).extract(view, ctx or ExtractionContext())


def triples(facts: list[ExtractedFact]) -> list[tuple[str, str, str]]:
    return [(f.source, f.relation, f.target) for f in facts]


def one(kind: str, content: str, **episode: Any) -> ExtractedFact:
    facts = run(kind, content, **episode)
    assert len(facts) == 1, facts
    return facts[0]


# --- names, relations, dates (§5.2, §5.3) ----------------------------------------------------------


@pytest.mark.parametrize("name, key", [
    ("Alice", "alice"),
    ("  Alice   SMITH ", "alice smith"),
    ("Tab\tNew\nLine", "tab new line"),
    ("ACME Corp.", "acme corp."),
])
def test_entity_key_is_lower_cased_with_whitespace_collapsed(name: str, key: str) -> None:
    assert normalise_name(name) == key


@pytest.mark.parametrize("text, relation", [
    ("favoriteColor", "FAVORITE_COLOR"),
    ("favorite color", "FAVORITE_COLOR"),
    ("favorite-color", "FAVORITE_COLOR"),
    ("address.city", "ADDRESS_CITY"),
    ("HTTPServer", "HTTP_SERVER"),
    ("getHTTPResponse", "GET_HTTP_RESPONSE"),
    ("LIVES_IN", "LIVES_IN"),
    ("snake__case_", "SNAKE_CASE"),
    ("2fa code", "2FA_CODE"),
    ("città", "CITTA"),
    ("!!!", ""),
    ("名前", ""),
])
def test_relation_names_are_screaming_snake_case(text: str, relation: str) -> None:
    assert relation_name(text) == relation


@pytest.mark.parametrize("value, parsed", [
    ("2024", utc(2024, 1, 1)),
    ("2024-06", utc(2024, 6, 1)),
    ("2024-06-15", utc(2024, 6, 15)),
    ("2024-06-15T10:30", utc(2024, 6, 15, 10, 30)),
    ("2024-06-15T10:30:05", utc(2024, 6, 15, 10, 30, 5)),
    ("2024-06-15 10:30:05", utc(2024, 6, 15, 10, 30, 5)),
    ("2024-06-15T10:30:00Z", utc(2024, 6, 15, 10, 30)),
    ("2024-06-15T12:30:00+02:00", utc(2024, 6, 15, 10, 30)),
    ("2024-06-15T08:00:00-0230", utc(2024, 6, 15, 10, 30)),
    ("2024-06-15T10:30:00.123456789Z", utc(2024, 6, 15, 10, 30, 0, 123456)),
    ("2024-13-01", None),
    ("2024-02-30", None),
    ("0001-01-01T00:00:00+01:00", None),
    ("yesterday", None),
    ("June 2024", None),
    ("", None),
])
def test_iso_dates_date_only_is_midnight_and_naive_is_utc(value: str, parsed: datetime | None) -> None:
    assert parse_date(value) == parsed


# --- relation registries (§5.4 table, §5.5) --------------------------------------------------------


@pytest.mark.parametrize("relation, cardinality", [
    ("LIVES_IN", Cardinality.SINGLE),
    ("WORKS_AT", Cardinality.SINGLE),
    ("MARRIED_TO", Cardinality.SINGLE),
    ("IS_A", Cardinality.MULTI),
    ("LIKES", Cardinality.MULTI),
    ("OWNS", Cardinality.MULTI),
    ("NO_LONGER_WORKS_AT", Cardinality.SINGLE),
    ("MOVED_OUT_OF", Cardinality.SINGLE),
    ("FAVORITE_COLOR", Cardinality.SINGLE),  # unknown: the default
])
def test_default_cardinality_is_the_pattern_tables_column(relation: str, cardinality: Cardinality) -> None:
    assert RelationRules().cardinality_of(relation) is cardinality


def test_cardinality_priority_is_hint_then_registry_then_default() -> None:
    rules = RelationRules()
    rules.cardinality["LIVES_IN"] = "multi"
    rules.cardinality["TAGS"] = Cardinality.MULTI
    assert rules.cardinality_of("LIVES_IN") is Cardinality.MULTI
    assert rules.cardinality_of("LIVES_IN", Cardinality.SINGLE) is Cardinality.SINGLE
    assert rules.cardinality_of("LIKES", "single") is Cardinality.SINGLE
    assert rules.cardinality_of("TAGS") is Cardinality.MULTI
    assert RelationRules(default_cardinality=Cardinality.MULTI).cardinality_of("UNKNOWN") is Cardinality.MULTI
    assert RelationRules().cardinality_of("LIVES_IN") is Cardinality.SINGLE  # defaults are copied, not shared


def test_terminator_lookups_both_ways() -> None:
    rules = RelationRules()
    assert rules.terminates("NO_LONGER_WORKS_AT") == "WORKS_AT"
    assert rules.terminates("MOVED_OUT_OF") == "LIVES_IN"
    assert rules.terminates("LIVES_IN") is None
    assert rules.terminates("QUIT", hint="WORKS_AT") == "WORKS_AT"
    assert rules.terminated_by("WORKS_AT") == ("NO_LONGER_WORKS_AT",)
    assert rules.terminated_by("LIVES_IN") == ("MOVED_OUT_OF",)
    assert rules.terminated_by("LIKES") == ()
    rules.terminators["QUIT"] = "WORKS_AT"
    assert rules.terminated_by("WORKS_AT") == ("NO_LONGER_WORKS_AT", "QUIT")
    assert dict(DEFAULT_TERMINATORS) == {"NO_LONGER_WORKS_AT": "WORKS_AT", "MOVED_OUT_OF": "LIVES_IN"}
    assert len(DEFAULT_CARDINALITY) == 8


# --- JSON: subject (§5.3) --------------------------------------------------------------------------


def test_json_scalars_become_single_valued_facts_of_the_subject() -> None:
    facts = run("json", '{"name": "Alice", "city": "Berlin", "employer": "Acme"}')
    assert facts == [
        ExtractedFact("Alice", "CITY", "Berlin"),
        ExtractedFact("Alice", "EMPLOYER", "Acme"),
    ]  # the subject key is not a fact; fact text and cardinality are left to the engine / registry


@pytest.mark.parametrize("key", ["name", "full_name", "title", "username", "user", "email", "id", "fullName"])
def test_each_subject_key_names_the_subject(key: str) -> None:
    assert triples(run("json", json.dumps({key: "Alice", "city": "Berlin"}))) == [("Alice", "CITY", "Berlin")]


def test_subject_key_list_order_wins_over_document_order_and_other_keys_are_fields() -> None:
    facts = run("json", '{"id": 7, "email": "a@x.com", "name": "Alice"}')
    assert triples(facts) == [("Alice", "ID", "7"), ("Alice", "EMAIL", "a@x.com")]


@pytest.mark.parametrize("content, subject", [
    ('{"name": "", "full_name": "Alice Smith", "city": "Rome"}', "Alice Smith"),
    ('{"name": null, "username": "al", "city": "Rome"}', "al"),
    ('{"name": {"first": "A"}, "id": 42, "city": "Rome"}', "42"),
    ('{"name": "  Alice  ", "city": "Rome"}', "Alice"),
])
def test_subject_is_the_first_subject_key_with_a_non_empty_scalar(content: str, subject: str) -> None:
    facts = run("json", content)
    assert ("Rome", subject) in [(f.target, f.source) for f in facts]


@pytest.mark.parametrize("episode, ctx_owner, subject", [
    ({"owner": "alice"}, None, "alice"),
    ({"owner": "alice"}, "Alice Smith", "Alice Smith"),
    ({"graph_label": "g1"}, None, "g1"),
    ({"owner": "alice", "graph_label": "g1"}, None, "alice"),
])
def test_json_without_subject_falls_back_to_owner_then_graph_label(
        episode: dict[str, str], ctx_owner: str | None, subject: str) -> None:
    facts = run("json", '{"city": "Berlin"}', ctx=ExtractionContext(owner=ctx_owner), **episode)
    assert triples(facts) == [(subject, "CITY", "Berlin")]


def test_json_without_any_subject_gives_nothing_and_a_warning() -> None:
    ctx = ExtractionContext()
    assert run("json", '{"city": "Berlin"}', ctx=ctx) == []
    assert ctx.warnings == ["JSON object without a subject on a graph without an owner: skipped"]


def test_source_description_can_choose_the_subject_key() -> None:
    registry = ExtractorRegistry(builtins={"json": JsonExtractor(JsonRules(subject_key_by_source={"crm": "customerId"}))})
    content = '{"name": "Widget", "customer_id": "C-1", "plan": "pro"}'
    crm = run("json", content, registry=registry, source_description="crm")
    other = run("json", content, registry=registry, source_description="web")
    assert triples(crm) == [("C-1", "NAME", "Widget"), ("C-1", "PLAN", "pro")]
    assert triples(other) == [("Widget", "CUSTOMER_ID", "C-1"), ("Widget", "PLAN", "pro")]


# --- JSON: reserved temporal keys ------------------------------------------------------------------


@pytest.mark.parametrize("key", ["valid_at", "valid_from", "effective_at", "effective_date", "start_date", "since",
                                 "validFrom", "Start Date"])
def test_valid_at_keys_date_every_fact_of_the_object_and_are_not_facts(key: str) -> None:
    facts = run("json", json.dumps({"name": "Alice", key: "2022-01-01", "city": "Paris", "pet": "cat"}))
    assert [(f.relation, f.valid_at, f.invalid_at) for f in facts] == [
        ("CITY", utc(2022, 1, 1), None), ("PET", utc(2022, 1, 1), None)]


@pytest.mark.parametrize("key", ["invalid_at", "valid_to", "valid_until", "end_date", "ended_at", "until", "endDate"])
def test_invalid_at_keys_end_every_fact_of_the_object_and_are_not_facts(key: str) -> None:
    facts = run("json", json.dumps({"name": "Alice", "city": "Paris", key: "2023-01-01"}))
    assert [(f.relation, f.valid_at, f.invalid_at) for f in facts] == [("CITY", None, utc(2023, 1, 1))]


@pytest.mark.parametrize("value, parsed", [
    ("2022-01-01", utc(2022, 1, 1)),
    ("2022-01-01T10:00:00", utc(2022, 1, 1, 10)),
    ("2022-01-01T10:00:00+02:00", utc(2022, 1, 1, 8)),
    ("2022-01-01T10:00:00.250Z", utc(2022, 1, 1, 10, 0, 0, 250000)),
])
def test_reserved_dates_date_only_midnight_naive_utc_offset_converted(value: str, parsed: datetime) -> None:
    assert one("json", json.dumps({"name": "Alice", "valid_from": value, "city": "Paris"})).valid_at == parsed


def test_scenario_s9_explicit_dates_in_the_body() -> None:
    fact = one("json", '{"name":"Alice","employer":"Globex","valid_from":"2022-01-01","valid_to":"2023-01-01"}')
    assert fact == ExtractedFact("Alice", "EMPLOYER", "Globex", valid_at=utc(2022, 1, 1), invalid_at=utc(2023, 1, 1))


@pytest.mark.parametrize("value, warning", [
    ('"soon"', "JSON date 'valid_from': 'soon' is not an ISO 8601 date: ignored"),
    ("2020", "JSON date 'valid_from': 2020 is not an ISO 8601 date: ignored"),
])
def test_unparseable_reserved_date_is_ignored_with_a_warning(value: str, warning: str) -> None:
    ctx = ExtractionContext()
    facts = run("json", '{"name": "Alice", "valid_from": %s, "city": "Paris"}' % value, ctx=ctx)
    assert facts == [ExtractedFact("Alice", "CITY", "Paris")]
    assert ctx.warnings == [warning]


def test_first_parseable_reserved_date_wins_and_null_dates_are_silent() -> None:
    ctx = ExtractionContext()
    fact = one("json", '{"name": "A", "valid_to": null, "since": "2020", "valid_from": "2021", "x": 1}', ctx=ctx)
    assert (fact.valid_at, fact.invalid_at, ctx.warnings) == (utc(2020, 1, 1), None, [])


# --- JSON: scalars, relations, templates -----------------------------------------------------------


@pytest.mark.parametrize("value, target", [
    ('"Berlin"', "Berlin"),
    ('"  Berlin "', "Berlin"),
    ("30", "30"),
    ("-0.5", "-0.5"),
    ("1e3", "1000.0"),
    ("true", "true"),
    ("false", "false"),
    ("0", "0"),
])
def test_scalar_values_become_literal_targets(value: str, target: str) -> None:
    assert one("json", '{"name": "Alice", "v": %s}' % value).target == target


@pytest.mark.parametrize("value", ["null", '""', '"   "', "{}", "[]", "[null, \"\"]"])
def test_null_blank_and_empty_values_give_nothing(value: str) -> None:
    assert run("json", '{"name": "Alice", "v": %s}' % value) == []


@pytest.mark.parametrize("key, relation", [
    ("city", "CITY"),
    ("favoriteColor", "FAVORITE_COLOR"),
    ("favorite color", "FAVORITE_COLOR"),
    ("Favorite-Colour", "FAVORITE_COLOUR"),
    ("HTTPStatus", "HTTP_STATUS"),
])
def test_relation_is_the_key_in_screaming_snake_case(key: str, relation: str) -> None:
    assert one("json", json.dumps({"name": "Alice", key: "x"})).relation == relation


def test_keys_without_a_relation_name_are_skipped() -> None:
    assert triples(run("json", '{"name": "Alice", "!!!": "x", "名前": "y", "ok": "z"}')) == [("Alice", "OK", "z")]


def test_relation_by_key_overrides_by_dotted_path() -> None:
    rules = JsonRules(relation_by_key={"city": "LIVES_IN", "address.zip": "postal code"})
    registry = ExtractorRegistry(builtins={"json": JsonExtractor(rules)})
    facts = run("json", '{"name": "Alice", "city": "Berlin", "address": {"zip": "10115", "city": "B"}}',
                registry=registry)
    assert triples(facts) == [("Alice", "LIVES_IN", "Berlin"), ("Alice", "POSTAL_CODE", "10115"),
                              ("Alice", "ADDRESS_CITY", "B")]


def test_fact_text_is_left_to_the_engine_unless_a_template_is_configured() -> None:
    assert one("json", '{"name": "Alice", "lives_in": "Berlin"}').fact is None
    registry = ExtractorRegistry(builtins={"json": JsonExtractor(JsonRules(fact_template="{source} {rel_words} {target}"))})
    facts = run("json", '{"name": "Alice", "livesIn": "Berlin", "tags": ["a"]}', registry=registry)
    assert [f.fact for f in facts] == ["Alice lives in Berlin", "Alice tags a"]


def test_a_bad_template_fails_at_construction() -> None:
    with pytest.raises(KeyError):
        JsonExtractor(JsonRules(fact_template="{who} {rel_words}"))


# --- JSON: nested objects and arrays ---------------------------------------------------------------


def test_nested_object_with_a_subject_key_is_an_entity_then_recursed() -> None:
    facts = run("json", '{"name": "Alice", "employer": {"name": "Acme", "industry": "tech"}, "city": "Rome"}')
    assert facts == [
        ExtractedFact("Alice", "EMPLOYER", "Acme"),
        ExtractedFact("Acme", "INDUSTRY", "tech"),
        ExtractedFact("Alice", "CITY", "Rome"),
    ]


def test_nested_object_without_a_subject_key_is_flattened_with_a_path_prefix() -> None:
    facts = run("json", '{"name": "Alice", "address": {"city": "Paris", "geo": {"lat": 48.85}}}')
    assert triples(facts) == [("Alice", "ADDRESS_CITY", "Paris"), ("Alice", "ADDRESS_GEO_LAT", "48.85")]
    assert {f.cardinality for f in facts} == {None}


def test_nested_dates_are_their_own_falling_back_to_the_parents() -> None:
    content = json.dumps({
        "name": "Alice", "valid_from": "2020-01-01", "valid_to": "2030-01-01",
        "employer": {"name": "Acme", "start_date": "2021-05-01", "size": 10},
        "address": {"city": "Paris", "until": "2022-01-01"},
        "pet": "cat",
    })
    assert [(f.relation, f.valid_at, f.invalid_at) for f in run("json", content)] == [
        ("EMPLOYER", utc(2021, 5, 1), utc(2030, 1, 1)),
        ("SIZE", utc(2021, 5, 1), utc(2030, 1, 1)),
        ("ADDRESS_CITY", utc(2020, 1, 1), utc(2022, 1, 1)),
        ("PET", utc(2020, 1, 1), utc(2030, 1, 1)),
    ]


def test_arrays_are_multi_valued_and_skip_nulls_blanks_and_nested_arrays() -> None:
    facts = run("json", '{"name": "Alice", "likes": ["Rock", null, "", "Jazz", 3, ["x"]]}')
    assert [(f.relation, f.target, f.cardinality) for f in facts] == [
        ("LIKES", "Rock", Cardinality.MULTI), ("LIKES", "Jazz", Cardinality.MULTI), ("LIKES", "3", Cardinality.MULTI)]


def test_array_objects_with_a_subject_are_entities_and_without_one_are_skipped_with_a_warning() -> None:
    ctx = ExtractionContext()
    content = json.dumps({"name": "Alice", "friends": [
        {"name": "Bob", "city": "Oslo", "since": "2019"}, {"nick": "c"}, {"name": "Carol"}]})
    facts = run("json", content, ctx=ctx)
    assert [(f.source, f.relation, f.target, f.cardinality, f.valid_at) for f in facts] == [
        ("Alice", "FRIENDS", "Bob", Cardinality.MULTI, utc(2019, 1, 1)),
        ("Bob", "CITY", "Oslo", None, utc(2019, 1, 1)),
        ("Alice", "FRIENDS", "Carol", Cardinality.MULTI, None),
    ]
    assert ctx.warnings == ["JSON array item friends[1] has no subject key: skipped"]


def test_top_level_array_is_a_list_of_objects_and_scalars_give_nothing() -> None:
    facts = run("json", '[{"name": "A", "x": 1}, 3, "s", {"name": "B", "x": 2.5}]')
    assert triples(facts) == [("A", "X", "1"), ("B", "X", "2.5")]
    assert run("json", '"just a string"') == run("json", "42") == run("json", "null") == []


def test_nesting_deeper_than_max_depth_is_skipped_with_a_warning() -> None:
    registry = ExtractorRegistry(builtins={"json": JsonExtractor(JsonRules(max_depth=2))})
    ctx = ExtractionContext()
    facts = run("json", '{"name": "A", "a": {"b": {"c": {"d": 1}}, "x": 2}}', ctx=ctx, registry=registry)
    assert triples(facts) == [("A", "A_X", "2")]
    assert ctx.warnings == ["JSON nested deeper than 2 levels at 'a.b.c': skipped"]


@pytest.mark.parametrize("content", ["{not json", '{"name": "Alice",}', "", '{"a": NaN}', "Alice lives in Paris."])
def test_invalid_json_gives_no_facts(content: str) -> None:
    assert run("json", content) == []


def test_invalid_json_falls_back_to_the_text_extractor_when_configured() -> None:
    registry = ExtractorRegistry(builtins={"json": JsonExtractor(text_fallback=TextExtractor())})
    assert triples(run("json", "Alice lives in Paris.", registry=registry)) == [("Alice", "LIVES_IN", "Paris")]
    assert triples(run("json", '{"name": "Alice", "city": "Rome"}', registry=registry)) == [("Alice", "CITY", "Rome")]


# --- text: the pattern table (§5.4) ----------------------------------------------------------------


@pytest.mark.parametrize("sentence, source, relation, target, terminates", [
    ("Alice lives in Paris.", "Alice", "LIVES_IN", "Paris", None),
    ("Alice moved to Berlin.", "Alice", "LIVES_IN", "Berlin", None),
    ("Alice relocated to Tokyo.", "Alice", "LIVES_IN", "Tokyo", None),
    ("Alice works at Acme.", "Alice", "WORKS_AT", "Acme", None),
    ("Alice works for Globex.", "Alice", "WORKS_AT", "Globex", None),
    ("Alice joined Initech.", "Alice", "WORKS_AT", "Initech", None),
    ("Alice is married to Bob.", "Alice", "MARRIED_TO", "Bob", None),
    ("Alice's favorite color is blue.", "Alice", "FAVORITE_COLOR", "blue", None),
    ("Alice’s job title is Chief of Staff.", "Alice", "JOB_TITLE", "Chief of Staff", None),
    ("Alice is a doctor.", "Alice", "IS_A", "doctor", None),
    ("Alice is an engineer.", "Alice", "IS_A", "engineer", None),
    ("Alice likes Jazz.", "Alice", "LIKES", "Jazz", None),
    ("Alice loves cats!", "Alice", "LIKES", "cats", None),
    ("Alice enjoys hiking?", "Alice", "LIKES", "hiking", None),
    ("Alice owns a car.", "Alice", "OWNS", "car", None),
    ("Alice has a dog.", "Alice", "OWNS", "dog", None),
    ("Alice left Acme.", "Alice", "NO_LONGER_WORKS_AT", "Acme", "WORKS_AT"),
    ("Alice no longer works at Acme.", "Alice", "NO_LONGER_WORKS_AT", "Acme", "WORKS_AT"),
    ("Alice moved out of Paris.", "Alice", "MOVED_OUT_OF", "Paris", "LIVES_IN"),
    ("ALICE LIVES IN PARIS", "ALICE", "LIVES_IN", "PARIS", None),
    ("Alice   Smith lives in  New   York", "Alice Smith", "LIVES_IN", "New York", None),
    ("The cat likes fish", "The cat", "LIKES", "fish", None),
])
def test_each_sentence_pattern(sentence: str, source: str, relation: str, target: str, terminates: str | None) -> None:
    fact = one("text", sentence)
    assert fact == ExtractedFact(source, relation, target, terminates=terminates)  # no dates, cardinality from the registry


def test_the_pattern_table_has_the_documented_rows_in_order() -> None:
    assert [(p.relation, p.terminates) for p in SENTENCE_PATTERNS] == [
        ("LIVES_IN", None), ("WORKS_AT", None), ("MARRIED_TO", None), (None, None), ("IS_A", None),
        ("LIKES", None), ("OWNS", None), ("NO_LONGER_WORKS_AT", "WORKS_AT"), ("MOVED_OUT_OF", "LIVES_IN")]


@pytest.mark.parametrize("sentence, expected", [
    # the first row that matches wins
    ("Alice's sister lives in Rome", ("Alice's sister", "LIVES_IN", "Rome")),
    ("Alice's job is a teacher", ("Alice", "JOB", "teacher")),
    ("Alice likes the left bank", ("Alice", "LIKES", "left bank")),
    # a subject holding a table verb is not a noun phrase
    ("Alice no longer works at Acme", ("Alice", "NO_LONGER_WORKS_AT", "Acme")),
])
def test_pattern_order_and_subject_guard(sentence: str, expected: tuple[str, str, str]) -> None:
    assert triples(run("text", sentence)) == [expected]


@pytest.mark.parametrize("sentence", [
    "Hello there.",
    "Alice, who lives in Rome, works at Acme",  # the subject must not hold a comma
    "Alice has lived in Paris since 2020",  # auxiliary "has" is not OWNS
    "Alice has been to Paris",
    "Alice has to work",
    "Alice lives in",
    "Alice works at since 2020",  # the object is empty once the date suffix is cut
])
def test_sentences_that_match_nothing_give_nothing(sentence: str) -> None:
    assert run("text", sentence) == []


@pytest.mark.parametrize("sentence, target", [
    ("Alice works at Acme, a big company", "Acme"),
    ("Alice works at Acme; she is happy", "Acme"),
    ("Alice moved to the Hague", "Hague"),
    ("Alice owns an Apple laptop", "Apple laptop"),
    ("Alice likes A Tribe Called Quest", "Tribe Called Quest"),
    ("Alice works at Acme in Berlin", "Acme in Berlin"),  # "in Berlin" is not a date suffix
])
def test_object_ends_at_comma_or_semicolon_without_its_leading_article(sentence: str, target: str) -> None:
    assert one("text", sentence).target == target


# --- text: date suffixes ---------------------------------------------------------------------------


@pytest.mark.parametrize("sentence, target, valid_at, invalid_at", [
    ("Alice lives in Paris since 2020", "Paris", utc(2020, 1, 1), None),
    ("Alice lives in Paris from 2020-03", "Paris", utc(2020, 3, 1), None),
    ("Alice moved to Berlin in 2024-06", "Berlin", utc(2024, 6, 1), None),
    ("Alice joined Initech on 2023-03-01", "Initech", utc(2023, 3, 1), None),
    ("Alice joined Initech on 2023-03-01T10:00:00+02:00", "Initech", utc(2023, 3, 1, 8), None),
    ("Alice joined Initech on 2023-03-01T10:00Z", "Initech", utc(2023, 3, 1, 10), None),
    ("Alice works at Acme until 2031-01-01", "Acme", None, utc(2031, 1, 1)),
    ("Alice works at Acme from 2019 to 2021-06-30", "Acme", utc(2019, 1, 1), utc(2021, 6, 30)),
    ("Alice works at Acme since 2019 until 2021", "Acme", utc(2019, 1, 1), utc(2021, 1, 1)),
    ("Alice works at Acme, since 2019", "Acme", utc(2019, 1, 1), None),
    ("Alice works at Acme since 2019 since 2020", "Acme", utc(2019, 1, 1), None),  # the first wins
    ("Alice left Acme in 2023", "Acme", utc(2023, 1, 1), None),
    ("Alice moved out of Paris on 2022-12-31", "Paris", utc(2022, 12, 31), None),
    ("Alice -[LIVES_IN]-> Paris since 2020", "Paris since 2020", None, None),  # a triple is taken verbatim
])
def test_date_suffixes(sentence: str, target: str, valid_at: datetime | None, invalid_at: datetime | None) -> None:
    fact = one("text", sentence)
    assert (fact.target, fact.valid_at, fact.invalid_at) == (target, valid_at, invalid_at)


@pytest.mark.parametrize("sentence, target", [
    ("Alice moved to Berlin in March", "Berlin in March"),  # not ISO: not a date, no hidden arithmetic
    ("Alice moved to Berlin last week", "Berlin last week"),
    ("Alice moved to Berlin in 2024-13", "Berlin in 2024-13"),  # no such month: not a date suffix
    ("Alice moved to Berlin in 20245", "Berlin in 20245"),
])
def test_non_iso_dates_are_not_date_suffixes(sentence: str, target: str) -> None:
    fact = one("text", sentence)
    assert (fact.target, fact.valid_at, fact.invalid_at) == (target, None, None)


# --- text: negation, sentence splitting -------------------------------------------------------------


@pytest.mark.parametrize("sentence", [
    "Alice does not live in Paris",
    "Alice never left Acme",
    "Alice doesn't like jazz",
    "Alice doesn’t own a car",
    "Alice isn't married to Bob",
    "Alice is not a doctor",
])
def test_negated_sentences_give_nothing(sentence: str) -> None:
    assert run("text", sentence) == []


def test_sentences_are_split_on_terminators_and_newlines_in_order() -> None:
    content = "Alice likes Jazz. Bob lives in Rome! Is it sunny? Carol owns a boat\nDan works at Acme"
    assert triples(run("text", content)) == [
        ("Alice", "LIKES", "Jazz"), ("Bob", "LIVES_IN", "Rome"), ("Carol", "OWNS", "boat"), ("Dan", "WORKS_AT", "Acme")]


def test_a_dot_not_followed_by_a_space_does_not_split() -> None:
    assert triples(run("text", "Alice owns 3.5 acres. Bob likes example.com")) == [
        ("Alice", "OWNS", "3.5 acres"), ("Bob", "LIKES", "example.com")]


# --- text: the triple syntax -----------------------------------------------------------------------


@pytest.mark.parametrize("sentence, expected", [
    ("Alice -[LIVES_IN]-> Paris", ExtractedFact("Alice", "LIVES_IN", "Paris")),
    ("Alice -[ lives in ]-> the Left Bank", ExtractedFact("Alice", "LIVES_IN", "the Left Bank")),
    ("Alice-[favoriteColor]->blue", ExtractedFact("Alice", "FAVORITE_COLOR", "blue")),
    ("Alice -[LIVES_IN]-> Paris @valid_at=2020-01-01",
     ExtractedFact("Alice", "LIVES_IN", "Paris", valid_at=utc(2020, 1, 1))),
    ("Alice -[LIVES_IN]-> Paris @invalid_at=2021-06-01T12:00:00+02:00",
     ExtractedFact("Alice", "LIVES_IN", "Paris", invalid_at=utc(2021, 6, 1, 10))),
    ("Alice -[LIKES]-> Jazz @multi", ExtractedFact("Alice", "LIKES", "Jazz", cardinality=Cardinality.MULTI)),
    ("Alice -[WORKS_AT]-> Acme @multi @invalid_at=2022 @valid_at=2020-01-01T00:00:00.5Z",
     ExtractedFact("Alice", "WORKS_AT", "Acme", valid_at=utc(2020, 1, 1, 0, 0, 0, 500000),
                   invalid_at=utc(2022, 1, 1), cardinality=Cardinality.MULTI)),
    ("Alice -[NEVER_VISITED]-> Rome", ExtractedFact("Alice", "NEVER_VISITED", "Rome")),  # no negation check
    ("Alice -[EMAIL]-> alice@example.com", ExtractedFact("Alice", "EMAIL", "alice@example.com")),
])
def test_triple_syntax_and_its_options(sentence: str, expected: ExtractedFact) -> None:
    assert run("text", sentence) == [expected]


@pytest.mark.parametrize("sentence, warning", [
    ("Alice -[LIVES_IN]-> Paris @bogus", "triple option '@bogus' not understood: ignored"),
    ("Alice -[LIVES_IN]-> Paris @valid_at=soon", "triple option '@valid_at=soon' not understood: ignored"),
    ("Alice -[LIVES_IN]-> Paris @multi=yes", "triple option '@multi=yes' not understood: ignored"),
])
def test_triple_options_not_understood_are_ignored_with_a_warning(sentence: str, warning: str) -> None:
    ctx = ExtractionContext()
    assert run("text", sentence, ctx=ctx) == [ExtractedFact("Alice", "LIVES_IN", "Paris")]
    assert ctx.warnings == [warning]


def test_triple_syntax_wins_over_the_pattern_table_and_an_empty_relation_gives_nothing() -> None:
    assert triples(run("text", "Alice likes Bob -[KNOWS]-> Carol")) == [("Alice likes Bob", "KNOWS", "Carol")]
    assert run("text", "Alice -[!!!]-> Bob") == []


# --- pronouns and roles ----------------------------------------------------------------------------


@pytest.mark.parametrize("sentence, expected", [
    ("I live in Paris", ("Bob", "LIVES_IN", "Paris")),
    ("I'm a doctor", ("Bob", "IS_A", "doctor")),
    ("I’m married to Carol", ("Bob", "MARRIED_TO", "Carol")),
    ("I am married to Carol", ("Bob", "MARRIED_TO", "Carol")),
    ("My favorite color is green", ("Bob", "FAVORITE_COLOR", "green")),
    ("I work at Acme", ("Bob", "WORKS_AT", "Acme")),
    ("I no longer work at Acme", ("Bob", "NO_LONGER_WORKS_AT", "Acme")),
    ("I like jazz", ("Bob", "LIKES", "jazz")),
    ("I have a cat", ("Bob", "OWNS", "cat")),
    ("Carol is married to me", ("Carol", "MARRIED_TO", "Bob")),
    ("I -[KNOWS]-> Carol", ("Bob", "KNOWS", "Carol")),
    ("Alice lives in Oslo", ("Alice", "LIVES_IN", "Oslo")),
])
def test_first_person_in_a_message_is_the_speaker(sentence: str, expected: tuple[str, str, str]) -> None:
    assert triples(run("message", sentence, speaker="Bob", role="user", owner="alice")) == [expected]


@pytest.mark.parametrize("sentence", ["My sister lives in Rome", "Alice likes my cat", "Me and Bob like jazz"])
def test_first_person_inside_a_longer_phrase_skips_the_sentence(sentence: str) -> None:
    assert run("message", sentence, speaker="Bob") == []


def test_first_person_in_text_is_the_owner_on_a_user_graph() -> None:
    assert triples(run("text", "I live in Paris. My pet is a cat", owner="alice")) == [
        ("alice", "LIVES_IN", "Paris"), ("alice", "PET", "cat")]
    ctx = ExtractionContext(owner="Alice Smith")
    assert triples(run("text", "I live in Paris", ctx=ctx, owner="alice")) == [("Alice Smith", "LIVES_IN", "Paris")]


def test_first_person_on_a_standalone_graph_skips_only_that_sentence() -> None:
    facts = run("text", "I live in Paris. Bob lives in Rome. My car is red", graph_label="g1")
    assert triples(facts) == [("Bob", "LIVES_IN", "Rome")]


def test_text_ignores_a_speaker_prefix_and_message_without_speaker_falls_back_to_owner() -> None:
    assert run("text", "Alice: I live in Paris") == []  # no owner; "Alice:" is not parsed in text
    assert triples(run("message", "I live in Paris", role="user", owner="alice")) == [("alice", "LIVES_IN", "Paris")]
    assert run("message", "I live in Paris", role="user") == []


def test_a_role_word_as_line_label_names_the_role_not_a_person() -> None:
    transcript = "User: I live in Paris.\nAssistant: I live in the cloud.\nHuman: My dog is Rex.\nBob: I work at Acme."
    assert triples(run("message", transcript, owner="alice")) == [
        ("alice", "LIVES_IN", "Paris"), ("alice", "DOG", "Rex"), ("Bob", "WORKS_AT", "Acme")]


@pytest.mark.parametrize("kind, content, episode", [
    ("text", "I live in Paris", {"owner": "  "}),
    ("message", "I live in Paris", {"speaker": " ", "owner": ""}),
    ("json", '{"city": "Paris"}', {"owner": " ", "graph_label": ""}),
])
def test_blank_owner_speaker_or_graph_label_count_as_none(kind: str, content: str, episode: dict[str, str]) -> None:
    assert run(kind, content, **episode) == []


def test_message_speaker_prefix_in_the_content() -> None:
    content = "Alice (user): I live in Paris\nI like jazz\nBot (assistant): I live in the cloud\nCarol: I own a boat"
    assert triples(run("message", content)) == [
        ("Alice", "LIVES_IN", "Paris"), ("Alice", "LIKES", "jazz"), ("Carol", "OWNS", "boat")]


@pytest.mark.parametrize("role", ["assistant", "Assistant", " assistant "])
def test_assistant_messages_give_nothing(role: str) -> None:
    assert run("message", "Alice lives in Paris. I like jazz", speaker="Bot", role=role) == []
    assert run("message", "Alice (user): Alice lives in Paris", role=role) == []


def test_silent_roles_are_configurable_and_apply_to_messages_only() -> None:
    registry = ExtractorRegistry(builtins={"message": TextExtractor(silent_roles=("assistant", "system")),
                                           "text": TextExtractor()})
    assert run("message", "Alice lives in Paris", registry=registry, role="system") == []
    assert triples(run("message", "Alice lives in Paris", registry=registry, role="tool")) == [("Alice", "LIVES_IN", "Paris")]
    assert triples(run("text", "Alice lives in Paris", registry=registry, role="assistant")) == [
        ("Alice", "LIVES_IN", "Paris")]


# --- determinism -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind, content", [
    ("text", "Alice lives in Paris since 2020. Alice likes Jazz. Alice -[KNOWS]-> Bob @multi"),
    ("message", "Alice (user): I moved to Berlin in 2024-06; my dog is Rex"),
    ("json", '{"name": "Alice", "likes": ["a", "b"], "employer": {"name": "Acme", "city": "X"}, "since": "2020"}'),
])
def test_same_input_same_output(kind: str, content: str) -> None:
    first = run(kind, content, owner="alice")
    assert first  # something was extracted
    assert run(kind, content, owner="alice") == first
    assert ExtractorRegistry().extract(EpisodeView(kind, content, REF, owner="alice"), ExtractionContext()) == first  # type: ignore[arg-type]


# --- the plug-in API (§5.8) ------------------------------------------------------------------------


class Constant:
    """A user extractor that always returns one fact."""

    def __init__(self, target: str) -> None:
        self.target = target

    def extract(self, episode: EpisodeView, ctx: ExtractionContext) -> list[ExtractedFact]:
        return [ExtractedFact("Custom", "SAYS", self.target)]


CRM = '{"name": "Alice", "city": "Berlin"}'


def test_registered_extractor_with_a_match_replaces_the_builtin_for_matching_episodes() -> None:
    registry = ExtractorRegistry()
    registry.register("json", Constant("crm"), match=lambda ep: ep.source_description == "crm")
    assert triples(run("json", CRM, registry=registry, source_description="crm")) == [("Custom", "SAYS", "crm")]
    assert triples(run("json", CRM, registry=registry, source_description="web")) == [("Alice", "CITY", "Berlin")]
    assert triples(run("text", "Alice likes Jazz", registry=registry, source_description="crm")) == [
        ("Alice", "LIKES", "Jazz")]  # another kind is untouched


def test_chain_true_runs_the_builtins_after_the_registered_extractor() -> None:
    registry = ExtractorRegistry()
    registry.register("json", Constant("first"), chain=True)
    assert triples(run("json", CRM, registry=registry)) == [("Custom", "SAYS", "first"), ("Alice", "CITY", "Berlin")]


def test_chain_false_is_the_default_and_suppresses_the_builtins() -> None:
    registry = ExtractorRegistry()
    entry = registry.register("json", Constant("only"))
    assert (entry.kind, entry.chain, entry.match) == ("json", False, None)
    assert triples(run("json", CRM, registry=registry)) == [("Custom", "SAYS", "only")]


def test_most_recently_registered_matching_extractor_wins() -> None:
    registry = ExtractorRegistry()
    registry.register("text", Constant("old"))
    registry.register("text", Constant("new"), match=lambda ep: "new" in ep.content)
    assert triples(run("text", "a new thing", registry=registry)) == [("Custom", "SAYS", "new")]
    assert triples(run("text", "an old thing", registry=registry)) == [("Custom", "SAYS", "old")]
    assert [e.extractor.target for e in registry.extractors] == ["new", "old"]  # type: ignore[attr-defined]


def test_only_the_winner_runs_even_if_a_later_match_would_chain() -> None:
    registry = ExtractorRegistry()
    registry.register("text", Constant("chained"), chain=True)
    registry.register("text", Constant("winner"))
    assert triples(run("text", "Alice likes Jazz", registry=registry)) == [("Custom", "SAYS", "winner")]


def test_a_plain_function_can_be_registered_and_reads_the_context() -> None:
    def from_entities(episode: EpisodeView, ctx: ExtractionContext) -> list[ExtractedFact]:
        return [ExtractedFact(ctx.owner or "?", "KNOWS", name) for name in ctx.entities.values()]

    registry = ExtractorRegistry()
    registry.register("message", from_entities)
    ctx = ExtractionContext(owner="Alice", entities={"bob": "Bob", "carol": "Carol"})
    assert triples(run("message", "hi", ctx=ctx, registry=registry)) == [("Alice", "KNOWS", "Bob"), ("Alice", "KNOWS", "Carol")]


def test_registration_checks_kind_and_shape() -> None:
    registry = ExtractorRegistry()
    with pytest.raises(ValueError, match="episode kind must be one of text, json, message"):
        registry.register("xml", Constant("x"))
    with pytest.raises(TypeError):
        registry.register("json", 42)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        registry.register_contradiction(lambda new, old: True, kind="xml")
    with pytest.raises(TypeError):
        registry.register_contradiction("nope")  # type: ignore[arg-type]
    assert registry.extractors == [] and registry.contradiction_rules == []


def test_context_entities_are_a_read_only_view() -> None:
    backing = {"alice": "Alice"}
    ctx = ExtractionContext(entities=backing)
    with pytest.raises(TypeError):
        ctx.entities["bob"] = "Bob"  # type: ignore[index]
    backing["bob"] = "Bob"
    assert dict(ctx.entities) == {"alice": "Alice", "bob": "Bob"}


class Edge(NamedTuple):
    source_key: str
    relation: str
    target_key: str


class SameEmployerDomain:
    """A custom contradiction rule: a new EMAIL retires an old one on the same domain."""

    def contradicts(self, new: Edge, old: Edge) -> bool:
        return (new.source_key == old.source_key and new.relation == old.relation == "EMAIL"
                and new.target_key.split("@")[-1] == old.target_key.split("@")[-1])


def test_custom_contradiction_rules_are_kept_with_kind_and_match_filters() -> None:
    registry = ExtractorRegistry()
    domain = registry.register_contradiction(SameEmployerDomain(), kind="json")
    registry.register_contradiction(lambda new, old: new.relation == "MOOD", match=lambda ep: ep.source_description == "chat")
    json_crm = EpisodeView("json", "{}", REF, source_description="crm")
    text_chat = EpisodeView("text", "", REF, source_description="chat")
    json_chat = EpisodeView("json", "{}", REF, source_description="chat")

    assert registry.contradiction_rules_for(json_crm) == [domain.rule]
    assert registry.contradiction_rules_for(text_chat) == [registry.contradiction_rules[1].rule]
    assert len(registry.contradiction_rules_for(json_chat)) == 2  # registration order
    assert registry.contradiction_rules_for(json_chat)[0] is domain.rule

    old = Edge("alice", "EMAIL", "alice@acme.com")
    assert domain.rule.contradicts(Edge("alice", "EMAIL", "a.smith@acme.com"), old) is True
    assert domain.rule.contradicts(Edge("alice", "EMAIL", "alice@gmail.com"), old) is False
    mood = registry.contradiction_rules[1].rule
    assert mood.contradicts(Edge("alice", "MOOD", "sad"), Edge("alice", "MOOD", "happy")) is True
    assert mood.contradicts(Edge("alice", "LIKES", "x"), Edge("alice", "LIKES", "y")) is False


def test_registry_carries_relation_rules_and_custom_builtins() -> None:
    rules = RelationRules(cardinality={"LIKES": Cardinality.SINGLE}, terminators={})
    registry = ExtractorRegistry(builtins={"text": TextExtractor()}, relations=rules)
    assert registry.relations.cardinality_of("LIKES") is Cardinality.SINGLE
    assert registry.relations.terminates("MOVED_OUT_OF") is None
    assert ExtractorRegistry().relations.cardinality_of("LIKES") is Cardinality.MULTI
    assert run("json", CRM, registry=registry) == []  # no built-in for json in this registry


# --- property: arbitrary JSON objects ---------------------------------------------------------------

_json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
_json_values = st.recursive(
    _json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(st.text(max_size=12), _json_values, max_size=6), st.sampled_from([None, "alice"]))
def test_arbitrary_json_objects_never_raise_and_relations_are_screaming_snake(obj: dict[str, Any], owner: str | None) -> None:
    facts = run("json", json.dumps(obj), owner=owner, graph_label="g1")
    for fact in facts:
        assert SCREAMING_SNAKE.fullmatch(fact.relation), fact.relation
        assert fact.source.strip() and fact.target.strip()


_sentence_words = st.sampled_from([
    "I", "my", "Alice", "lives", "in", "moved", "to", "works", "at", "is", "a", "the", "'s", "likes", "has", "been",
    "left", "no", "longer", "since", "from", "until", "2020", "2024-06-01", "2024-13-01", ",", ".", "\n", "-[", "]->",
    "@multi", "@valid_at=2020", "not", "Bob:", "(assistant)",
])


@given(st.lists(_sentence_words, max_size=20).map(" ".join) | st.text(), st.sampled_from(["text", "message"]),
       st.sampled_from([None, "", "alice"]))
def test_arbitrary_text_never_raises_and_facts_are_well_formed(content: str, kind: str, owner: str | None) -> None:
    for fact in run(kind, content, owner=owner):
        assert SCREAMING_SNAKE.fullmatch(fact.relation), fact.relation
        assert fact.source.strip() and fact.target.strip()
