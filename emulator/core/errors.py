"""Errors the core raises for a client's mistake.

Each carries a *kind* (which the wire adapters map to an HTTP status), a stable machine
``code`` (v4 puts it in ``error.code``), a human message (v2's ``message``), and optionally
the offending ``param`` and structured ``details``. Raising one must leave the world unchanged:
every core operation validates before it mutates.
"""

from __future__ import annotations

from enum import Enum
from typing import Any


#: How much of a client's value an error message quotes.
SHOWN_CHARS = 80


def shown(value: object) -> str:
    """*value*'s repr for an error message, cut to :data:`SHOWN_CHARS` characters: a 4 MiB
    timestamp is refused in a line, not echoed back in full."""
    text = repr(value)
    if len(text) <= SHOWN_CHARS:
        return text
    return f"{text[:SHOWN_CHARS]}... ({len(text):,} characters)"


class ErrorKind(str, Enum):
    INVALID = "invalid"            # 400
    UNAUTHORIZED = "unauthorized"  # 401
    NOT_FOUND = "not_found"        # 404
    CONFLICT = "conflict"          # 409
    UNPROCESSABLE = "unprocessable"  # 422: well-formed, but over a size rule (Synap's FastAPI style)
    RATE_LIMITED = "rate_limited"  # 429


class EmulatorError(Exception):
    kind: ErrorKind = ErrorKind.INVALID

    def __init__(
        self,
        code: str,
        message: str,
        *,
        param: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.param = param
        self.details = details


class InvalidInput(EmulatorError):
    kind = ErrorKind.INVALID


class Unauthorized(EmulatorError):
    kind = ErrorKind.UNAUTHORIZED


class NotFound(EmulatorError):
    kind = ErrorKind.NOT_FOUND


class Conflict(EmulatorError):
    kind = ErrorKind.CONFLICT



class Unprocessable(EmulatorError):
    kind = ErrorKind.UNPROCESSABLE


class RateLimited(EmulatorError):
    """The tenant's token bucket is empty; ``details["retry_after_seconds"]`` says for how long."""

    kind = ErrorKind.RATE_LIMITED
