"""`primevod alarms list|show NAME|evaluate`: alarm states from the shared store."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from primevod.cli.output import fail, out

alarms_app = typer.Typer(help="Alarms: states, thresholds and why.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON")]
STYLE = {"OK": "green", "ALARM": "bold red", "INSUFFICIENT_DATA": "yellow"}


def register(app: typer.Typer) -> None:
    app.add_typer(alarms_app, name="alarms")


def _rows() -> list[dict[str, Any]]:
    from primevod import wiring
    from primevod.pipeline import schedules as observer

    return observer.alarm_rows(wiring.build())


@alarms_app.command("list")
def list_alarms(as_json: JsonOpt = False) -> None:
    """Every alarm with its state and the rule it watches."""
    rows = _rows()
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("alarm", "state", "rule", "since")
    for r in rows:
        rule = (
            f"{r['metric']} ({r['statistic']}) {r['comparison']} {r['threshold']:g} "
            f"over {r['period_seconds']}s x{r['evaluation_periods']}"
        )
        state = f"[{STYLE.get(r['state'], '')}]{r['state']}[/]"
        table.add_row(r["name"], state, rule, r["changed_at"] or "-")
    out.print(table)


@alarms_app.command("show")
def show_alarm(name: str, as_json: JsonOpt = False) -> None:
    """One alarm: its definition, state, reason and the last evaluated values."""
    row = next((r for r in _rows() if r["name"] == name), None)
    if row is None:
        fail("alarm.not_found", f"no alarm {name}", as_json=as_json)
    if as_json:
        print(json.dumps(row, indent=2))
        return
    out.print(f"[bold]{row['name']}[/bold] [{STYLE.get(row['state'], '')}]{row['state']}[/]")
    if row["description"]:
        out.print(f"  {row['description']}")
    out.print(
        f"  rule: {row['metric']} ({row['statistic']}) {row['comparison']} {row['threshold']:g}"
        f", {row['datapoints_to_alarm']} of {row['evaluation_periods']} period(s) of "
        f"{row['period_seconds']} s, missing data: {row['missing_data']}"
    )
    out.print(f"  reason: {row['reason']}", highlight=False)
    out.print(f"  updated {row['updated_at'] or '-'}, state since {row['changed_at'] or '-'}")


@alarms_app.command("evaluate")
def evaluate(as_json: JsonOpt = False) -> None:
    """Evaluate every alarm now (servers do it on their schedule)."""
    from primevod import wiring
    from primevod.pipeline import schedules as observer

    changes = observer.evaluate_alarms(wiring.build())
    if as_json:
        print(json.dumps(changes, indent=2))
        return
    for c in changes:
        out.print(f"{c['name']}: {c['state']}{' (changed)' if c['changed'] else ''}")
