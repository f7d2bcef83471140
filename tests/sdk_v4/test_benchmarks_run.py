"""The benchmarks still run: ``benchmarks/backfill.py --quick``, ``benchmarks/temporal.py
--quick`` and ``benchmarks/startup.py --quick`` end to end, in subprocesses.

Their ratios are too noisy at this size to judge the targets (the full run is for that), so
this checks that every figure is produced and the script does not crash; exit status 1 (a
missed target) is allowed, a traceback is not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def quick_run(script: str) -> str:
    """The script's output after its quick run, which must end without a traceback."""
    done = subprocess.run(
        [sys.executable, f"benchmarks/{script}", "--quick"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode in (0, 1), done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout


def test_backfill_benchmark_quick_run_produces_every_figure() -> None:
    table = quick_run("backfill.py").split("metric", 1)[1]
    for row in ("backfill 2,000 items: emulator / floor", "batch.get 5,000-item / 1-item batch", "resident memory per item"):
        assert row in table
    assert table.count("PASS") + table.count("MISS") == 3


def test_temporal_benchmark_quick_run_produces_its_figure() -> None:
    output = quick_run("temporal.py")
    assert "per-fact cost @ 10,000 / @ 1,000 facts" in output
    assert output.count("PASS") + output.count("MISS") >= 1


def test_startup_benchmark_quick_run_produces_its_figures() -> None:
    table = quick_run("startup.py").split("metric", 1)[1]
    assert "emulator fixture overhead per test (median)" in table and "process start -> /_emulator/health 200" in table
    assert table.count("PASS") + table.count("MISS") == 2
