"""Fuzzing every operation of the served OpenAPI document with schemathesis, over real HTTP.

Each operation gets generated requests — valid ones and, in the negative mode, ones that break
its schema — and every answer must: not be a 5xx; have a status the document lists for the
operation; be JSON when the document says so; match the document's schema for that status;
and refuse (4xx) a request that breaks the schema.

The server is one of its own (instant processing). Calls carry one API key as a Bearer token
(the one scheme every dialect takes), so Zep and Synap calls land on that key's tenants; control-plane calls can change the whole server (a fault
rule, the rate-limit mode, a restored snapshot), so the world is reset after each of them.

Budget: ``FUZZ_EXAMPLES`` examples per operation and mode (default 10, about a minute for the
~90 operations on a 2-core machine); ``FUZZ_EXAMPLES=200 pytest tests/server/test_openapi_fuzz.py``
is the longer run, with the coverage phase (boundary values of every parameter) switched on
once the budget is over 50.
"""

from __future__ import annotations

import os
from typing import Iterator

import pytest
import requests
import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from emulator.app import DIALECTS
from emulator.core.processor import ProcessingMode
from emulator.core.world import WorldConfig
from emulator.server import BackgroundServer
from emulator.wire.openapi import build_document

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
KEY = "fuzz-key"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection]

schema = schemathesis.openapi.from_dict(build_document(DIALECTS))
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    max_examples=EXAMPLES,
    deterministic=True,
    with_security_parameters=False,
)
schema.config.phases.update(phases=["examples", "fuzzing", *(["coverage"] if EXAMPLES > 50 else [])])


@pytest.fixture(scope="module")
def fuzz_server() -> Iterator[BackgroundServer]:
    with BackgroundServer(WorldConfig(processing=ProcessingMode.INSTANT)) as srv:
        yield srv


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as http:
        yield http


def test_the_fuzzed_document_is_the_served_one(fuzz_server: BackgroundServer, session: requests.Session) -> None:
    served = session.get(f"{fuzz_server.base_url}/_emulator/openapi.json", timeout=30).json()
    assert served == build_document(DIALECTS)


@schema.parametrize()
def test_operation(case: schemathesis.Case, fuzz_server: BackgroundServer, session: requests.Session) -> None:
    try:
        response = case.call(base_url=fuzz_server.base_url, session=session, headers={"Authorization": f"Bearer {KEY}"},
                             timeout=30)
        case.validate_response(response, checks=CHECKS)
    finally:
        if case.operation.path.startswith("/_emulator"):
            fuzz_server.call(lambda world: world.reset())
