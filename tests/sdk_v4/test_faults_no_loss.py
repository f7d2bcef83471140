"""A lost answer, retried by zep-cloud 4.0.1 itself, leaves exactly one copy — for every
mutating call of the v4 route table (emulator/app.py ``DIALECTS``, wire zep-v4): batch
create / add_items / process / delete, user create / delete, graph create / delete, thread
create / delete, graph.episode.add and thread.add_messages. (The POST ``.../list`` routes only
read.)

The fault: an ``after_commit`` request fault, once — the call runs and its change is kept, then
its answer is replaced by a 503 or the connection is dropped unanswered (emulator/core/faults.py).

What the SDK does (zep-cloud 4.0.1 source):

- every one of these calls sends an ``Idempotency-Key``, a fresh uuid4 unless the caller
  passes one, built once into the call's headers before the request is made:
  ``zep_cloud/batch/raw_client.py`` lines 185 (create), 359 (delete), 562 (add_items),
  661 (process); ``user/raw_client.py`` 115 (create), 514 (delete); ``graph/raw_client.py``
  137 (create), 936 (delete); ``thread/raw_client.py`` 192 (create), 469 (delete), 932
  (add_messages); ``graph/episode/raw_client.py`` 239 (add);
- ``zep_cloud/core/http_client.py`` ``HttpClient.request`` retries a 408, 409, 429 or 5xx
  (``_should_retry``, line 161; the retry at lines 511-528) and a ``ConnectError`` /
  ``RemoteProtocolError`` (lines 491-509) up to ``max_retries`` (default 2) by calling itself
  with the same ``headers`` object (lines 503 and 523), so the retry carries the same key;
- it waits ``Retry-After`` when positive, else 1 s × 2^n ± 10 % (``_retry_timeout``,
  ``_retry_timeout_from_retries``; ``Retry-After: 0`` falls through to that backoff). To keep
  each test well under a second the ``fast_backoff`` fixture sets the module's
  ``INITIAL_RETRY_DELAY_SECONDS`` to 0.01 s: the SDK still decides alone whether and what to
  retry; only its wait is shorter.

What the emulator does (decisions.md "Idempotency-Key (v4)", emulator/core/idempotency.py): the
first attempt's real answer (below 500) was stored under tenant + method + path + key before the
fault replaced it, so the retry is answered from the store — nothing runs twice — with
``X-Replayed-Request-Id`` naming the first attempt, and the journal's ``replayed`` says the
same. Each test checks the SDK's result, the state read back, and that journal trail.
"""

from __future__ import annotations

import uuid
from typing import Any, Callable

import httpx
import pytest
from zep_cloud.client import Zep
from zep_cloud.core.api_error import ApiError
from zep_cloud.errors import NotFoundError
from zep_cloud.types import AddMessage, BatchItemInput

from emulator import Emulator
from emulator.handle import Fault

#: How the answer is lost: replaced by a 503 (a status the SDK retries), or never sent.
EFFECTS = {"503": {"status": 503}, "dropped": {"drop_connection": True}}


@pytest.fixture(params=list(EFFECTS))
def effect(request: pytest.FixtureRequest) -> dict[str, Any]:
    return EFFECTS[request.param]


@pytest.fixture
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """zep-cloud 4.0.1 waits 1 s before its first retry when there is no positive
    ``Retry-After``; make it 0.01 s (only the wait: what is retried, and with which headers, is
    still the SDK's own decision)."""
    monkeypatch.setattr("zep_cloud.core.http_client.INITIAL_RETRY_DELAY_SECONDS", 0.01)


@pytest.fixture
def zep(emulator: Emulator, fast_backoff: None) -> Zep:
    """zep-cloud 4.0.1 with its retries on (2, the default, said out loud)."""
    return Zep(api_key=emulator.api_key, base_url=emulator.zep_v4_url, max_retries=2)


def lose_answer(emulator: Emulator, method: str, path: str, effect: dict[str, Any]) -> Fault:
    """The next *method* *path* call runs and is kept, and its answer is lost."""
    return emulator.faults.request(method=method, path=path, after_commit=True, times=1, **effect)


def assert_replayed(emulator: Emulator, fault: Fault, method: str, path: str, effect: dict[str, Any], status: int,
                    headers: dict[str, str]) -> None:
    """Exactly two attempts: the first lost (503, or no answer), the SDK's retry — same
    ``Idempotency-Key`` — answered *status* from the first attempt's stored answer, which the
    SDK saw as ``X-Replayed-Request-Id``."""
    first, retry = emulator.requests.find(method=method, path=path)
    assert first.status == (None if effect.get("drop_connection") else 503)
    assert first.fault == fault.id and fault.hits == 1
    assert first.idempotency_key is not None and retry.idempotency_key == first.idempotency_key
    assert (retry.status, retry.replayed, retry.fault) == (status, first.id, None)
    assert {k.lower(): v for k, v in headers.items()}.get("x-replayed-request-id") == first.id


def zep_records(emulator: Emulator, kind: str,
                keep: Callable[[dict[str, Any]], bool] = lambda r: True) -> list[dict[str, Any]]:
    """The tenant's live (not deleted) users, graphs or threads, from its snapshot — the v4
    route table has no list call for them."""
    (zep,) = [t for t in emulator.snapshot()["tenants"] if t["service"] == "zep"]
    return [r for r in zep[kind] if not r["deleted"] and keep(r)]


def episodes(graph_uuid: str, count: int) -> list[BatchItemInput]:
    return [BatchItemInput(type="graph_episode", graph_uuid=graph_uuid, data=f"Alice met Bob on day {i}.")
            for i in range(count)]


def not_found(call: Callable[[], Any]) -> bool:
    try:
        call()
    except NotFoundError:
        return True
    return False


# -- batches -----------------------------------------------------------------------------------


def test_batch_create_retried_makes_one_batch(emulator: Emulator, zep: Zep, effect: dict[str, Any]) -> None:
    """``batch.create`` → one batch, the one the SDK returned; the retry was a replay, as the
    HTTP journal (``GET /_emulator/requests``) also reports."""
    fault = lose_answer(emulator, "POST", "/api/v4/batches", effect)
    answer = zep.batch.with_raw_response.create(metadata={"run": "r1"})
    assert answer.data.status == "draft"
    assert [b.uuid_ for b in zep.batch.list()] == [answer.data.uuid_]
    assert_replayed(emulator, fault, "POST", "/api/v4/batches", effect, 201, answer.headers)
    journal = httpx.get(f"{emulator.base_url}/_emulator/requests", params={"method": "POST", "path": "/api/v4/batches"},
                        headers={"Authorization": f"Api-Key {emulator.api_key}"}).json()["requests"]
    lost = None if effect.get("drop_connection") else 503
    assert [(e["status"], e["replayed"]) for e in journal] == [(lost, None), (201, journal[0]["id"])]


def test_batch_add_items_retried_stores_the_items_once(emulator: Emulator, zep: Zep, effect: dict[str, Any]) -> None:
    """``batch.add_items`` → the three items once (sequence 0..2), the ones the SDK returned."""
    graph = zep.graph.create(name="g")
    batch = zep.batch.create()
    path = f"/api/v4/batches/{batch.uuid_}/items"
    fault = lose_answer(emulator, "POST", path, effect)
    answer = zep.batch.with_raw_response.add_items(batch.uuid_, items=episodes(graph.uuid_, 3))
    stored = list(zep.batch.list_items(batch.uuid_))
    assert [(i.uuid_, i.sequence_index) for i in stored] == [(i.uuid_, n) for n, i in enumerate(answer.data.items or [])]
    assert len(stored) == 3 and zep.batch.get(batch.uuid_).item_count == 3
    assert_replayed(emulator, fault, "POST", path, effect, 200, answer.headers)


def test_batch_process_retried_processes_once_and_is_not_a_conflict(
    emulator: Emulator, zep: Zep, effect: dict[str, Any]
) -> None:
    """``batch.process`` → the retry gets the first 202 back, not the 409
    ``batch_already_processed`` a second process would get; the batch ran once: three items,
    three episodes."""
    graph = zep.graph.create(name="g")
    batch = zep.batch.create()
    zep.batch.add_items(batch.uuid_, items=episodes(graph.uuid_, 3))
    path = f"/api/v4/batches/{batch.uuid_}/process"
    fault = lose_answer(emulator, "POST", path, effect)
    answer = zep.batch.with_raw_response.process(batch.uuid_)
    assert answer.data.batch is not None and answer.data.batch.uuid_ == batch.uuid_
    done = zep.batch.get(batch.uuid_)
    assert done.status == "succeeded" and done.progress is not None and done.progress.succeeded_items == 3
    assert sorted(e.content for e in zep.graph.episode.list(graph.uuid_)) == [f"Alice met Bob on day {i}." for i in range(3)]
    assert_replayed(emulator, fault, "POST", path, effect, 202, answer.headers)


def test_batch_delete_retried_is_not_a_404(emulator: Emulator, zep: Zep, effect: dict[str, Any]) -> None:
    """``batch.delete`` → the batch is gone and the retry gets the first 204, not the 404 a
    second delete would get (which the SDK would raise)."""
    batch = zep.batch.create()
    path = f"/api/v4/batches/{batch.uuid_}"
    fault = lose_answer(emulator, "DELETE", path, effect)
    answer = zep.batch.with_raw_response.delete(batch.uuid_)
    assert not_found(lambda: zep.batch.get(batch.uuid_)) and list(zep.batch.list()) == []
    assert_replayed(emulator, fault, "DELETE", path, effect, 204, answer.headers)


# -- users, graphs, threads --------------------------------------------------------------------


def test_user_create_retried_makes_one_user_and_is_not_a_conflict(
    emulator: Emulator, zep: Zep, effect: dict[str, Any]
) -> None:
    """``user.create(user_id=...)`` → one user; the retry gets the first 201, not the 409
    ``user_exists`` a second create with that ``user_id`` would get."""
    fault = lose_answer(emulator, "POST", "/api/v4/users", effect)
    answer = zep.user.with_raw_response.create(user_id="alice", first_name="Alice")
    assert [u["uuid"] for u in zep_records(emulator, "users")] == [answer.data.uuid_]
    assert zep.user.get(answer.data.uuid_).user_id == "alice"  # type: ignore[arg-type]
    assert_replayed(emulator, fault, "POST", "/api/v4/users", effect, 201, answer.headers)


def test_user_delete_retried_is_not_a_404(emulator: Emulator, zep: Zep, effect: dict[str, Any]) -> None:
    """``user.delete`` → the user is gone; the retry gets the first 202 ``{task}``."""
    user = zep.user.create(user_id="bob")
    path = f"/api/v4/users/{user.uuid_}"
    fault = lose_answer(emulator, "DELETE", path, effect)
    answer = zep.user.with_raw_response.delete(user.uuid_)  # type: ignore[arg-type]
    assert answer.data.task is not None
    assert not_found(lambda: zep.user.get(user.uuid_)) and zep_records(emulator, "users") == []  # type: ignore[arg-type]
    assert_replayed(emulator, fault, "DELETE", path, effect, 202, answer.headers)


def test_graph_create_retried_makes_one_graph(emulator: Emulator, zep: Zep, effect: dict[str, Any]) -> None:
    """``graph.create`` → one graph (v4 graphs have no client id: without the replay the retry
    would have made a second one)."""
    fault = lose_answer(emulator, "POST", "/api/v4/graphs", effect)
    answer = zep.graph.with_raw_response.create(name="crm")
    standalone = zep_records(emulator, "graphs", lambda g: g["user"] is None)
    assert [(g["uuid"], g["name"]) for g in standalone] == [(answer.data.uuid_, "crm")]
    assert_replayed(emulator, fault, "POST", "/api/v4/graphs", effect, 201, answer.headers)


def test_graph_delete_retried_is_not_a_404(emulator: Emulator, zep: Zep, effect: dict[str, Any]) -> None:
    """``graph.delete`` → the graph is gone; the retry gets the first 202 ``{task}``."""
    graph = zep.graph.create(name="doomed")
    path = f"/api/v4/graphs/{graph.uuid_}"
    fault = lose_answer(emulator, "DELETE", path, effect)
    answer = zep.graph.with_raw_response.delete(graph.uuid_)  # type: ignore[arg-type]
    assert answer.data.task is not None and not_found(lambda: zep.graph.get(graph.uuid_))  # type: ignore[arg-type]
    assert_replayed(emulator, fault, "DELETE", path, effect, 202, answer.headers)


def test_thread_create_retried_makes_one_thread(emulator: Emulator, zep: Zep, effect: dict[str, Any]) -> None:
    """``thread.create(user_uuid=...)`` → one thread (no client id in v4 either)."""
    user = zep.user.create(user_id="carol")
    fault = lose_answer(emulator, "POST", "/api/v4/threads", effect)
    answer = zep.thread.with_raw_response.create(user_uuid=user.uuid_)  # type: ignore[arg-type]
    assert [t["uuid"] for t in zep_records(emulator, "threads")] == [answer.data.uuid_]
    assert_replayed(emulator, fault, "POST", "/api/v4/threads", effect, 201, answer.headers)


def test_thread_delete_retried_is_not_a_404(emulator: Emulator, zep: Zep, effect: dict[str, Any]) -> None:
    """``thread.delete`` → the thread is gone; the retry gets the first 202 ``{task}``."""
    user = zep.user.create(user_id="dan")
    thread = zep.thread.create(user_uuid=user.uuid_)  # type: ignore[arg-type]
    path = f"/api/v4/threads/{thread.uuid_}"
    fault = lose_answer(emulator, "DELETE", path, effect)
    answer = zep.thread.with_raw_response.delete(thread.uuid_)  # type: ignore[arg-type]
    assert answer.data.task is not None and not_found(lambda: zep.thread.get(thread.uuid_))  # type: ignore[arg-type]
    assert_replayed(emulator, fault, "DELETE", path, effect, 202, answer.headers)


# -- live adds ---------------------------------------------------------------------------------


def test_episode_add_retried_writes_one_episode(emulator: Emulator, zep: Zep, effect: dict[str, Any]) -> None:
    """``graph.episode.add`` → one episode, the one the SDK returned, and its facts once."""
    graph = zep.graph.create(name="g")
    path = f"/api/v4/graphs/{graph.uuid_}/episodes"
    fault = lose_answer(emulator, "POST", path, effect)
    answer = zep.graph.episode.with_raw_response.add(graph.uuid_, data="Erin lives in Oslo.")  # type: ignore[arg-type]
    assert answer.data.episode is not None
    listed = list(zep.graph.episode.list(graph.uuid_))  # type: ignore[arg-type]
    assert [(e.uuid_, e.content) for e in listed] == [(answer.data.episode.uuid_, "Erin lives in Oslo.")]
    assert [e.fact for e in zep.graph.edge.list(graph.uuid_)] == ["Erin lives in Oslo"]  # type: ignore[arg-type]
    assert_replayed(emulator, fault, "POST", path, effect, 202, answer.headers)


def test_thread_add_messages_retried_stores_the_messages_once(
    emulator: Emulator, zep: Zep, effect: dict[str, Any]
) -> None:
    """``thread.add_messages`` → the two messages once, in order."""
    user = zep.user.create(user_id="fay")
    thread = zep.thread.create(user_uuid=user.uuid_)  # type: ignore[arg-type]
    path = f"/api/v4/threads/{thread.uuid_}/messages"
    fault = lose_answer(emulator, "POST", path, effect)
    answer = zep.thread.with_raw_response.add_messages(
        thread.uuid_,  # type: ignore[arg-type]
        messages=[AddMessage(content="I work at Acme.", role="user"), AddMessage(content="Noted.", role="assistant")],
    )
    stored = list(zep.thread.list_messages(thread.uuid_))  # type: ignore[arg-type]
    assert [m.uuid_ for m in stored] == [m.uuid_ for m in answer.data.messages or []]
    assert [m.content for m in stored] == ["I work at Acme.", "Noted."]
    assert_replayed(emulator, fault, "POST", path, effect, 202, answer.headers)


def test_a_caller_chosen_key_is_what_the_retry_carries(emulator: Emulator, zep: Zep) -> None:
    """With ``idempotency_key=`` given, the SDK sends that key on the first attempt and on its
    retry (zep_cloud/batch/raw_client.py line 185: ``str(idempotency_key)``), and the retry is
    a replay: one batch."""
    key = f"create-{uuid.uuid4()}"
    fault = lose_answer(emulator, "POST", "/api/v4/batches", {"status": 503})
    answer = zep.batch.with_raw_response.create(idempotency_key=key)
    assert [c.idempotency_key for c in emulator.requests.find(method="POST", path="/api/v4/batches")] == [key, key]
    assert [b.uuid_ for b in zep.batch.list()] == [answer.data.uuid_]
    assert_replayed(emulator, fault, "POST", "/api/v4/batches", {"status": 503}, 201, answer.headers)


def test_without_retries_the_caller_sees_the_503_and_the_change_is_kept(emulator: Emulator, fast_backoff: None) -> None:
    """The control case: with ``max_retries=0`` the same fault surfaces as a 503 ``ApiError``
    although the batch was made — the state a retry has to cope with."""
    client = Zep(api_key=emulator.api_key, base_url=emulator.zep_v4_url, max_retries=0)
    lose_answer(emulator, "POST", "/api/v4/batches", {"status": 503})
    with pytest.raises(ApiError) as lost:
        client.batch.create()
    assert lost.value.status_code == 503
    assert len(list(client.batch.list())) == 1
