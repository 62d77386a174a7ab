"""The audit trail for real: API calls on a running server and state-changing CLI commands
become records; `primevod audit verify` passes on the untouched trail and, on copies of the
catalog tampered with directly in SQLite (a record modified, deleted, inserted, two
reordered, a digest deleted), fails naming the first bad record. The SQL store keeps one
unforked chain under concurrent writers (SQLite and PostgreSQL) and prunes whole digested
periods, still verifiable."""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from support.cli import run_cli
from support.server import Server

from primevod.adapters.catalog.sql_audit import SqlAudit
from primevod.adapters.catalog.sql_catalog import SqlCatalog
from primevod.adapters.signing.audit_keys import AuditKeys
from primevod.core.audit import AuditEntry, record_hash, seal, verify


def _entry(i: int, principal: str = "k1") -> AuditEntry:
    return AuditEntry(
        time=datetime.now(UTC),
        principal=principal,
        action="assets:Get",
        resource=f"asset/a{i}",
        outcome="success",
        status=200,
        request_id=f"r{i}",
        route="GET /api/v1/assets/{asset_id}",
        source_ip="127.0.0.1",
        user_agent="test",
    )


# -- the store ---------------------------------------------------------------------------
@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path) -> SqlAudit:
    if request.param == "postgres":
        url = request.getfixturevalue("postgres")()
    else:
        url = f"sqlite:///{tmp_path / 'catalog.db'}"
    return SqlAudit(SqlCatalog(url))


def _digest(store: SqlAudit, keys: AuditKeys, now: datetime | None = None):
    key_id, private = keys.signer()
    import base64

    return store.add_digest(
        key_id=key_id,
        sign=lambda m: base64.b64encode(private.sign(m)).decode(),
        now=now or datetime.now(UTC),
    )


def test_concurrent_writers_keep_one_chain(store: SqlAudit, tmp_path: Path) -> None:
    keys = AuditKeys(tmp_path / "audit-keys")
    writers = [SqlAudit(SqlCatalog(store.catalog.url)) for _ in range(4)]  # as many processes

    def write(n: int, audit: SqlAudit) -> None:
        for i in range(15):
            audit.append(_entry(n * 100 + i, principal=f"k{n}"))

    threads = [threading.Thread(target=write, args=(n, w)) for n, w in enumerate(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert _digest(store, keys) is not None
    assert _digest(store, keys) is None  # nothing new
    records = store.records()
    assert [r.seq for r in records] == list(range(1, 61))
    assert all(record_hash(r) == r.hash for r in records)
    result = verify(
        records, store.digests(), keys.public_keys(), now=datetime.now(UTC), head=store.head()
    )
    assert result.ok, result.problems
    found = store.search(principal="k2", action="assets:*", limit=5)
    assert len(found) == 5 and all(r.entry.principal == "k2" for r in found)
    assert [r.seq for r in found] == sorted((r.seq for r in found), reverse=True)


def test_pruning_whole_digested_periods_stays_verifiable(store: SqlAudit, tmp_path) -> None:
    keys = AuditKeys(tmp_path / "audit-keys")
    now = datetime.now(UTC)
    for i in range(5):
        store.append(_entry(i))
    _digest(store, keys, now=now - timedelta(days=400))  # an old period
    for i in range(3):
        store.append(_entry(10 + i))
    _digest(store, keys, now=now)
    store.append(_entry(20))  # not digested yet
    assert store.prune(now - timedelta(days=365)) == 5
    records = store.records()
    assert [r.seq for r in records] == [6, 7, 8, 9]
    result = verify(
        records,
        store.digests(),
        keys.public_keys(),
        now=now,
        head=store.head(),
        retention=timedelta(days=365),
    )
    assert result.ok, result.problems


# -- a real server and the real CLI ------------------------------------------------------
def _count(home: Path) -> int:
    with sqlite3.connect(home / "catalog.db") as db:
        return db.execute("SELECT count(*) FROM audit_records").fetchone()[0]


def _settle(home: Path, expected: int) -> None:
    """Records are written just after each response: wait for the last ones."""
    deadline = time.monotonic() + 10
    while _count(home) < expected:
        assert time.monotonic() < deadline, f"{_count(home)} records, expected {expected}"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def trail(tmp_path_factory):
    """A server after three batches of API calls, each followed by `primevod audit digest`."""
    home = tmp_path_factory.mktemp("audit")
    server = Server(home)
    api = f"{server.base}/api/v1"
    admin, viewer = server.auth("admin"), server.auth("viewer")
    calls: list[Callable[[], httpx.Response]] = [
        lambda: httpx.get(f"{api}/assets", headers=admin),
        lambda: httpx.get(f"{api}/assets", headers={"User-Agent": "probe/1"}),  # 401
        lambda: httpx.post(f"{api}/alarms/evaluate", headers=viewer),  # 403
        lambda: httpx.get(f"{api}/assets/nope", headers=viewer),  # 404
        lambda: httpx.get(f"{api}/alarms", headers={**viewer, "X-Request-ID": "trace-42"}),
        lambda: httpx.delete(f"{api}/assets/nope", headers=admin),
        lambda: httpx.get(f"{api}/audit", headers=viewer),  # 403: admins only
        lambda: httpx.get(f"{api}/audit", headers=admin),
    ]
    responses = []
    written = 0
    for batch in (calls, calls[:4], calls[4:]):
        responses += [call() for call in batch]
        httpx.get(f"{server.base}/healthz")  # not audited
        written += len(batch)
        _settle(home, written)
        done = run_cli(home, "audit", "digest", "--json")
        assert done.returncode == 0, done.stderr
        written += 1  # the digest command's own record
        _settle(home, written)
    yield {"server": server, "home": home, "responses": responses, "records": written}
    server.stop()


def test_api_calls_and_commands_are_recorded(trail) -> None:
    server, responses = trail["server"], trail["responses"]
    statuses = [r.status_code for r in responses[:8]]
    assert statuses == [200, 401, 403, 404, 200, 404, 403, 200]
    assert responses[4].headers["x-request-id"] == "trace-42"
    assert len(responses[0].headers["x-request-id"]) == 32  # made up when not sent
    page = httpx.get(
        f"{server.base}/api/v1/audit", params={"limit": 100}, headers=server.auth("admin")
    )
    assert page.status_code == 200
    records = {r["request_id"]: r for r in page.json()["items"]}
    assert len(page.json()["items"]) == trail["records"]
    anonymous = records[responses[1].headers["x-request-id"]]
    assert (anonymous["principal"], anonymous["outcome"], anonymous["status"]) == (
        "anonymous", "denied", 401,
    )  # fmt: skip
    assert anonymous["user_agent"] == "probe/1" and anonymous["source_ip"] == "127.0.0.1"
    viewer_id = server.keys["viewer"].split("_")[1]
    refused = records[responses[2].headers["x-request-id"]]
    assert (refused["principal"], refused["action"], refused["status"]) == (
        viewer_id, "alarms:Evaluate", 403,
    )  # fmt: skip
    missing = records[responses[3].headers["x-request-id"]]
    assert (missing["action"], missing["resource"], missing["outcome"]) == (
        "assets:Get", "asset/nope", "failed",
    )  # fmt: skip
    assert records["trace-42"]["action"] == "alarms:Get"
    digests = [r for r in records.values() if r["action"] == "audit:Digest"]
    assert len(digests) == 3 and all(r["origin"] == "cli" for r in digests)
    dump = json.dumps(page.json())
    assert all(key not in dump for key in server.keys.values())  # no secrets
    only = httpx.get(
        f"{server.base}/api/v1/audit",
        params={"action": "alarms:*", "principal": viewer_id, "since": "1h"},
        headers=server.auth("admin"),
    ).json()["items"]
    assert {r["action"] for r in only} == {"alarms:Evaluate", "alarms:Get"}
    found = run_cli(trail["home"], "audit", "search", "--principal", viewer_id, "--json")
    assert found.returncode == 0 and {r["principal"] for r in json.loads(found.stdout)} == {
        viewer_id
    }


def test_a_denied_command_is_recorded_and_refused(trail, tmp_path) -> None:
    home = _copy(trail["home"], tmp_path)
    denied = run_cli(home, "keys", "revoke", "abc", PRIMEVOD_API_KEY=trail["server"].keys["viewer"])
    assert denied.returncode == 3 and "may not" in denied.stderr
    last = json.loads(run_cli(home, "audit", "search", "--json", "--limit", "1").stdout)[0]
    assert (last["action"], last["resource"], last["outcome"], last["status"]) == (
        "keys:Revoke", "key/abc", "denied", 403,
    )  # fmt: skip


def _copy(home: Path, to: Path) -> Path:
    """The catalog (a consistent copy of the live database) and the audit keys."""
    copy = to / "home"
    copy.mkdir()
    with sqlite3.connect(home / "catalog.db") as src, sqlite3.connect(copy / "catalog.db") as dst:
        src.backup(dst)
    shutil.copytree(home / "audit-keys", copy / "audit-keys")
    return copy


def _verify(home: Path) -> tuple[int, dict]:
    done = run_cli(home, "audit", "verify", "--json")
    return done.returncode, json.loads(done.stdout)


def test_the_untouched_trail_verifies(trail, tmp_path) -> None:
    code, report = _verify(_copy(trail["home"], tmp_path))
    assert code == 0 and report["ok"], report
    assert report["digests"] == 3 and report["records"] >= trail["records"]  # and later calls
    human = run_cli(trail["home"], "audit", "verify")
    assert human.returncode == 0 and "audit trail intact" in human.stdout


def _modify(db: sqlite3.Connection) -> int:
    db.execute("UPDATE audit_records SET principal = 'someone-else' WHERE seq = 5")
    return 5


def _delete(db: sqlite3.Connection) -> int:
    db.execute("DELETE FROM audit_records WHERE seq = 6")
    return 6


def _insert(db: sqlite3.Connection) -> int:
    """A forged record at 4 whose chain hash is computed right, the later ones renumbered."""
    db.execute("UPDATE audit_records SET seq = -seq WHERE seq >= 4")
    db.execute("UPDATE audit_records SET seq = 1 - seq WHERE seq < 0")
    prev = db.execute("SELECT hash FROM audit_records WHERE seq = 3").fetchone()[0]
    forged = seal(_entry(0, principal="intruder"), 4, prev)
    e = forged.entry
    db.execute(
        "INSERT INTO audit_records VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (4, e.time.strftime("%Y-%m-%d %H:%M:%S.%f"), e.principal, e.action, e.route, e.resource,
         e.outcome, e.status, e.request_id, e.origin, e.source_ip, e.user_agent,
         forged.prev_hash, forged.hash),
    )  # fmt: skip
    db.execute("UPDATE audit_head SET seq = seq + 1")
    return 4


def _reorder(db: sqlite3.Connection) -> int:
    db.execute("UPDATE audit_records SET seq = -1 WHERE seq = 7")
    db.execute("UPDATE audit_records SET seq = 7 WHERE seq = 8")
    db.execute("UPDATE audit_records SET seq = 8 WHERE seq = -1")
    return 7


def _delete_digest(db: sqlite3.Connection) -> int:
    first = db.execute("SELECT first_seq FROM audit_digests WHERE number = 2").fetchone()[0]
    db.execute("DELETE FROM audit_digests WHERE number = 2")
    return first


def _delete_newest_digest(db: sqlite3.Connection) -> int:
    first = db.execute("SELECT first_seq FROM audit_digests WHERE number = 3").fetchone()[0]
    db.execute("DELETE FROM audit_digests WHERE number = 3")
    return first


@pytest.mark.parametrize(
    ("tamper", "kind"),
    [
        (_modify, "record.modified"),
        (_delete, "record.missing"),
        (_insert, "record.inserted"),
        (_reorder, "record.moved"),
        (_delete_digest, "digest.missing"),
        (_delete_newest_digest, "digest.missing"),
    ],
)
def test_tampering_is_detected_and_the_first_bad_record_named(
    trail, tmp_path, tamper: Callable[[sqlite3.Connection], int], kind: str
) -> None:
    home = _copy(trail["home"], tmp_path)
    with sqlite3.connect(home / "catalog.db") as db:
        first_bad = tamper(db)
    code, report = _verify(home)
    assert code == 1 and not report["ok"]
    assert report["first_bad_record"] == first_bad, report
    assert report["first_problem"]["kind"] == kind, report
    if tamper is _modify:  # and as a person reads it
        human = run_cli(home, "audit", "verify")
        assert human.returncode == 1
        assert f"first bad record {first_bad}" in human.stderr
