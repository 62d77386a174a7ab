"""The asset feed (`GET /api/v1/assets/{id}/events/stream`, Server-Sent Events) on a real
server: a 40 s title dropped in the inbox is followed from the start, with the encode's
progress in between 0 and 95 % and then ready; a reconnect resumes after its Last-Event-ID;
401 without a key, 404 for an asset that does not exist or the key may not read; and an
open stream does not hold up the server's shutdown."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from support.assets import new_asset
from support.server import Server

from primevod.adapters.storage.local_store import LocalObjectStore
from primevod.core.assets import Asset, AssetError, AssetStatus

OTHER_COLLECTION = {
    "Statement": [
        {"Effect": "Allow", "Action": "assets:*", "Resource": "collection/elsewhere/*"},
    ]
}


@dataclass
class Message:
    event: str = "message"
    id: str | None = None
    data: list[str] = field(default_factory=list)

    def json(self) -> Any:
        return json.loads("\n".join(self.data))


def messages(lines: Iterator[str]) -> Iterator[Message]:
    """Server-Sent Events as the EventSource of a browser parses them (comments skipped)."""
    current = Message()
    for line in lines:
        if not line:
            if current.data:
                yield current
            current = Message()
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            current.event = value
        elif name == "id":
            current.id = value
        elif name == "data":
            current.data.append(value)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("streamhome"), PRIMEVOD_INBOX_POLL_SECONDS="0.2")
    yield srv
    srv.stop()


def stream_url(server: Server, asset_id: str) -> str:
    return f"{server.base}/api/v1/assets/{asset_id}/events/stream"


@pytest.fixture(scope="module")
def followed(server: Server, clip) -> dict[str, Any]:
    """A 40 s 720p title followed on the feed from its first state to ready."""
    store = LocalObjectStore(server.home / "store")
    store.put_file("source", "inbox/feed title.mp4", clip("title40.mp4"))
    asset_id = new_asset(server)
    states: list[dict[str, Any]] = []
    events: list[Message] = []
    timeout = httpx.Timeout(10, read=60)
    with httpx.stream(
        "GET", stream_url(server, asset_id), headers=server.auth("viewer"), timeout=timeout
    ) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        for message in messages(response.iter_lines()):
            if message.event == "event":
                events.append(message)
                continue
            assert message.event == "state"
            states.append(message.json())
            if states[-1]["status"] in ("ready", "failed"):
                break
    return {"asset_id": asset_id, "states": states, "events": events}


def test_the_feed_shows_the_encode_progress_and_then_ready(followed) -> None:
    states = followed["states"]
    assert states[-1]["status"] == "ready", states[-1]
    assert states[-1]["stages"] == {
        "ingest": "succeeded",
        "process": "succeeded",
        "quality": "succeeded",
        "publish": "succeeded",
    }
    encoding = [s for s in states if s["stage"] == "process" and 0 < s["progress"] < 0.95]
    assert len({s["percent"] for s in encoding}) >= 3, [s["progress"] for s in states]
    assert all(s["activity"] == "encoding 4 renditions 720p…234p" for s in encoding)
    assert all(s["status"] == "processing" for s in encoding)
    # never backwards while it encodes
    progress = [s["progress"] for s in states if s["status"] == "processing"]
    assert progress == sorted(progress)
    stages = [s["stage"] for s in states]
    assert stages.index("ingest") < stages.index("process") < stages.index("quality")


def test_the_feed_sends_the_catalog_events_with_their_ids(followed) -> None:
    events = [m.json() for m in followed["events"]]
    types = [e["type"] for e in events]
    assert types[0] == "asset.created" and types[-1] == "asset.ready"
    assert {"asset.processing", "asset.progress", "asset.publishing"} <= set(types)
    ids = [int(m.id) for m in followed["events"]]
    assert ids == sorted(ids) and ids == [e["id"] for e in events]
    assert all(e["asset_id"] == followed["asset_id"] for e in events)


def test_a_reconnect_resumes_after_its_last_event_id(server, followed) -> None:
    first = followed["events"][0]
    headers = {**server.auth("viewer"), "Last-Event-ID": str(first.id)}
    url = stream_url(server, followed["asset_id"])
    seen: list[Message] = []
    with httpx.stream("GET", url, headers=headers, timeout=httpx.Timeout(10, read=30)) as r:
        assert r.status_code == 200
        for message in messages(r.iter_lines()):
            seen.append(message)
            if message.event == "state":  # sent after the events the poll found
                break
    resumed = [m for m in seen if m.event == "event"]
    assert [m.id for m in resumed] == [m.id for m in followed["events"][1:]]
    assert seen[-1].json()["status"] == "ready"
    assert seen[-1].id == followed["events"][-1].id  # a state carries the last event's id


def test_a_bad_last_event_id_is_refused(server, followed) -> None:
    headers = {**server.auth("viewer"), "Last-Event-ID": "yesterday"}
    r = httpx.get(stream_url(server, followed["asset_id"]), headers=headers)
    assert r.status_code == 400 and "Last-Event-ID" in r.json()["detail"]


def test_the_feed_needs_a_key_that_may_read_the_asset(server, followed) -> None:
    url = stream_url(server, followed["asset_id"])
    assert httpx.get(url).status_code == 401
    other = server.catalog.create_key("custom", "elsewhere", OTHER_COLLECTION)
    hidden = httpx.get(url, headers={"Authorization": f"Bearer {other}"})
    assert hidden.status_code == 404
    unknown = httpx.get(stream_url(server, str(uuid.uuid4())), headers=server.auth("viewer"))
    assert unknown.status_code == 404


def read_until_it_ends(server: Server, asset_id: str, within: float) -> list[Message]:
    """Every message of one stream, which must end by itself within `within` seconds."""
    deadline = time.monotonic() + within
    seen: list[Message] = []
    url = stream_url(server, asset_id)
    with httpx.stream("GET", url, headers=server.auth("viewer"), timeout=30) as r:
        assert r.status_code == 200
        for message in messages(r.iter_lines()):
            seen.append(message)
            assert time.monotonic() < deadline, f"still open after {within} s: {seen}"
    assert time.monotonic() < deadline, f"still open after {within} s: {seen}"
    return seen


def test_the_feed_of_a_finished_asset_ends_by_itself(server, followed) -> None:
    seen = read_until_it_ends(server, followed["asset_id"], within=10)
    states = [m.json() for m in seen if m.event == "state"]
    assert [s["status"] for s in states] == ["ready"]  # the final state, once
    assert [m.id for m in seen if m.event == "event"] == [m.id for m in followed["events"]]


def processing_asset(server: Server, title: str) -> Asset:
    """An asset recorded as processing with no workflow behind it: it stays processing until
    the test changes it."""
    asset = Asset(
        id=str(uuid.uuid4()),
        title=title,
        status=AssetStatus.PROCESSING,
        source_bucket="source",
        source_key=f"uploads/x/{title.replace(' ', '-')}.mp4",
    )
    server.catalog.create_asset(asset, event_type=None)
    return asset


def test_the_feed_of_a_failed_asset_ends_too_and_a_retried_one_is_followed(server) -> None:
    asset = processing_asset(server, "to fail")
    failed_later = threading.Timer(
        1.5,
        lambda: server.catalog.update_asset(
            asset.id,
            status=AssetStatus.FAILED,
            error=AssetError(code="encode.failed", message="no", step="process"),
        ),
    )
    failed_later.start()  # the stream stays open while processing, then ends on failed
    seen = read_until_it_ends(server, asset.id, within=10)
    failed_later.join()
    states = [m.json()["status"] for m in seen if m.event == "state"]
    assert states == ["processing", "failed"]


def test_an_open_feed_does_not_hold_up_the_shutdown(server) -> None:
    """Last: it stops the module's server. The asset is still processing (a finished asset's
    feed ends by itself)."""
    asset = processing_asset(server, "in progress")
    opened = threading.Event()
    ended: list[str] = []

    def listen() -> None:
        url = stream_url(server, asset.id)
        try:
            with httpx.stream("GET", url, headers=server.auth("viewer"), timeout=30) as r:
                for message in messages(r.iter_lines()):
                    if message.event == "state":
                        opened.set()
            ended.append("closed by the server")
        except httpx.HTTPError as exc:
            ended.append(type(exc).__name__)

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert opened.wait(20)
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 10, server.output()
    listener.join(10)
    assert ended, "the stream stayed open after the server stopped"
