"""Issue 5's capabilities through zep-cloud 4.0.1, driven only by the pytest plugin's fixtures
(``emulator``, ``zep_client``, ``async_zep_client``) as a user's project would: manual steps,
per-item faults, post-commit faults and the SDK's Idempotency-Key retry, a 429 the SDK waits
out, held items, the journal, the per-tenant clock, seeded ids, and webhooks verified with the
published Svix library."""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import datetime, timezone
from typing import Any, Iterator

import httpx
import pytest
from aiohttp import web
from svix.webhooks import Webhook
from zep_cloud.client import AsyncZep, Zep
from zep_cloud.core.api_error import ApiError
from zep_cloud.errors import NotFoundError
from zep_cloud.types import BatchItemInput

from emulator import Emulator
from emulator.server import BackgroundApp


def episodes(graph_uuid: str, count: int, prefix: str = "fact") -> list[BatchItemInput]:
    return [BatchItemInput(type="graph_episode", graph_uuid=graph_uuid, data=f"{prefix} {i}") for i in range(count)]


def filled_batch(zep: Zep, count: int) -> tuple[str, str]:
    graph = zep.graph.create(name="g")
    batch = zep.batch.create()
    zep.batch.add_items(batch.uuid_, items=episodes(graph.uuid_, count))
    return graph.uuid_, batch.uuid_


@pytest.mark.emulator(processing="manual")
def test_a_batch_caught_half_way_in_manual_mode(emulator: Emulator, zep_client: Zep) -> None:
    _, batch = filled_batch(zep_client, 5)
    zep_client.batch.process(batch)
    assert zep_client.batch.get(batch).status == "queued"
    assert emulator.step(3) == 3
    seen = zep_client.batch.get(batch)
    assert seen.status == "processing"
    assert seen.progress is not None and (seen.progress.succeeded_items, seen.progress.total_items) == (3, 5)
    assert [i.status for i in zep_client.batch.list_items(batch)] == ["succeeded"] * 3 + ["queued"] * 2
    assert emulator.run_until_idle() == 2
    assert zep_client.batch.get(batch).status == "succeeded"


def test_item_7_of_20_fails_and_the_batch_ends_partial(emulator: Emulator, zep_client: Zep) -> None:
    fault = emulator.faults.item(sequence_index=6, code="upstream_timeout", message="item 7 timed out")
    _, batch = filled_batch(zep_client, 20)
    zep_client.batch.process(batch)
    assert zep_client.batch.get(batch).status == "partial"
    items = list(zep_client.batch.list_items(batch))
    assert [i.sequence_index for i in items if i.status == "failed"] == [6]
    assert items[6].error == {"code": "upstream_timeout", "message": "item 7 timed out"}  # type: ignore[attr-defined]
    assert items[6].episode_uuid is None and all(i.episode_uuid for i in items if i.sequence_index != 6)
    assert fault.hits == 1


def test_item_faults_match_by_content_skip_and_count(emulator: Emulator, zep_client: Zep) -> None:
    emulator.faults.item(content=r"fact (3|4)$", action="skip", times=1)
    _, batch = filled_batch(zep_client, 6)
    zep_client.batch.process(batch)
    statuses = [i.status for i in zep_client.batch.list_items(batch)]
    assert statuses == ["succeeded"] * 3 + ["skipped"] + ["succeeded"] * 2  # once: fact 4 is spared
    assert zep_client.batch.get(batch).status == "succeeded"  # skipped items are not failures


def test_a_held_item_keeps_its_graph_waiting_until_released(emulator: Emulator, zep_client: Zep) -> None:
    graph = zep_client.graph.create(name="held")
    other = zep_client.graph.create(name="free")
    fault = emulator.faults.item(graph=graph.uuid_, sequence_index=1, action="hold")
    batch = zep_client.batch.create()
    items = episodes(graph.uuid_, 3) + episodes(other.uuid_, 2, prefix="other")
    zep_client.batch.add_items(batch.uuid_, items=items)
    zep_client.batch.process(batch.uuid_)
    statuses = [i.status for i in zep_client.batch.list_items(batch.uuid_)]
    assert statuses == ["succeeded", "processing", "queued", "succeeded", "succeeded"]
    assert zep_client.batch.get(batch.uuid_).status == "processing"
    assert len(fault.held) == 1 and emulator.run_until_idle() == 0
    fault.release()
    assert [i.status for i in zep_client.batch.list_items(batch.uuid_)] == ["succeeded"] * 5
    assert zep_client.batch.get(batch.uuid_).status == "succeeded"


@pytest.mark.parametrize("effect", [{"status": 503}, {"drop_connection": True}])
def test_a_post_commit_fault_on_add_items_is_retried_without_a_duplicate(
    emulator: Emulator, zep_client: Zep, effect: dict[str, Any]
) -> None:
    """The change is kept, the answer lost (a 503, or no answer at all); the SDK retries with
    the same Idempotency-Key and gets the stored answer: the batch holds the items once."""
    graph = zep_client.graph.create(name="g")
    batch = zep_client.batch.create()
    emulator.faults.request(method="POST", path="/api/v4/batches/*/items", after_commit=True, times=1, **effect)
    key = f"add-{uuid.uuid4()}"
    answer = zep_client.batch.add_items(batch.uuid_, items=episodes(graph.uuid_, 3), idempotency_key=key)
    assert answer.items is not None and len(answer.items) == 3
    stored = list(zep_client.batch.list_items(batch.uuid_))
    assert [i.uuid_ for i in stored] == [i.uuid_ for i in answer.items]
    calls = emulator.requests.find(method="POST", path="/api/v4/batches/*/items")
    assert [c.status for c in calls] == [None if effect.get("drop_connection") else 503, 200]
    assert [c.idempotency_key for c in calls] == [key, key]
    assert calls[1].replayed == calls[0].id and calls[0].fault is not None


def test_a_429_with_retry_after_is_waited_out_by_the_sdk(emulator: Emulator, zep_client: Zep) -> None:
    emulator.faults.request(method="POST", path="/api/v4/graphs", status=429, retry_after=1, times=1)
    started = time.monotonic()
    graph = zep_client.graph.create(name="patient")
    waited = time.monotonic() - started
    assert graph.name == "patient"
    calls = emulator.requests.find(path="/api/v4/graphs")
    assert [c.status for c in calls] == [429, 201]
    assert waited >= 0.9  # the SDK honoured Retry-After: 1 (a floor only: no ceiling is asserted)


def test_a_pre_commit_fault_changes_nothing(emulator: Emulator) -> None:
    client = Zep(api_key=emulator.api_key, base_url=emulator.zep_v4_url, max_retries=0)
    emulator.faults.request(method="POST", path="/api/v4/batches", status=500, code="db_down", times=1)
    with pytest.raises(Exception) as failed:
        client.batch.create()
    assert getattr(failed.value, "status_code", None) == 500
    assert failed.value.body["error"]["code"] == "db_down"  # type: ignore[attr-defined]
    assert list(client.batch.list()) == []
    assert client.batch.create().status == "draft"


def test_the_journal_waits_for_background_work(emulator: Emulator, zep_client: Zep) -> None:
    """wait_for sees a call that another thread makes later, as background code would."""
    graph = zep_client.graph.create(name="g")
    _, batch = filled_batch(zep_client, 2)
    worker = threading.Timer(0.05, lambda: zep_client.batch.process(batch))
    worker.start()
    entry = emulator.requests.wait_for(lambda e: e.path.endswith("/process") and e.status == 202, timeout=10)
    worker.join()
    assert entry.method == "POST" and entry.api == "zep-v4" and entry.tenant == emulator.api_key
    assert entry.path == f"/api/v4/batches/{batch}/process" and entry.duration_ms >= 0
    assert graph.uuid_ not in entry.path
    with pytest.raises(TimeoutError, match="no request matched"):
        emulator.requests.wait_for(lambda e: e.status == 418, timeout=0.05)


def test_a_tenants_clock_is_its_own(emulator: Emulator, emulator_factory: Any, zep_client: Zep) -> None:
    start = datetime(2031, 5, 1, 12, 0, tzinfo=timezone.utc)
    assert emulator.clock.freeze(start) == start
    emulator.clock.advance(86_400)
    graph = zep_client.graph.create(name="dated")
    assert graph.created_at == "2031-05-02T12:00:00Z"
    with emulator_factory() as neighbour:
        assert abs((neighbour.clock.now() - datetime.now(timezone.utc)).total_seconds()) < 60


def test_seeded_tenants_make_the_same_ids(emulator_factory: Any) -> None:
    def ids_of(emu: Emulator) -> list[str]:
        zep = Zep(api_key=emu.api_key, base_url=emu.zep_v4_url)
        graph, batch = filled_batch(zep, 2)
        zep.batch.process(batch)
        return [graph, batch, *(i.uuid_ for i in zep.batch.list_items(batch))]

    with emulator_factory(seed=7) as first, emulator_factory(seed=7) as second, emulator_factory() as unseeded:
        assert ids_of(first) == ids_of(second)
        assert ids_of(unseeded) != ids_of(first)


def test_an_unseeded_probabilistic_fault_fires_on_the_same_calls_for_every_tenant(emulator_factory: Any) -> None:
    """A probability rule without a seed draws from a stream of its own (its JSON and its
    tenant's rule count), so the same test makes the same calls fail whatever ran before it
    on the session's server, here another tenant with the same rule."""
    def failures(emu: Emulator) -> list[bool]:
        emu.faults.request(method="POST", path="/api/v4/graphs", status=503, probability=0.5)
        zep = Zep(api_key=emu.api_key, base_url=emu.zep_v4_url, max_retries=0)
        failed = []
        for n in range(24):
            try:
                zep.graph.create(name=f"g{n}")
                failed.append(False)
            except ApiError as error:
                assert error.status_code == 503
                failed.append(True)
        return failed

    with emulator_factory() as first, emulator_factory() as second:
        pattern = failures(first)
        assert 0 < sum(pattern) < 24
        assert failures(second) == pattern


async def test_async_client_and_manual_steps(emulator: Emulator, async_zep_client: AsyncZep) -> None:
    emulator.set_processing("manual")
    graph = await async_zep_client.graph.create(name="async")
    batch = await async_zep_client.batch.create()
    await async_zep_client.batch.add_items(batch.uuid_, items=episodes(graph.uuid_, 2))
    await async_zep_client.batch.process(batch.uuid_)
    assert (await async_zep_client.batch.get(batch.uuid_)).status == "queued"
    assert emulator.run_until_idle() == 2
    assert (await async_zep_client.batch.get(batch.uuid_)).status == "succeeded"


# -- webhooks -----------------------------------------------------------------------------------


class Receiver:
    """A local HTTP receiver that verifies every delivery with the svix library."""

    def __init__(self, secret: str, fail_first: int = 0) -> None:
        self.secret = secret
        self.fail_first = fail_first
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.server = BackgroundApp(self.app, name="receiver")

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        Webhook(self.secret).verify(body, dict(request.headers))  # raises if the signature is wrong
        self.received.append((request.headers["svix-id"], json.loads(body)))
        if len(self.received) <= self.fail_first:
            return web.Response(status=500)
        return web.Response(status=204)

    @property
    def url(self) -> str:
        return f"{self.server.base_url}/hook"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    rcv = Receiver(secret)
    with rcv.server:
        yield rcv


def test_webhook_is_signed_and_verified_by_the_svix_library(emulator: Emulator, zep_client: Zep, receiver: Receiver) -> None:
    endpoint = emulator.webhooks.register(receiver.url, secret=receiver.secret)
    emulator.faults.item(sequence_index=0)
    _, batch = filled_batch(zep_client, 2)
    zep_client.batch.process(batch)
    delivery = emulator.webhooks.wait_for(timeout=10)
    assert delivery.state.value == "succeeded" and delivery.endpoint.uuid == endpoint.uuid
    [(svix_id, payload)] = receiver.received
    assert svix_id == delivery.message.msg_id
    assert payload["event_name"] == "ingest.batch.completed" and payload["batch_id"] == batch
    assert payload["status"] == "partial"
    assert (payload["progress"]["succeeded_items"], payload["progress"]["failed_items"]) == (1, 1)


def test_a_duplicated_delivery_keeps_its_svix_id(emulator: Emulator, zep_client: Zep, receiver: Receiver) -> None:
    emulator.webhooks.register(receiver.url, secret=receiver.secret)
    emulator.faults.webhook(action="duplicate", times=1)
    _, batch = filled_batch(zep_client, 1)
    zep_client.batch.process(batch)
    delivery = emulator.webhooks.wait_for(lambda d: len(d.attempts) == 2, timeout=10)
    assert [a.duplicate for a in delivery.attempts] == [False, True]
    assert len(receiver.received) == 2 and receiver.received[0][0] == receiver.received[1][0]
    assert receiver.received[0][1] == receiver.received[1][1]


def test_a_failed_delivery_is_retried_with_the_same_svix_id(emulator: Emulator, zep_client: Zep, receiver: Receiver) -> None:
    receiver.fail_first = 1
    emulator.webhooks.register(receiver.url, secret=receiver.secret, retry_delays=[0.05])
    _, batch = filled_batch(zep_client, 1)
    zep_client.batch.process(batch)
    delivery = emulator.webhooks.wait_for(timeout=10)
    assert delivery.state.value == "succeeded"
    assert [a.status_code for a in delivery.attempts] == [500, 204]
    assert receiver.received[0][0] == receiver.received[1][0] == delivery.message.msg_id


def test_a_dropped_delivery_never_arrives(emulator: Emulator, zep_client: Zep, receiver: Receiver) -> None:
    emulator.webhooks.register(receiver.url, secret=receiver.secret)
    emulator.faults.webhook(action="drop")
    _, batch = filled_batch(zep_client, 1)
    zep_client.batch.process(batch)
    assert emulator.webhooks.wait_for(timeout=10).state.value == "dropped"
    assert receiver.received == []


def test_an_in_process_callback_gets_the_message(emulator: Emulator, zep_client: Zep) -> None:
    got: list[tuple[str, dict[str, str]]] = []
    emulator.webhooks.register(callback=lambda message, headers: got.append((message.event_name, headers)))
    _, batch = filled_batch(zep_client, 1)
    zep_client.batch.process(batch)
    emulator.webhooks.wait_for(timeout=10)
    [(event, headers)] = got
    assert event == "ingest.batch.completed" and headers["svix-signature"].startswith("v1,")


def test_control_plane_webhooks_and_faults_over_http(emulator: Emulator, zep_client: Zep, receiver: Receiver) -> None:
    """The same controls over HTTP, as a test in another language would use them."""
    auth = {"Authorization": f"Api-Key {emulator.api_key}"}
    with httpx.Client(base_url=emulator.base_url, headers=auth) as http:
        made = http.post("/_emulator/webhooks", json={"url": receiver.url, "secret": receiver.secret})
        assert made.status_code == 201 and made.json()["secret"] == receiver.secret
        fault = http.post("/_emulator/faults", json={"kind": "item", "index": 0, "code": "nope", "message": "no"}).json()
        _, batch = filled_batch(zep_client, 1)
        zep_client.batch.process(batch)
        assert zep_client.batch.get(batch).status == "failed"
        emulator.webhooks.wait_for(timeout=10)
        deliveries = http.get("/_emulator/webhooks/deliveries").json()["deliveries"]
        assert [(d["state"], d["payload"]["status"]) for d in deliveries] == [("succeeded", "failed")]
        listed = http.get("/_emulator/faults").json()["faults"]
        assert [(f["id"], f["hits"]) for f in listed] == [(fault["id"], 1)]
        assert http.delete("/_emulator/faults").json() == {"cleared": 1}
        journal = http.get("/_emulator/requests", params={"path": "/api/v4/batches/*/process"}).json()["requests"]
        assert [(r["method"], r["status"]) for r in journal] == [("POST", 202)]
        bad = http.post("/_emulator/faults", json={"kind": "item", "action": "explode"})
        assert bad.status_code == 400 and bad.json()["error"]["param"] == "item.action"


# -- snapshots ----------------------------------------------------------------------------------


def _readback(zep: Zep, graph: str, batch: str) -> dict[str, Any]:
    return {
        "batch": zep.batch.get(batch).dict(),
        "items": [i.dict() for i in zep.batch.list_items(batch)],
        "episodes": [e.dict() for e in zep.graph.episode.list(graph)],
        "edges": [e.dict() for e in zep.graph.edge.list(graph)],
    }


def test_a_snapshot_restored_into_a_fresh_server_reads_back_the_same(emulator: Emulator, zep_client: Zep) -> None:
    emulator.faults.item(sequence_index=1, code="boom", message="no")
    graph = zep_client.graph.create(name="people")
    batch = zep_client.batch.create(metadata={"source": "crm"})
    texts = ["Alice works at Acme.", "Bob lives in Paris.", "Alice works at Initech."]
    zep_client.batch.add_items(batch.uuid_, items=[BatchItemInput(type="graph_episode", graph_uuid=graph.uuid_, data=t,
                                                                  reference_time=f"2024-0{i + 1}-01T00:00:00Z")
                                                  for i, t in enumerate(texts)])
    zep_client.batch.process(batch.uuid_)
    before = _readback(zep_client, graph.uuid_, batch.uuid_)
    assert before["batch"]["status"] == "partial" and len(before["edges"]) == 2
    state = json.loads(json.dumps(emulator.snapshot()))  # plain JSON, through text and back
    with Emulator() as fresh:
        fresh.restore(state)
        restored = Zep(api_key=fresh.api_key, base_url=fresh.zep_v4_url)
        assert _readback(restored, graph.uuid_, batch.uuid_) == before
        more = restored.batch.create()  # and the restored tenant goes on working
        assert more.uuid_ not in (batch.uuid_, graph.uuid_)


def test_state_over_http_round_trips_and_refuses_garbage(emulator: Emulator, zep_client: Zep) -> None:
    graph = zep_client.graph.create(name="kept")
    auth = {"Authorization": f"Api-Key {emulator.api_key}"}
    with httpx.Client(base_url=emulator.base_url, headers=auth) as http:
        state = http.get("/_emulator/state").json()
        assert (state["format"], state["version"], state["scope"]) == ("memory-batch-emulator/state", 1, "tenant")
        later = zep_client.graph.create(name="later")
        bad = http.put("/_emulator/state", json={**state, "version": 99})
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_state"
        assert len(http.get("/_emulator/state").json()["tenants"][0]["graphs"]) == 2  # the refusal changed nothing
        assert http.put("/_emulator/state", json=state).json() == {"restored": "tenant", "tenants": 2}
    assert zep_client.graph.get(graph.uuid_).name == "kept"
    with pytest.raises(NotFoundError):
        zep_client.graph.get(later.uuid_)


def test_the_rate_limit_mode_from_the_handle_follows_the_tenants_clock(emulator: Emulator) -> None:
    """One token, refilled at one per second of the tenant's (frozen) clock: the second call
    is a 429 until the clock is advanced, whatever the wall clock does."""
    client = Zep(api_key=emulator.api_key, base_url=emulator.zep_v4_url, max_retries=0)
    emulator.clock.freeze()
    emulator.set_rate_limit(1, burst=1)
    client.graph.create(name="first")
    with pytest.raises(Exception) as refused:
        client.graph.create(name="second")
    assert getattr(refused.value, "status_code", None) == 429
    assert refused.value.headers["retry-after"] == "1"  # type: ignore[attr-defined]
    emulator.clock.advance(1)
    assert client.graph.create(name="second").name == "second"
    emulator.set_rate_limit(None)
    assert [client.graph.create(name=f"g{i}").name for i in range(3)] == ["g0", "g1", "g2"]
