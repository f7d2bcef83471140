"""Reading a Synap tenant's stored documents and episodes from its snapshot
(``Emulator.snapshot()``, format in emulator/core/snapshot/__init__.py): the memories API has
no call that lists documents, and a test of "stored once" has to count them."""

from __future__ import annotations

from typing import Any

from emulator import Emulator


def _synap_tenant(emulator: Emulator) -> dict[str, Any]:
    (synap,) = [t for t in emulator.snapshot()["tenants"] if t["service"] == "synap"]
    return synap  # type: ignore[no-any-return]


def stored_documents(emulator: Emulator) -> list[dict[str, Any]]:
    """The tenant's stored documents: receipts that queued an item (refused ones queue none),
    in submission order, as ``{uuid, document_id, queued_at, item, error}``."""
    return [r for r in _synap_tenant(emulator)["memories"]["receipts"] if r["item"] is not None]


def episodes_of_user(emulator: Emulator, customer_id: str, user_id: str) -> list[str]:
    """The contents of the episodes in the graph of Synap user *user_id* of *customer_id*."""
    synap = _synap_tenant(emulator)
    (user,) = [u for u in synap["users"] if u["user_id"] == f"{customer_id}/{user_id}"]
    (graph,) = [g for g in synap["graphs"] if g["uuid"] == user["graph"]]
    return [e["content"] for e in graph["episodes"] if not e["dropped"]]
