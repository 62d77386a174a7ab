"""`primevod search QUERY`: the library's full-text search from the shell (the same query
language and ranking as GET /api/v1/search; PRIMEVOD_API_KEY's policy hides what it hides)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from primevod.cli.output import asset_json, fail, out


def register(app: typer.Typer) -> None:
    app.command("search")(search)


def search(
    query: Annotated[
        str, typer.Argument(help='words (the last one a prefix), "phrases", -not, OR')
    ] = "",
    status: Annotated[str | None, typer.Option(help="only this status")] = None,
    collection: Annotated[str | None, typer.Option(help="only this collection")] = None,
    min_duration: Annotated[float | None, typer.Option(help="seconds, at least")] = None,
    max_duration: Annotated[float | None, typer.Option(help="seconds, at most")] = None,
    since: Annotated[
        datetime | None, typer.Option(help="created at or after (ISO date or time)")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100, help="page size")] = 20,
    cursor: Annotated[str | None, typer.Option(help="next page cursor")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Find assets by title, description, tags, metadata and probe facts, best first."""
    from primevod import wiring
    from primevod.cli.principal import current
    from primevod.core.access import listable
    from primevod.core.search import Filters, SearchSyntaxError, parse

    try:
        parsed = parse(query)
    except SearchSyntaxError as exc:
        fail("search.invalid", str(exc), as_json=as_json)
    rt = wiring.build()
    principal = current(rt)
    filters = Filters(
        status=status,
        collection=collection,
        min_duration=min_duration,
        max_duration=max_duration,
        created_after=since,
    )
    try:
        page = rt.catalog.search_assets(parsed, filters, limit=limit, cursor=cursor)
    except ValueError as exc:
        fail("search.invalid", str(exc), as_json=as_json)
    items = listable(principal, page.items)
    if as_json:
        print(
            json.dumps(
                {"items": [asset_json(a) for a in items], "next_cursor": page.next_cursor},
                indent=2,
            )
        )
        return
    table = Table()
    for column in ("id", "status", "title", "tags", "duration", "created"):
        table.add_column(column)
    for a in items:
        table.add_row(
            a.id,
            a.status.value,
            a.title or "",
            ", ".join(a.tags),
            f"{a.duration:.1f}s" if a.duration else "",
            a.created_at.strftime("%Y-%m-%d %H:%M"),
        )
    out.print(table)
    if page.next_cursor:
        out.print(f"next page: --cursor {page.next_cursor}")
