"""Benchmarks: scripts that print the emulator's cost as ratios against a floor measured in
the same run (design.md). Not installed with the emulator; run them from the repository root,
e.g. ``python benchmarks/backfill.py``. See benchmarks/README.md."""
