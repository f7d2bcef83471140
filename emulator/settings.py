"""The server's settings: one pydantic model, filled from command-line flags, each of which
can also be given as an environment variable ``EMULATOR_<NAME>`` (flags win)."""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path
from typing import Callable, Optional, Sequence, TypeVar

from pydantic import BaseModel, Field

from .core.limits import DEFAULT_BODY_TIMEOUT
from .core.memories import Isolation
from .core.processor import ProcessingMode
from .core.temporal import REASSERT_POLICIES, Reassert
from .core.world import WorldConfig

T = TypeVar("T")


class Settings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    processing: ProcessingMode = ProcessingMode.REALTIME
    item_seconds: float = Field(default=0.01, ge=0)
    api_keys: list[str] = Field(default_factory=list)
    seed: Optional[int] = None
    reassert: Reassert = "revive"
    plugins: list[str] = Field(default_factory=list)
    synap_isolation: Isolation = Isolation.STRICT
    state_file: Optional[Path] = None
    log_level: str = "INFO"
    body_timeout: float = Field(default=DEFAULT_BODY_TIMEOUT, gt=0, allow_inf_nan=False)

    def world_config(self) -> WorldConfig:
        return WorldConfig(
            processing=self.processing,
            item_seconds=self.item_seconds,
            api_keys=self.api_keys or None,
            seed=self.seed,
            reassert=self.reassert,
            plugins=list(self.plugins),
            synap_isolation=self.synap_isolation,
            body_timeout=self.body_timeout,
        )


def _env(name: str, default: str | None) -> str | None:
    value = os.environ.get(f"EMULATOR_{name}")
    return value if value not in (None, "") else default


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (0-65535)")
    return int(text)


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = float("nan")
    if not seconds >= 0 or seconds == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a non-negative number of seconds")
    return seconds


def _positive_seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = float("nan")
    if not 0 < seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return seconds


def _one_of(choices: Sequence[str], convert: Callable[[str], T]) -> Callable[[str], T]:
    """A converter that takes one of *choices* (a usage error naming them otherwise)."""

    def parse(text: str) -> T:
        if text not in choices:
            raise argparse.ArgumentTypeError(f"{text!r} is not one of {', '.join(choices)}")
        return convert(text)

    return parse


_mode = _one_of([m.value for m in ProcessingMode], ProcessingMode)
_isolation = _one_of([i.value for i in Isolation], Isolation)
_reassert = _one_of(REASSERT_POLICIES, str)


def parse_args(argv: Sequence[str] | None = None) -> Settings:
    """Flags, with environment variables as defaults. Both go through the same converters
    (argparse converts a string default like a typed value), so a bad value from either is a
    usage error naming it, never a traceback."""
    parser = argparse.ArgumentParser(
        prog="memory-batch-emulator",
        description="In-memory emulator of the Zep Batch API (wire v2 and v4). "
        "Every flag can also be set as EMULATOR_<NAME>, e.g. EMULATOR_PORT=0.",
    )
    parser.add_argument("--host", default=_env("HOST", "127.0.0.1"), help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=_port, default=_env("PORT", "8000"), help="port; 0 picks a free one (default 8000)")
    parser.add_argument(
        "--processing",
        type=_mode,
        default=_env("PROCESSING", "realtime"),
        help="realtime: each item costs --item-seconds; instant: batches finish before process returns; "
        "manual: nothing moves until /_emulator/processing/step or run-until-idle (default realtime)",
    )
    parser.add_argument(
        "--item-seconds", type=_seconds, default=_env("ITEM_SECONDS", "0.01"), help="realtime cost of one item (default 0.01)"
    )
    parser.add_argument(
        "--api-key",
        action="append",
        dest="api_keys",
        default=None,
        help="accept only this key (repeatable; EMULATOR_API_KEY takes a comma-separated list). "
        "None given: any non-empty key is accepted and owns its own isolated tenant",
    )
    parser.add_argument("--seed", type=int, default=_env("SEED", None), help="seed for repeatable ids")
    parser.add_argument(
        "--reassert",
        type=_reassert,
        default=_env("REASSERT", "revive"),
        help="a fact re-asserted after it was retired: revive (a new interval; default) or "
        "graphiti_fastpath (merge into the retired edge, as Graphiti's shortcut does)",
    )
    parser.add_argument(
        "--plugin",
        action="append",
        dest="plugins",
        default=None,
        metavar="MODULE",
        help="import MODULE and call its register(registry) to add fact extractors and contradiction "
        "rules (repeatable; EMULATOR_PLUGIN takes a comma-separated list)",
    )
    parser.add_argument(
        "--synap-isolation",
        type=_isolation,
        default=_env("SYNAP_ISOLATION", "strict"),
        help="Synap tenants' user_context_isolation: strict (B2B: a user_id needs a customer_id; default) "
        "or equals_customer (B2C: no customer_id)",
    )
    parser.add_argument(
        "--state-file",
        type=Path,
        default=_env("STATE_FILE", None),
        metavar="PATH",
        help="load the world from this snapshot file at start (if it exists) and write it back on a clean "
        "shutdown (SIGINT/SIGTERM)",
    )
    parser.add_argument(
        "--body-timeout",
        type=_positive_seconds,
        default=_env("BODY_TIMEOUT", str(DEFAULT_BODY_TIMEOUT)),
        metavar="SECONDS",
        help="how long to wait for the whole body of a POST/PUT/PATCH/DELETE; a body still incomplete "
        f"is answered 408 in the API's error shape and the connection closed (default {DEFAULT_BODY_TIMEOUT:g})",
    )
    parser.add_argument("--log-level", default=_env("LOG_LEVEL", "INFO"), help="DEBUG, INFO, WARNING ... (default INFO)")
    args = parser.parse_args(argv)
    level = args.log_level.upper()
    if not isinstance(logging.getLevelName(level), int):
        parser.error(f"argument --log-level: {args.log_level!r} is not a logging level")
    keys = args.api_keys if args.api_keys is not None else [k for k in (_env("API_KEY", "") or "").split(",") if k]
    plugins = args.plugins if args.plugins is not None else [p for p in (_env("PLUGIN", "") or "").split(",") if p]
    return Settings(
        host=args.host,
        port=args.port,
        processing=args.processing,
        item_seconds=args.item_seconds,
        api_keys=keys,
        seed=args.seed,
        reassert=args.reassert,
        plugins=plugins,
        synap_isolation=args.synap_isolation,
        state_file=args.state_file,
        log_level=level,
        body_timeout=args.body_timeout,
    )
