"""The cost ledger and the budget decision on a real catalog (SQLite and PostgreSQL): jobs
counted against the month, refusals that count for nothing, two jobs racing for the last
dollars, the 80 % event and the `budget-threshold` alarm."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from primevod.adapters.catalog.sql_catalog import SqlCatalog
from primevod.adapters.catalog.sql_costs import SqlCosts
from primevod.core.budget import month_of


@pytest.fixture(params=["sqlite", "postgres"])
def costs(request, tmp_path) -> SqlCosts:
    if request.param == "postgres":
        url = request.getfixturevalue("postgres")()
    else:
        url = f"sqlite:///{tmp_path / 'catalog.db'}"
    return SqlCosts(SqlCatalog(url))


def reserve(costs: SqlCosts, job: str, usd: float, budget: float | None, **kw):
    return costs.reserve(
        execution_id=job,
        asset_id=job.split(".")[0],
        target="local",
        estimate={"cpu_seconds": usd * 1000},
        estimate_usd=usd,
        budget_usd=budget,
        **kw,
    )


def test_the_month_counts_running_estimates_and_finished_actuals(costs: SqlCosts) -> None:
    assert reserve(costs, "a.1", 0.40, 1.0).allowed
    assert reserve(costs, "b.1", 0.30, 1.0).allowed
    month = month_of(datetime.now(UTC))
    assert costs.month_spend(month) == pytest.approx(0.70)
    costs.record_actual("a.1", {"cpu_seconds": 300.0, "megapixels": 10.0, "preset": "x"}, 0.25)
    costs.mark_failed("b.1")  # a failed job's estimate stops counting
    assert costs.month_spend(month) == pytest.approx(0.25)
    refused = reserve(costs, "c.1", 0.80, 1.0)
    assert not refused.allowed and "over the monthly budget of $1.00" in refused.message
    assert costs.month_spend(month) == pytest.approx(0.25)  # a refusal costs nothing
    assert [r.cpu_seconds for r in costs.encode_records()] == [300.0]
    states = {row["execution_id"]: row["state"] for row in costs.list_costs()}
    assert states == {"a.1": "done", "b.1": "failed", "c.1": "refused"}


def test_an_override_passes_a_full_month_and_last_month_does_not_count(costs: SqlCosts) -> None:
    last_month = datetime.now(UTC).replace(day=1) - timedelta(days=2)
    assert reserve(costs, "old.1", 5.0, None, now=last_month).allowed
    assert reserve(costs, "a.1", 0.9, 1.0).allowed  # last month's 5 $ are not this month's
    assert not reserve(costs, "b.1", 0.2, 1.0).allowed
    forced = reserve(costs, "b.2", 0.2, 1.0, override=True)
    assert forced.allowed and forced.override and "(admin override)" in forced.message
    assert costs.month_spend(month_of(datetime.now(UTC))) == pytest.approx(1.1)


def test_two_jobs_racing_for_the_last_dollar_do_not_both_pass(costs: SqlCosts) -> None:
    reserve(costs, "base.1", 0.5, 1.0)
    start = threading.Barrier(4)
    results: dict[str, bool] = {}

    def run(job: str) -> None:
        start.wait()
        results[job] = reserve(costs, job, 0.4, 1.0).allowed

    threads = [threading.Thread(target=run, args=(f"j{i}.1",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(results.values()) == 1, results  # 0.5 + 0.4 fits once, never twice


def test_crossing_80_percent_sends_the_event_and_trips_the_alarm(tmp_path) -> None:
    from primevod import wiring
    from primevod.observability import metrics
    from primevod.pipeline import budget_guard, schedules
    from primevod.settings import Settings

    rt = wiring.build(Settings(home=tmp_path, budget_monthly_usd=1.0))
    first = reserve(rt.costs, "a.1", 0.5, 1.0)
    budget_guard.announce(rt, "a", first)
    second = reserve(rt.costs, "b.1", 0.35, 1.0)
    assert second.crossed_threshold and not first.crossed_threshold
    budget_guard.announce(rt, "b", second)
    third = reserve(rt.costs, "c.1", 0.3, 1.0)
    budget_guard.announce(rt, "c", third)
    types = [e.type for e in rt.catalog.list_events(limit=100)]
    assert types.count("budget.threshold") == 1 and types.count("budget.exceeded") == 1
    metrics.flush(rt.observability)
    states = {row["name"]: row["state"] for row in schedules.evaluate_alarms(rt)}
    assert states["budget-threshold"] == "ALARM"


def test_without_a_budget_there_is_no_budget_alarm(tmp_path) -> None:
    from primevod import wiring
    from primevod.pipeline import schedules
    from primevod.settings import Settings

    rt = wiring.build(Settings(home=tmp_path))
    assert "budget-threshold" not in {s.name for s in schedules.alarm_specs(rt)}
    dev = wiring.build(Settings(home=tmp_path / "dev", profile="dev"))
    assert dev.settings.budget_monthly_usd == 20.0
    assert "budget-threshold" in {s.name for s in schedules.alarm_specs(dev)}


def test_a_source_moved_to_infrequent_access_costs_its_class_price(tmp_path) -> None:
    from primevod import wiring
    from primevod.pipeline import cost_report
    from primevod.pipeline.lifecycle import apply_plan, plan_actions, read_rules
    from primevod.settings import Settings

    rt = wiring.build(Settings(home=tmp_path, cost_storage_gb_month_usd=0.023))
    created = rt.store.put(rt.settings.source_bucket, "uploads/a/clip.mp4", b"\0" * 10**6)
    rt.store.put(rt.settings.destination_bucket, "assets/a/1/master.m3u8", b"#EXTM3U\n")

    def source_row() -> dict:
        rows = cost_report.report(rt, storage=True)["storage"]
        return next(r for r in rows if r["bucket"] == rt.settings.source_bucket)

    assert source_row()["storage_class"] == "STANDARD"
    assert source_row()["usd_per_month"] == pytest.approx(1e6 / 1e9 * 0.023)
    config, document = read_rules(rt.settings)
    week = created.last_modified + timedelta(days=8)
    apply_plan(rt, plan_actions(rt, config, as_of=week, document=document))
    moved = source_row()
    assert (moved["storage_class"], moved["bytes"]) == ("STANDARD_IA", 10**6)
    assert moved["usd_per_month"] == pytest.approx(1e6 / 1e9 * 0.0125)  # IA's share of 0.023
