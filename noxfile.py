"""The test command: ``nox`` runs both sessions.

The two zep-cloud lines are one import name (``zep_cloud``) and cannot share an environment,
so each gets its own:
- ``tests``: zep-cloud 4.0.1 (wire v4), zep-ingest 0.4.0 and maximem-synap 0.6.9, plus every
  test that needs no SDK (core, server);
- ``tests_v2``: zep-cloud 3.30.0 (wire v2), running ``tests/sdk_v2`` and the contract suite's
  wire-v2 machine.

Both run ``contracts/`` (the contract suite) against the in-process emulator; its other targets
are options: ``nox -s tests -- contracts --contract-target=zep``.
Extra arguments go to pytest: ``nox -s tests -- -k lifecycle``.
"""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "tests_v2"]
nox.options.error_on_missing_interpreters = True

SDK_V4 = ["zep-cloud==4.0.1", "zep-ingest==0.4.0", "maximem-synap==0.6.9"]
SDK_V2 = ["zep-cloud==3.30.0"]


@nox.session
def tests(session: nox.Session) -> None:
    """Core, server, wire-v4 and Synap tests, through zep-cloud 4.0.1, zep-ingest 0.4.0 and
    maximem-synap 0.6.9."""
    session.install("-e", ".[test]", *SDK_V4)
    session.run("pytest", *session.posargs)


@nox.session
def tests_v2(session: nox.Session) -> None:
    """Wire-v2 tests and the wire-v2 contract machine, through zep-cloud 3.30.0."""
    session.install("-e", ".[test]", *SDK_V2)
    session.run("pytest", *(session.posargs or ["tests/sdk_v2", "contracts/test_zep.py"]))
