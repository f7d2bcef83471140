"""What both Zep drivers share: spending the run's budget, reading an SDK exception as a
:class:`Refusal`, and the neutral calls the machine makes."""

from __future__ import annotations

import functools
import uuid
from datetime import datetime, timezone
from typing import Any, Callable, TypeVar

import httpx
from hypothesis.strategies import SearchStrategy

from zep_cloud.client import Zep
from zep_cloud.core.api_error import ApiError

from ..model.answers import Refusal
from ..targets import Budget
from .views import BatchView, EdgeView, ItemView, Listing, Refused

T = TypeVar("T")


@functools.cache
def shared_http() -> httpx.Client:
    return httpx.Client(timeout=60)


class ZepDriver:
    """The machine's calls, in wire-neutral names. Subclasses speak one SDK line."""

    #: "v2" or "v4".
    version: str
    #: The dialect's error bodies carry a machine-readable code (v4) besides the message.
    codes: bool
    #: The item field that names each kind of destination, as the dialect spells it.
    fields: dict[str, str]
    #: The emulator's strategies for this wire version (``emulator.strategies.zep_vN``).
    strategies: Any

    def __init__(self, base_url: str, api_key: str, budget: Budget) -> None:
        self.budget = budget
        #: Both SDK lines have the same import name. The machine wants each answer once: 4.x
        #: retries 408/409/429/5xx unless ``max_retries=0``; 3.x never retries (and has no such
        #: argument). One httpx client serves every driver of the run: a new one builds an SSL
        #: context (~25 ms), most of an example's cost when Hypothesis replays thousands.
        retries = {"max_retries": 0} if self.version == "v4" else {}
        self.zep = Zep(api_key=api_key, base_url=base_url, timeout=60, httpx_client=shared_http(), **retries)

    def _call(self, fn: Callable[[], T], items: int = 0) -> T:
        """One SDK call: spend it from the budget, and read a refusal from its exception."""
        self.budget.spend(1, items)
        try:
            return fn()
        except Exception as exc:  # the SDKs' ApiError family; anything else is re-raised
            refusal = self.refusal(exc)
            if refusal is None:
                raise
            raise Refused(refusal) from exc

    @staticmethod
    def refusal(exc: Exception) -> Refusal | None:
        """Both SDK lines raise ``ApiError`` subclasses carrying the status and the body."""
        if not isinstance(exc, ApiError) or exc.status_code is None:
            return None
        code, message = error_code(exc.body)
        return Refusal(exc.status_code, code, message)

    # -- the calls (each subclass implements them with its SDK) ------------------------------

    def create_graph(self, name: str) -> str: ...
    def delete_graph(self, graph: str) -> None: ...
    def create_user(self, user_id: str) -> str: ...
    def delete_user(self, user: str) -> None: ...
    def create_thread(self, thread_id: str, user: str) -> str: ...
    def create_batch(self, metadata: dict[str, Any] | None) -> BatchView: ...
    def add(self, batch: str, items: list[dict[str, Any]]) -> tuple[list[ItemView], list[int]]: ...
    def process(self, batch: str) -> BatchView: ...
    def get(self, batch: str) -> BatchView: ...
    def delete(self, batch: str) -> None: ...
    def list_batches(self, page_size: int) -> Listing: ...
    def list_items(self, batch: str, page_size: int) -> Listing: ...
    def edges(self, graph: str) -> list[EdgeView]: ...
    def episode_content(self, graph: str, episode: str) -> str | None: ...

    @staticmethod
    def missing_id() -> str:
        """An id no batch has: batch ids are server UUIDs in both versions."""
        return str(uuid.uuid4())

    # -- items, from the package's strategies, in this version's field names ------------------

    def _destinations(self, graphs: list[str], users: list[str], threads: list[str]) -> dict[str, list[str]]:
        f = self.fields
        return {f["graph"] + "s": graphs, f["user"] + "s": users, f["thread"] + "s": threads}

    def valid_items(self, graphs: list[str], users: list[str], threads: list[str]) -> SearchStrategy[dict[str, Any]]:
        """One valid item for one of the destinations."""
        return self.strategies.items(**self._destinations(graphs, users, threads), min_size=1, max_size=1).map(
            lambda drawn: drawn[0])

    def flawed_items(self, graphs: list[str], users: list[str], threads: list[str]) -> SearchStrategy[Any]:
        """One item with one defect (``Flawed(item, defect)``)."""
        return self.strategies.flawed_items(**self._destinations(graphs, users, threads))

    def simple_item(self, graph: str) -> dict[str, Any]:
        return {"type": "graph_episode", self.fields["graph"]: graph, "data": "hello", "data_type": "text"}

    def fact_item(self, graph: str, text: str, when: datetime) -> dict[str, Any]:
        """A text episode dated *when* (RFC 3339 in UTC)."""
        return {"type": "graph_episode", self.fields["graph"]: graph, "data": text, "data_type": "text",
                self.fields["time"]: when.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")}


def error_code(body: Any) -> tuple[str | None, str]:
    """(code, message) from an error body as the SDKs hand it over: a parsed model with
    ``error.code`` (v4), one with ``message`` (v2), or the raw JSON."""
    if body is None:
        return None, ""
    if hasattr(body, "error") and body.error is not None:
        return getattr(body.error, "code", None), getattr(body.error, "message", None) or ""
    if hasattr(body, "message"):
        return None, body.message or ""
    if isinstance(body, dict):
        inner = body.get("error")
        if isinstance(inner, dict):
            return inner.get("code"), str(inner.get("message") or "")
        return None, str(body.get("message") or body.get("detail") or body)
    return None, str(body)
