"""``--state-file``: a dev server keeps its data across a restart, and refuses (exit 2) a file
that is not a snapshot instead of overwriting it on the way out."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx


def _start(*args: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "emulator", "--port", "0", "--processing", "instant", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    assert proc.stdout is not None
    first = proc.stdout.readline()
    match = re.search(r"(http://\S+)/api/v2", first)
    assert match, first + (proc.stderr.read() if proc.stderr and proc.poll() is not None else "")
    return proc, match.group(1)


def _stop(proc: subprocess.Popen[str]) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=30)


def test_the_world_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    auth = {"Authorization": "Api-Key dev"}
    proc, base = _start("--state-file", str(state))
    try:
        graph = httpx.post(f"{base}/api/v4/graphs", json={"name": "kept"}, headers=auth).json()
        batch = httpx.post(f"{base}/api/v4/batches", json={}, headers=auth).json()
        items = [{"type": "graph_episode", "graph_uuid": graph["uuid"], "data": "Alice works at Acme."}]
        httpx.post(f"{base}/api/v4/batches/{batch['uuid']}/items", json={"items": items}, headers=auth).raise_for_status()
        httpx.post(f"{base}/api/v4/batches/{batch['uuid']}/process", headers=auth).raise_for_status()
        edges = httpx.post(f"{base}/api/v4/graphs/{graph['uuid']}/edges/list", json={}, headers=auth).json()["items"]
    finally:
        assert _stop(proc) == 0
    saved = json.loads(state.read_text())
    assert (saved["format"], saved["scope"], len(saved["tenants"])) == ("memory-batch-emulator/state", "world", 1)
    proc, base = _start("--state-file", str(state))
    try:
        assert httpx.get(f"{base}/api/v4/batches/{batch['uuid']}", headers=auth).json()["status"] == "succeeded"
        again = httpx.post(f"{base}/api/v4/graphs/{graph['uuid']}/edges/list", json={}, headers=auth).json()["items"]
        assert again == edges and len(edges) == 1
    finally:
        assert _stop(proc) == 0


def test_a_file_that_is_not_a_snapshot_stops_the_server(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text('{"format": "something else"}')
    proc = subprocess.run([sys.executable, "-m", "emulator", "--port", "0", "--state-file", str(state)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "is not a snapshot this server can load" in proc.stderr and "Traceback" not in proc.stderr
    assert state.read_text() == '{"format": "something else"}'  # left as it was
