"""What the model predicts for one call: accepted, or refused with one of a few statuses.

Where the documents fix a status and an error code, the prediction names both; where they are
silent about which of two checks comes first (a batch that is not draft *and* an add over the
limit), it allows every status a reading of the documents permits, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Accept:
    """The call succeeds (2xx)."""

    def __str__(self) -> str:
        return "accepted"


@dataclass(frozen=True)
class Refuse:
    """The call fails with one of *statuses*; *code* is the documented error code (checked
    where the dialect carries codes) and *mentions* a text the message must contain."""

    statuses: frozenset[int]
    code: str | None = None
    mentions: str | None = None
    why: str = ""

    @classmethod
    def one(cls, status: int, code: str | None = None, *, mentions: str | None = None, why: str = "") -> "Refuse":
        return cls(frozenset({status}), code, mentions, why)

    def __str__(self) -> str:
        shown = "/".join(map(str, sorted(self.statuses)))
        return f"refused {shown}" + (f" {self.code}" if self.code else "") + (f" ({self.why})" if self.why else "")


Answer = Accept | Refuse


@dataclass(frozen=True)
class Refusal:
    """What a target actually answered when it refused a call, as a driver reads it from the
    SDK's exception."""

    status: int
    code: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.status} {self.code or ''} {self.message[:200]}".strip()


def verdict(predicted: Answer, refusal: Refusal | None, *, codes: bool) -> str | None:
    """None when the answer is what the model predicted, else why it is not. *codes*: the
    dialect's error bodies carry a machine-readable code (Zep v4) rather than only a message."""
    if isinstance(predicted, Accept):
        return None if refusal is None else f"predicted accepted, got {refusal}"
    if refusal is None:
        return f"predicted {predicted}, got accepted"
    if refusal.status not in predicted.statuses:
        return f"predicted {predicted}, got {refusal}"
    if codes and predicted.code is not None and refusal.code != predicted.code:
        return f"predicted {predicted}, got code {refusal.code!r} ({refusal.message[:200]})"
    if predicted.mentions is not None and predicted.mentions not in refusal.message:
        return f"predicted a message mentioning {predicted.mentions!r}, got {refusal}"
    return None
