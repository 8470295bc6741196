"""Schemathesis over the app's own OpenAPI (native `/v1`, Agno AgentOS and memories.ai routes),
through the ASGI app in-process: no answer is a 5xx, and every answer matches the schema the
route declares.

Each operation gets valid requests (positive mode) and requests that break its schema (negative
mode), as an admin of one tenant. Generation is derandomized, so a run is reproducible. The run is
bounded for the suite; for a longer one set the number of examples per operation and mode:

    CONVOSTORE_TEST_FUZZ_EXAMPLES=200 .venv/bin/pytest tests/security/test_fuzz_openapi.py

(`CONVOSTORE_TEST_FUZZ_SEED=<int>` switches from derandomized to seeded random generation.)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from convostore.auth import KeyService
from convostore.config import Settings
from convostore.server import create_app
from convostore.storage import SqlStore

# The operations come from the app itself, built without a database (nothing connects at build).
SCHEMA = schemathesis.openapi.from_dict(create_app(Settings(database_url="sqlite://")).openapi())
OPERATIONS = sorted(result.ok().label for result in SCHEMA.get_all_operations())
# Negative mode needs something with a schema to break; a free-form path string has none.
NEGATABLE = {
    r.ok().label
    for r in SCHEMA.get_all_operations()
    if len(r.ok().query) or len(r.ok().body) or len(r.ok().headers)
}
CASES = [
    (label, mode)
    for label in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or label in NEGATABLE
]
DEFAULT_EXAMPLES = {"sqlite": 5, "postgresql": 2}


@dataclass
class Target:
    app: Any
    headers: dict[str, str]
    examples: int


@pytest.fixture(scope="module")
def target(module_store: SqlStore, module_database_url: str) -> Target:
    backend = "sqlite" if module_database_url.startswith("sqlite") else "postgresql"
    app = create_app(Settings(database_url=module_database_url), store=module_store)
    key = KeyService(module_store).create("fuzz", "admin").key
    examples = int(os.environ.get("CONVOSTORE_TEST_FUZZ_EXAMPLES", DEFAULT_EXAMPLES[backend]))
    return Target(app=app, headers={"Authorization": f"Bearer {key}"}, examples=examples)


def _operation(label: str) -> Any:
    method, path = label.split(" ", 1)
    return SCHEMA[path][method]


def _expected_server_error(case: Any, response: Any) -> bool:
    """AgentOS answers `delete_media=true` with 503 when it has no media storage; so do we."""
    query = case.query or {}
    return response.status_code == 503 and str(query.get("delete_media")).lower() == "true"


def test_every_route_is_in_the_schema() -> None:
    """Routes hidden from the schema would escape the fuzzer; only known aliases may."""
    assert len(OPERATIONS) >= 45
    assert "GET /serve/api/v1/list_sessions" in OPERATIONS
    assert "POST /v1/sessions/{session_id}/messages" in OPERATIONS
    assert "GET /sessions/{session_id}/runs/{run_id}" in OPERATIONS


@pytest.mark.parametrize(("label", "mode"), CASES, ids=[f"{lb}-{m.value}" for lb, m in CASES])
def test_operation(target: Target, label: str, mode: GenerationMode) -> None:
    operation = _operation(label)
    chosen_seed = os.environ.get("CONVOSTORE_TEST_FUZZ_SEED")

    @settings(
        max_examples=target.examples,
        derandomize=chosen_seed is None,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def fuzz(case: Any) -> None:
        response = case.call(app=target.app, headers=target.headers)
        if _expected_server_error(case, response):
            return
        case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

    if chosen_seed is not None:
        fuzz = seed(int(chosen_seed))(fuzz)
    try:
        fuzz()
    except Unsatisfiable:
        # every parameter of this operation accepts anything (free-form strings)
        assert mode is GenerationMode.NEGATIVE
