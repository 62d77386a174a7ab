"""`primevod analytics`: SQL over what the product records (docs/analytics.md).

primevod analytics refresh [--json]        export what is new to the Parquet lake now
primevod analytics query "SQL" [--json]    one statement over the tables and views
primevod analytics views                   the tables and views, with their columns"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

import typer
from rich.table import Table

from primevod.cli.output import fail, out

analytics_app = typer.Typer(
    name="analytics", help="SQL over the access log, beacons, events and executions.",
    no_args_is_help=True,
)  # fmt: skip
JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON object")]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


@analytics_app.command("refresh")
def refresh(as_json: JsonOpt = False) -> None:
    """Export the new rows of every table to the lake (the schedule does it hourly)."""
    from primevod import wiring
    from primevod.cli.audited import audited
    from primevod.pipeline import analytics

    rt = wiring.build()
    audited(rt, "analytics:Refresh", as_json=as_json)
    written = analytics.refresh(rt)
    if as_json:
        print(json.dumps({"ok": True, "written": written}, indent=2))
        return
    for table, days in written.items():
        out.print(f"{table}: {sum(days.values())} rows in {len(days)} day(s)")


@analytics_app.command("query")
def query(
    sql: Annotated[str, typer.Argument(help='e.g. "SELECT * FROM asset_daily ORDER BY day"')],
    as_json: JsonOpt = False,
) -> None:
    """Run one SQL statement (DuckDB's dialect) over the exported tables and views."""
    import duckdb

    from primevod import wiring
    from primevod.cli.principal import require
    from primevod.pipeline import analytics

    rt = wiring.build()
    require(rt, "analytics:Query", as_json=as_json)
    try:
        names, rows = analytics.lake(rt).query(sql)
    except duckdb.Error as exc:
        fail("query.invalid", str(exc).splitlines()[0], as_json=as_json)
    if as_json:
        records = [dict(zip(names, map(_plain, row), strict=True)) for row in rows]
        print(json.dumps({"ok": True, "columns": names, "rows": records}, indent=2))
        return
    table = Table()
    for name in names:
        table.add_column(name)
    for row in rows:
        table.add_row(*("" if v is None else str(_plain(v)) for v in row))
    out.print(table)


@analytics_app.command("views")
def views() -> None:
    """The tables the export writes and the views shipped over them."""
    from primevod.core.analytics import TABLES, VIEWS

    for table, columns in TABLES.items():
        out.print(f"[bold]{table}[/bold] (table): {', '.join(columns)}, day")
    for name in VIEWS:
        out.print(f"[bold]{name}[/bold] (view)")
