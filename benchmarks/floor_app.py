"""The floor: a stateless aiohttp app that answers the v4 batch routes the backfill benchmark
calls, with the smallest bodies zep-cloud 4.0.1 parses, and no emulation at all.

Same HTTP stack as the emulator (aiohttp server, ``orjson`` in and out), so ``emulator / floor`` measures only what the emulator does on top:
authentication and tenants, idempotency, validation, the batch state machine, processing,
and the fuller response bodies.

What each route does:

- ``POST /api/v4/batches``: parses the JSON body; 201 ``{uuid, status: "draft"}``.
- ``POST /api/v4/batches/{id}/items``: parses the JSON body; 200 ``{items, rejected_items: []}``
  with one minimal item per input item (``uuid``, ``type``, ``status: "pending"``,
  ``sequence_index``), as the emulator echoes one per accepted item. Being stateless, it
  numbers items by their position in the request, not in the batch.
- ``POST /api/v4/batches/{id}/process``: parses the (empty) body; 202 ``{batch, task}``.
- ``GET /api/v4/batches/{id}``: 200 ``{uuid, status: "succeeded"}`` - a terminal status, so a
  client's poll loop ends after one call. With ``--get-body FILE`` (the request floor,
  benchmarks/request_floor.py), the JSON in FILE instead, whatever the id: parsed once at
  start and serialised with ``orjson.dumps`` on every request, as the emulator serialises its
  answer - so the two sides differ only in what the emulator does around the serialisation.

Nothing is stored between requests; ids are fresh ``uuid4`` strings.
"""

from __future__ import annotations

import argparse
import asyncio
import uuid
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

from emulator.server import serve_until_signal

PREFIX = "/api/v4"


def answer_json(payload: Any, status: int = 200) -> web.Response:
    """The emulator's encoding (orjson), so both sides pay the same."""
    return web.Response(
        body=orjson.dumps(payload),
        status=status,
        content_type="application/json",
    )


async def read_json(request: web.Request) -> Any:
    """The request body parsed as JSON (``{}`` for an empty body), and then dropped."""
    raw = await request.read()
    return orjson.loads(raw) if raw.strip() else {}


async def create_batch(request: web.Request) -> web.Response:
    """``batch.create``: a new id, status draft."""
    await read_json(request)
    return answer_json({"uuid": str(uuid.uuid4()), "status": "draft"}, status=201)


async def add_items(request: web.Request) -> web.Response:
    """``batch.add_items``: one minimal pending item per input item, nothing rejected."""
    body = await read_json(request)
    items = [
        {"uuid": str(uuid.uuid4()), "type": item.get("type"), "status": "pending", "sequence_index": index}
        for index, item in enumerate(body.get("items") or ())
    ]
    return answer_json({"items": items, "rejected_items": []})


async def process_batch(request: web.Request) -> web.Response:
    """``batch.process``: the batch (queued) and a pending task."""
    await read_json(request)
    batch_uuid = request.match_info["batch_uuid"]
    return answer_json(
        {
            "batch": {"uuid": batch_uuid, "status": "queued"},
            "task": {"uuid": str(uuid.uuid4()), "type": "batch.process", "status": "pending"},
        },
        status=202,
    )


async def get_batch(request: web.Request) -> web.Response:
    """``batch.get``: always succeeded, so a poll loop stops at once."""
    return answer_json({"uuid": request.match_info["batch_uuid"], "status": "succeeded"})


def fixed_get(payload: Any) -> Any:
    """A ``batch.get`` handler answering *payload*, serialised afresh on every request."""

    async def get_fixed_batch(request: web.Request) -> web.Response:
        return answer_json(payload)

    return get_fixed_batch


def build_floor_app(get_body: Any = None) -> web.Application:
    """The floor application (no middleware, four routes); *get_body*: what ``GET`` answers
    instead of the minimal terminal batch."""
    app = web.Application(client_max_size=32 * 1024 * 1024)  # the emulator's MAX_BODY_BYTES
    app.router.add_post(f"{PREFIX}/batches", create_batch)
    app.router.add_post(f"{PREFIX}/batches/{{batch_uuid}}/items", add_items)
    app.router.add_post(f"{PREFIX}/batches/{{batch_uuid}}/process", process_batch)
    app.router.add_get(f"{PREFIX}/batches/{{batch_uuid}}", get_batch if get_body is None else fixed_get(get_body))
    return app


def main() -> None:
    """``python -m benchmarks.floor_app --port N [--get-body FILE]``: serve the floor until SIGTERM."""
    parser = argparse.ArgumentParser(description="the stateless floor app of the benchmarks")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--get-body", type=Path, default=None, help="a JSON file that GET /batches/{id} answers")
    args = parser.parse_args()
    body = None if args.get_body is None else orjson.loads(args.get_body.read_bytes())
    app = build_floor_app(body)
    asyncio.run(serve_until_signal(app, "127.0.0.1", args.port, lambda base: print(f"floor: {base}", flush=True)))


if __name__ == "__main__":
    main()
