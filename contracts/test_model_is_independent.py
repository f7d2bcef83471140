"""The reference model must not be the emulator checking itself: nothing under
``contracts/model/`` imports the emulator, and importing the model loads no emulator module."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

MODEL = Path(__file__).parent / "model"


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_no_model_module_imports_the_emulator() -> None:
    files = sorted(MODEL.glob("*.py"))
    assert len(files) >= 4  # __init__, answers, zep, synap, temporal
    offenders = {f.name: sorted(n for n in imported_modules(f) if n.split(".")[0] == "emulator") for f in files}
    assert {name: found for name, found in offenders.items() if found} == {}


def test_importing_the_model_loads_no_emulator_module() -> None:
    root = Path(__file__).parent.parent
    code = ("import sys; import contracts.model.zep, contracts.model.synap, contracts.model.temporal; "
            "print(sorted(m for m in sys.modules if m == 'emulator' or m.startswith('emulator.')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
