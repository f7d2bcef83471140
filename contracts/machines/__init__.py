"""The Hypothesis state machines: one for Zep's Batch API (driven through either zep-cloud
line by its driver) and one for Synap's memories API."""

from __future__ import annotations

from typing import Callable, TypeVar

from ..drivers.views import Refused
from ..model.answers import Answer, verdict

T = TypeVar("T")


def attempt(what: str, call: Callable[[], T], predicted: Answer, *, codes: bool) -> T | None:
    """Make *call* and check its answer against *predicted* (a driver's :class:`Refused` is a
    refusal); the result, or None if refused. *codes*: the dialect's errors carry codes."""
    try:
        result, refusal = call(), None
    except Refused as refused:
        result, refusal = None, refused.refusal
    problem = verdict(predicted, refusal, codes=codes)
    assert problem is None, f"{what}: {problem}"
    return result
