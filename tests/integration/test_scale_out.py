"""Scale-out on real engines: `primevod worker` processes sharing one PostgreSQL (catalog and
DBOS, a throwaway cluster) and one S3 bucket on a real S3 server (Swift's S3 API), each with
its own scratch folder: work spreads over the workers, a killed worker's asset is finished
by the survivor without restarting the dead one, a restarted worker never reruns another's
steps, and four workers may start at once on an empty database and store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from support.swift_s3 import swift_s3  # noqa: F401  (the session fixture)

from primevod.core.assets import TERMINAL, Asset
from primevod.settings import Settings

pytestmark = pytest.mark.slow
DEAD_AFTER = 6.0


class Cluster:
    """Shared databases and bucket names; workers are subprocesses, the test is a client."""

    def __init__(self, tmp: Path, postgres, s3) -> None:
        self.tmp = tmp
        self.env = {
            **os.environ,
            "PRIMEVOD_DATABASE_URL": postgres(),
            "PRIMEVOD_DBOS_DATABASE_URL": postgres(),
            "PRIMEVOD_STORE": "s3",
            "PRIMEVOD_S3_ENDPOINT_URL": s3.endpoint_url,
            "PRIMEVOD_S3_ACCESS_KEY_ID": s3.access_key_id,
            "PRIMEVOD_S3_SECRET_ACCESS_KEY": s3.secret_access_key,
            "PRIMEVOD_S3_REGION": s3.region,
            "PRIMEVOD_SOURCE_BUCKET": f"src-{tmp.name[-12:].lower().replace('_', '-')}",
            "PRIMEVOD_DESTINATION_BUCKET": f"dst-{tmp.name[-12:].lower().replace('_', '-')}",
            "PRIMEVOD_ENCODE_CONCURRENCY": "1",
            "PRIMEVOD_WORKER_DEAD_AFTER_SECONDS": str(DEAD_AFTER),
            "PRIMEVOD_QUALITY_CHECK": "off",
            "PRIMEVOD_CANARY_INTERVAL_MINUTES": "0",
        }
        for key in ("PRIMEVOD_HOME", "PRIMEVOD_WORKER_ID"):
            self.env.pop(key, None)
        self.workers: list[subprocess.Popen[bytes]] = []
        self.s3 = s3

    def settings(self, home: Path) -> Settings:
        keys = {k[len("PRIMEVOD_") :].lower(): v for k, v in self.env.items()}
        wanted = {k: v for k, v in keys.items() if k in Settings.model_fields}
        return Settings(home=home, **wanted)

    def start_worker(self, name: str, *extra: str) -> subprocess.Popen[bytes]:
        home = self.tmp / name
        proc = subprocess.Popen(
            [sys.executable, "-m", "primevod.cli.main", "worker", *extra],
            env={**self.env, "PRIMEVOD_HOME": str(home)},
            stdout=subprocess.DEVNULL,
            stderr=open(self.tmp / f"{name}.log", "ab"),  # noqa: SIM115
            start_new_session=True,
        )
        self.workers.append(proc)
        return proc

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text(errors="replace")

    def stop(self) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.workers:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)

    def keys(self, bucket_env: str, prefix: str) -> list[str]:
        s3 = boto3.client(
            "s3",
            endpoint_url=self.s3.endpoint_url,
            aws_access_key_id=self.s3.access_key_id,
            aws_secret_access_key=self.s3.secret_access_key,
            region_name=self.s3.region,
        )
        pages = s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.env[bucket_env], Prefix=prefix
        )
        return [o["Key"] for page in pages for o in page.get("Contents", [])]


@pytest.fixture
def cluster(tmp_path: Path, postgres, swift_s3) -> Iterator[Cluster]:  # noqa: F811
    c = Cluster(tmp_path, postgres, swift_s3)
    yield c
    c.stop()


@pytest.fixture
def client(cluster: Cluster) -> Iterator[object]:
    """This process as a client of the cluster: it submits assets and reads the catalog."""
    from primevod import wiring

    rt = wiring.connect(cluster.settings(cluster.tmp / "client"))
    yield rt
    wiring.stop()


def submit(rt, path: Path, count: int = 1) -> list[Asset]:
    from primevod import wiring
    from primevod.pipeline import workflows

    assets = [wiring.submit_file(path, title=f"{path.stem} {i}") for i in range(count)]
    for asset in assets:
        workflows.start(rt, asset.id)
    return assets


def wait_all(rt, ids: list[str], timeout: float) -> list[Asset]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assets = [rt.catalog.get_asset(i) for i in ids]
        if all(a.status in TERMINAL for a in assets):
            return assets
        time.sleep(0.5)
    raise AssertionError(f"not finished in {timeout} s: {[a.status.value for a in assets]}")


def executors(cluster: Cluster, workflow_ids: list[str]) -> dict[str, str]:
    from dbos import DBOSClient

    client = DBOSClient(system_database_url=cluster.env["PRIMEVOD_DBOS_DATABASE_URL"])
    try:
        rows = client.list_workflows(workflow_ids=workflow_ids, load_input=False)
        return {w.workflow_id: w.executor_id or "" for w in rows}
    finally:
        client.destroy()


def steps_of(rt, asset: Asset) -> list[tuple[str, int, str]]:
    execution = rt.catalog.get_execution(asset.execution_id)
    return [(s.name, s.attempt, s.status) for s in execution.steps]


def wait_workers(rt, count: int, timeout: float = 60) -> None:
    """Until `count` workers are live (each has launched DBOS: the workflow schema exists)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        live = [w for w in rt.workers.list_workers(states=("live",)) if w.role == "worker"]
        if len(live) >= count:
            return
        time.sleep(0.2)
    raise AssertionError(f"fewer than {count} workers started")


def test_work_spreads_over_two_workers(cluster: Cluster, client, clip) -> None:
    cluster.start_worker("a")
    cluster.start_worker("b")
    wait_workers(client, 2)
    assets = submit(client, clip("long9s.mp4"), count=4)
    done = wait_all(client, [a.id for a in assets], timeout=240)
    assert all(a.status.value == "ready" for a in done), [a.error for a in done]
    for asset in done:
        assert len(client.catalog.list_executions(asset.id)) == 1
        assert [s[0] for s in steps_of(client, asset)] == ["ingest", "budget", "process", "publish"]
    ran_on = executors(cluster, [a.execution_id for a in done])
    assert len(set(ran_on.values())) == 2, ran_on  # both workers took a share
    live = [w for w in client.workers.list_workers() if w.role == "worker"]
    assert len(live) == 2 and all(w.state == "live" for w in live)


def test_a_killed_workers_asset_is_finished_by_the_survivor(cluster: Cluster, client, bbb) -> None:
    cluster.env["PRIMEVOD_PRESET"] = "medium"  # an encode long enough to kill it midway
    a = cluster.start_worker("a")
    b = cluster.start_worker("b")
    wait_workers(client, 2)
    [asset] = submit(client, bbb)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        current = client.catalog.get_asset(asset.id)
        if current.status.value == "processing" and current.progress > 0.05:
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the encode never got going")
    runner = executors(cluster, [current.execution_id])[current.execution_id]
    by_pid = {w.pid: w.id for w in client.workers.list_workers()}
    victim = a if by_pid.get(a.pid) == runner else b
    assert by_pid.get(victim.pid) == runner, (by_pid, runner)
    killed_at = time.monotonic()
    os.killpg(victim.pid, signal.SIGKILL)  # the worker and its FFmpeg, like a lost machine
    [done] = wait_all(client, [asset.id], timeout=DEAD_AFTER + 240)
    assert done.status.value == "ready", done.error
    assert victim.poll() is not None  # finished without the dead worker coming back
    assert steps_of(client, done) == [
        ("ingest", 1, "succeeded"),
        ("budget", 1, "succeeded"),
        ("process", 1, "interrupted"),
        ("process", 2, "succeeded"),
        ("publish", 1, "succeeded"),
    ]
    packages = {k.split("/")[2] for k in cluster.keys("PRIMEVOD_DESTINATION_BUCKET", "assets/")}
    assert packages == {"1"}  # exactly one package, the finished one
    lost = [e for e in client.catalog.list_events() if e.type == "worker.lost"]
    assert len(lost) == 1 and lost[0].data["worker_id"] == runner
    assert done.execution_id in lost[0].data["workflows"]
    assert time.monotonic() - killed_at < DEAD_AFTER + 240


def test_restarting_a_worker_never_reruns_another_workers_steps(
    cluster: Cluster, client, bbb
) -> None:
    cluster.env["PRIMEVOD_PRESET"] = "medium"
    a = cluster.start_worker("a")
    wait_workers(client, 1)
    [asset] = submit(client, bbb)
    deadline = time.monotonic() + 120
    while client.catalog.get_asset(asset.id).status.value != "processing":
        assert time.monotonic() < deadline, "the encode never got going"
        time.sleep(0.2)
    for _ in range(2):  # another worker comes and goes (and comes back) during the encode
        b = cluster.start_worker("b")
        time.sleep(4)
        os.killpg(b.pid, signal.SIGTERM)
        b.wait(timeout=30)
    [done] = wait_all(client, [asset.id], timeout=240)
    assert done.status.value == "ready", done.error
    assert a.poll() is None  # the first worker ran it, alive all along
    assert steps_of(client, done) == [
        ("ingest", 1, "succeeded"),
        ("budget", 1, "succeeded"),
        ("process", 1, "succeeded"),
        ("publish", 1, "succeeded"),
    ]


def test_four_workers_start_at_once_on_an_empty_database_and_store(cluster: Cluster) -> None:
    procs = [cluster.start_worker(f"w{i}", "--exit-when-idle") for i in range(4)]
    codes = [p.wait(timeout=180) for p in procs]
    logs = "\n".join(cluster.log(f"w{i}") for i in range(4))
    assert codes == [0, 0, 0, 0], logs
    assert "Traceback" not in logs, logs


def children_by_executor(cluster: Cluster, parent_id: str) -> dict[str, str]:
    from dbos import DBOSClient

    client = DBOSClient(system_database_url=cluster.env["PRIMEVOD_DBOS_DATABASE_URL"])
    try:
        rows = client.list_workflows(parent_workflow_id=parent_id, load_input=False)
        return {w.workflow_id: w.executor_id or "" for w in rows if w.name == "chunk_encode"}
    finally:
        client.destroy()


def download_package(cluster: Cluster, prefix: str, target: Path) -> Path:
    s3 = boto3.client(
        "s3",
        endpoint_url=cluster.s3.endpoint_url,
        aws_access_key_id=cluster.s3.access_key_id,
        aws_secret_access_key=cluster.s3.secret_access_key,
        region_name=cluster.s3.region,
    )
    for key in cluster.keys("PRIMEVOD_DESTINATION_BUCKET", prefix):
        path = target / key[len(prefix) :]
        path.parent.mkdir(parents=True, exist_ok=True)
        s3.download_file(cluster.env["PRIMEVOD_DESTINATION_BUCKET"], key, str(path))
    return target


def rendition_vmaf(packages: dict[str, Path], source: Path, playlists: list[str]) -> list[float]:
    """Each package's rungs scored against the source (every 4th frame, at 416x234): the
    scores in package order, then rung order."""
    from primevod.adapters.media.quality_meter import Comparison, compare
    from primevod.core.hls import parse_media_playlist

    comparisons = []
    for name, root in packages.items():
        for playlist in playlists:
            info = parse_media_playlist((root / playlist).read_text())
            joined = root.parent / f"{name}-{playlist}.mp4"
            parts = [root / info.map_uri] if info.map_uri else []
            joined.write_bytes(
                b"".join(p.read_bytes() for p in [*parts, *(root / s.uri for s in info.segments)])
            )
            comparisons.append(
                Comparison(
                    distorted=["-i", str(joined)],
                    reference=["-i", str(source)],
                    label=f"{name} {playlist}",
                )
            )
    return [s.mean for s in compare(comparisons, (416, 234), subsample=4, metric="vmaf")]


def test_a_long_title_is_encoded_in_chunks_on_both_workers(
    cluster: Cluster, client, clip, tmp_path: Path
) -> None:
    """40 s of 720p in 10 s chunks on two workers: both encode chunks, the stitched package
    is valid, no chunk stays in the bucket, and each rung's VMAF is within 0.5 of the
    unchunked encode's."""
    from primevod.adapters.media.ffmpeg_command import EncodeOptions
    from primevod.adapters.media.package_validator import validate_package
    from primevod.adapters.media.transcoder import MediaEngine
    from primevod.core.policies import get_policy

    # the H.264 ladder the VMAF comparison below encodes unchunked (an h264,av1 chunked
    # encode is compared with its single encode in test_chunked.py, at a smaller size)
    cluster.env.update(
        {"PRIMEVOD_CHUNK_SECONDS": "10", "PRIMEVOD_PRESET": "ultrafast", "PRIMEVOD_CODECS": "h264"}
    )
    cluster.start_worker("a")
    cluster.start_worker("b")
    wait_workers(client, 2)
    source = clip("title40.mp4")
    [asset] = submit(client, source)
    [done] = wait_all(client, [asset.id], timeout=400)
    assert done.status.value == "ready", done.error
    names = [name for name, _, _ in steps_of(client, done)]
    # the default ladder's 4 s segments: as many as fit in 10 s, so 8 s chunks
    assert sorted(n for n in names if n.startswith("chunk-")) == [f"chunk-{i}" for i in range(5)]
    ran_on = children_by_executor(cluster, done.execution_id)
    assert len(ran_on) == 5 and len(set(ran_on.values())) == 2, ran_on  # both took chunks
    assert cluster.keys("PRIMEVOD_DESTINATION_BUCKET", f"assets/{done.id}/chunks/") == []
    chunked = download_package(cluster, done.output_prefix, tmp_path / "chunked")
    report = validate_package(chunked)
    assert report.passed, report.failures
    single = MediaEngine(EncodeOptions(preset="ultrafast")).transcode(
        source, tmp_path / "single", get_policy("default")
    )
    playlists = [r["playlist"] for r in done.renditions if r["kind"] == "video"]
    assert playlists == [r.playlist for r in single.renditions if r.kind == "video"]
    scores = rendition_vmaf(
        {"chunked": chunked, "single": Path(single.output_dir)}, source, playlists
    )
    mine, theirs = scores[: len(playlists)], scores[len(playlists) :]
    print(
        "VMAF per rung, chunked:",
        [round(x, 2) for x in mine],
        "single:",
        [round(x, 2) for x in theirs],
    )
    for a, b in zip(mine, theirs, strict=True):
        assert abs(a - b) <= 0.5, (mine, theirs)
