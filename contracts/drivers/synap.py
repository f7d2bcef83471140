"""The Synap machine's calls through maximem-synap 0.6.9 (async; run on the driver's own loop).

SDK facts this relies on (maximem-synap 0.6.9 source, synap-wire-contract.md §1–3, §7):
- ``MaximemSynapSDK(..., _force_new=True)`` or the per-key singleton hands back an old SDK
  aimed at another server; ``initialize()`` calls whoami; ``shutdown()`` removes the entry;
- hermetic: ``SYNAP_SDK_LOCAL_MODEL=off`` and ``cache_backend=None`` (no local model, no
  cache files under HOME); on the emulator the gRPC host is a closed local port;
- errors are exception classes, not statuses: 400 and 422 are both ``InvalidInputError``,
  404 ``ContextNotFoundError``, 409 ``ConflictError``; the class name is what the model
  predicts, and the status reported here is the class's representative one;
- ``wait_for_completion`` is a loop of ``status`` calls that returns the first terminal one.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any, Awaitable, Callable, TypeVar

from maximem_synap import (
    ConflictError,
    ContextNotFoundError,
    InvalidInputError,
    MaximemSynapSDK,
    RetryPolicy,
    SDKConfig,
    SynapError,
    TimeoutConfig,
)
from maximem_synap.memories.models import CreateMemoryRequest

from ..model.answers import Refusal
from ..targets import Session
from .views import Refused

T = TypeVar("T")

os.environ["SYNAP_SDK_LOCAL_MODEL"] = "off"

#: exception class -> the HTTP status it stands for (synap-wire-contract.md §3.1).
STATUS_OF: list[tuple[type[Exception], int]] = [
    (InvalidInputError, 400), (ContextNotFoundError, 404), (ConflictError, 409),
]


class SynapDriver:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.budget = session.budget
        self.loop = asyncio.new_event_loop()
        base_url = session.url("synap")
        if session.controllable:  # hermetic: nothing but the emulator is reachable
            config = SDKConfig(api_base_url=base_url, grpc_host="127.0.0.1", grpc_port=1, grpc_use_tls=False,
                               cache_backend=None, history_search_model=None,
                               retry_policy=RetryPolicy(backoff_base=0.01, backoff_jitter=False),
                               timeouts=TimeoutConfig(connect=1, read=10, write=10))
        else:
            config = SDKConfig(api_base_url=base_url, cache_backend=None, history_search_model=None)
        self.sdk = MaximemSynapSDK(api_key=session.api_key, config=config, _force_new=True)
        self.budget.spend()
        self.loop.run_until_complete(self.sdk.initialize())

    def close(self) -> None:
        try:
            if self.sdk._initialized:
                self.loop.run_until_complete(self.sdk.shutdown())
        finally:
            self.loop.close()

    def _call(self, call: Callable[[], Awaitable[T]], items: int = 0, *, budgeted: bool = True) -> T:
        if budgeted:
            self.budget.spend(1, items)
        try:
            return self.loop.run_until_complete(call())  # type: ignore[arg-type]
        except SynapError as exc:
            status = next((s for cls, s in STATUS_OF if isinstance(exc, cls)), 0)
            raise Refused(Refusal(status, type(exc).__name__, str(exc))) from exc

    def batch_create(self, docs: list[dict[str, Any]], fail_fast: bool) -> Any:
        requests = [CreateMemoryRequest(**doc) for doc in docs]
        return self._call(lambda: self.sdk.memories.batch_create(requests, fail_fast=fail_fast), len(docs))

    def create(self, doc: dict[str, Any]) -> Any:
        return self._call(lambda: self.sdk.memories.create(**doc), 1)

    def status(self, ingestion_id: str) -> Any:
        return self._call(lambda: self.sdk.memories.status(ingestion_id))

    def wait_for_completion(self, ingestion_id: str, timeout: float) -> Any:
        return self._call(lambda: self.sdk.memories.wait_for_completion(
            ingestion_id, timeout_seconds=timeout, poll_interval_seconds=0.05 if self.session.controllable else 2))

    def get(self, memory_id: str) -> Any:
        return self._call(lambda: self.sdk.memories.get(memory_id))

    def delete(self, memory_id: str) -> Any:
        """Cleanup on a real account; not counted against the budget (it must always run)."""
        return self._call(lambda: self.sdk.memories.delete(memory_id), budgeted=False)
