"""The durable pipeline in this process, on both catalogs and workflow databases (SQLite,
and PostgreSQL in a throwaway cluster): local buckets, real encodes."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest

from primevod.adapters.catalog.sql_subscriptions import SqlSubscriptions
from primevod.core.assets import AssetStatus
from primevod.core.webhooks import SIGNATURE_HEADER, verify
from primevod.pipeline import workflows
from primevod.pipeline.inbox import InboxWatcher
from primevod.pipeline.runtime import runtime
from primevod.pipeline.webhook_sender import WebhookSender
from primevod.settings import Settings


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def rt(request, tmp_path_factory):
    from primevod import wiring

    home = tmp_path_factory.mktemp("home")
    databases = {}
    if request.param == "postgres":
        new_database = request.getfixturevalue("postgres")
        databases = {"database_url": new_database(), "dbos_database_url": new_database()}
    settings = Settings(home=home, preset="ultrafast", encode_concurrency=1, **databases)
    runtime = wiring.start(settings)
    yield runtime
    wiring.stop()


def wait_terminal(rt, asset_id: str, timeout: float = 120) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        asset = rt.catalog.get_asset(asset_id)
        if asset.status in (AssetStatus.READY, AssetStatus.FAILED):
            return asset
        time.sleep(0.1)
    raise AssertionError(f"asset {asset_id} did not finish")


def test_ready_asset_is_published(rt, clip) -> None:
    from primevod import wiring

    asset = wiring.submit_file(clip("small.mp4"), title="Small")
    result = workflows.run_here(runtime(), asset.id).get_result()
    assert result["status"] == "ready"
    asset = rt.catalog.get_asset(asset.id)
    assert asset.status is AssetStatus.READY and asset.progress == 1.0
    assert asset.checksum and len(asset.checksum) == 64
    assert asset.probe["video"][0]["width"] == 320
    assert asset.hls_path == f"assets/{asset.id}/1/master.m3u8"
    bucket = rt.settings.destination_bucket
    keys = [o.key for o in rt.store.list(bucket, asset.output_prefix)]
    assert asset.hls_path in keys and asset.dash_path in keys
    assert any(k.endswith("thumbs/poster.jpg") for k in keys)
    assert {"ingest", "process", "publish"} <= set(asset.timings)
    assert [r["kind"] for r in asset.renditions] == ["video", "audio"]
    execution = rt.catalog.get_execution(asset.execution_id)
    assert execution.status == "succeeded"
    assert [(s.name, s.status) for s in execution.steps] == [
        ("ingest", "succeeded"),
        ("budget", "succeeded"),
        ("process", "succeeded"),
        ("quality", "succeeded"),
        ("publish", "succeeded"),
    ]
    # the job was priced before its encode and measured after (docs/cost.md)
    assert asset.cost and asset.cost["estimate"]["cpu_seconds"] > 0
    assert asset.cost["actual"]["cpu_seconds"] > 0 and asset.cost["budget"]["allowed"]
    events = rt.catalog.list_events(asset_id=asset.id)
    progress = [e.data["encoded_percent"] for e in events if e.type == "asset.progress"]
    assert progress == sorted(set(progress)) and set(progress) <= {25, 50, 75}
    types = [e.type for e in events if e.type != "asset.progress"]
    assert types == [
        "asset.created",
        "asset.ingested",
        "asset.processing",
        "asset.publishing",
        "asset.ready",
    ]
    # the work folder is gone once published
    assert not (rt.settings.work_dir / asset.id).exists()


def test_corrupt_source_fails_with_code_and_keeps_everything(rt, corrupt) -> None:
    from primevod import wiring

    asset = wiring.submit_file(corrupt["text"])
    result = workflows.run_here(runtime(), asset.id).get_result()
    assert result["status"] == "failed"
    asset = rt.catalog.get_asset(asset.id)
    assert asset.status is AssetStatus.FAILED
    assert asset.error.code == "source.unreadable" and asset.error.step == "ingest"
    assert rt.store.exists(asset.source_bucket, asset.source_key)  # source kept
    assert list(rt.store.list(rt.settings.destination_bucket, f"assets/{asset.id}/")) == []
    execution = rt.catalog.get_execution(asset.execution_id)
    # a permanent error is not retried
    assert [(s.name, s.attempt) for s in execution.steps] == [("ingest", 1)]
    assert rt.catalog.list_events(asset_id=asset.id)[-1].type == "asset.failed"


def test_cancel_then_retry(rt, bbb) -> None:
    from primevod import wiring

    asset = wiring.submit_file(bbb)
    rt.catalog.update_asset(asset.id, metadata={"ladder": "apple"})
    execution = workflows.start(runtime(), asset.id)
    deadline = time.monotonic() + 60
    while rt.catalog.get_asset(asset.id).status is not AssetStatus.PROCESSING:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.5)
    assert workflows.cancel(runtime(), asset.id) == execution
    cancelled = rt.catalog.get_asset(asset.id)
    assert cancelled.status is AssetStatus.FAILED
    assert cancelled.error.code == "workflow.cancelled"
    time.sleep(2.5)  # the encode notices within about a second and stops
    assert rt.catalog.get_asset(asset.id).status is AssetStatus.FAILED
    assert list(rt.store.list(rt.settings.destination_bucket, f"assets/{asset.id}/")) == []
    second = workflows.retry(runtime(), asset.id)
    assert second == f"{asset.id}.2"
    done = wait_terminal(rt, asset.id)
    assert done.status is AssetStatus.READY, done.error
    assert done.hls_path.startswith(f"assets/{asset.id}/2/")
    with pytest.raises(ValueError):
        workflows.retry(runtime(), asset.id)  # ready assets do not retry


def test_inbox_drop_starts_a_workflow(rt, clip) -> None:
    bucket = rt.settings.source_bucket
    rt.store.put_file(bucket, "inbox/dropped clip.mp4", clip("noaudio.mp4"))
    watcher = InboxWatcher(runtime())
    assert watcher.scan() == []  # first sight: wait until the size holds still
    started = watcher.scan()
    assert len(started) == 1
    assert not rt.store.exists(bucket, "inbox/dropped clip.mp4")
    asset = wait_terminal(rt, started[0])
    assert asset.status is AssetStatus.READY and asset.title == "dropped clip"
    assert watcher.scan() == []


def test_cancel_while_queued_then_retry(rt, bbb, clip) -> None:
    """An asset cancelled before its workflow left the queue (no execution recorded yet)
    retries as a new execution and reaches ready; the retry is an event."""
    from primevod import wiring

    busy = wiring.submit_file(bbb)
    rt.catalog.update_asset(busy.id, metadata={"ladder": "apple"})
    workflows.start(runtime(), busy.id)
    deadline = time.monotonic() + 60
    while rt.catalog.get_asset(busy.id).status is not AssetStatus.PROCESSING:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    queued = wiring.submit_file(clip("small.mp4"))
    first = workflows.start(runtime(), queued.id)  # waits behind `busy` (one encode at a time)
    assert workflows.cancel(runtime(), queued.id) == first
    assert rt.catalog.list_executions(queued.id) == []
    second = workflows.retry(runtime(), queued.id)
    assert second == f"{queued.id}.2"
    workflows.cancel(runtime(), busy.id)
    done = wait_terminal(rt, queued.id)
    assert done.status is AssetStatus.READY, done.error
    types = [e.type for e in rt.catalog.list_events(asset_id=queued.id)]
    assert types.index("asset.failed") < types.index("asset.retrying") < types.index("asset.ready")


def test_the_same_file_dropped_again_is_a_new_asset(rt, clip) -> None:
    bucket = rt.settings.source_bucket
    watcher = InboxWatcher(runtime())
    ids = []
    for _ in range(2):
        rt.store.put_file(bucket, "inbox/again.mp4", clip("noaudio.mp4"))
        watcher.scan()
        (asset_id,) = watcher.scan()
        assert wait_terminal(rt, asset_id).status is AssetStatus.READY
        workflows.delete(runtime(), asset_id)
        ids.append(asset_id)
    assert ids[0] != ids[1]
    # the drop folder stays there for the next file
    assert (rt.settings.home / "store" / "buckets" / bucket / "inbox").is_dir()


class _Receiver(BaseHTTPRequestHandler):
    statuses: ClassVar[list[int]] = []
    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers), body))
        status = type(self).statuses.pop(0) if type(self).statuses else 200
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver():
    _Receiver.statuses = []
    _Receiver.received = []
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", _Receiver
    server.shutdown()


def test_webhook_signed_delivery_with_retry(rt, receiver) -> None:
    url, handler = receiver
    subs = SqlSubscriptions(rt.catalog)
    sub = subs.add_webhook(url, ["asset.deleted"])
    handler.statuses = [500]  # the first try fails
    asset = rt.catalog.list_assets(status="ready").items[0]
    workflows.delete(runtime(), asset.id)
    sender = WebhookSender(subs, retry_base=0.2, timeout=5, allow_hosts=["127.0.0.1"])
    sender.send_due()
    assert subs.deliveries(sub["id"])[0]["status"] == "pending"
    time.sleep(0.3)
    sender.send_due()
    sender.stop()
    delivered = subs.deliveries(sub["id"])
    assert delivered[0]["status"] == "delivered" and delivered[0]["attempts"] == 2
    headers, body = handler.received[-1]
    assert verify(sub["secret"], headers[SIGNATURE_HEADER], body)
    assert not verify("wrong-secret", headers[SIGNATURE_HEADER], body)
    event = json.loads(body)
    assert event["type"] == "asset.deleted" and event["asset_id"] == asset.id
    subs.remove(sub["id"])


def test_webhook_dead_letter_and_replay(rt, receiver) -> None:
    url, handler = receiver
    subs = SqlSubscriptions(rt.catalog)
    sub = subs.add_webhook(url, ["asset.*"])
    handler.statuses = [503]
    rt.catalog.emit_test = None
    from primevod.core.assets import Event

    rt.catalog.emit(Event(type="asset.progress", asset_id=None, data={"x": 1}))
    sender = WebhookSender(subs, retry_window=0.0, retry_base=0.1, allow_hosts=["127.0.0.1"])
    sender.send_due()
    assert [d["status"] for d in subs.deliveries(sub["id"])] == ["dead"]
    assert subs.replay_dead(sub["id"]) == 1
    sender.send_due()
    sender.stop()
    assert [d["status"] for d in subs.deliveries(sub["id"])] == ["delivered"]
    subs.remove(sub["id"])


def test_pull_queue_visibility_and_dead_letter(rt) -> None:
    from primevod.core.assets import Event

    subs = SqlSubscriptions(rt.catalog)
    sub = subs.add_queue("ops", ["asset.failed"])
    rt.catalog.emit(Event(type="asset.failed", data={"n": 1}))
    rt.catalog.emit(Event(type="asset.ready", data={"n": 2}))  # not subscribed
    first = subs.receive(sub["id"], visibility_timeout=0.5)
    assert [m["event"]["data"] for m in first] == [{"n": 1}]
    assert subs.receive(sub["id"]) == []  # invisible while being handled
    time.sleep(0.6)
    second = subs.receive(sub["id"], visibility_timeout=0.0, max_receives=2)
    assert second[0]["receive_count"] == 2
    assert not subs.delete_message(sub["id"], first[0]["receipt"])  # stale receipt
    assert subs.receive(sub["id"], max_receives=2) == []  # third receive: dead-lettered
    assert [d["status"] for d in subs.deliveries(sub["id"])] == ["dead"]
    subs.replay_dead(sub["id"])
    third = subs.receive(sub["id"])
    assert subs.delete_message(sub["id"], third[0]["receipt"])
    assert subs.receive(sub["id"]) == []


def test_dead_letters_never_crowd_out_waiting_messages(rt) -> None:
    from primevod.core.assets import Event

    subs = SqlSubscriptions(rt.catalog)
    sub = subs.add_queue("crowd", ["asset.failed"])
    rt.catalog.emit(Event(type="asset.failed", data={"n": 1}))
    assert len(subs.receive(sub["id"], visibility_timeout=0.0, max_receives=1)) == 1
    rt.catalog.emit(Event(type="asset.failed", data={"n": 2}))
    # the first message is due for the dead-letter list; the second still comes back
    page = subs.receive(sub["id"], max_messages=1, max_receives=1)
    assert [m["event"]["data"] for m in page] == [{"n": 2}]
    assert [d["status"] for d in subs.deliveries(sub["id"])] == ["dead", "ready"]
