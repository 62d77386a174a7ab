"""`primevod kms status|rotate`: encryption at rest's master key versions and rotation.

    primevod kms status [--json]
    primevod kms rotate [--drop-unused] [--json]

`rotate` re-wraps every data key under a new master key version without re-encrypting any
object (see pipeline/kms.py); `status` shows each version and how many data keys it wraps."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from primevod.cli.output import fail, out

kms_app = typer.Typer(
    name="kms",
    help="Encryption at rest: master key versions, data key census and rotation.",
    no_args_is_help=True,
)
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]


@kms_app.command("status")
def status(as_json: JsonOpt = False) -> None:
    """Master key versions (which is current) and how many data keys each wraps."""
    from primevod import wiring
    from primevod.cli.principal import require
    from primevod.pipeline import kms

    rt = wiring.build()
    require(rt, "kms:Get", as_json=as_json)
    try:
        report = kms.status(rt)
    except kms.EncryptionOff as exc:
        fail("kms.off", str(exc), as_json=as_json)
    if as_json:
        print(json.dumps(report, indent=2))
        return
    from rich.table import Table

    table = Table(title="master key versions", title_justify="left")
    for col in ("key id", "current", "created", "data keys"):
        table.add_column(col)
    for v in report["versions"]:
        table.add_row(
            v["key_id"],
            "yes" if v["current"] else "",
            v.get("created_at") or "",
            str(v["data_keys"]),
        )
    out.print(table)
    for key_id, count in report["unknown_key_ids"].items():
        out.print(f"[red]{count} data keys wrapped under {key_id}, which the key file lacks[/red]")


@kms_app.command("rotate")
def rotate(
    drop_unused: Annotated[
        bool,
        typer.Option(
            "--drop-unused",
            help="also drop the version this rotation retires once no data key uses it "
            "(default: at the next rotation, for processes that read the old key file)",
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """A new master key version; every data key re-wrapped under it (objects unchanged)."""
    from primevod import wiring
    from primevod.cli.audited import audited
    from primevod.pipeline import kms

    rt = wiring.build()
    audited(rt, "kms:Rotate", as_json=as_json)  # checked, and recorded with its outcome
    try:
        report = kms.rotate(rt, drop_unused=drop_unused)
    except kms.EncryptionOff as exc:
        fail("kms.off", str(exc), as_json=as_json)
    except Exception as exc:  # a key file that cannot be used, a key from the environment
        fail("kms.failed", str(exc), as_json=as_json)
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        out.print(
            f"rotated {report['previous']} -> {report['current']}: "
            f"{report['data_keys_rewrapped']} data keys in {report['files']} files, "
            f"{report['webhook_secrets_resealed']} webhook secrets"
        )
        if report["dropped_versions"]:
            out.print(f"dropped unused versions: {', '.join(report['dropped_versions'])}")
    if report["failed"]:
        fail(
            "kms.partial",
            f"{len(report['failed'])} files could not be re-wrapped",
            detail=report["failed"],
            as_json=as_json,
        )
