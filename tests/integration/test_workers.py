"""Worker liveness on a real catalog (SQLite and PostgreSQL): one claim wins per dead worker,
a dead process on this host is claimed without waiting, a stalled heartbeat after the
dead-after time is claimed, and many processes may migrate an empty database at once."""

from __future__ import annotations

import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from primevod.adapters.catalog.sql_catalog import HEAD_REVISION, SqlCatalog
from primevod.core.workers import WorkerInfo
from primevod.pipeline import dbos_recovery, liveness


@pytest.fixture(params=["sqlite", "postgres"])
def url(request, tmp_path) -> str:
    if request.param == "postgres":
        return request.getfixturevalue("postgres")()
    return f"sqlite:///{tmp_path / 'catalog.db'}"


def worker(
    worker_id: str, *, pid: int = 1, seen: datetime | None = None, host: str = "far"
) -> WorkerInfo:
    now = seen or datetime.now(UTC)
    return WorkerInfo(
        id=worker_id, host=host, pid=pid, role="worker", version="t", started_at=now, last_seen=now
    )


def test_many_processes_migrate_an_empty_database_at_once(url: str) -> None:
    with ThreadPoolExecutor(max_workers=6) as pool:
        catalogs = list(pool.map(lambda _: SqlCatalog(url), range(6)))
    assert {c.schema_version() for c in catalogs} == {HEAD_REVISION}


def test_exactly_one_claimer_wins_a_dead_worker(url: str) -> None:
    catalog = SqlCatalog(url)
    long_ago = datetime.now(UTC) - timedelta(minutes=5)
    catalog.register_worker(worker("dead", seen=long_ago))
    barrier = threading.Barrier(8)

    def claim(i: int) -> bool:
        barrier.wait()
        return catalog.claim_worker("dead", f"claimer-{i}", datetime.now(UTC), datetime.now(UTC))

    with ThreadPoolExecutor(max_workers=8) as pool:
        wins = list(pool.map(claim, range(8)))
    assert wins.count(True) == 1
    [info] = catalog.list_workers()
    assert info.state == "lost" and info.taken_over_by == f"claimer-{wins.index(True)}"


def runtime_for(catalog: SqlCatalog, tmp_path, dead_after: float = 30.0) -> SimpleNamespace:
    settings = SimpleNamespace(worker_dead_after_seconds=dead_after, work_root=tmp_path / "work")
    return SimpleNamespace(workers=catalog, catalog=catalog, settings=settings)


def test_takeover_claims_the_stale_and_the_gone_but_not_the_live(
    url: str, tmp_path, monkeypatch
) -> None:
    catalog = SqlCatalog(url)
    recovered: list[list[str]] = []
    monkeypatch.setattr(
        dbos_recovery, "recover", lambda ids: recovered.append(ids) or [f"{ids[0]}.wf"]
    )
    now = datetime.now(UTC)
    here = socket.gethostname()
    catalog.register_worker(worker("stale", seen=now - timedelta(seconds=31)))
    catalog.register_worker(worker("fresh", seen=now))
    catalog.register_worker(worker("gone", pid=2**22 + 17, host=here))  # no such process
    catalog.register_worker(worker("me", seen=now - timedelta(hours=1)))
    (tmp_path / "work" / "gone" / "asset").mkdir(parents=True)
    rt = runtime_for(catalog, tmp_path)
    taken = liveness.take_over_dead(rt, "me")
    assert sorted(taken) == ["gone.wf", "stale.wf"]
    states = {w.id: w.state for w in catalog.list_workers()}
    assert states == {"stale": "lost", "fresh": "live", "gone": "lost", "me": "live"}
    assert not (tmp_path / "work" / "gone").exists()  # its scratch on this host went
    lost = [e for e in catalog.list_events() if e.type == "worker.lost"]
    assert {e.data["worker_id"] for e in lost} == {"stale", "gone"}
    assert liveness.take_over_dead(rt, "me") == []  # once only


def test_a_clean_stop_with_unfinished_work_is_claimed_at_once(url: str, tmp_path) -> None:
    catalog = SqlCatalog(url)
    now = datetime.now(UTC)
    catalog.register_worker(worker("interrupted", seen=now))
    catalog.register_worker(worker("finished", seen=now))
    catalog.stop_worker("interrupted", now, unfinished=True)
    catalog.stop_worker("finished", now)
    dead = liveness._dead_workers(runtime_for(catalog, tmp_path), "me", now)
    assert [w.id for w, _ in dead] == ["interrupted"]
    assert {w.id: w.state for w in catalog.list_workers()}["finished"] == "stopped"


def test_workers_list_shows_live_dead_and_with_all_the_stopped(tmp_path, monkeypatch) -> None:
    import json

    from typer.testing import CliRunner

    from primevod.cli.main import app

    monkeypatch.setenv("PRIMEVOD_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PRIMEVOD_WORKER_DEAD_AFTER_SECONDS", "30")
    catalog = SqlCatalog(f"sqlite:///{tmp_path / 'home' / 'catalog.db'}")
    now = datetime.now(UTC)
    catalog.register_worker(worker("busy", seen=now))
    catalog.register_worker(worker("silent", seen=now - timedelta(minutes=2)))
    catalog.register_worker(worker("done", seen=now))
    catalog.stop_worker("done", now)
    runner = CliRunner()
    shown = json.loads(runner.invoke(app, ["workers", "list", "--json"]).output)
    assert {w["id"]: w["state"] for w in shown} == {"busy": "live", "silent": "dead"}
    assert all(w["running"] == [] for w in shown)
    everything = json.loads(runner.invoke(app, ["workers", "list", "--json", "--all"]).output)
    assert {w["id"] for w in everything} == {"busy", "silent", "done"}
    text = runner.invoke(app, ["workers", "list"]).output
    assert "busy worker on far" in text and "silent" in text
