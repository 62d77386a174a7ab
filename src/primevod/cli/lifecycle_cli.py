"""`primevod lifecycle show|apply`: the lifecycle rules against the local store, evaluated as
of a date, so an operator sees what next month brings before it happens.

    primevod lifecycle show [--as-of DATE] [--json]
    primevod lifecycle apply [--dry-run] [--as-of DATE] [--json]

`show` and `apply --dry-run` change nothing. `apply` does what the daily lifecycle workflow
does: the due actions, then the retention of every history (at the real time: `--as-of`
moves the rules' clock only); the workflow also prunes DBOS's own records, which needs a
running server or worker."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from primevod.cli.audited import audited
from primevod.cli.output import fail, out

if TYPE_CHECKING:
    from primevod.pipeline.lifecycle import Plan
    from primevod.pipeline.runtime import Runtime

lifecycle_app = typer.Typer(
    name="lifecycle",
    help="Lifecycle rules (storage classes, expirations) and retention of the local store.",
    no_args_is_help=True,
)
AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="evaluate as of DATE: YYYY-MM-DD (midnight UTC), an ISO date and time, or +Nd "
        "(N days from now); default: now",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON object")]
_RELATIVE = re.compile(r"^\+(\d+)d$")


def parse_as_of(text: str | None, now: datetime) -> datetime:
    """The moment the rules are evaluated at (UTC). Raises ValueError."""
    if text is None:
        return now
    text = text.strip()
    if relative := _RELATIVE.match(text):
        return now + timedelta(days=int(relative.group(1)))
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"--as-of {text!r} is not YYYY-MM-DD, an ISO date and time, or +Nd"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _plan(as_of: str | None, as_json: bool) -> tuple[Runtime, Plan]:
    from primevod import wiring
    from primevod.core.lifecycle import LifecycleError
    from primevod.pipeline.lifecycle import LifecycleUnsupported, plan_actions, read_rules

    try:
        when = parse_as_of(as_of, datetime.now(UTC))
    except ValueError as exc:
        fail("request.invalid", str(exc), as_json=as_json)
    rt = wiring.build()
    try:
        config, document = read_rules(rt.settings)
    except LifecycleError as exc:
        fail("lifecycle.invalid", str(exc), as_json=as_json)
    try:
        return rt, plan_actions(rt, config, as_of=when, document=document)
    except LifecycleUnsupported as exc:
        fail("lifecycle.unsupported", str(exc), as_json=as_json)


def _report(rt: Runtime, plan: Plan) -> dict[str, Any]:
    from primevod.pipeline.retention import retention_periods

    return {
        "ok": True,
        "as_of": plan.as_of.isoformat(),
        "document": plan.document,
        "actions": [a.row() for a in plan.actions],
        "classes": plan.class_rows(),
        "retention": retention_periods(rt.settings),
    }


@lifecycle_app.command("show")
def show(as_of: AsOfOpt = None, as_json: JsonOpt = False) -> None:
    """What the lifecycle rules make due by the date, and the objects' classes now."""
    rt, plan = _plan(as_of, as_json)
    report = _report(rt, plan)
    if as_json:
        print(json.dumps(report, indent=2))
        return
    _print(report, "due")


@lifecycle_app.command("apply")
def apply(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="list what would change, change nothing")
    ] = False,
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Apply the due actions (transitions, expirations, aborts), then prune old history."""
    from primevod.pipeline.lifecycle import apply_plan
    from primevod.pipeline.retention import prune_history

    rt, plan = _plan(as_of, as_json)
    if not dry_run:  # a dry run changes nothing
        audited(rt, "lifecycle:Apply", as_json=as_json)
    report = _report(rt, plan)
    report["dry_run"] = dry_run
    if not dry_run:
        outcome = apply_plan(rt, plan)
        report.update(
            applied=outcome.counts(),
            failed=outcome.failed,
            pruned=prune_history(rt, datetime.now(UTC)),
            ok=not outcome.failed,
        )
        from primevod.observability import metrics

        metrics.flush(rt.observability)
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        _print(report, "would apply" if dry_run else "applied")
    if report.get("failed"):
        raise typer.Exit(1)


def _print(report: dict[str, Any], verb: str) -> None:
    out.print(f"lifecycle document {report['document']}, as of {report['as_of']}", highlight=False)
    actions = report["actions"]
    if actions:
        table = Table("due", "action", "bucket", "key", "class", "rule", title=f"{verb}")
        for a in actions:
            what = a["action"] + (" (held)" if a["held"] else "")
            if a["storage_class"]:
                cls = f"{a['current_class']} -> {a['storage_class']}"
            else:
                cls = a["current_class"] or "-"
            key = a["key"] + (f" @{a['version_id']}" if a["version_id"] else "")
            table.add_row(a["due"][:10], what, a["bucket"], key, cls, a["rule"])
        out.print(table)
        for a in actions:
            if a["held"]:
                out.print(f"held: {a['bucket']}/{a['key']}: {a['held']}", highlight=False)
    else:
        out.print("nothing is due")
    when = "before" if "pruned" in report else "now"  # apply: the state it started from
    classes = Table("bucket", "class", "objects", "bytes", title=f"objects {when}")
    for c in report["classes"]:
        classes.add_row(c["bucket"], c["storage_class"], str(c["objects"]), f"{c['bytes']:,}")
    out.print(classes)
    if "pruned" in report:
        pruned = ", ".join(f"{n} {what}" for what, n in report["pruned"].items() if n)
        out.print(f"pruned: {pruned or 'nothing'}")
        for f in report["failed"]:
            out.print(f"[red]failed[/red] {f['action']} {f['bucket']}/{f['key']}: {f['error']}")
    else:
        kept = ", ".join(f"{r['what']} {r['days']:g} d" for r in report["retention"])
        out.print(f"retention: {kept}", highlight=False)
