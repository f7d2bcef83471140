"""``python -m emulator`` / ``memory-batch-emulator``: serve until SIGINT or SIGTERM, then
exit 0. Once the socket is bound and the app is ready it prints one line per API with its
base URL; ``GET /_emulator/health`` answers from then on, and not before."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from typing import Callable, Sequence

from aiohttp import web

from .app import build_app
from .core.knowledge import PluginError
from .core.world import World
from .server import serve_until_signal
from .settings import Settings, parse_args
from .state_file import StateFileError, load_state_file, save_state_file


def announce(settings: Settings) -> Callable[[str], None]:
    """What to print once listening: one line per API with its base URL."""

    def lines(base: str) -> None:
        print(f"Zep API v2 (zep-cloud 3.x): {base}/api/v2", flush=True)
        print(f"Zep API v4 (zep-cloud 4.x): {base}/api/v4", flush=True)
        print(f"Synap API (maximem-synap): {base}", flush=True)
        print(f"Control plane: {base}/_emulator (processing: {settings.processing.value})", flush=True)

    return lines


def tune_gc() -> None:
    """The standalone server's garbage-collector settings (never applied in-process, where the
    process is the user's).

    The world keeps every item, episode and message it is sent: a backfill leaves hundreds of
    thousands of long-lived objects, and under CPython's default thresholds (700, 10, 10) the
    collector re-walks them again and again. Freezing what start-up made (modules, pydantic
    schemas, routes) takes it out of every later collection, and a larger first generation
    lets one 500-item request finish without a dozen collections. Measured on the backfill
    path: about 20% less server CPU per item (benchmarks/README.md).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


def main(argv: Sequence[str] | None = None) -> int:
    settings = parse_args(argv)
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        world = World(settings.world_config())
    except PluginError as exc:
        print(f"memory-batch-emulator: {exc}", file=sys.stderr)
        return 2
    try:
        app = build_app(world)
        tune_gc()
        asyncio.run(serve(settings, world, app))
    except StateFileError as exc:
        print(f"memory-batch-emulator: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"memory-batch-emulator: cannot listen on {settings.host}:{settings.port}: {exc}", file=sys.stderr)
        return 1
    return 0


async def serve(settings: Settings, world: World, app: web.Application) -> None:
    """Load the state file (on the loop, so work in flight resumes), serve until a signal,
    then write the state file back."""
    if settings.state_file is not None and load_state_file(world, settings.state_file):
        logging.getLogger("emulator").info("state loaded from %s", settings.state_file)
    await serve_until_signal(app, settings.host, settings.port, announce(settings))
    if settings.state_file is not None:
        save_state_file(world, settings.state_file)


if __name__ == "__main__":
    sys.exit(main())
