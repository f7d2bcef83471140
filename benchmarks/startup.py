"""What the test-control machinery costs a test run: the ``emulator`` fixture's overhead per
test, and the standalone server's start-up.

Figures with targets (issue 5):

- **fixture overhead per test** (median, ms): what the pytest fixture ``emulator`` adds to each
  test — a handle on the session's in-process server making a fresh tenant (both services, the
  processing mode set) and, at teardown, forgetting it (faults, journal entries, tenants).
  That is exactly :meth:`Emulator.start` + :meth:`Emulator.close` on a shared
  :class:`BackgroundServer`; N pairs, median. Target < 2 ms. Printed beside it, as the floor
  measured in the same run: the same number of round trips into the server's loop doing
  nothing (``server.call(lambda w: None)`` twice), the irreducible cost of a thread hop.
- **process start → health 200** (median, ms): from just before ``Popen`` of
  ``python -m emulator --port 0`` to the first 200 from ``GET /_emulator/health``; R runs.
  Target < 500 ms. The floor beside it: the same for a bare aiohttp app (one route, bound to
  port 0, its URL printed once listening; :data:`BARE_APP`), so the ratio shows what the
  emulator adds to Python + aiohttp's own start. Byte-code is compiled first (as ``pip install``
  does), since an environment with ``PYTHONDONTWRITEBYTECODE`` would otherwise recompile the
  package on every start.

Run from the repository root: ``python benchmarks/startup.py`` (``--quick``: fewer samples).
:func:`run` returns the figures.
"""

from __future__ import annotations

import argparse
import compileall
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` and ``emulator`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from benchmarks.common import REPO_ROOT, Figure, median, report
from emulator import Emulator
from emulator.core.processor import ProcessingMode
from emulator.core.world import WorldConfig
from emulator.server import BackgroundServer

Log = Callable[[str], None]
_URL = re.compile(r"http://127\.0\.0\.1:\d+")


def fixture_overhead(pairs: int) -> tuple[float, float]:
    """Median ms of one fixture setup + teardown, and of the two-hop floor."""
    with BackgroundServer(WorldConfig(processing=ProcessingMode.INSTANT)) as server:
        for _ in range(50):  # warm up: first calls build lazily made schemas and caches
            Emulator(server=server).start().close()
        fixture, floor = [], []
        for _ in range(pairs):
            started = time.perf_counter()
            Emulator(server=server).start().close()
            fixture.append(time.perf_counter() - started)
            started = time.perf_counter()
            server.call(lambda world: None)
            server.call(lambda world: None)
            floor.append(time.perf_counter() - started)
    return median(fixture) * 1000, median(floor) * 1000


#: The floor: the least an aiohttp server can do to answer 200 on 127.0.0.1:0.
BARE_APP = """
import asyncio
from aiohttp import web

async def main():
    app = web.Application()
    app.router.add_get("/health", lambda request: web.Response(text="ok"))
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(f"http://127.0.0.1:{runner.addresses[0][1]}", flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


def start_to_health(command: list[str], health: str) -> float:
    """ms from spawning *command* to the first 200 on *health* at the URL it prints."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, *command], stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT)
    try:
        assert proc.stdout is not None
        url = None
        for line in proc.stdout:
            found = _URL.search(line)
            if found:
                url = found.group(0)
                break
        if url is None:
            raise RuntimeError(f"{command} exited without printing its URL")
        with httpx.Client() as client:
            while client.get(url + health).status_code != 200:
                pass
        return (time.perf_counter() - started) * 1000
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def run(quick: bool = False, log: Log = print) -> list[Figure]:
    compileall.compile_dir(str(REPO_ROOT / "emulator"), quiet=1)
    pairs, starts = (200, 3) if quick else (2000, 9)
    log(f"fixture setup + teardown, {pairs} times ...")
    fixture_ms, hop_ms = fixture_overhead(pairs)
    log(f"process start -> health 200, {starts} times each, alternating ...")
    emulator_ms, floor_ms = [], []
    for _ in range(starts):
        emulator_ms.append(start_to_health(["-m", "emulator", "--port", "0"], "/_emulator/health"))
        floor_ms.append(start_to_health(["-c", BARE_APP], "/health"))
    start_ms, bare_ms = median(emulator_ms), median(floor_ms)
    return [
        Figure.at_most("emulator fixture overhead per test (median)", fixture_ms, "ms", 2.0),
        Figure.info("  floor: two empty round trips into the server loop", hop_ms, "ms"),
        Figure.at_most("process start -> /_emulator/health 200 (median)", start_ms, "ms", 500.0),
        Figure.info("  floor: a bare aiohttp app, start -> 200", bare_ms, "ms"),
        Figure.info("  start-up emulator / floor", start_ms / bare_ms, ""),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples: a smoke run")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    figures = run(quick=args.quick)
    return report(figures, time.perf_counter() - started)


if __name__ == "__main__":
    sys.exit(main())
