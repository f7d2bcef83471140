"""What every benchmark shares: the :class:`Figure` it reports, a server in a process of its
own, a median, and the final table.

Servers under measurement run as separate processes (:class:`ServerProcess`): the emulator as
``python -m emulator``, floors through the same ``serve_until_signal``. The client's garbage,
GIL and CPU then never land on the server's account or the other way round, and each server's
CPU time and resident memory are read from ``/proc``."""

from __future__ import annotations

import math
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

    @property
    def pid(self) -> int:
        """The server's process id."""
        assert self._proc is not None
        return self._proc.pid

    def cpu_seconds(self) -> float:
        """User + system CPU the server process has used so far."""
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_bytes(self) -> int:
        """The server's resident set size now (``VmRSS`` in ``/proc/PID/status``)."""
        return self._status_bytes("VmRSS")

    def peak_rss_bytes(self) -> int:
        """The most the server has had resident since it started (``VmHWM``)."""
        return self._status_bytes("VmHWM")

    def reset_peak_rss(self) -> bool:
        """Start :meth:`peak_rss_bytes` afresh from the current RSS (``5`` to ``/proc/PID/clear_refs``);
        False where the kernel does not allow it, the peak then still counting from the start."""
        try:
            with open(f"/proc/{self.pid}/clear_refs", "w") as f:
                f.write("5")
            return True
        except OSError:
            return False

    def _status_bytes(self, field: str) -> int:
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024  # reported in kB
        raise RuntimeError(f"no {field} in /proc/{self.pid}/status")

    def __exit__(self, *exc: Any) -> None:
        if self._proc is not None:
            self._proc.send_signal(signal.SIGTERM)
            self._proc.wait(timeout=30)


@dataclass(frozen=True)
class Figure:
    """One measured number and its verdict.

    ``target`` is an upper bound (the figure passes when ``value <= target``), or with
    ``lower_bound`` a lower one (``value >= target``); ``None`` marks an informational figure
    with no target, whose ``ok`` is then ``None`` too.
    """

    name: str
    value: float
    unit: str
    target: float | None
    ok: bool | None
    lower_bound: bool = False

    @classmethod
    def at_most(cls, name: str, value: float, unit: str, target: float) -> "Figure":
        """A figure that passes when *value* is at most *target*."""
        return cls(name, value, unit, target, value <= target)

    @classmethod
    def at_least(cls, name: str, value: float, unit: str, target: float) -> "Figure":
        """A figure that passes when *value* is at least *target*."""
        return cls(name, value, unit, target, value >= target, lower_bound=True)

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
        """``≤ target unit`` (``≥`` for a lower bound), or ``-`` for an informational figure."""
        if self.target is None:
            return "-"
        shown = f"{self.target:,.0f}" if self.target == int(self.target) else f"{self.target:g}"
        return f"{'≥' if self.lower_bound else '≤'} {shown} {self.unit}".rstrip()


def _number(value: float) -> str:
    """A short, readable rendering: thousands separators for big values, 3 digits for small;
    a benchmark that failed before measuring shows ``n/a``."""
    if math.isnan(value):
        return "n/a"
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


def format_table(figures: Sequence[Figure | str], first_column: str = "metric") -> str:
    """``metric | measured | target | result`` as an aligned plain-text table; a ``str`` among
    *figures* is a section title, alone on its row."""
    rows = [(first_column, "measured", "target", "result")]
    rows += [(f, "", "", "") if isinstance(f, str) else (f.name, f.measured_text(), f.target_text(), f.result) for f in figures]
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
