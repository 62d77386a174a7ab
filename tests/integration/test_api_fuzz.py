"""The HTTP API fuzzed from its own OpenAPI document (schemathesis) against a real server with an
admin key: whatever the request, the answer is never a 5xx and never shows a traceback (an
invalid request gets a 4xx that says why).

Bounded for CI: a fixed number of examples per operation, derandomized (the same cases on
every run, so a failure reproduces), no per-example deadline."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

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


def _fuzz(operation, server) -> list[str]:  # type: ignore[no-untyped-def]
    """The operation's generated cases sent to the server: what went wrong, if anything."""
    problems: list[str] = []

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case) -> None:  # type: ignore[no-untyped-def]
        response = case.call(base_url=server.base, headers=server.auth("admin"), timeout=30)
        if response.status_code >= 500 or "Traceback" in response.text:
            problems.append(
                f"{case.method} {case.formatted_path} {case.query or ''} -> "
                f"{response.status_code}: "
                f"{response.text[:500]}"
            )

    check()
    return problems


def test_no_server_error(fuzz_server) -> None:  # type: ignore[no-untyped-def]
    """Every operation of the OpenAPI document, each with its own generated cases (the plain
    Hypothesis API: schemathesis's pytest plugin depends on pytest internals that move)."""
    schema = schemathesis.openapi.from_url(f"{fuzz_server.base}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 30  # the whole API, not an empty document
    problems = [p for operation in operations for p in _fuzz(operation, fuzz_server)]
    shown = "\n".join(problems[:10]) + f"\nserver output (end):\n{fuzz_server.output()[-3000:]}"
    assert not problems, shown
