"""What every benchmark shares: the :class:`Figure` it reports, a median, and the final
table. Floors run in :class:`emulator.server.BackgroundApp`, the same runner the emulator's
``BackgroundServer`` uses, so a ratio between them measures only what the emulator does on
top of the same HTTP stack."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Iterable, Sequence

from emulator.server import BackgroundApp

__all__ = ["BackgroundApp", "Figure", "format_table", "median"]


@dataclass(frozen=True)
class Figure:
    """One measured number and its verdict.

    ``target`` is an upper bound (the figure passes when ``value <= target``); ``None`` marks an
    informational figure with no target, whose ``ok`` is then ``None`` too.
    """

    name: str
    value: float
    unit: str
    target: float | None
    ok: bool | None

    @classmethod
    def at_most(cls, name: str, value: float, unit: str, target: float) -> "Figure":
        """A figure that passes when *value* is at most *target*."""
        return cls(name, value, unit, target, value <= target)

    @classmethod
    def info(cls, name: str, value: float, unit: str) -> "Figure":
        """A figure printed for context, with no target."""
        return cls(name, value, unit, None, None)

    @property
    def result(self) -> str:
        """``PASS``, ``MISS`` or ``info``."""
        if self.ok is None:
            return "info"
        return "PASS" if self.ok else "MISS"

    def measured_text(self) -> str:
        """The value with its unit, for the table."""
        return f"{_number(self.value)} {self.unit}".rstrip()

    def target_text(self) -> str:
        """``≤ target unit``, or ``-`` for an informational figure."""
        if self.target is None:
            return "-"
        shown = f"{self.target:,.0f}" if self.target == int(self.target) else f"{self.target:g}"
        return f"≤ {shown} {self.unit}".rstrip()


def _number(value: float) -> str:
    """A short, readable rendering: thousands separators for big values, 3 digits for small."""
    if value == int(value) and abs(value) >= 100:
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3f}" if abs(value) >= 0.1 else f"{value:.3g}"


def median(values: Iterable[float]) -> float:
    """The median of *values* (the mean of the middle two for an even count)."""
    data = list(values)
    if not data:
        raise ValueError("median of no values")
    return float(statistics.median(data))


def format_table(figures: Sequence[Figure]) -> str:
    """``metric | measured | target | result`` as an aligned plain-text table."""
    rows = [("metric", "measured", "target", "result")]
    rows += [(f.name, f.measured_text(), f.target_text(), f.result) for f in figures]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [" | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)
