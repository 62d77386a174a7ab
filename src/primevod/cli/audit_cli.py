"""`primevod audit verify|search|digest`: the audit trail's integrity check (CloudTrail's
validate-logs), its search, and a digest on demand.

    primevod audit verify [--from TIME] [--to TIME] [--json]    exit 0 intact, 1 tampered
    primevod audit search [--principal KEY] [--action A] [--since TIME] [--limit N] [--json]
    primevod audit digest [--json]

TIME: an ISO time (UTC unless it says otherwise) or an age (90m, 24h, 7d). Heavy modules
are imported inside the commands: the CLI starts fast."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from primevod.cli.output import err, fail, out

audit_app = typer.Typer(
    name="audit",
    help="The audit trail: verify its integrity, search it, sign a digest.",
    no_args_is_help=True,
)
JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON object")]


def _time(text: str | None, option: str, as_json: bool) -> datetime | None:
    from primevod.core.audit import parse_time

    if text is None:
        return None
    try:
        return parse_time(text, datetime.now(UTC))
    except ValueError as exc:
        fail("request.invalid", f"{option}: {exc}", as_json=as_json)


@audit_app.command("verify")
def verify(
    start: Annotated[
        str | None, typer.Option("--from", help="from this time (ISO time or age: 7d)")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="up to this time")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Check the trail: every record matches its hash and chains to the one before, the
    sequence has no gap, every digest's signature verifies and chains to the previous one,
    and no record waits for a digest too long. Exit 0 intact, 1 tampered (naming the first
    bad record)."""
    from primevod import wiring
    from primevod.pipeline import audit

    since, until = _time(start, "--from", as_json), _time(end, "--to", as_json)
    result = audit.verify_trail(wiring.build(), start=since, end=until)
    if as_json:
        print(json.dumps(result.as_json(), indent=2))
    elif result.ok:
        span = f"records {result.first_seq}..{result.last_seq}" if result.records else "no records"
        out.print(f"audit trail intact: {span}, {result.digests} digests", highlight=False)
    else:
        bad = result.first_bad
        assert bad is not None
        err.print(
            f"[red]audit trail tampered[/red]: first bad record {bad.seq}: {bad.message}",
            highlight=False,
            soft_wrap=True,
        )
        for problem in result.problems:
            err.print(f"  {problem.kind}: {problem.message}", highlight=False, soft_wrap=True)
    if not result.ok:
        raise typer.Exit(1)


@audit_app.command("search")
def search(
    principal: Annotated[
        str | None, typer.Option(help="key id, or local:<user> for shell commands")
    ] = None,
    action: Annotated[str | None, typer.Option(help="assets:Delete, or a prefix: assets:*")] = None,
    since: Annotated[str | None, typer.Option(help="ISO time or age (24h, 7d)")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000, help="at most this many")] = 100,
    as_json: JsonOpt = False,
) -> None:
    """Audit records, newest first."""
    from primevod import wiring
    from primevod.pipeline import audit

    found = audit.search(
        wiring.build(),
        principal=principal,
        action=action,
        since=_time(since, "--since", as_json),
        limit=limit,
    )
    if as_json:
        print(json.dumps(found, indent=2))
        return
    _table(found)


def _table(records: list[dict[str, Any]]) -> None:
    from rich.table import Table

    table = Table()
    for col in ("seq", "time", "principal", "action", "resource", "outcome", "status", "source"):
        table.add_column(col)
    for r in records:
        table.add_row(
            str(r["seq"]),
            str(r["time"]),
            str(r["principal"]),
            str(r["action"]),
            str(r["resource"]),
            str(r["outcome"]),
            str(r["status"]),
            str(r["source_ip"] or r["origin"]),
        )
    out.print(table)


@audit_app.command("digest")
def digest(as_json: JsonOpt = False) -> None:
    """Sign a digest of the records since the last one now (the server does it hourly)."""
    from primevod import wiring
    from primevod.cli.audited import audited
    from primevod.pipeline import audit

    rt = wiring.build()
    audited(rt, "audit:Digest", as_json=as_json)
    made = audit.digest(rt)
    if as_json:
        print(json.dumps(made.as_json() if made else None, indent=2))
    elif made is None:
        out.print("no records since the last digest")
    else:
        out.print(
            f"digest {made.number}: records {made.first_seq}..{made.last_seq}, "
            f"signed by key {made.key_id}",
            highlight=False,
        )
