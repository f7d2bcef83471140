"""The field types of the snapshot layout that pydantic does not spell by itself: enums by
value, RFC 3339 timestamps, JSON data, and an id stream's seed. Their errors are
:class:`PydanticCustomError` whose message is the problem as a refusal states it."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Annotated, Any, Optional, TypeVar

from pydantic import JsonValue, PlainValidator, Strict
from pydantic_core import PydanticCustomError

from ..errors import InvalidInput
from ..timestamps import parse_rfc3339

E = TypeVar("E")

#: An enum field, read by value ("queued"): strict mode would take only enum instances.
ByValue = Annotated[E, Strict(False)]


@lru_cache(maxsize=4096)
def _parse_time(value: str) -> datetime | None:
    """Cached: the records of one batch share a handful of instants."""
    try:
        return parse_rfc3339(value, "")
    except InvalidInput:
        return None


def _time(value: Any) -> datetime:
    if type(value) is not str:
        raise PydanticCustomError("string_type", "expected a string")
    parsed = _parse_time(value)
    if parsed is None:
        raise PydanticCustomError("timestamp", "{value} is not an RFC 3339 timestamp", {"value": repr(value)})
    return parsed


#: An RFC 3339 timestamp string, read as an aware UTC datetime.
Time = Annotated[datetime, PlainValidator(_time)]
#: JSON data that is an object or null (metadata, an item's error), copied. (Typed as a dict
#: rather than ``JsonValue``: a null costs no Python call, and most metadata is null.)
JsonObject = Optional[dict[str, JsonValue]]
#: JSON data that is an array (the Synap desk's telemetry), copied.
JsonArray = list[JsonValue]


def _seed(value: Any) -> int | str:
    if type(value) is not int and type(value) is not str:
        raise PydanticCustomError("seed_type", "expected an integer or a string")
    return value  # type: ignore[no-any-return]


#: An id stream's seed: an integer or a string (not a boolean).
Seed = Annotated[int | str, PlainValidator(_seed)]
