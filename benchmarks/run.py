"""Every benchmark in one go, one table at the end.

Runs, in this order, each script's ``run(quick=...)`` in this process (each starts the
servers it measures in processes of their own): backfill.py, temporal.py, startup.py,
request_floor.py, soak.py. Their progress is printed as it comes; then one table,
``figure | measured | target | result``, with a section row per benchmark (its name and how
long it took), and the whole run's duration. A benchmark that fails (an exception: a check that
did not hold, a server that would not start) is reported as a missed row and the others still
run.

Exit status 1 if any target is missed (or a benchmark failed), else 0.

Run from the repository root: ``python benchmarks/run.py`` (``--quick``: every benchmark's
smoke run, whose ratios are too noisy to judge targets; ``--only NAME`` to run some).
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path
from typing import Callable, Sequence

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` and ``emulator`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import backfill, request_floor, soak, startup, temporal
from benchmarks.common import Figure, format_table

Runner = Callable[[bool], list[Figure]]

#: Name (the script's) and how to run it, in running order.
BENCHMARKS: list[tuple[str, Runner]] = [
    ("backfill", lambda quick: backfill.run(quick=quick)),
    ("temporal", lambda quick: temporal.run(quick=quick)),
    ("startup", lambda quick: startup.run(quick=quick)),
    ("request_floor", lambda quick: request_floor.run(quick=quick)),
    ("soak", lambda quick: soak.run(quick=quick)),
]


def failed(name: str, exc: BaseException) -> Figure:
    """The row of a benchmark that raised: a missed figure naming the error."""
    return Figure(f"{name} failed: {type(exc).__name__}: {str(exc)[:120]}", float("nan"), "", None, False)


def run_all(quick: bool, only: Sequence[str] = ()) -> list[Figure | str]:
    """Run the benchmarks (all, or those named in *only*); the table's rows, a section title
    before each benchmark's figures."""
    rows: list[Figure | str] = []
    for name, runner in BENCHMARKS:
        if only and name not in only:
            continue
        print(f"\n== {name}.py{' --quick' if quick else ''} ==", flush=True)
        started = time.perf_counter()
        try:
            figures = runner(quick)
        except Exception as exc:  # report it, and run the others
            traceback.print_exc(file=sys.stdout)
            figures = [failed(name, exc)]
        rows.append(f"{name}.py ({time.perf_counter() - started:.0f} s)")
        rows += figures
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; returns 1 when a target is missed or a benchmark failed."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="every benchmark's smoke run")
    parser.add_argument("--only", action="append", default=[], choices=[name for name, _ in BENCHMARKS],
                        help="run this benchmark (repeatable; default: all)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    rows = run_all(args.quick, args.only)
    print()
    print(format_table(rows, first_column="figure"))
    print(f"\n({time.perf_counter() - started:.0f} s in all)")
    figures = [row for row in rows if isinstance(row, Figure)]
    return 0 if all(f.ok is not False for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
