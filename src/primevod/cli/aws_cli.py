"""`primevod aws`: the AWS shape from the command line, offline.

    primevod aws synth [--out DIR] [--bundle DIR] [--nag]  the CloudFormation template (CDK)
    primevod aws job-settings FILE [--ladder NAME]    the MediaConvert CreateJob request
    primevod aws keys create|list|revoke             API keys of a deployed stack

`synth` needs the `aws` extra (aws-cdk-lib) and Node.js (jsii runs the CDK in it); neither
`synth` nor `job-settings` needs AWS credentials; `keys` works on a deployed stack's table
with the environment's credentials."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Annotated

import typer

from primevod.cli.aws_keys_cli import keys_app
from primevod.cli.output import err, fail, fail_media
from primevod.core.aws_names import EXAMPLE_ROLE_ARN
from primevod.core.errors import MediaError

aws_app = typer.Typer(
    name="aws",
    help="The AWS shape: synthesize the CDK app, preview MediaConvert job settings, API keys.",
    no_args_is_help=True,
)
aws_app.add_typer(keys_app)


EXAMPLE_DESTINATION = "s3://destination/assets/example/1/"


@aws_app.command("synth")
def synth(
    out: Annotated[Path, typer.Option("--out", help="cloud assembly folder")] = Path("cdk.out"),
    bundle: Annotated[
        Path | None,
        typer.Option("--bundle", help="a Lambda bundle already built (default: build one)"),
    ] = None,
    nag: Annotated[
        bool, typer.Option("--nag", help="check with cdk-nag's AwsSolutions pack first")
    ] = False,
) -> None:
    """Synthesize the CDK app offline: print the template's path and the bundle's size.

    Builds the Lambda bundle (pip, no Docker) unless --bundle gives one; no AWS account is
    needed."""
    try:
        from primevod.aws.cdk.app import NagFindings, default_bundle_dir
        from primevod.aws.cdk.app import synth as synthesize
    except ImportError as exc:
        fail("aws.extra_missing", f"{exc.name} is missing: pip install 'prime-vod[aws]'")
    if shutil.which("node") is None:
        fail("aws.node_missing", "the CDK runs in Node.js (jsii): install Node.js 20 or later")
    from primevod.aws.bundle import build_bundle, bundle_size_zipped

    if bundle is None:
        err.print(f"building the Lambda bundle in {default_bundle_dir()}", highlight=False)
        try:
            bundle = build_bundle(default_bundle_dir())
        except (RuntimeError, OSError) as exc:
            fail("aws.bundle_failed", str(exc))
    elif not (bundle / "primevod" / "__init__.py").is_file():
        fail("request.invalid", f"{bundle} is not a Lambda bundle (no primevod package in it)")
    try:
        template = synthesize(out, bundle, nag=nag)
    except NagFindings as exc:
        report = json.loads(exc.report.read_text())
        for plugin in report["pluginReports"]:
            for finding in plugin.get("violations", []):
                for where in finding.get("violatingConstructs", []):
                    err.print(f"  {finding['ruleName']} {where['constructPath']}", markup=False)
        fail("aws.nag_findings", f"cdk-nag findings (report: {exc.report})", exit_code=1)
    print(template)
    print(f"bundle {bundle}: {bundle_size_zipped(bundle) / 1e6:.1f} MB zipped")


@aws_app.command("job-settings")
def job_settings(
    file: Annotated[Path, typer.Argument(help="source media file to plan for")],
    ladder: Annotated[str, typer.Option("--ladder", help="ladder policy")] = "aws-vod",
    codecs: Annotated[
        str | None,
        typer.Option(
            "--codecs",
            help="codec families, e.g. h264,hevc,av1 [default: PRIMEVOD_CODECS or h264,av1]",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print {request, notes, errors}")] = False,
    role_arn: Annotated[
        str, typer.Option("--role-arn", help="MediaConvert's IAM role")
    ] = EXAMPLE_ROLE_ARN,
    destination: Annotated[
        str, typer.Option("--destination", help="s3:// prefix of the package")
    ] = EXAMPLE_DESTINATION,
) -> None:
    """Print FILE's MediaConvert CreateJob request, checked offline (exit 2 if invalid).

    As the AWS pipeline builds it, after the source rules its Ingest step applies, checked
    against MediaConvert's model from botocore."""
    from primevod.adapters.aws.mediaconvert_model import validate_create_job
    from primevod.adapters.media.pyav_probe import probe_file
    from primevod.core.codec_families import configured_codecs
    from primevod.core.ladder import with_codecs
    from primevod.core.mediaconvert import create_job_request
    from primevod.core.policies import get_policy
    from primevod.core.source_rules import check_source

    try:
        probe = probe_file(file)
        check_source(probe)
        job = create_job_request(
            probe,
            with_codecs(
                get_policy(ladder), configured_codecs(codecs, os.environ.get("PRIMEVOD_CODECS"))
            ),
            role_arn=role_arn,
            input_url=f"s3://source/uploads/{file.name}",
            destination=destination,
        )
    except MediaError as exc:
        fail_media(exc, as_json)
    errors = validate_create_job(job.request)
    if as_json:
        print(json.dumps({"request": job.request, "notes": job.notes, "errors": errors}, indent=2))
    else:
        print(json.dumps(job.request, indent=2))
        for note in job.notes:
            err.print(f"note: {note}", highlight=False, soft_wrap=True)
    if errors:
        err.print(
            f"[red]error[/red] request.invalid: the request breaks MediaConvert's model "
            f"({len(errors)} problems)",
            highlight=False,
        )
        for line in errors:
            err.print(f"  {line}", highlight=False, soft_wrap=True, markup=False)
        raise typer.Exit(2)
