"""Zep's ``ingest.batch.completed`` webhook: when it fires and what it carries.

decisions.md "Webhook ``ingest.batch.completed``": sent once a batch reaches succeeded,
partial or failed, to each endpoint of the tenant, as ``{"event_name", "batch_id", "status",
"progress", "account_id", "project_uid", "created_at"}``. zep-wire-contract.md §8: the variant
for the deprecated ``graph.add_batch`` / ``thread.add_messages_batch`` (which make real batches
since the 2026-10-04 changelog, firing "on the same batch outcomes") carries ``task_id``,
``graph_id`` or ``user_id``, ``graph_uuid`` (and ``user_uuid`` for a user graph) and the
``episode_uuids`` of the batch. One webhook serves both wire versions, so ``progress`` has the
v2 counters' names (the seed's: total_items, queued_items, ... percent_complete). Live adds
(unlisted batches) fire nothing. ``account_id`` and ``project_uid`` are stable per tenant.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from ..core.batches import Batch, BatchStatus
from ..core.tenants import Tenant
from ..core.timestamps import format_rfc3339
from ..core.faults import WebhookFault
from ..core.webhooks import Delivery, DeliveryFault, Endpoint, Message, Outbox
from .zep_v2 import batch_json

BATCH_COMPLETED = "ingest.batch.completed"
COMPLETED = frozenset({BatchStatus.SUCCEEDED, BatchStatus.PARTIAL, BatchStatus.FAILED})
#: The task types of the deprecated calls that make listed batches (wire/zep_v2_graph.py).
_DEPRECATED = frozenset({"graph.add_batch", "thread.add_messages_batch"})

Send = Callable[[list[Delivery]], None]


def batch_completed(tenant: Tenant, batch: Batch, now: datetime) -> dict[str, Any]:
    ids = tenant.ids.derived("account")
    payload: dict[str, Any] = {
        "event_name": BATCH_COMPLETED,
        "account_id": ids.uuid(),
        "project_uid": ids.uuid(),
        "created_at": format_rfc3339(now),
    }
    task = tenant.tasks.get(batch.task_uuid or "")
    if task is None or task.type not in _DEPRECATED:
        return payload | {"batch_id": batch.uuid, "status": batch.status.value, "progress": batch_json(batch)["progress"]}
    graph = next((item.graph for item in batch.items if item.graph is not None), None)
    user = graph.user if graph is not None else None
    payload |= {"task_id": task.uuid, "status": batch.status.value,
                "episode_uuids": [item.episode_uuid for item in batch.items if item.episode_uuid is not None]}
    if user is not None:
        payload |= {"user_id": user.user_id, "user_uuid": user.uuid, "graph_uuid": graph.uuid}  # type: ignore[union-attr]
    elif graph is not None:
        payload |= {"graph_id": graph.graph_id, "graph_uuid": graph.uuid}
    return payload


def _fault(tenant: Tenant, endpoint: Endpoint, message: Message) -> DeliveryFault | None:
    """What a webhook fault rule (core/faults.py) does to this delivery, if one fires."""
    fault = tenant.faults.for_webhook(tenant.key, message.event_name, endpoint.url)
    if fault is None:
        return None
    spec = fault.spec
    assert isinstance(spec, WebhookFault)
    return DeliveryFault(drop=spec.action == "drop", delay_seconds=spec.delay_seconds, duplicate=spec.action == "duplicate")


def outbox_of(tenant: Tenant, send: Send) -> Outbox:
    """The tenant's outbox, made on first use together with the watch that fills it: each of
    the tenant's listed batches that completes emits one message, handed to *send*."""
    if tenant.outbox is None:
        outbox = tenant.outbox = Outbox(tenant.ids.derived("webhooks"))
        outbox.fault_hook = lambda endpoint, message: _fault(tenant, endpoint, message)

        def on_change(what: str, obj: Any, old: Any, new: Any) -> None:
            if what == "batch" and new in COMPLETED and tenant.batches.get(obj.uuid) is obj:
                now = tenant.clock.now()
                send(outbox.emit(BATCH_COMPLETED, batch_completed(tenant, obj, now), now))

        tenant.observe(on_change)
    return tenant.outbox
