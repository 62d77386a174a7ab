"""The AWS shape, offline: the Lambda bundle built once and the CDK app synthesized once per
session, shared by the template, cfn-lint, ASL, nag and CLI tests; and once more with every
flag on (search, analytics and the CI/CD stack), for their tests. What needs the CDK skips
only when aws_cdk (the `aws` extra) cannot be imported; the bundle and job-settings tests
need no CDK and always run."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cdk_template import ALL_FLAGS

# jsii's notices about the Node.js version (Debian ships Node 20): not the tests' business
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


ASL = "asl-validator@4"


@pytest.fixture(scope="session")
def lambda_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from primevod.aws.bundle import build_bundle

    return build_bundle(tmp_path_factory.mktemp("aws") / "bundle")


@pytest.fixture(scope="session")
def template_path(lambda_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from primevod.aws.cdk.app import synth

    return synth(tmp_path_factory.mktemp("aws") / "cdk.out", lambda_bundle)


@pytest.fixture(scope="session")
def template_json(template_path: Path) -> dict[str, Any]:
    return json.loads(template_path.read_text())


@pytest.fixture(scope="session")
def flags_template_path(lambda_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `PrimeVod` stack's template with search and analytics on (and the CI/CD stack's
    template beside it)."""
    from primevod.aws.cdk.app import synth

    return synth(tmp_path_factory.mktemp("aws") / "cdk.out", lambda_bundle, context=ALL_FLAGS)


@pytest.fixture(scope="session")
def flags_template_json(flags_template_path: Path) -> dict[str, Any]:
    return json.loads(flags_template_path.read_text())


@pytest.fixture(scope="session")
def cicd_template_path(flags_template_path: Path) -> Path:
    from primevod.aws.cdk.app import CICD_STACK_NAME

    return flags_template_path.parent / f"{CICD_STACK_NAME}.template.json"


@pytest.fixture(scope="session")
def cicd_template_json(cicd_template_path: Path) -> dict[str, Any]:
    return json.loads(cicd_template_path.read_text())


@pytest.fixture(scope="session")
def template(template_json: dict[str, Any]) -> Any:
    from aws_cdk.assertions import Template

    return Template.from_json(template_json)


@pytest.fixture(scope="session")
def definition(template_json: dict[str, Any]) -> dict[str, Any]:
    """The state machine's definition as JSON, references replaced by placeholder ARNs."""
    from primevod.aws.cdk.definition import render_definition

    return render_definition(template_json)


@pytest.fixture(scope="session")
def asl_validator(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `asl-validator` command from npm, installed once per session (CI installs it
    the same way; a machine that cannot is a failure, not a skip)."""
    prefix = tmp_path_factory.mktemp("node")
    done = subprocess.run(
        ["npm", "install", "--no-save", "--no-audit", "--no-fund", "--prefix", str(prefix), ASL],
        capture_output=True,
        text=True,
        timeout=300,
    )
    command = prefix / "node_modules" / ".bin" / "asl-validator"
    if done.returncode != 0 or not command.exists():
        pytest.fail(
            "npm could not install asl-validator (network, or npm missing?):\n"
            + done.stdout[-2000:]
            + done.stderr[-2000:]
        )
    return command
