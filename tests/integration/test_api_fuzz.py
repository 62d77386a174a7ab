"""The HTTP API fuzzed from its own OpenAPI document (schemathesis) against a real server with an
admin key: whatever the request, the answer is never a 5xx and never shows a traceback (an
invalid request gets a 4xx that says why).

Bounded for CI: a fixed number of examples per operation, derandomized (the same cases on
every run, so a failure reproduces), no per-example deadline."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

EXAMPLES = int(os.environ.get("PRIMEVOD_FUZZ_EXAMPLES", "25"))


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory):
    from support.server import Server

    server = Server(
        tmp_path_factory.mktemp("fuzzhome"),
        # no scheduled canary (it would reach out while the fuzzer runs)
        PRIMEVOD_CANARY_INTERVAL_MINUTES="0",
        PRIMEVOD_ENCODE_CONCURRENCY="1",
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def api_schema(fuzz_server):
    return schemathesis.openapi.from_url(f"{fuzz_server.base}/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error(case, fuzz_server) -> None:
    response = case.call(base_url=fuzz_server.base, headers=fuzz_server.auth("admin"), timeout=30)
    shown = (
        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:500]}\n"
        f"server output (end):\n{fuzz_server.output()[-3000:]}"
    )
    assert response.status_code < 500, shown
    assert "Traceback" not in response.text, shown
