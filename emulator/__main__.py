"""``python -m emulator`` / ``memory-batch-emulator``: serve until SIGINT or SIGTERM, then
exit 0. Once the socket is bound and the app is ready it prints one line per API with its
base URL; ``GET /_emulator/health`` answers from then on, and not before."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from typing import Sequence

from aiohttp import web

from .app import build_app
from .core.world import World
from .settings import Settings, parse_args


async def serve(settings: Settings) -> None:
    world = World(settings.world_config())
    runner = web.AppRunner(build_app(world), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    port = runner.addresses[0][1]
    base = f"http://{settings.host}:{port}"
    print(f"Zep API v2 (zep-cloud 3.x): {base}/api/v2", flush=True)
    print(f"Zep API v4 (zep-cloud 4.x): {base}/api/v4", flush=True)
    print(f"Control plane: {base}/_emulator (processing: {settings.processing.value})", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: Sequence[str] | None = None) -> int:
    settings = parse_args(argv)
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        asyncio.run(serve(settings))
    except OSError as exc:
        print(f"memory-batch-emulator: cannot listen on {settings.host}:{settings.port}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
