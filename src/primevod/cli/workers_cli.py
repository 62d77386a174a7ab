"""`primevod workers list`: the workers sharing this installation's database, their last
heartbeat, state and the workflows they are running."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from primevod.cli.output import out

workers_app = typer.Typer(help="Workers: liveness and what they run.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(workers_app, name="workers")


def _running(dbos_url: str) -> dict[str, list[str]]:
    """Workflow ids PENDING per executor (worker) id, read with a DBOS client."""
    from dbos import DBOSClient

    try:
        client = DBOSClient(system_database_url=dbos_url)
    except Exception:  # no workflow database yet: nothing runs
        return {}
    try:
        rows = client.list_workflows(status=["PENDING"], load_input=False, load_output=False)
    except Exception:
        return {}
    finally:
        client.destroy()
    running: dict[str, list[str]] = {}
    for row in rows:
        running.setdefault(row.executor_id or "", []).append(row.workflow_id)
    return running


def _rows() -> list[dict[str, Any]]:
    from primevod import wiring
    from primevod.core.workers import is_dead

    rt = wiring.build()
    now = datetime.now(UTC)
    running = _running(rt.settings.dbos_database_url or "")
    rows = []
    for worker in rt.workers.list_workers():
        state = worker.state
        if is_dead(worker, now, rt.settings.worker_dead_after_seconds):
            state = "dead"  # not taken over yet: no live worker has looked since
        rows.append(
            {
                **worker.model_dump(mode="json"),
                "state": state,
                "seconds_since_heartbeat": round((now - worker.last_seen).total_seconds(), 1),
                "running": running.get(worker.id, []) if state == "live" else [],
            }
        )
    return rows


@workers_app.command("list")
def list_workers(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    everything: Annotated[
        bool, typer.Option("--all", help="also workers stopped or lost long ago")
    ] = False,
) -> None:
    """Id, host, last heartbeat, state (live, stopped, dead, lost) and running workflows."""
    rows = _rows()
    if not everything:
        rows = [r for r in rows if r["state"] in ("live", "dead") or r["running"]]
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    if not rows:
        out.print("no live workers")
    for r in rows:
        took = f", taken over by {r['taken_over_by']}" if r["taken_over_by"] else ""
        out.print(
            f"{r['id']} {r['role']} on {r['host']} (pid {r['pid']}): {r['state']}, "
            f"heartbeat {r['seconds_since_heartbeat']} s ago{took}; "
            f"running {', '.join(r['running']) or 'nothing'}"
        )
