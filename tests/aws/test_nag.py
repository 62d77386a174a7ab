"""cdk-nag's AwsSolutions pack over the app: every finding is fixed in the constructs or
acknowledged with its reason on the construct it concerns (primevod/aws/cdk/nag.py), with
the optional parts off (the default) and on (search, analytics, the CI/CD stack); and
without those acknowledgments the pack does report them (it runs)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from cdk_template import ALL_FLAGS

pytest.importorskip("aws_cdk")
pytest.importorskip("cdk_nag")


def _nag(bundle: Path, outdir: Path, context: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The unacknowledged AwsSolutions findings of the app."""
    from primevod.aws.cdk.app import NagFindings, synth

    with contextlib.suppress(NagFindings):  # the report says which
        synth(outdir, bundle, nag=True, context=context)
    report = json.loads((outdir / "validation-report.json").read_text())
    return [v for r in report["pluginReports"] for v in r.get("violations", [])]


def test_aws_solutions_checks_leave_no_unacknowledged_finding(
    lambda_bundle: Path, tmp_path: Path
) -> None:
    violations = _nag(lambda_bundle, tmp_path / "cdk.out")
    assert not violations, json.dumps(violations, indent=1)[:6000]


def test_with_every_flag_on_no_finding_is_left_either(lambda_bundle: Path, tmp_path: Path) -> None:
    violations = _nag(lambda_bundle, tmp_path / "cdk.out", ALL_FLAGS)
    assert not violations, json.dumps(violations, indent=1)[:6000]
    stacks = json.loads((tmp_path / "cdk.out" / "manifest.json").read_text())["artifacts"]
    assert {"PrimeVod", "PrimeVodCiCd"} <= set(stacks)  # both were checked


def test_without_the_acknowledgments_the_findings_show(
    lambda_bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from primevod.aws.cdk import app

    monkeypatch.setattr(app, "acknowledge_findings", lambda _stack: None)
    rules = {v["ruleName"] for v in _nag(lambda_bundle, tmp_path / "cdk.out")}
    print("acknowledged AwsSolutions findings:", ", ".join(sorted(rules)))
    assert {"AwsSolutions-L1", "AwsSolutions-S1"} <= rules
    assert "AwsSolutions-APIG4" not in rules  # every route has the authorizer
