"""A refused snapshot: ``InvalidInput("invalid_state", "invalid snapshot: <path>: <problem>")``.

The path names the offending value from the document's root ``$`` in JSONPath spelling
(``$.tenants[0].batches[1].items[3].status``), also given as ``details["path"]``. A pydantic
:class:`ValidationError` is refused for its first error (errors come in document order), its
``loc`` spelt that way and its problem worded as the snapshot's own checks word theirs.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from enum import Enum
from typing import Any, Union

from pydantic import BaseModel, JsonValue, ValidationError

from ..errors import InvalidInput

#: The problem a pydantic error type states (the custom errors of ``schema.py`` state their own).
_PROBLEMS = {
    "missing": "missing",
    "extra_forbidden": "not a field of this record",
    "string_type": "expected a string",
    "int_type": "expected an integer",
    "bool_type": "expected true or false",
    "float_type": "expected a number",
    "finite_number": "numbers must be finite",
    "list_type": "expected an array",
    "dict_type": "expected an object",
    "model_type": "expected an object",
    "model_attributes_type": "expected an object",
}
#: Problems with a value's type that ``null`` would not have had, where the field allows it.
_TYPE_PROBLEMS = {"string_type", "int_type", "bool_type", "float_type", "list_type", "dict_type", "model_type",
                  "model_attributes_type"}
#: Inside JSON data, pydantic's loc names the kind of each value it goes into (``'dict'``,
#: ``'list'``, ``'float'`` ...) before the key or index; what each kind holds.
_JSON_KINDS: dict[Any, Any] = {"dict": dict[str, JsonValue], "list": list[JsonValue]}


def bad(path: str, problem: str) -> InvalidInput:
    """The refusal of a snapshot for *problem* at *path*."""
    return InvalidInput("invalid_state", f"invalid snapshot: {path}: {problem}", details={"path": path})


def refusal(exc: ValidationError, model: type[BaseModel]) -> InvalidInput:
    """The refusal for the first error *exc* found validating against *model*."""
    error = exc.errors(include_url=False)[0]
    at = _spell(model, error["loc"])
    kind = error["type"]
    if at.of_key:
        problem = "object keys must be strings"
    elif kind == "enum" and isinstance(at.node, type) and issubclass(at.node, Enum):
        problem = f"{error['input']!r} is not one of {', '.join(repr(m.value) for m in at.node)}"
    elif kind == "invalid-json-value":
        problem = f"{type(error['input']).__name__} is not JSON data"
    elif kind == "finite_number":
        problem = "numbers must be finite" if at.in_json else "expected a finite number"
    elif kind in _PROBLEMS:
        problem = _PROBLEMS[kind] + (" or null" if at.nullable and kind in _TYPE_PROBLEMS else "")
    else:  # schema.py's own errors, and any kind not listed above: their own wording
        problem = error["msg"]
    return bad(at.path, problem)


@dataclass
class _At:
    """Where an error is: its JSONPath; the annotation of the value there; whether ``null``
    is allowed there; whether it is inside JSON data (metadata, ...); whether the error is
    about an object key (``[key]``) rather than a value."""

    path: str = "$"
    node: Any = None
    nullable: bool = False
    in_json: bool = False
    of_key: bool = False


def _spell(model: type[BaseModel], loc: tuple[int | str, ...]) -> _At:
    """Follow *loc* from *model* along the annotations, spelling its path."""
    at = _At(node=model)
    parts = list(loc)
    while parts:
        part = parts.pop(0)
        origin = typing.get_origin(at.node)
        if at.node is JsonValue:  # a kind, not a step
            at.node, at.nullable, at.in_json = _JSON_KINDS.get(part, Any), False, True
        elif origin is dict:
            if parts == ["[key]"]:
                at.of_key = True
                return at
            at.path += f".{part}"
            at.node, at.nullable = _unwrap(typing.get_args(at.node)[1])
        elif isinstance(part, int):
            at.path += f"[{part}]"
            at.node, at.nullable = _unwrap(typing.get_args(at.node)[0] if origin is list else Any)
        else:
            at.path += f".{part}"
            field = at.node.model_fields.get(part) if _is_model(at.node) else None
            at.node, at.nullable = _unwrap(field.annotation) if field is not None else (Any, False)
    return at


def _is_model(node: Any) -> bool:
    return isinstance(node, type) and issubclass(node, BaseModel)


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """*annotation* without ``Optional``, and whether it was optional."""
    if typing.get_origin(annotation) in (Union, types.UnionType):
        args = typing.get_args(annotation)
        rest = [a for a in args if a is not type(None)]
        return (rest[0] if len(rest) == 1 else annotation), len(rest) < len(args)
    return annotation, False
