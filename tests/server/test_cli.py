"""``python -m emulator``: flags and env vars, the start-up lines, health, clean shutdown."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from typing import Iterator

import httpx
import pytest

from emulator import __version__
from emulator.settings import parse_args


def _start(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], list[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    assert proc.stdout is not None
    lines = [proc.stdout.readline().strip() for _ in range(4)]
    return proc, lines


@pytest.fixture
def started() -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    proc, lines = _start("--processing", "manual", "--seed", "7")
    yield proc, lines
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def _base(lines: list[str]) -> str:
    match = re.search(r"(http://127\.0\.0\.1:\d+)/api/v2$", lines[0])
    assert match, lines
    return match.group(1)


def test_prints_one_line_per_api_and_answers_health(started: tuple[subprocess.Popen[str], list[str]]) -> None:
    _, lines = started
    base = _base(lines)
    assert lines[1] == f"Zep API v4 (zep-cloud 4.x): {base}/api/v4"
    assert lines[2] == f"Synap API (maximem-synap): {base}"
    health = httpx.get(f"{base}/_emulator/health")
    assert health.status_code == 200
    body = health.json()
    assert body["version"] == __version__
    assert body["processing"] == "manual"
    assert body["apis"] == {"zep_v2": f"{base}/api/v2", "zep_v4": f"{base}/api/v4", "synap": base}
    assert httpx.get(f"{base}/health").json() == {"status": "ok"}  # the Synap SDK's heartbeat


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signals_stop_it_cleanly_with_exit_0(sig: signal.Signals) -> None:
    proc, lines = _start()
    assert httpx.get(f"{_base(lines)}/_emulator/health").status_code == 200
    proc.send_signal(sig)
    assert proc.wait(timeout=10) == 0
    assert "Traceback" not in proc.stderr.read()  # type: ignore[union-attr]


def test_seed_makes_ids_repeatable() -> None:
    ids = []
    for _ in range(2):
        proc, lines = _start("--seed", "42")
        try:
            headers = {"Authorization": "Api-Key k"}
            ids.append(httpx.post(f"{_base(lines)}/api/v4/batches", json={}, headers=headers).json()["uuid"])
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=10)
    assert ids[0] == ids[1]


def test_configured_keys_refuse_others() -> None:
    proc, lines = _start("--api-key", "good", "--api-key", "also-good")
    try:
        base = _base(lines)
        assert httpx.get(f"{base}/api/v4/batches", headers={"Authorization": "Api-Key also-good"}).status_code == 200
        refused = httpx.get(f"{base}/api/v4/batches", headers={"Authorization": "Api-Key other"})
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "unauthorized"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


def test_port_in_use_is_a_clear_error() -> None:
    proc, lines = _start()
    try:
        port = _base(lines).rsplit(":", 1)[1]
        second = subprocess.run(
            [sys.executable, "-m", "emulator", "--port", port], capture_output=True, text=True, timeout=20
        )
        assert second.returncode == 1
        assert f"cannot listen on 127.0.0.1:{port}" in second.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


def test_env_vars_fill_flags_and_flags_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMULATOR_PROCESSING", "instant")
    monkeypatch.setenv("EMULATOR_PORT", "0")
    monkeypatch.setenv("EMULATOR_ITEM_SECONDS", "0.5")
    monkeypatch.setenv("EMULATOR_API_KEY", "a,b")
    monkeypatch.setenv("EMULATOR_SEED", "3")
    monkeypatch.setenv("EMULATOR_REASSERT", "graphiti_fastpath")
    monkeypatch.setenv("EMULATOR_PLUGIN", "p1,p2")
    settings = parse_args([])
    assert (settings.reassert, settings.plugins) == ("graphiti_fastpath", ["p1", "p2"])
    assert parse_args(["--plugin", "p3"]).plugins == ["p3"]
    assert (settings.processing.value, settings.port, settings.item_seconds, settings.api_keys, settings.seed) == (
        "instant",
        0,
        0.5,
        ["a", "b"],
        3,
    )
    assert parse_args(["--processing", "manual", "--api-key", "c"]).processing.value == "manual"
    assert parse_args(["--api-key", "c"]).api_keys == ["c"]


@pytest.mark.parametrize(
    "env, args, message",
    [
        ({"EMULATOR_PORT": "abc"}, [], "argument --port: 'abc' is not a port"),
        ({}, ["--port", "70000"], "argument --port: '70000' is not a port"),
        ({"EMULATOR_SEED": "x"}, [], "argument --seed: invalid int value: 'x'"),
        ({"EMULATOR_PROCESSING": "fast"}, [], "argument --processing: 'fast' is not one of realtime, instant, manual"),
        ({}, ["--item-seconds", "-1"], "argument --item-seconds: '-1' is not a non-negative number of seconds"),
        ({}, ["--log-level", "LOUD"], "argument --log-level: 'LOUD' is not a logging level"),
        ({"EMULATOR_REASSERT": "merge"}, [], "argument --reassert: 'merge' is not one of revive, graphiti_fastpath"),
        ({}, ["--synap-isolation", "b2c"], "argument --synap-isolation: 'b2c' is not one of strict, equals_customer"),
        ({}, ["--plugin", "no_such_plugin_module"], "plugin 'no_such_plugin_module' cannot be imported"),
        ({"EMULATOR_PLUGIN": "json"}, [], "plugin 'json' has no register(registry) function"),
    ],
)
def test_bad_settings_are_usage_errors(env: dict[str, str], args: list[str], message: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "emulator", *args], capture_output=True, text=True, timeout=20, env={**os.environ, **env}
    )
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr
