"""The CDK app, built and synthesized from Python with no CDK CLI, no Docker and no AWS
credentials:

    synth(Path("cdk.out"))            # -> cdk.out/PrimeVod.template.json (and the asset)
    synth(Path("cdk.out"), nag=True)  # the same, checked by cdk-nag's AwsSolutions pack
    build_app().synth()               # what deploy/aws/app.py runs under `cdk deploy`

Context (`cdk deploy -c key=value` or cdk.json): `primevod:ladder` (the ladder policy of
every title, default `aws-vod`), `primevod:codecs` (its codec families, e.g. `h264,av1`,
default `h264,av1`; an unknown one fails the synth), `primevod:profile` (`dev`: sources of
30 s at most, as the local dev profile), `primevod:cors_origins` (comma-separated origins
allowed to call the API, PUT parts and read the packages, default `*`). Deploy-time parameters:
`SigningPublicKey`, `SigningPrivateKeyName` (delivery.py), `BudgetMonthlyUsd` (governance.py).

Flags (context, `on` or `off`, default `off`):
- `primevod:search`: an OpenSearch domain indexed from the assets table's stream (search.py);
- `primevod:analytics`: a Glue table over CloudFront's access logs and an Athena workgroup
  (analytics.py);
- `primevod:cicd`: a second stack, `PrimeVodCiCd`, the pipeline that tests the repository
  and deploys `PrimeVod` (cicd.py). Off by default so that the app stays one stack
  (`cdk deploy` needs no stack name), and the pipeline's own deploy, which synthesizes the
  app with deploy/aws/cdk.json's context, does not build the pipeline's stack at all."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aws_cdk import App, Validations

from primevod.aws.bundle import build_bundle
from primevod.aws.cdk.cicd import PrimeVodCiCdStack
from primevod.aws.cdk.nag import acknowledge_cicd_findings, acknowledge_findings
from primevod.aws.cdk.stack import DEFAULT_CODECS, DEFAULT_LADDER, PrimeVodStack
from primevod.core.codec_families import codecs_text, parse_codecs

STACK_NAME = "PrimeVod"
CICD_STACK_NAME = "PrimeVodCiCd"
FLAGS = ("search", "analytics", "cicd")
DESCRIPTION = (
    "prime-vod video on demand: S3, Step Functions, Lambda, MediaConvert, DynamoDB, SNS/SQS, "
    "API Gateway"
)
CICD_DESCRIPTION = (
    "prime-vod CI/CD: CodePipeline (CodeStar connection source), CodeBuild tests, cdk deploy"
)


def default_bundle_dir() -> Path:
    """Where the Lambda bundle is kept between runs (a second build reuses it)."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "primevod" / "lambda-bundle"


def build_app(
    outdir: Path | None = None,
    bundle: Path | None = None,
    context: Mapping[str, Any] | None = None,
) -> App:
    """The app with its stack (and the CI/CD stack when `primevod:cicd` is on); the bundle
    is built (or reused) unless given. `context` adds to the CDK CLI's (`-c key=value`)."""
    app = App(
        outdir=str(outdir) if outdir else None,
        analytics_reporting=False,
        context=dict(context or {}),
    )

    def setting(key: str, default: str = "") -> str:
        return str(app.node.try_get_context(f"primevod:{key}") or default)

    flags = {name: flag(app.node.try_get_context(f"primevod:{name}"), name) for name in FLAGS}
    stack = PrimeVodStack(
        app,
        STACK_NAME,
        bundle=bundle or build_bundle(default_bundle_dir()),
        ladder=setting("ladder", DEFAULT_LADDER),
        codecs=codecs_text(parse_codecs(setting("codecs", DEFAULT_CODECS))),
        profile=setting("profile", "default"),
        cors_origins=[o.strip() for o in setting("cors_origins", "*").split(",") if o.strip()],
        search=flags["search"],
        analytics=flags["analytics"],
        description=DESCRIPTION,
    )
    acknowledge_findings(stack)
    if flags["cicd"]:
        cicd = PrimeVodCiCdStack(
            app, CICD_STACK_NAME, deploy_stack=STACK_NAME, description=CICD_DESCRIPTION
        )
        acknowledge_cicd_findings(cicd)
    return app


def flag(value: object, name: str = "flag") -> bool:
    """A context flag: `on`/`off` (also true/false, 1/0, yes/no, and JSON booleans from
    cdk.json); absent is off. Anything else is refused rather than guessed."""
    if value is None or isinstance(value, bool):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("on", "true", "1", "yes"):
        return True
    if text in ("off", "false", "0", "no", ""):
        return False
    raise ValueError(f"primevod:{name} is {value!r}: on or off")


class NagFindings(Exception):
    """cdk-nag found what nag.py does not acknowledge; `report` is CDK's validation report."""

    def __init__(self, report: Path) -> None:
        super().__init__(f"cdk-nag findings, see {report}")
        self.report = report


def synth(
    outdir: Path,
    bundle: Path | None = None,
    *,
    nag: bool = False,
    context: Mapping[str, Any] | None = None,
) -> Path:
    """Synthesize into `outdir`; the path of the `PrimeVod` stack's template (the CI/CD
    stack's, when on, is `PrimeVodCiCd.template.json` beside it). With `nag`, cdk-nag's
    AwsSolutions pack checks the app first (NagFindings when a finding is left)."""
    app = build_app(outdir, bundle, context)
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
