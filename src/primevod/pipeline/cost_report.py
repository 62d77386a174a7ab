"""What the jobs cost: the cost ledger's rows since a date with estimate against actual, the
month's spend against the budget, and what the buckets hold per storage class a month
(`primevod cost report`, the dashboard's cost panel)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from primevod.core.assets import utcnow
from primevod.core.budget import month_of
from primevod.pipeline.runtime import Runtime


def report(rt: Runtime, since: datetime | None = None, *, storage: bool = False) -> dict[str, Any]:
    """The jobs since `since` (default: the start of this month) with estimate and actual,
    their totals, and this month's spend against the budget; with `storage`, what the
    buckets hold per storage class and cost a month (it lists every object)."""
    now = utcnow()
    since = since or now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    jobs = [_report_row(row) for row in rt.costs.list_costs(since)]
    spent = rt.costs.month_spend(month_of(now))
    limit = rt.settings.budget_monthly_usd
    done = [j for j in jobs if j["state"] == "done"]
    return {
        "since": since.isoformat(),
        "target": rt.settings.cost_target,
        "month": month_of(now),
        "budget_usd": limit,
        "spent_usd": round(spent, 6),
        "used_ratio": round(spent / limit, 4) if limit else None,
        "totals": {
            "jobs": len(jobs),
            "refused": sum(1 for j in jobs if j["state"] == "refused"),
            "estimate_usd": round(sum(j["estimate_usd"] for j in done), 6),
            "actual_usd": round(sum(j["actual_usd"] or 0.0 for j in done), 6),
            "cpu_seconds": round(sum(j["cpu_seconds"] or 0.0 for j in done), 2),
            "package_bytes": sum(j["package_bytes"] or 0 for j in done),
        },
        "jobs": jobs,
        **({"storage": stored(rt)} if storage else {}),
    }


def stored(rt: Runtime) -> list[dict[str, Any]]:
    """Objects, bytes and dollars a month per bucket and storage class: the class's price
    (aws), or the local rate scaled as the class's price is to Standard's (local)."""
    from primevod.adapters.price_files import read_prices

    prices = read_prices(rt.settings.prices).s3.storage_usd_per_gb_month
    standard = prices["STANDARD"]
    tally: dict[tuple[str, str], list[int]] = {}
    for bucket in (rt.settings.source_bucket, rt.settings.destination_bucket):
        for info in rt.store.list(bucket):
            row = tally.setdefault((bucket, info.storage_class), [0, 0])
            row[0] += 1
            row[1] += info.size
    rows = []
    for (bucket, storage_class), (objects, size) in sorted(tally.items()):
        price = prices.get(storage_class, standard)
        if rt.settings.cost_target == "local":
            price = rt.settings.cost_storage_gb_month_usd * price / standard
        rows.append(
            {
                "bucket": bucket,
                "storage_class": storage_class,
                "objects": objects,
                "bytes": size,
                "usd_per_month": round(size / 1e9 * price, 8),
            }
        )
    return rows


def _report_row(row: dict[str, Any]) -> dict[str, Any]:
    estimate, actual = row["estimate"] or {}, row["actual"] or {}
    cpu, planned = actual.get("cpu_seconds"), estimate.get("cpu_seconds")
    return {
        "asset_id": row["asset_id"],
        "execution_id": row["execution_id"],
        "created_at": row["created_at"].isoformat(),
        "target": row["target"],
        "state": row["state"],
        "override": row["override"],
        "ladder": estimate.get("ladder"),
        "duration": estimate.get("duration"),
        "estimate_usd": round(row["estimate_usd"], 6),
        "actual_usd": None if row["actual_usd"] is None else round(row["actual_usd"], 6),
        "estimate_cpu_seconds": planned,
        "cpu_seconds": cpu,
        "cpu_error": round(planned / cpu - 1, 4) if cpu and planned is not None else None,
        "estimate_bytes": estimate.get("package_bytes"),
        "package_bytes": actual.get("package_bytes"),
    }
