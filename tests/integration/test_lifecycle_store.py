"""The local lifecycle engine on a real local store and a real SQLite catalog, the clock moved
by `as_of` only: the seed's rules (a source to Standard-IA at day 7 and expired at day 30,
noncurrent versions after 7 days, abandoned uploads after a day, packages kept), tags,
storage classes read back transparently, a dry run that changes nothing, a malformed
document that deletes nothing, and `primevod lifecycle show|apply` with `--as-of`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from primevod.cli.main import app
from primevod.core.assets import Asset, AssetStatus, Event
from primevod.core.lifecycle import due_at
from primevod.core.uploads import UploadSession
from primevod.pipeline.lifecycle import apply_plan, plan_actions, read_rules
from primevod.pipeline.lifecycle_schedule import run_lifecycle
from primevod.settings import Settings

SOURCE = "uploads/a1/film.mp4"
PACKAGE = ["assets/a1/1/master.m3u8", "assets/a1/1/chunk-0-00001.m4s"]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def build(home: Path, **settings: object):
    from primevod import wiring

    return wiring.build(Settings(home=home, **settings))


def run(rt, at: datetime) -> dict[str, int]:
    config, document = read_rules(rt.settings)
    return apply_plan(rt, plan_actions(rt, config, as_of=at, document=document)).counts()


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under root with its size and modification time."""
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def seeded(home: Path, **settings: object):
    """A source (with its asset, ready), a published package and an abandoned upload."""
    rt = build(home, **settings)
    src, dst = rt.settings.source_bucket, rt.settings.destination_bucket
    created = rt.store.put(src, SOURCE, b"source bytes" * 100).last_modified
    for key in PACKAGE:
        rt.store.put(dst, key, b"#EXTM3U\n" if key.endswith(".m3u8") else b"\0" * 64)
    rt.catalog.create_asset(
        Asset(id="a1", status=AssetStatus.READY, source_bucket=src, source_key=SOURCE)
    )
    return rt, created


def test_a_source_moves_to_infrequent_access_at_day_7_and_expires_at_day_30(home: Path) -> None:
    rt, created = seeded(home)
    src, store = rt.settings.source_bucket, rt.store
    assert run(rt, due_at(created, 7) - timedelta(seconds=1)) == {}
    assert store.head(src, SOURCE).storage_class == "STANDARD"

    assert run(rt, due_at(created, 7)) == {"transition": 1}
    moved = store.head(src, SOURCE)
    assert moved.storage_class == "STANDARD_IA" and moved.last_modified == created
    # its own folder per class, recorded in its sidecar; every read still finds it
    assert store.path_of(src, SOURCE) == home / "store/tiers/STANDARD_IA/source" / SOURCE
    assert not (home / "store/buckets/source" / SOURCE).exists()
    sidecar = json.loads((home / "store/meta/source" / f"{SOURCE}.json").read_text())
    assert sidecar["storage_class"] == "STANDARD_IA"
    assert store.get(src, SOURCE) == b"source bytes" * 100
    assert store.get_range(src, SOURCE, 0, 5) == b"source"
    assert [(o.key, o.storage_class) for o in store.list(src, "uploads/")] == [
        (SOURCE, "STANDARD_IA")
    ]
    assert run(rt, due_at(created, 29)) == {}  # never moved twice

    assert run(rt, due_at(created, 30)) == {"expire": 1}
    assert not store.exists(src, SOURCE)
    asset = rt.catalog.get_asset("a1")
    assert asset.status is AssetStatus.READY  # its package is untouched and still plays
    assert asset.metadata["source_expired"]["rule"] == "uploads-to-infrequent-access-then-expire"
    [event] = [e for e in rt.catalog.list_events(asset_id="a1") if e.type == "source.expired"]
    assert event.data["bucket"] == src and event.data["key"] == SOURCE
    assert event.data["storage_class"] == "STANDARD_IA"
    for key in PACKAGE:
        assert store.head(rt.settings.destination_bucket, key).storage_class == "STANDARD"


def test_the_source_bucket_is_versioned_and_noncurrent_versions_expire(home: Path) -> None:
    rt, created = seeded(home)
    src, store = rt.settings.source_bucket, rt.store
    store.put(src, SOURCE, b"a second upload")  # the first one becomes noncurrent
    [old] = store.noncurrent_versions(src)
    assert old.info.key == SOURCE and old.info.size == 1200
    since = old.noncurrent_since
    assert run(rt, due_at(since, 7) - timedelta(seconds=1)) == {}
    # the new current object reaches its day 7 too, and moves to Standard-IA
    assert run(rt, due_at(since, 7)) == {"expire_version": 1, "transition": 1}
    assert store.noncurrent_versions(src) == []
    assert store.get(src, SOURCE) == b"a second upload"  # the current one stays
    [event] = [e for e in rt.catalog.list_events() if e.type == "object.expired"]
    assert event.data["version_id"] == old.info.version_id
    assert event.data["rule"] == "noncurrent-versions-expire"
    # an expired (deleted) object is kept as a noncurrent version for 7 more days
    later = due_at(created, 30)
    assert run(rt, later) == {"expire": 1}
    [kept] = store.noncurrent_versions(src)
    assert kept.info.key == SOURCE and not store.exists(src, SOURCE)


def test_packages_are_kept(home: Path) -> None:
    rt, _ = seeded(home)
    dst = rt.settings.destination_bucket
    before = snapshot(home / "store" / "buckets" / dst)
    run(rt, datetime.now(UTC) + timedelta(days=3650))
    assert snapshot(home / "store" / "buckets" / dst) == before
    assert [o.key for o in rt.store.list(dst)] == sorted(PACKAGE)


def test_an_abandoned_multipart_upload_is_aborted_and_its_session_closed(home: Path) -> None:
    rt, _ = seeded(home)
    src = rt.settings.source_bucket
    upload_id = rt.store.create_multipart(src, "uploads/a2/big.mov")
    rt.store.upload_part(src, "uploads/a2/big.mov", upload_id, 1, b"part one")
    now = datetime.now(UTC)
    rt.catalog.create_upload(
        UploadSession(
            upload_id=upload_id,
            key="uploads/a2/big.mov",
            asset_id="a2",
            filename="big.mov",
            content_type="video/quicktime",
            size=100,
            part_size=50,
            max_parts=2,
            created_at=now,
            expires_at=now + timedelta(days=30),
        )
    )
    [upload] = rt.store.list_multipart_uploads(src)
    assert run(rt, due_at(upload.initiated, 1) - timedelta(seconds=1)) == {}
    assert run(rt, due_at(upload.initiated, 1)) == {"abort_upload": 1}
    assert rt.store.list_multipart_uploads(src) == []
    assert not (home / "store" / "uploads" / src / upload_id).exists()
    assert rt.catalog.get_upload(upload_id).status == "expired"


def test_a_tag_filter_expires_only_the_tagged_objects(home: Path, tmp_path: Path) -> None:
    rules = tmp_path / "drafts.json"
    rules.write_text(
        json.dumps(
            {
                "Rules": [
                    {
                        "ID": "drafts-go-after-2-days",
                        "Status": "Enabled",
                        "Filter": {"Tag": {"Key": "draft", "Value": "yes"}},
                        "Expiration": {"Days": 2},
                    }
                ]
            }
        )
    )
    rt = build(home, lifecycle=rules)
    src = rt.settings.source_bucket
    draft = rt.store.put(src, "inbox/draft.mov", b"d")
    rt.store.put(src, "inbox/final.mov", b"f")
    tagged = rt.store.set_tags(src, "inbox/draft.mov", {"draft": "yes"})
    assert rt.store.head(src, "inbox/draft.mov").tags == {"draft": "yes"} == tagged.tags
    assert run(rt, due_at(draft.last_modified, 2)) == {"expire": 1}
    assert [o.key for o in rt.store.list(src, "inbox/")] == ["inbox/final.mov"]
    [event] = rt.catalog.list_events()
    assert (event.type, event.asset_id) == ("object.expired", None)
    assert event.data["rule"] == "drafts-go-after-2-days"


def test_a_dry_run_changes_nothing(home: Path) -> None:
    rt, _ = seeded(home)
    rt.store.create_multipart(rt.settings.source_bucket, "uploads/a3/x.mov")
    before, events = snapshot(home / "store"), rt.catalog.list_events()
    result = CliRunner().invoke(
        app,
        ["lifecycle", "apply", "--dry-run", "--as-of", "+45d", "--json"],
        env={"PRIMEVOD_HOME": str(home)},
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["dry_run"] is True and "applied" not in report
    assert {(a["action"], a["key"]) for a in report["actions"]} == {
        ("expire", SOURCE),
        ("abort_upload", "uploads/a3/x.mov"),
    }
    assert snapshot(home / "store") == before
    assert rt.catalog.list_events() == events


def test_cli_show_lists_what_is_due_as_of_a_date_and_apply_does_it(home: Path) -> None:
    rt, created = seeded(home)
    env = {"PRIMEVOD_HOME": str(home)}
    day8 = due_at(created, 7).date().isoformat()
    shown = CliRunner().invoke(app, ["lifecycle", "show", "--as-of", day8, "--json"], env=env)
    assert shown.exit_code == 0, shown.output
    report = json.loads(shown.stdout)
    assert report["document"] == "default.json"
    [action] = report["actions"]
    assert action == {
        "bucket": "source",
        "key": SOURCE,
        "action": "transition",
        "rule": "uploads-to-infrequent-access-then-expire",
        "due": due_at(created, 7).isoformat(),
        "storage_class": "STANDARD_IA",
        "current_class": "STANDARD",
        "version_id": None,
        "upload_id": None,
        "size": 1200,
        "held": None,
    }
    assert {(c["bucket"], c["storage_class"], c["objects"]) for c in report["classes"]} == {
        ("source", "STANDARD", 1),
        ("destination", "STANDARD", 2),
    }
    assert {r["setting"] for r in report["retention"]} >= {"events_retention_days"}
    assert rt.store.head("source", SOURCE).storage_class == "STANDARD"  # show changes nothing

    table = CliRunner().invoke(app, ["lifecycle", "show", "--as-of", day8], env=env)
    assert table.exit_code == 0 and "transition" in table.stdout and "STANDARD_IA" in table.stdout

    applied = CliRunner().invoke(app, ["lifecycle", "apply", "--as-of", day8, "--json"], env=env)
    assert applied.exit_code == 0, applied.output
    assert json.loads(applied.stdout)["applied"] == {"transition": 1}
    assert rt.store.head("source", SOURCE).storage_class == "STANDARD_IA"

    bad = CliRunner().invoke(app, ["lifecycle", "show", "--as-of", "next tuesday"], env=env)
    assert bad.exit_code == 2 and "request.invalid" in bad.stderr


def test_the_source_of_an_asset_in_its_workflow_is_held(home: Path) -> None:
    rt, created = seeded(home)
    rt.catalog.update_asset("a1", status=AssetStatus.PROCESSING)
    config, document = read_rules(rt.settings)
    plan = plan_actions(rt, config, as_of=due_at(created, 30), document=document)
    [held] = plan.actions
    assert held.action.kind == "expire" and "processing" in (held.held or "")
    assert apply_plan(rt, plan).counts() == {}
    assert rt.store.exists("source", SOURCE)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        (
            '{"Rules": [\n  {"ID": "a",\n   "Status": "Enabled" "Expiration": {"Days": 1}}]}',
            "line 3",
        ),
        (
            json.dumps({"Rules": [{"ID": "a", "Status": "Enabled", "Expiration": {"Days": 0}}]}),
            "Rules.0.Expiration.Days",
        ),
    ],
)
def test_a_malformed_document_is_refused_and_nothing_is_deleted(
    home: Path, tmp_path: Path, text: str, named: str
) -> None:
    rules = tmp_path / "mine.json"
    rules.write_text(text)
    rt, created = seeded(home, lifecycle=rules)
    old = datetime.now(UTC) - timedelta(days=400)
    rt.catalog.emit(Event(type="object.expired", data={"old": True}, created_at=old))
    logs = home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    rotated = logs / "edge-access.log.20200101T000000Z"
    rotated.write_text("{}\n")
    before, events = snapshot(home / "store"), rt.catalog.list_events()

    report = run_lifecycle(rt, due_at(created, 400))
    assert report["result"] == "refused"
    assert "lifecycle.invalid" in report["error"] and named in report["error"]
    assert snapshot(home / "store") == before  # no object, version or upload went
    assert rt.catalog.list_events() == events  # no history pruned either
    assert rotated.exists()

    env = {"PRIMEVOD_HOME": str(home), "PRIMEVOD_LIFECYCLE": str(rules)}
    shown = CliRunner().invoke(app, ["lifecycle", "show", "--json"], env=env)
    assert shown.exit_code == 2
    error = json.loads(shown.stdout)["error"]
    assert error["code"] == "lifecycle.invalid"
    assert error["message"].startswith(f"{rules}: ") and named in error["message"]
