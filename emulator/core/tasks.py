"""Tasks: the handle v4 returns for asynchronous work (``process`` returns ``{batch, task}``;
``GET /tasks/{uuid}`` follows it).

A task here always follows one batch, and its status is derived from the batch's on every
read, so the two can never disagree (zep-cloud 4.0.1 ``TaskStatus``: pending, processing,
succeeded, partial, failed; the v3 changelog of 2026-10-04: "the returned task's status
follows the batch status").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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


@dataclass(slots=True, eq=False)
class Task:
    uuid: str
    type: str
    batch: Batch
    created_at: datetime

    @property
    def status(self) -> str:
        return _TASK_STATUS[self.batch.status]

    @property
    def stage(self) -> str:
        return batch_stage(self.batch.status)

    @property
    def error(self) -> dict[str, str] | None:
        status = self.batch.status
        if status is BatchStatus.CANCELED:
            return {"code": "batch_canceled", "message": "the batch was canceled"}
        if status is BatchStatus.FAILED:
            return {"code": "batch_failed", "message": "every item of the batch failed"}
        return None


def batch_stage(status: BatchStatus) -> str:
    return _STAGE.get(status, "completed")
