"""What every benchmark shares: the :class:`Figure` it reports, a server in a process of its
own, a median, and the final table.

Servers under measurement run as separate processes (:class:`ServerProcess`): the emulator as
``python -m emulator``, floors through the same ``serve_until_signal``. The client's garbage,
GIL and CPU then never land on the server's account or the other way round, and each server's
CPU time is read from ``/proc``."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import statistics

REPO_ROOT = Path(__file__).resolve().parent.parent
_URL = re.compile(r"http://127\.0\.0\.1:\d+")


class ServerProcess:
    """``python -m MODULE --port 0 ARGS...`` in a process of its own; its base URL is the first
    ``http://127.0.0.1:PORT`` it prints. SIGTERM on exit."""

    def __init__(self, module: str, *args: str) -> None:
        self.cmd = [sys.executable, "-m", module, "--port", "0", *args]
        self.base_url = ""
        self._proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> "ServerProcess":
        self._proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT)
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            found = _URL.search(line)
            if found:
                self.base_url = found.group(0)
                return self
        raise RuntimeError(f"{' '.join(self.cmd)} exited without printing its URL")

    def cpu_seconds(self) -> float:
        """User + system CPU the server process has used so far."""
        assert self._proc is not None
        with open(f"/proc/{self._proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def __exit__(self, *exc: Any) -> None:
        if self._proc is not None:
            self._proc.send_signal(signal.SIGTERM)
            self._proc.wait(timeout=30)


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


def report(figures: Sequence[Figure], seconds: float) -> int:
    """Print the final table and the run's duration; the exit status: 1 if a target was missed."""
    print()
    print(format_table(figures))
    print(f"\n({seconds:.0f} s in all)")
    return 0 if all(f.ok is not False for f in figures) else 1
