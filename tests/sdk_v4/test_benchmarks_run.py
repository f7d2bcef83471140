"""The benchmarks still run: ``benchmarks/run.py --quick`` runs every benchmark's smoke run
(backfill, temporal, startup, request_floor, soak) in a subprocess, and each must produce every
one of its figures in the one table.

Their ratios are too noisy at this size to judge the targets (the full run is for that), so
this checks that every figure is produced and nothing crashed; exit status 1 (a missed target)
is allowed, a traceback or a failed benchmark is not. The whole quick run is one subprocess,
in one test (so ``pytest -n`` cannot start it twice): about 30 s on a 2-core machine. Each
script's own command line is checked with ``--help``, which imports it as a script."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ("backfill", "temporal", "startup", "request_floor", "soak", "run")
_SECTION = re.compile(r"^(\w+)\.py \(\d+ s\)", re.MULTILINE)

#: Per benchmark: rows its table must have, and how many of them carry a target.
EXPECTED: dict[str, tuple[tuple[str, ...], int]] = {
    "backfill": (("backfill 2,000 items: emulator / floor", "batch.get 5,000-item / 1-item batch",
                  "resident memory per item"), 3),
    "temporal": (("per-fact cost @ 10,000 / @ 1,000 facts (server gc)", "through extraction: per-episode cost"), 2),
    "startup": (("emulator fixture overhead per test (median)", "process start -> /_emulator/health 200"), 2),
    "request_floor": (("batch.get rps, SDK: emulator / floor", "batch.get rps, raw HTTP: emulator / floor",
                       "server CPU per raw request, emulator", "server CPU per raw request, floor"), 2),
    "soak": (("soak 10,000 items: RSS after reset / at start", "RSS at start", "RSS peak", "RSS after reset",
              "store floor, same load: RSS after reset / at start", "store floor: RSS peak",
              "RSS left by a reset (after - start), emulator", "RSS left by a reset (after - start), store floor",
              "emulator / store floor", "cycle 2: peak / cycle 1 peak", "cycle 2: RSS after reset / cycle 1's"), 1),
}


def sections(table: str) -> dict[str, str]:
    """The final table's rows, split at each benchmark's section row."""
    found = list(_SECTION.finditer(table))
    return {m.group(1): table[m.end() : found[i + 1].start() if i + 1 < len(found) else len(table)] for i, m in enumerate(found)}


def test_run_quick_produces_every_benchmarks_figures() -> None:
    done = subprocess.run(
        [sys.executable, "benchmarks/run.py", "--quick"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert done.returncode in (0, 1), done.stderr
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout, done.stdout + done.stderr
    table = done.stdout.split("\nfigure ", 1)[1]
    parts = sections(table)
    assert list(parts) == list(EXPECTED)
    for name, (rows, targeted) in EXPECTED.items():
        part = parts[name]
        assert " failed: " not in part, part
        for row in rows:
            assert row in part, f"{name}: no row {row!r} in\n{part}"
        assert part.count("PASS") + part.count("MISS") == targeted, f"{name}:\n{part}"
    assert re.search(r"\(\d+ s in all\)", done.stdout)


@pytest.mark.parametrize("script", SCRIPTS)
def test_each_script_runs_as_a_script(script: str) -> None:
    done = subprocess.run(
        [sys.executable, f"benchmarks/{script}.py", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "--quick" in done.stdout


def test_a_benchmark_that_raised_is_a_missed_row_of_the_table() -> None:
    """run.py reports a benchmark that raised as a MISS row naming the error (its value, NaN,
    shown as n/a) and goes on; the table itself must not fail on that row."""
    from benchmarks.common import format_table
    from benchmarks.run import failed

    table = format_table(["soak.py (3 s)", failed("soak", KeyError("total_size"))], first_column="figure")
    [row] = [line for line in table.splitlines() if "failed" in line]
    assert [cell.strip() for cell in row.split("|")] == ["soak failed: KeyError: 'total_size'", "n/a", "-", "MISS"]
