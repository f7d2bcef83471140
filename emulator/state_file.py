"""``--state-file``: the whole world loaded from a snapshot file at start and written back on a
clean shutdown (SIGINT or SIGTERM), so a dev server keeps its data across restarts.

The file is a world snapshot (core/snapshot: versioned JSON, never pickle). A missing file is
a fresh start; one that is not JSON or not a valid snapshot stops the server before it listens
(exit 2), rather than being overwritten on the way out. Writing goes to a temporary file in the
same directory, renamed over the old one, so a crash mid-write never leaves half a snapshot.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import orjson

from .core.errors import EmulatorError
from .core.snapshot import dump_world, load_world
from .core.world import World


class StateFileError(RuntimeError):
    """A state file that cannot be read as a world snapshot."""


def load_state_file(world: World, path: Path) -> bool:
    """Load *path* into *world*; False (and nothing done) when the file does not exist."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise StateFileError(f"cannot read the state file {path}: {exc}") from None
    try:
        load_world(world, orjson.loads(raw))
    except orjson.JSONDecodeError as exc:
        raise StateFileError(f"the state file {path} is not JSON: {exc}") from None
    except EmulatorError as exc:
        raise StateFileError(f"the state file {path} is not a snapshot this server can load: {exc.message}") from None
    return True


def save_state_file(world: World, path: Path) -> None:
    data = orjson.dumps(dump_world(world))
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or Path("."))
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
