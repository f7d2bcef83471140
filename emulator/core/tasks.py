"""Tasks: the handle v4 returns for asynchronous work.

``process`` returns ``{batch, task}`` and ``GET /tasks/{uuid}`` follows it; v4 deletes of
users, graphs and threads answer 202 with ``{"task": ...}`` (zep-cloud 4.0.1
``UserDeleteResult`` / ``GraphDeleteResult`` / ``ThreadDeleteResult``).

A task either follows one batch — its status is derived from the batch's on every read, so
the two can never disagree (zep-cloud 4.0.1 ``TaskStatus``: pending, processing, succeeded,
partial, failed; the v3 changelog of 2026-10-04: "the returned task's status follows the batch
status") — or stands for work the emulator did at once (a delete), and is born succeeded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from .batches import Batch, BatchStatus

_TASK_STATUS = {
    BatchStatus.DRAFT: "pending",
    BatchStatus.QUEUED: "pending",
    BatchStatus.PROCESSING: "processing",
    BatchStatus.SUCCEEDED: "succeeded",
    BatchStatus.PARTIAL: "partial",
    BatchStatus.FAILED: "failed",
    BatchStatus.CANCELED: "failed",
    BatchStatus.INVALID: "failed",
}

#: decisions.md: v4 ``progress.stage`` is one of queued, processing, completed.
_STAGE = {
    BatchStatus.DRAFT: "queued",
    BatchStatus.QUEUED: "queued",
    BatchStatus.PROCESSING: "processing",
}


def batch_stage(status: BatchStatus) -> str:
    return _STAGE.get(status, "completed")


class TaskStatus(str, Enum):
    """zep-cloud 4.0.1 ``TaskStatus`` (and ``TaskListRequestStatus``, what ``task.list`` filters by)."""

    PENDING = "pending"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"
    FAILED = "failed"


@dataclass(slots=True, eq=False)
class Task:
    uuid: str
    type: str
    created_at: datetime
    #: The batch this task follows; None for work done at once.
    batch: Batch | None = None
    #: Creation order within the tenant: where a ``task.list`` page starts (not dumped; a
    #: restore numbers the tasks in their dumped order).
    serial: int = 0

    @property
    def status(self) -> str:
        return "succeeded" if self.batch is None else _TASK_STATUS[self.batch.status]

    @property
    def stage(self) -> str:
        return "completed" if self.batch is None else batch_stage(self.batch.status)

    @property
    def started_at(self) -> datetime | None:
        return self.created_at if self.batch is None else self.batch.started_at

    @property
    def completed_at(self) -> datetime | None:
        return self.created_at if self.batch is None else self.batch.completed_at

    @property
    def updated_at(self) -> datetime:
        return self.created_at if self.batch is None else self.batch.updated_at

    @property
    def error(self) -> dict[str, str] | None:
        status = None if self.batch is None else self.batch.status
        if status is BatchStatus.CANCELED:
            return {"code": "batch_canceled", "message": "the batch was canceled"}
        if status is BatchStatus.FAILED:
            return {"code": "batch_failed", "message": "every item of the batch failed"}
        if status is BatchStatus.INVALID:
            return {"code": "invalid_references", "message": "the batch contains invalid references"}
        return None
