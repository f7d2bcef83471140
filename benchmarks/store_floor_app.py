"""The soak's floor: the emulator's HTTP stack holding what it is sent, with no emulation at
all, and dropping it on reset exactly as the emulator does.

The soak's memory figure (RSS after ``POST /_emulator/reset`` / RSS at start) depends on the
runtime as well as on the emulator: CPython's small-object allocator gives a 1 MiB arena back
only when every block in it is free, so a few objects that outlive the reset keep arenas of the
dropped data resident (benchmarks/README.md). This app shows how far the same stack comes back
for an app with no emulation, in the same run: the same aiohttp server (``serve_until_signal``), ``orjson`` in and out, the standalone
server's collector settings (``emulator.__main__.tune_gc``), and on reset the emulator's own
:func:`emulator.core.reclaim.reclaim`. What it keeps per item is plain data: the parsed item,
its answer and ``--derived`` small records (default 8, which puts the full soak's peak near
the emulator's, about 4 KB per item).

Routes (v4 paths and field names, so the soak's own load and paging code drives it):

- ``POST /api/v4/graphs``, ``POST /api/v4/batches``: a fresh ``uuid``.
- ``POST /api/v4/batches/{id}/items``: keeps every item; answers one ``{uuid, sequence_index,
  status}`` per item and no rejected items.
- ``POST /api/v4/batches/{id}/process``: 202; ``GET /api/v4/batches/{id}``: ``succeeded``
  with its ``item_count``.
- ``GET /api/v4/batches/{id}/items``: the kept items, paged by ``page_size`` and ``cursor``
  (an offset), with ``total_size`` and ``next_cursor``.
- ``POST /_emulator/reset``: drops everything, then ``reclaim()``; ``{"reset": "all",
  "tenants": N}``.
"""

from __future__ import annotations

import argparse
import asyncio
import uuid
from typing import Any

from aiohttp import web

from benchmarks.floor_app import answer_json, read_json
from emulator.__main__ import tune_gc
from emulator.core.reclaim import reclaim
from emulator.server import serve_until_signal

PREFIX = "/api/v4"
DERIVED = 8
"""Small records kept per item by default: about 4 KB per item in all, as the emulator holds
once a graph's facts are derived."""


class Store:
    """Everything the floor keeps: batches' items by batch uuid, and graph names."""

    def __init__(self, derived: int) -> None:
        self.derived = derived
        self.graphs: dict[str, str] = {}
        self.batches: dict[str, list[dict[str, Any]]] = {}

    def keep(self, batch: list[dict[str, Any]], item: dict[str, Any]) -> dict[str, Any]:
        """Keep *item* at the end of *batch*; its answer."""
        index = len(batch)
        answer = {"uuid": str(uuid.uuid4()), "sequence_index": index, "status": "pending"}
        derived = [{"fact": f"record {index} {j}", "weight": j * 1.5, "key": (j, str(j))} for j in range(self.derived)]
        batch.append({"input": item, "answer": answer, "derived": derived})
        return answer


def build_store_floor_app(derived: int = DERIVED) -> web.Application:
    store = Store(derived)

    def batch(request: web.Request) -> list[dict[str, Any]]:
        found = store.batches.get(request.match_info["batch_uuid"])
        if found is None:
            raise web.HTTPNotFound(text='{"message": "no such batch"}', content_type="application/json")
        return found

    async def create_graph(request: web.Request) -> web.Response:
        body = await read_json(request)
        graph_uuid = str(uuid.uuid4())
        store.graphs[graph_uuid] = str(body.get("name"))
        return answer_json({"uuid": graph_uuid}, status=201)

    async def create_batch(request: web.Request) -> web.Response:
        await read_json(request)
        batch_uuid = str(uuid.uuid4())
        store.batches[batch_uuid] = []
        return answer_json({"uuid": batch_uuid, "status": "draft"}, status=201)

    async def add_items(request: web.Request) -> web.Response:
        kept = batch(request)
        body = await read_json(request)
        return answer_json({"items": [store.keep(kept, item) for item in body.get("items") or ()], "rejected_items": []})

    async def process_batch(request: web.Request) -> web.Response:
        batch(request)
        await read_json(request)
        return answer_json({"batch": {"uuid": request.match_info["batch_uuid"], "status": "queued"}}, status=202)

    async def get_batch(request: web.Request) -> web.Response:
        return answer_json({"uuid": request.match_info["batch_uuid"], "status": "succeeded", "item_count": len(batch(request))})

    async def list_items(request: web.Request) -> web.Response:
        kept = batch(request)
        start = int(request.query.get("cursor") or 0)
        end = start + int(request.query.get("page_size") or 100)
        page = [{**record["answer"], "status": "succeeded"} for record in kept[start:end]]
        return answer_json({"items": page, "total_size": len(kept), "next_cursor": str(end) if end < len(kept) else None})

    async def reset(request: web.Request) -> web.Response:
        tenants = int(bool(store.batches or store.graphs))
        store.batches.clear()
        store.graphs.clear()
        reclaim()
        return answer_json({"reset": "all", "tenants": tenants})

    app = web.Application(client_max_size=32 * 1024 * 1024)  # the emulator's MAX_BODY_BYTES
    app.router.add_post(f"{PREFIX}/graphs", create_graph)
    app.router.add_post(f"{PREFIX}/batches", create_batch)
    app.router.add_post(f"{PREFIX}/batches/{{batch_uuid}}/items", add_items)
    app.router.add_get(f"{PREFIX}/batches/{{batch_uuid}}/items", list_items)
    app.router.add_post(f"{PREFIX}/batches/{{batch_uuid}}/process", process_batch)
    app.router.add_get(f"{PREFIX}/batches/{{batch_uuid}}", get_batch)
    app.router.add_post("/_emulator/reset", reset)
    return app


def main() -> None:
    """``python -m benchmarks.store_floor_app --port N [--derived K]``: serve until SIGTERM."""
    parser = argparse.ArgumentParser(description="the soak's floor: a bare aiohttp app that keeps what it is sent")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--derived", type=int, default=DERIVED, help="small records kept per item (default %(default)s)")
    args = parser.parse_args()
    app = build_store_floor_app(args.derived)
    tune_gc()
    asyncio.run(serve_until_signal(app, "127.0.0.1", args.port, lambda base: print(f"store floor: {base}", flush=True)))


if __name__ == "__main__":
    main()
