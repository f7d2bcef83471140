"""The metadata rule shared by both Zep wire versions.

v4 field docs: "Max 10 keys. Values must be strings, numbers, booleans, or arrays of
scalars." zep-ingest 0.4.0 additionally refuses empty arrays, null array elements and
NaN/Infinity; we apply the same so that what the emulator accepts, zep-ingest would send.
"""

from __future__ import annotations

import math
from typing import Any

from .errors import InvalidInput
from .limits import MAX_METADATA_KEYS


def _is_scalar(value: Any) -> bool:
    if isinstance(value, bool) or isinstance(value, str):
        return True
    if isinstance(value, (int, float)):
        return not (isinstance(value, float) and not math.isfinite(value))
    return False


def check_item_metadata(metadata: Any, param: str) -> dict[str, Any] | None:
    """Return *metadata* if it obeys the rule, else raise :class:`InvalidInput`."""
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        raise InvalidInput("invalid_metadata", f"{param} must be an object", param=param)
    if len(metadata) > MAX_METADATA_KEYS:
        raise InvalidInput(
            "invalid_metadata",
            f"{param} has {len(metadata)} keys; at most {MAX_METADATA_KEYS} are allowed",
            param=param,
        )
    for key, value in metadata.items():
        if _is_scalar(value):
            continue
        if isinstance(value, list) and value and all(_is_scalar(v) for v in value):
            continue
        raise InvalidInput(
            "invalid_metadata",
            f"{param}.{key}: values must be strings, numbers, booleans or non-empty arrays of "
            "those (no nested objects, no nulls)",
            param=f"{param}.{key}",
        )
    return metadata
