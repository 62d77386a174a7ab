"""`primevod cost`: what a title would cost before it is encoded, and what the jobs cost.

    primevod cost estimate FILE [--ladder NAME] [--target aws|local] [--codecs LIST]
        [--prices FILE] [--json]
    primevod cost report [--since DATE] [--storage] [--json]

`--target aws`: the MediaConvert job the AWS shape would submit for FILE
(`primevod aws job-settings`), priced output by output from the newest shipped price file
(src/primevod/pricing/) or `--prices` / `PRIMEVOD_PRICES`; plus the package's storage per
month and its egress per viewing hour, both at the rungs' caps (upper bounds).
`--target local`: CPU-seconds and bytes on this machine, from a sample encode of FILE and the
jobs this machine recorded (pipeline/costing.py), in dollars at the configured rates."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from primevod.cli.output import err, fail, fail_media, out
from primevod.core.errors import MediaError

if TYPE_CHECKING:
    from primevod.core.cost import JobEstimate
    from primevod.core.ladder import LadderPolicy

cost_app = typer.Typer(name="cost", help="Cost estimates before an encode.", no_args_is_help=True)


@cost_app.callback()
def cost() -> None:
    """Cost estimates before an encode (more commands come with the cost report)."""


class Target(StrEnum):
    aws = "aws"
    local = "local"


@cost_app.command("estimate")
def estimate(
    file: Annotated[Path, typer.Argument(help="source media file")],
    ladder: Annotated[
        str | None, typer.Option("--ladder", help="ladder policy (aws: aws-vod; local: ladder)")
    ] = None,
    target: Annotated[Target, typer.Option("--target", help="where it would run")] = Target.aws,
    codecs: Annotated[
        str | None,
        typer.Option(
            "--codecs",
            help="codec families to price, e.g. h264,av1 [default: PRIMEVOD_CODECS or h264,av1]",
        ),
    ] = None,
    prices: Annotated[
        Path | None,
        typer.Option("--prices", envvar="PRIMEVOD_PRICES", help="a price file of your own"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Price FILE's encode, per output and codec family, before the encode runs."""
    if target is Target.local:
        _estimate_local(file, ladder, codecs, as_json)
        return
    ladder = ladder or "aws-vod"
    from primevod.adapters.media.pyav_probe import probe_file
    from primevod.adapters.price_files import read_prices
    from primevod.core.cost import estimate_title
    from primevod.core.prices import PriceFileError
    from primevod.core.source_rules import check_source

    try:
        table = read_prices(prices)
    except PriceFileError as exc:
        fail("prices.invalid", str(exc), as_json=as_json)
    try:
        policy = _policy(ladder, codecs, os.environ.get("PRIMEVOD_CODECS"))
        probe = probe_file(file)
        check_source(probe)
        result = estimate_title(probe, policy, table)
    except MediaError as exc:
        fail_media(exc, as_json)
    if as_json:
        print(
            json.dumps(
                {"target": target.value, "duration": probe.duration, **result.as_json()}, indent=2
            )
        )
        return
    _print(result, probe.duration or 0.0)


def _policy(ladder: str, codecs: str | None, setting: str | None) -> LadderPolicy:
    """The ladder with the families the encode would make: `--codecs`, else the setting."""
    from primevod.core.codec_families import configured_codecs
    from primevod.core.ladder import with_codecs
    from primevod.core.policies import get_policy

    return with_codecs(get_policy(ladder), configured_codecs(codecs, setting))


def _estimate_local(file: Path, ladder: str | None, codecs: str | None, as_json: bool) -> None:
    from primevod import wiring
    from primevod.core.budget import usd
    from primevod.pipeline import costing

    rt = wiring.build()
    try:
        policy = _policy(ladder or rt.settings.ladder, codecs, rt.settings.codecs)
        probe = rt.media.inspect(file)
        result = costing.estimate(rt, probe, policy, "local", source=file)
    except MediaError as exc:
        fail_media(exc, as_json)
    if as_json:
        print(json.dumps(result.detail, indent=2))
        return
    grid = Table("rung", "size", "megapixels", "CPU s", "MB")
    for rung in result.detail["rungs"]:
        grid.add_row(
            rung["name"],
            rung["size"],
            f"{rung['megapixels']:.0f}",
            f"{rung['cpu_seconds']:.1f}",
            f"{rung['bytes'] / 1e6:.1f}",
        )
    out.print(grid)
    detail = result.detail
    out.print(
        f"encode: {detail['cpu_seconds']:.1f} CPU-seconds at {detail['preset']}, "
        f"{usd(detail['total_usd'])}; package {detail['package_bytes'] / 1e6:.1f} MB, "
        f"{usd(detail['storage_usd_per_month'])} a month",
        highlight=False,
    )
    for note in detail["notes"]:
        err.print(f"note: {note}", highlight=False, soft_wrap=True)


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


@cost_app.command("report")
def report(
    since: Annotated[
        datetime | None,
        typer.Option("--since", help="jobs from this date (default: the start of the month)"),
    ] = None,
    storage: Annotated[
        bool, typer.Option("--storage", help="also what is stored per class (lists the store)")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """The jobs' estimates and actuals, and the month's spend against the budget."""
    from primevod import wiring
    from primevod.core.budget import usd
    from primevod.pipeline import cost_report

    rt = wiring.build()
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    data = cost_report.report(rt, since, storage=storage)
    if as_json:
        print(json.dumps(data, indent=2))
        return
    grid = Table("asset", "ladder", "s", "state", "est. USD", "USD", "est. CPU s", "CPU s", "error")
    for job in data["jobs"]:
        error = job["cpu_error"]
        grid.add_row(
            job["asset_id"][:8],
            str(job["ladder"]),
            f"{job['duration'] or 0:.1f}",
            job["state"] + (" (override)" if job["override"] else ""),
            usd(job["estimate_usd"]),
            "" if job["actual_usd"] is None else usd(job["actual_usd"]),
            "" if job["estimate_cpu_seconds"] is None else f"{job['estimate_cpu_seconds']:.1f}",
            "" if job["cpu_seconds"] is None else f"{job['cpu_seconds']:.1f}",
            "" if error is None else f"{error:+.1%}",
        )
    out.print(grid)
    budget = data["budget_usd"]
    spent = f"{usd(data['spent_usd'])} spent in {data['month']} ({data['target']} prices)"
    if budget:
        spent += f" of a {usd(budget)} budget ({data['used_ratio']:.0%})"
    out.print(spent, highlight=False)
    if storage:
        kept = Table("bucket", "class", "objects", "MB", "USD a month")
        for row in data["storage"]:
            kept.add_row(
                row["bucket"],
                row["storage_class"],
                str(row["objects"]),
                f"{row['bytes'] / 1e6:.1f}",
                usd(row["usd_per_month"]),
            )
        out.print(kept)
