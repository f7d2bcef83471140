"""The README's plug-in example, run as written: the block is saved as ``crm_plugin.py``, the
server is started with ``--plugin crm_plugin``, and CRM episodes sent through zep-cloud 4.0.1
come back as the dated edges the README describes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest
from zep_cloud.client import Zep

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_plugin() -> str:
    block = re.search(r"<!-- plugin-example -->\s*```python\n(.*?)```\s*<!-- /plugin-example -->", README.read_text(), re.S)
    assert block is not None, "the README lost its plug-in example"
    return block.group(1)


@pytest.fixture
def plugin_server(tmp_path: Path) -> Iterator[str]:
    (tmp_path / "crm_plugin.py").write_text(readme_plugin())
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--port", "0", "--processing", "instant", "--plugin", "crm_plugin"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    match = re.search(r"(http://\S+)/api/v2", first)
    assert match is not None, first + (proc.stderr.read() if proc.stderr else "")
    yield f"{match.group(1)}/api/v4"
    proc.terminate()
    proc.wait(timeout=10)


def test_the_readme_plugin_turns_crm_records_into_dated_stages(plugin_server: str) -> None:
    zep = Zep(api_key="readme", base_url=plugin_server, max_retries=0)
    graph = zep.graph.create(name="crm").uuid_
    assert graph is not None
    for when, stage in (("2024-01-01", "trial"), ("2024-03-01", "paid"), ("2024-09-01", "churned")):
        zep.graph.episode.add(graph, data=f'{{"account": "Acme", "stage": "{stage}"}}', type="json",
                              source_description="crm", reference_time=f"{when}T00:00:00Z")
    zep.graph.episode.add(graph, data='{"name": "Acme", "stage": "ignored"}', type="json",
                          source_description="other", reference_time="2024-10-01T00:00:00Z")
    edges = list(zep.graph.edge.list(graph, order_by="valid_at", order="asc"))
    assert [(e.name, e.target_node_name, e.valid_at, e.invalid_at) for e in edges] == [
        ("HAS_STAGE", "trial", "2024-01-01T00:00:00Z", "2024-03-01T00:00:00Z"),  # replaced by paid
        ("HAS_STAGE", "paid", "2024-03-01T00:00:00Z", "2024-09-01T00:00:00Z"),  # retired by the churn rule
        ("CHURNED", "churned", "2024-09-01T00:00:00Z", None),
        ("STAGE", "ignored", "2024-10-01T00:00:00Z", None),  # not "crm": the built-in JSON extractor
    ]
