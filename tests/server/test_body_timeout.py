"""A client that never finishes its body: the server answers 408 within the body timeout, in the
dialect's own error shape, closes that connection, and meanwhile serves everyone else.

Contract (emulator/app.py ``_read_body``): the middleware reads the whole body of a POST, PUT,
PATCH or DELETE before any handler runs; if it has not all arrived ``body_timeout`` seconds
(``--body-timeout``, ``EMULATOR_BODY_TIMEOUT``, ``WorldConfig.body_timeout``; default 30) after
the headers, the answer is **408** with code ``request_timeout`` and ``Connection: close``, and
the server closes the connection right after it. RFC 9110 §15.5.9: 408 means the server "did
not receive a complete request message within the time that it was prepared to wait", and
since the rest of the body could still arrive and be misread as a new request, "the server
SHOULD close the connection". zep-cloud 4.x retries a 408 (zep-wire-contract.md §5); for
maximem-synap it is a ``SynapPermanentError`` (synap-wire-contract.md §3.1, "other 4xx").

Sockets are raw asyncio streams on 127.0.0.1: only a raw client can stop half-way.
"""

from __future__ import annotations

import asyncio
import http.client
import io
import json
import logging
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from typing import Any, Iterator

import httpx
import pytest

from emulator.core.limits import DEFAULT_BODY_TIMEOUT
from emulator.core.processor import ProcessingMode
from emulator.core.world import WorldConfig
from emulator.server import BackgroundServer
from emulator.settings import parse_args

TIMEOUT = 1.0  # short, for the tests; the default is 30 s


@pytest.fixture(scope="module")
def impatient() -> Iterator[BackgroundServer]:
    """A server of its own whose body timeout is one second."""
    with BackgroundServer(WorldConfig(processing=ProcessingMode.INSTANT, body_timeout=TIMEOUT)) as srv:
        yield srv


@dataclass(frozen=True)
class Case:
    path: str
    method: str
    scheme: str
    #: The dialect's error body, reduced to (code, message) — Synap's FastAPI body has only ``detail``.
    dialect: str


CASES = [
    pytest.param(Case("/api/v4/batches", "POST", "Api-Key", "v4"), id="zep-v4"),
    pytest.param(Case("/api/v2/users", "POST", "Api-Key", "v2"), id="zep-v2"),
    pytest.param(Case("/api/v1/memories/create", "POST", "Bearer", "synap"), id="synap"),
    pytest.param(Case("/v1/memories/batch", "POST", "Bearer", "synap"), id="synap-docs-path"),
    pytest.param(Case("/_emulator/processing", "PUT", "Api-Key", "control"), id="control"),
]


def error_of(dialect: str, body: Any) -> tuple[str | None, str]:
    """(code, message) out of each dialect's error body, checking its shape."""
    if dialect == "v2":
        assert set(body) == {"message", "code"}
        return body["code"], body["message"]
    if dialect == "synap":
        assert set(body) == {"detail"}
        return None, body["detail"]
    assert set(body) == {"error"}
    keys = {"code", "message", "param", "details"} | ({"request_id"} if dialect == "v4" else set())
    assert set(body["error"]) == keys
    return body["error"]["code"], body["error"]["message"]


class _Received:
    def __init__(self, data: bytes) -> None:
        self._file = io.BytesIO(data)

    def makefile(self, *args: Any, **kwargs: Any) -> io.BytesIO:
        return self._file


def parse(data: bytes) -> tuple[int, http.client.HTTPMessage, bytes]:
    response = http.client.HTTPResponse(_Received(data))  # type: ignore[arg-type]
    response.begin()
    return response.status, response.headers, response.read()


def head(case: Case, key: str, length: int) -> bytes:
    return (
        f"{case.method} {case.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {case.scheme} {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


@dataclass
class Stalled:
    answered_after: float  # seconds from the last byte sent to the answer's headers
    closed_after: float  # ... to the end of the connection
    raw: bytes
    others: list[tuple[int, float, float]]  # (status, sent at, took) of the other clients' calls


async def stall_and_serve_others(srv: BackgroundServer, case: Case, key: str) -> Stalled:
    """Send headers promising 1,000 bytes and only 12, then stall; meanwhile another client makes
    three calls. Returns when the stalled connection has been answered and closed."""
    reader, writer = await asyncio.open_connection(srv.host, srv.port)
    writer.write(head(case, key, 1000) + b'{"partial": ')
    await writer.drain()
    stalled_at = time.monotonic()

    others: list[tuple[int, float, float]] = []
    other = {"Authorization": f"Api-Key other-{uuid.uuid4()}"}
    async with httpx.AsyncClient(base_url=srv.base_url, headers=other, timeout=10) as client:
        for method, path, body in (("GET", "/_emulator/health", None), ("POST", "/api/v4/batches", {}),
                                   ("GET", "/api/v4/batches", None)):
            sent = time.monotonic()
            response = await client.request(method, path, json=body)
            others.append((response.status_code, sent - stalled_at, time.monotonic() - sent))

    head_bytes = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT + 10)
    answered = time.monotonic() - stalled_at
    rest = await asyncio.wait_for(reader.read(), 5)  # to EOF: the server closes the connection
    closed = time.monotonic() - stalled_at
    writer.close()
    return Stalled(answered, closed, head_bytes + rest, others)


@pytest.mark.parametrize("case", CASES)
def test_a_stalled_body_is_answered_408_and_closed_while_others_are_served(
    impatient: BackgroundServer, case: Case, caplog: pytest.LogCaptureFixture
) -> None:
    """The stalled call gets 408 ``request_timeout`` (Synap: a ``detail`` saying so) in its
    dialect's shape about one timeout after it stalled — not before — with ``Connection:
    close``, and the connection ends right after; the other client's three calls, made during
    the stall, are answered at once; the stalled call changed nothing, is in the journal, and
    nothing is logged as an error."""
    key = f"slow-{uuid.uuid4()}"
    mode_before = impatient.call(lambda world: world.processor.default_mode)
    with caplog.at_level(logging.WARNING):
        stalled = asyncio.run(stall_and_serve_others(impatient, case, key))
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []

    assert [status for status, _, _ in stalled.others] == [200, 201, 200]
    for _, sent_at, took in stalled.others:
        assert sent_at < TIMEOUT and took < 0.5, stalled.others  # during the stall, and promptly

    assert TIMEOUT - 0.05 <= stalled.answered_after < TIMEOUT + 2.0, stalled.answered_after
    assert stalled.closed_after - stalled.answered_after < 1.0  # closed at once, not after aiohttp's 10 s linger
    status, headers, body = parse(stalled.raw)
    assert status == 408
    assert headers["Connection"] == "close"
    assert headers["Content-Type"].startswith("application/json")
    code, message = error_of(case.dialect, json.loads(body))
    assert code in (None, "request_timeout")
    assert message == f"the request body did not arrive within {TIMEOUT:g} s"

    # Nothing happened: no tenant for the key, no mode changed, and the journal has the 408.
    assert impatient.call(lambda world: [t for t in world.tenants.all() if t.key == key]) == []
    assert impatient.call(lambda world: world.processor.default_mode) == mode_before
    journal = httpx.get(f"{impatient.base_url}/_emulator/requests", params={"status": 408, "path": case.path}).json()
    assert [(e["method"], e["path"]) for e in journal["requests"]] == [(case.method, case.path)]


def test_a_slow_but_complete_body_is_served(impatient: BackgroundServer) -> None:
    """The timeout bounds the whole body, and a body that arrives in pieces within it is read
    as usual (201, the batch made)."""
    key = f"trickle-{uuid.uuid4()}"
    case = Case("/api/v4/batches", "POST", "Api-Key", "v4")
    body = b'{"metadata": {"source": "trickle"}}'

    async def trickle() -> bytes:
        reader, writer = await asyncio.open_connection(impatient.host, impatient.port)
        writer.write(head(case, key, len(body)).replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
        for start in range(0, len(body), 12):  # three pieces, 0.1 s apart
            writer.write(body[start : start + 12])
            await writer.drain()
            await asyncio.sleep(TIMEOUT / 10)
        data = await asyncio.wait_for(reader.read(), 10)
        writer.close()
        return data

    status, _, answer = parse(asyncio.run(trickle()))
    assert status == 201, answer
    listed = httpx.get(f"{impatient.base_url}/api/v4/batches", headers={"Authorization": f"Api-Key {key}"}).json()
    assert [b["metadata"] for b in listed["items"]] == [{"source": "trickle"}]


def test_a_client_that_leaves_half_way_is_recorded_without_an_answer(impatient: BackgroundServer,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    """A client that closes its connection before its body is complete: nothing is stored,
    nothing is logged as an error (no traceback), and the journal records the call with no
    status (no answer reached anyone); the server goes on serving."""
    key = f"gone-{uuid.uuid4()}"
    case = Case("/api/v4/batches", "POST", "Api-Key", "v4")

    async def leave() -> None:
        _, writer = await asyncio.open_connection(impatient.host, impatient.port)
        writer.write(head(case, key, 1000) + b'{"meta')
        await writer.drain()
        await asyncio.sleep(0.1)
        writer.close()
        await writer.wait_closed()

    with caplog.at_level(logging.WARNING):
        asyncio.run(leave())
        deadline = time.monotonic() + 5
        while True:
            entries = httpx.get(f"{impatient.base_url}/_emulator/requests", params={"path": case.path}).json()["requests"]
            gone = [e for e in entries if e["status"] is None and e["duration_ms"] is not None]
            if gone or time.monotonic() > deadline:
                break
            time.sleep(0.02)
    assert gone, entries
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert impatient.call(lambda world: [t for t in world.tenants.all() if t.key == key]) == []
    assert httpx.get(f"{impatient.base_url}/_emulator/health").status_code == 200


# -- the setting ---------------------------------------------------------------------------------


def test_body_timeout_setting_flag_env_and_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """``--body-timeout SECONDS`` or ``EMULATOR_BODY_TIMEOUT`` (flags win), default 30 s, and it
    reaches the world's config."""
    monkeypatch.delenv("EMULATOR_BODY_TIMEOUT", raising=False)
    assert parse_args([]).body_timeout == DEFAULT_BODY_TIMEOUT == 30.0
    assert parse_args(["--body-timeout", "0.25"]).world_config().body_timeout == 0.25
    monkeypatch.setenv("EMULATOR_BODY_TIMEOUT", "7.5")
    assert parse_args([]).body_timeout == 7.5
    assert parse_args(["--body-timeout", "2"]).body_timeout == 2.0


@pytest.mark.parametrize("value", ["0", "-1", "abc", "inf", "nan", ""])
def test_body_timeout_must_be_a_positive_number(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Zero, negative, infinite or non-numeric is a usage error (exit 2) naming the flag."""
    with pytest.raises(SystemExit) as exited:
        parse_args(["--body-timeout", value])
    assert exited.value.code == 2
    assert f"argument --body-timeout: {value!r} is not a positive number of seconds" in capsys.readouterr().err


def test_the_command_line_server_applies_it() -> None:
    """``python -m emulator --body-timeout 0.5``: a stalled body is a 408 after about 0.5 s."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--port", "0", "--body-timeout", "0.5"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "EMULATOR_BODY_TIMEOUT": ""},
    )
    try:
        assert proc.stdout is not None
        base = proc.stdout.readline().strip().rsplit(" ", 1)[-1].removesuffix("/api/v2")
        host, port = base.removeprefix("http://").split(":")

        async def stall() -> tuple[float, bytes]:
            reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(head(Case("/api/v4/batches", "POST", "Api-Key", "v4"), "cli", 100) + b"{")
            await writer.drain()
            started = time.monotonic()
            data = await asyncio.wait_for(reader.read(), 10)
            writer.close()
            return time.monotonic() - started, data

        took, data = asyncio.run(stall())
        status, _, body = parse(data)
        assert status == 408 and 0.45 <= took < 3.0, (status, took)
        assert json.loads(body)["error"]["code"] == "request_timeout"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
