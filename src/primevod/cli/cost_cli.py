"""`primevod cost`: what a title would cost before it is encoded.

    primevod cost estimate FILE [--ladder NAME] [--target aws] [--prices FILE] [--json]

`--target aws`: the MediaConvert job the AWS shape would submit for FILE
(`primevod aws job-settings`), priced output by output from the newest shipped price file
(src/primevod/pricing/) or `--prices` / `PRIMEVOD_PRICES`; plus the package's storage per
month and its egress per viewing hour, both at the rungs' caps (upper bounds)."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from primevod.cli.output import err, fail, fail_media, out
from primevod.core.errors import MediaError

if TYPE_CHECKING:
    from primevod.core.cost import JobEstimate

cost_app = typer.Typer(name="cost", help="Cost estimates before an encode.", no_args_is_help=True)


@cost_app.callback()
def cost() -> None:
    """Cost estimates before an encode (more commands come with the cost report)."""


EXAMPLE_ROLE_ARN = "arn:aws:iam::123456789012:role/primevod-mediaconvert"


class Target(StrEnum):
    aws = "aws"


@cost_app.command("estimate")
def estimate(
    file: Annotated[Path, typer.Argument(help="source media file")],
    ladder: Annotated[str, typer.Option("--ladder", help="ladder policy")] = "aws-vod",
    target: Annotated[Target, typer.Option("--target", help="where it would run")] = Target.aws,
    prices: Annotated[
        Path | None,
        typer.Option("--prices", envvar="PRIMEVOD_PRICES", help="a price file of your own"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Price FILE's encode on MediaConvert, per output, before any encode runs."""
    from primevod.adapters.media.pyav_probe import probe_file
    from primevod.adapters.price_files import read_prices
    from primevod.core.cost import estimate_job
    from primevod.core.mediaconvert import create_job_request
    from primevod.core.policies import get_policy
    from primevod.core.prices import PriceFileError
    from primevod.core.source_rules import check_source

    try:
        table = read_prices(prices)
    except PriceFileError as exc:
        fail("prices.invalid", str(exc), as_json=as_json)
    try:
        policy = get_policy(ladder)
        probe = probe_file(file)
        check_source(probe)
        job = create_job_request(
            probe,
            policy,
            role_arn=EXAMPLE_ROLE_ARN,
            input_url=f"s3://source/uploads/{file.name}",
            destination="s3://destination/assets/estimate/1/",
        )
    except MediaError as exc:
        fail_media(exc, as_json)
    result = estimate_job(job.request, job.ladder, probe.duration or 0.0, table)
    if as_json:
        print(
            json.dumps(
                {"target": target.value, "duration": probe.duration, **result.as_json()}, indent=2
            )
        )
        return
    _print(result, probe.duration or 0.0)


def _print(result: JobEstimate, duration: float) -> None:
    grid = Table("output", "kind", "detail", "minutes", "x", "USD")
    for line in result.lines:
        usd = "unknown" if line.usd is None else f"{line.usd:.4f}"
        grid.add_row(
            line.output, line.kind, line.detail, f"{line.minutes:.2f}", f"{line.multiplier:g}", usd
        )
    out.print(grid)
    out.print(
        f"encode: ${result.total_usd:.4f} for {duration:.1f} s "
        f"(${result.total_usd / max(duration / 60, 1e-9):.4f} per source minute)",
        highlight=False,
    )
    out.print(
        f"storage at the caps: {result.package_bytes_at_caps / 1e6:.1f} MB, "
        f"${result.storage_usd_per_month:.5f} a month; egress per viewing hour at the top rung: "
        f"${result.egress_usd_per_viewing_hour:.3f}",
        highlight=False,
    )
    for note in result.notes:
        err.print(f"note: {note}", highlight=False, soft_wrap=True)
