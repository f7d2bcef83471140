"""The plugin as a user's project meets it: the README's fixtures example is saved into a
temporary project (its own rootdir and pytest.ini, no conftest) and run by a fresh pytest —
so the fixtures can only come from the installed package's ``pytest11`` entry point — once
plainly and once under pytest-xdist with two workers."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
INI = "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"


def readme_example() -> str:
    block = re.search(r"<!-- fixtures-example -->\s*```python\n(.*?)```\s*<!-- /fixtures-example -->", README.read_text(), re.S)
    assert block is not None, "the README lost its fixtures example"
    return block.group(1)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pytest.ini").write_text(INI)
    (tmp_path / "test_backfill.py").write_text(readme_example())
    return tmp_path


def run_pytest(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "SYNAP_"))}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
                          cwd=project, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("workers", [[], ["-n", "2", "-v"]], ids=["plain", "xdist-2"])
def test_the_readme_example_passes_in_a_fresh_project(project: Path, workers: list[str]) -> None:
    run = run_pytest(project, *workers)
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(r"\b5 passed\b", run.stdout), run.stdout
    if workers:  # two worker processes shared the five tests, each with a server of its own
        assert "2 workers [5 items]" in run.stdout, run.stdout


def test_a_failing_assertion_in_the_project_fails_its_run(project: Path) -> None:
    """The run above can fail: the same example with one expectation changed does."""
    example = (project / "test_backfill.py").read_text().replace("succeeded_items == 3", "succeeded_items == 4")
    (project / "test_backfill.py").write_text(example)
    run = run_pytest(project)
    assert run.returncode == 1 and re.search(r"\b1 failed, 4 passed\b", run.stdout), run.stdout


def test_a_misspelt_marker_setting_is_a_usage_error(project: Path) -> None:
    (project / "test_backfill.py").write_text(
        "import pytest\n\n@pytest.mark.emulator(procesing='manual')\ndef test_x(emulator):\n    pass\n")
    run = run_pytest(project)
    assert run.returncode != 0 and "unknown setting(s) ['procesing']" in run.stdout + run.stderr
