"""The CDK app, built and synthesized from Python with no CDK CLI, no Docker and no AWS
credentials:

    synth(Path("cdk.out"))            # -> cdk.out/PrimeVod.template.json (and the asset)
    synth(Path("cdk.out"), nag=True)  # the same, checked by cdk-nag's AwsSolutions pack
    build_app().synth()               # what deploy/aws/app.py runs under `cdk deploy`

Context (`cdk deploy -c key=value` or cdk.json): `primevod:ladder` (the ladder policy of
every title, default `aws-vod`), `primevod:profile` (`dev`: sources of 30 s at most, as the
local dev profile), `primevod:cors_origins` (comma-separated origins allowed to
call the API, PUT parts and read the packages, default `*`). Deploy-time parameters:
`SigningPublicKey`, `SigningPrivateKeyName` (delivery.py), `BudgetMonthlyUsd` (governance.py)."""

from __future__ import annotations

import os
from pathlib import Path

from aws_cdk import App, Validations

from primevod.aws.bundle import build_bundle
from primevod.aws.cdk.nag import acknowledge_findings
from primevod.aws.cdk.stack import DEFAULT_LADDER, PrimeVodStack

STACK_NAME = "PrimeVod"
DESCRIPTION = (
    "prime-vod video on demand: S3, Step Functions, Lambda, MediaConvert, DynamoDB, SNS/SQS, "
    "API Gateway"
)


def default_bundle_dir() -> Path:
    """Where the Lambda bundle is kept between runs (a second build reuses it)."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "primevod" / "lambda-bundle"


def build_app(outdir: Path | None = None, bundle: Path | None = None) -> App:
    """The app with its one stack; the bundle is built (or reused) unless given."""
    app = App(outdir=str(outdir) if outdir else None, analytics_reporting=False)

    def context(key: str, default: str = "") -> str:
        return str(app.node.try_get_context(f"primevod:{key}") or default)

    stack = PrimeVodStack(
        app,
        STACK_NAME,
        bundle=bundle or build_bundle(default_bundle_dir()),
        ladder=context("ladder", DEFAULT_LADDER),
        profile=context("profile", "default"),
        cors_origins=[o.strip() for o in context("cors_origins", "*").split(",") if o.strip()],
        description=DESCRIPTION,
    )
    acknowledge_findings(stack)
    return app


class NagFindings(Exception):
    """cdk-nag found what nag.py does not acknowledge; `report` is CDK's validation report."""

    def __init__(self, report: Path) -> None:
        super().__init__(f"cdk-nag findings, see {report}")
        self.report = report


def synth(outdir: Path, bundle: Path | None = None, *, nag: bool = False) -> Path:
    """Synthesize into `outdir`; the path of the stack's template. With `nag`, cdk-nag's
    AwsSolutions pack checks the app first (NagFindings when a finding is left)."""
    app = build_app(outdir, bundle)
    if nag:
        from cdk_nag import AwsSolutionsChecks

        Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    try:
        assembly = app.synth()
    except Exception:
        report = outdir / "validation-report.json"
        if nag and report.exists():
            raise NagFindings(report) from None
        raise
    return Path(assembly.get_stack_by_name(STACK_NAME).template_full_path)
