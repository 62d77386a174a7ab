"""cfn-lint on the synthesized templates (offline): no errors in two regions, for the
`PrimeVod` stack as deployed by default and with search and analytics on, and for the
CI/CD stack. Warnings are printed, not failed: the only ones are W3005, CDK's explicit
`DependsOn` on a role that a `GetAtt` already orders."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("aws_cdk")
cfnlint_api = pytest.importorskip("cfnlint.api")

REGIONS = ["us-east-1", "eu-west-1"]
KNOWN_WARNINGS = {"W3005"}


@pytest.mark.parametrize("template", ["template_path", "flags_template_path", "cicd_template_path"])
def test_cfn_lint_finds_no_errors(template: str, request: pytest.FixtureRequest) -> None:
    template_path: Path = request.getfixturevalue(template)
    matches = cfnlint_api.lint_file(template_path, cfnlint_api.ManualArgs(regions=REGIONS))
    errors = [m for m in matches if m.rule.id.startswith("E")]
    warnings = [m for m in matches if not m.rule.id.startswith("E")]
    for match in warnings:
        print(f"cfn-lint {match.rule.id}: {match.message}")
    assert not errors, "\n".join(f"{m.rule.id} {m.message} ({m.path})" for m in errors)
    assert {m.rule.id for m in warnings} <= KNOWN_WARNINGS, [str(m) for m in warnings]
