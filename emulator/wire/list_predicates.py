"""The structured filters of the v4 graph lists — ``metadata_filters``, ``date_filters`` and
``property_filters`` (zep-cloud 4.0.1 ``MetadataFilterGroup``, ``DateFilters``,
``PropertyFilter``) — checked, and turned into predicates over plain values.

What the SDK and Zep's docs say:

- Shapes (4.0.1 ``types``): a metadata group is ``{type: and|or, filters: [...], groups:
  [...]}``, nested; date filters are ``{any_of: [{all_of: [{field, operator, value}]}]}``,
  "Each group is combined with OR logic" and "All conditions in the group must match";
  property filters are a list, every one of which must hold.
- Operators, lowercase: metadata ``eq ne gt lt gte lte in contains is_null is_not_null``;
  properties the same without ``contains``; dates ``eq ne gt lt gte lte is_null
  is_not_null`` on ``created_at``, ``valid_at``, ``invalid_at``, ``expired_at``.
- Values: "Use an array for in, a non-empty string for contains, and omit the field for null
  operators"; a date's is "The RFC 3339 timestamp. Omit this field for null operators"; a
  property ``in`` array's "string members must be non-empty, contain no comma, and have no
  surrounding whitespace". Anything else is a 400 ``invalid_request`` naming the field.
- Limits (changelog 2026-11-14): at most 100 property filters and 1,000 ``in`` values in all.
- ``is_null``: "Key is null or absent"; ``is_not_null``: "Key exists and is not null"; an array
  value is "matched element-wise" (help.getzep.com, searching-the-graph).
- Where a filter looks (help.getzep.com, episode-metadata-projection): an episode on its own
  metadata; an edge or a node "matches when at least one of its associated episodes satisfies
  the filter. Matching is evaluated per episode", so ANDed conditions must hold in one episode.
  Properties are the record's ``attributes``. A node has only ``created_at`` of the four dates.

What we chose where they are silent:

- Every operator but the two null ones needs the value present and not null, as in Graphiti's
  Cypher filters, where a comparison with null is never true: ``ne`` skips a record without
  the key.
- Numbers compare as numbers (changelog 2026-06-08: "numeric metadata values now match filters
  consistently"), strings as strings (code point order); a boolean equals only a boolean and
  is not ordered; a number never equals a string. On an array, a comparison holds if it holds
  for an element, and ``ne`` if no element equals the value.
- ``contains``: a string value holding the given string, or an array with it as an element (v3's
  CONTAINS meant "one of a comma-separated list"; v4 has ``in`` for that).
- A group's ``type`` defaults to ``and``; a group, or date filters, with no conditions match
  everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from operator import eq, ge, gt, le, lt, ne
from typing import Any, Callable, Iterable, Literal, Mapping, Optional, Union

import orjson
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, StrictBool, StrictFloat, StrictInt, StrictStr, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from ..core.errors import InvalidInput
from ..core.timestamps import parse_rfc3339
from .http import validation_failure

STRUCTURED_FILTERS = ("metadata_filters", "date_filters", "property_filters")
MAX_PROPERTY_FILTERS = 100
MAX_IN_VALUES = 1_000

Scalar = Union[StrictBool, StrictInt, StrictFloat, StrictStr]
NULL_OPERATORS = ("is_null", "is_not_null")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _refuse(message: str) -> PydanticCustomError:
    return PydanticCustomError("invalid_filter", message)


def _check_value(operator: str, value: Any, in_members: Callable[[list[Any]], None] | None = None) -> None:
    """The value an operator takes: none for the null operators, a non-empty array for ``in``,
    a non-empty string for ``contains``, a single value for the comparisons."""
    if operator in NULL_OPERATORS:
        if value is not None:
            raise _refuse(f"value must be omitted for {operator}")
    elif value is None:
        raise _refuse(f"value is required for {operator}")
    elif operator == "in":
        if not isinstance(value, list) or not value:
            raise _refuse("value must be a non-empty array for in")
        if in_members is not None:
            in_members(value)
    elif isinstance(value, list):
        raise _refuse(f"value must be a single value for {operator}; use in for an array")
    elif operator == "contains" and (not isinstance(value, str) or not value):
        raise _refuse("value must be a non-empty string for contains")


class MetadataFilter(_Strict):
    property_name: StrictStr = Field(min_length=1)
    operator: Literal["eq", "ne", "gt", "lt", "gte", "lte", "in", "contains", "is_null", "is_not_null"]
    value: Optional[Union[Scalar, list[Scalar]]] = None

    @model_validator(mode="after")
    def _value_fits(self) -> "MetadataFilter":
        _check_value(self.operator, self.value)
        return self


class MetadataFilterGroup(_Strict):
    """Every field optional, as in 4.0.1 (null is the same as absent)."""

    type: Optional[Literal["and", "or"]] = None
    filters: Optional[list[MetadataFilter]] = None
    groups: Optional[list["MetadataFilterGroup"]] = None


def _property_in_members(values: list[Any]) -> None:
    for member in values:
        if isinstance(member, str) and (not member or "," in member or member != member.strip()):
            raise _refuse("in's string members must be non-empty, contain no comma and have no surrounding whitespace")


class PropertyFilter(_Strict):
    property_name: StrictStr = Field(min_length=1)
    operator: Literal["eq", "ne", "gt", "lt", "gte", "lte", "in", "is_null", "is_not_null"]
    value: Optional[Union[Scalar, list[Scalar]]] = None

    @model_validator(mode="after")
    def _value_fits(self) -> "PropertyFilter":
        _check_value(self.operator, self.value, _property_in_members)
        return self


class DateFilter(_Strict):
    field: Literal["created_at", "valid_at", "invalid_at", "expired_at"]
    operator: Literal["eq", "ne", "gt", "lt", "gte", "lte", "is_null", "is_not_null"]
    value: Optional[StrictStr] = None
    _at: datetime | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _value_fits(self) -> "DateFilter":
        _check_value(self.operator, self.value)
        if self.value is not None:
            try:
                self._at = parse_rfc3339(self.value, "value")
            except InvalidInput as exc:
                raise _refuse(exc.message) from None
        return self


class DateFilterGroup(_Strict):
    all_of: Optional[list[DateFilter]] = None


class DateFilters(_Strict):
    any_of: Optional[list[DateFilterGroup]] = None


class _Structured(BaseModel):
    metadata_filters: Optional[MetadataFilterGroup] = None
    date_filters: Optional[DateFilters] = None
    property_filters: Optional[list[PropertyFilter]] = None


# -- evaluating ---------------------------------------------------------------------------------


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _equal(stored: Any, wanted: Any) -> bool:
    if isinstance(stored, bool) or isinstance(wanted, bool):
        return isinstance(stored, bool) and isinstance(wanted, bool) and stored == wanted
    if _number(stored) and _number(wanted):
        return bool(stored == wanted)
    return isinstance(stored, str) and isinstance(wanted, str) and stored == wanted


#: The comparison operators on two values of one kind (two numbers, two strings, two instants).
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": eq, "ne": ne, "gt": gt, "lt": lt, "gte": ge, "lte": le,
}


def _scalar_holds(operator: str, stored: Any, wanted: Any) -> bool:
    if operator == "eq":
        return _equal(stored, wanted)
    if operator == "ne":
        return not _equal(stored, wanted)
    if operator == "in":
        return any(_equal(stored, member) for member in wanted)
    if operator == "contains":
        return isinstance(stored, str) and wanted in stored
    if (_number(stored) and _number(wanted)) or (isinstance(stored, str) and isinstance(wanted, str)):
        return _COMPARE[operator](stored, wanted)
    return False


def value_holds(operator: str, stored: Any, wanted: Any) -> bool:
    """Whether a stored value (None: absent) passes ``operator`` with the filter's value."""
    if operator == "is_null":
        return stored is None
    if operator == "is_not_null":
        return stored is not None
    if stored is None:
        return False
    if isinstance(stored, list):
        if operator == "ne":
            return not any(_equal(element, wanted) for element in stored)
        if operator == "contains":
            return any(_equal(element, wanted) for element in stored)
        return any(_scalar_holds(operator, element, wanted) for element in stored)
    return _scalar_holds(operator, stored, wanted)


def group_holds(group: MetadataFilterGroup, metadata: Mapping[str, Any] | None) -> bool:
    """Whether one record's metadata passes *group*."""
    found = metadata or {}
    results = [value_holds(f.operator, found.get(f.property_name), f.value) for f in group.filters or ()]
    results += [group_holds(g, metadata) for g in group.groups or ()]
    if not results:
        return True
    return any(results) if group.type == "or" else all(results)


def _date_holds(condition: DateFilter, stored: datetime | None) -> bool:
    if condition.operator in NULL_OPERATORS or stored is None:
        return value_holds(condition.operator, stored, None)
    assert condition._at is not None
    return _COMPARE[condition.operator](stored, condition._at)


@dataclass(frozen=True)
class StructuredFilters:
    """The structured filters of one list call (each None when not given), and ``key``: their
    canonical JSON, so a cursor is scoped to them."""

    metadata: MetadataFilterGroup | None = None
    dates: DateFilters | None = None
    properties: list[PropertyFilter] | None = None
    key: str = ""

    def __bool__(self) -> bool:
        return any(f is not None for f in (self.metadata, self.dates, self.properties))

    def metadata_ok(self, metadatas: Iterable[Mapping[str, Any] | None]) -> bool:
        """Whether one of the records' episodes' metadata passes (an episode passes its own)."""
        return self.metadata is None or any(group_holds(self.metadata, m) for m in metadatas)

    def dates_ok(self, date_of: Callable[[str], datetime | None]) -> bool:
        if self.dates is None or not self.dates.any_of:
            return True
        return any(all(_date_holds(c, date_of(c.field)) for c in g.all_of or ()) for g in self.dates.any_of)

    def properties_ok(self, attributes: Mapping[str, Any]) -> bool:
        return self.properties is None or all(
            value_holds(f.operator, attributes.get(f.property_name), f.value) for f in self.properties)


def _in_values(group: MetadataFilterGroup | None) -> int:
    if group is None:
        return 0
    own = sum(len(f.value) for f in group.filters or () if f.operator == "in" and isinstance(f.value, list))
    return own + sum(_in_values(g) for g in group.groups or ())


def parse_structured(raw: Mapping[str, Any], param: str = "filters") -> StructuredFilters:
    """The structured filters among *raw* (a list call's ``filters``), checked."""
    given = {name: raw[name] for name in STRUCTURED_FILTERS if raw.get(name) is not None}
    if not given:
        return StructuredFilters()
    try:
        parsed = _Structured.model_validate(given)
    except ValidationError as exc:
        failure = validation_failure(exc)
        raise InvalidInput(failure.code, f"{param}.{failure.message}", param=f"{param}.{failure.param}") from None
    properties = parsed.property_filters
    if properties is not None and len(properties) > MAX_PROPERTY_FILTERS:
        raise InvalidInput("invalid_request", f"{param}.property_filters takes at most {MAX_PROPERTY_FILTERS} filters",
                           param=f"{param}.property_filters")
    in_values = _in_values(parsed.metadata_filters) + sum(
        len(f.value) for f in properties or () if f.operator == "in" and isinstance(f.value, list))
    if in_values > MAX_IN_VALUES:
        raise InvalidInput("invalid_request", f"{param} hold {in_values} in values; at most {MAX_IN_VALUES} in all",
                           param=param)
    key = orjson.dumps(given, option=orjson.OPT_SORT_KEYS).decode()
    return StructuredFilters(parsed.metadata_filters, parsed.date_filters, properties, key)
