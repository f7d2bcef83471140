"""Servers on their own event loop in a background thread, for tests in the same process.

Sync SDK clients (the common case) then work from ordinary tests and async ones from async
tests. The socket is bound to port 0 by us and handed to the site, so there is no free-port
race (design.md "The in-process server"). Anything that touches the world from the test's
thread goes through the server's loop (:meth:`BackgroundServer.call`), never around it.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import threading
from concurrent.futures import Future
from typing import Any, Callable, TypeVar

from aiohttp import web

from .app import build_app
from .core.world import World, WorldConfig

T = TypeVar("T")


async def serve_until_signal(app: web.Application, host: str, port: int, on_started: Callable[[str], None]) -> None:
    """Serve *app* in the foreground until SIGINT or SIGTERM, then clean up. *on_started*
    gets the base URL (with the real port, when *port* is 0) once the socket is listening."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    on_started(f"http://{host}:{runner.addresses[0][1]}")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


class BackgroundApp:
    """Any aiohttp application, served on its own loop in a daemon thread on 127.0.0.1:0.

    *make_app* runs on that loop, so whatever the app creates binds to it."""

    def __init__(self, make_app: Callable[[], web.Application], host: str = "127.0.0.1", name: str = "emulator") -> None:
        self.make_app = make_app
        self.host = host
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=name, daemon=True)
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> "BackgroundApp":
        self._thread.start()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        self.port = sock.getsockname()[1]
        asyncio.run_coroutine_threadsafe(self._start(sock), self._loop).result(timeout=30)
        return self

    async def _start(self, sock: socket.socket) -> None:
        self._runner = web.AppRunner(self.make_app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()

    def run(self, fn: Callable[[], T]) -> T:
        """Run ``fn()`` on the server's loop and return its result."""

        async def call() -> T:
            return fn()

        future: Future[T] = asyncio.run_coroutine_threadsafe(call(), self._loop)
        return future.result(timeout=30)

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=30)
            self._runner = None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)

    def __enter__(self) -> "BackgroundApp":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


class BackgroundServer(BackgroundApp):
    """The emulator, in the background: its world, and the base URL of each API."""

    def __init__(self, config: WorldConfig | None = None, host: str = "127.0.0.1") -> None:
        self.world = World(config)
        super().__init__(lambda: build_app(self.world), host)

    @property
    def zep_v2_url(self) -> str:
        return f"{self.base_url}/api/v2"

    @property
    def zep_v4_url(self) -> str:
        return f"{self.base_url}/api/v4"

    def call(self, fn: Callable[[World], T]) -> T:
        """Run ``fn(world)`` on the server's loop and return its result."""
        return self.run(lambda: fn(self.world))

    def __enter__(self) -> "BackgroundServer":
        self.start()
        return self
