"""Entry-point wiring: settings -> adapters -> the pipeline runtime, DBOS launched with the
encode queue. CLI commands, the server and workers all start here."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Literal

from primevod import __version__
from primevod.adapters.catalog.sql_catalog import SqlCatalog
from primevod.adapters.media.ffmpeg_command import EncodeOptions
from primevod.adapters.media.transcoder import MediaEngine
from primevod.core.assets import Asset
from primevod.core.layout import new_asset_id, source_key
from primevod.core.source_rules import limits_for
from primevod.observability import tracing
from primevod.pipeline.assets import create_asset
from primevod.pipeline.runtime import Runtime, Telemetry, WorkflowControl, runtime, set_runtime
from primevod.settings import Settings

log = logging.getLogger("primevod")
APP_NAME = "primevod"


def make_store(settings: Settings) -> Any:
    if settings.store == "s3":
        from primevod.adapters.storage.s3_store import S3ObjectStore

        secret = settings.s3_secret_access_key
        return S3ObjectStore(
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=secret.get_secret_value() if secret else None,
            kms_key_id=settings.s3_kms_key_id,
        )
    from primevod.adapters.storage.local_store import LocalObjectStore

    local = LocalObjectStore(settings.store_dir, min_part_size=settings.upload_min_part_size)
    keys = make_keys(settings)
    if keys is None:
        return local
    from primevod.adapters.storage.encrypted_store import EncryptedObjectStore

    return EncryptedObjectStore(local, keys, {settings.source_bucket})


def make_key_store(settings: Settings) -> Any:
    """The signing key pairs under home, private keys sealed when encryption is on."""
    from primevod.adapters.signing.key_store import KeyStore

    keys = make_keys(settings)
    if keys is None:
        return KeyStore(settings.home / "signing-keys")
    from primevod.adapters.crypto.sealed_files import Sealer

    return KeyStore(settings.home / "signing-keys", sealer=Sealer(keys))


def make_keys(settings: Settings) -> Any:
    """The key provider when encryption at rest is on (None when off): the master key from
    PRIMEVOD_MASTER_KEY, else the key file (made 0600 on first use)."""
    if not settings.encrypt_at_rest:
        return None
    from primevod.adapters.crypto.local_keys import LocalKeyProvider

    env_key = settings.master_key.get_secret_value() if settings.master_key else None
    return LocalKeyProvider(settings.master_key_path, env_key=env_key)


def build(settings: Settings | None = None) -> Runtime:
    """Adapters only (no DBOS): enough for catalog reads and key management."""
    from primevod.adapters.catalog.sql_audit import SqlAudit
    from primevod.adapters.catalog.sql_costs import SqlCosts
    from primevod.adapters.catalog.sql_observability import SqlObservability
    from primevod.adapters.catalog.sql_subscriptions import SqlSubscriptions
    from primevod.adapters.signing.key_store import KeyStore

    settings = settings or Settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    store = make_store(settings)
    keys = make_keys(settings)
    sealer = None
    if keys is not None:
        from primevod.adapters.crypto.sealed_files import Sealer

        sealer = Sealer(keys)
    # versioned locally by default (noncurrent versions expire by the lifecycle rules); an S3
    # bucket's versioning and lifecycle are its owner's (the AWS stack turns both on)
    store.ensure_bucket(
        settings.source_bucket, versioning=settings.source_versioning and settings.store == "local"
    )
    store.ensure_bucket(settings.destination_bucket)
    catalog = SqlCatalog(
        settings.database_url or "",
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )
    catalog.content_key_sealer = sealer
    rt = Runtime(
        settings=settings,
        store=store,
        catalog=catalog,
        media=MediaEngine(
            EncodeOptions(preset=settings.preset), limits=limits_for(settings.profile)
        ),
        signing_keys=KeyStore(settings.home / "signing-keys", sealer=sealer),
        observability=SqlObservability(catalog),
        subscriptions=SqlSubscriptions(catalog, sealer=sealer),
        workers=catalog,
        costs=SqlCosts(catalog),
        audit=SqlAudit(catalog),
        sealer=sealer,
    )
    set_runtime(rt)
    return rt


def setup_telemetry(rt: Runtime) -> Runtime:
    """Logs, tracing and the metrics flusher for this process (once; flushed at exit)."""
    if rt.telemetry is not None:
        return rt
    import atexit

    from primevod.observability.logs import setup_logging
    from primevod.observability.metrics import MetricsFlusher

    setup_logging(
        rt.settings.log_format,
        rt.settings.log_level,
        rt.settings.home / "logs" / "primevod.log" if rt.settings.log_file else None,
        int(rt.settings.log_rotate_mb * 2**20),
    )
    tracing.setup_tracing(rt.settings.tracing, rt.settings.otlp_endpoint)
    if not rt.settings.metrics_enabled:
        from primevod.observability import metrics

        metrics.disable()
        rt.telemetry = Telemetry(flusher=None)
        return rt
    flusher = MetricsFlusher(rt.observability, rt.settings.metrics_flush_seconds)
    flusher.start()
    atexit.register(flusher.stop)
    rt.telemetry = Telemetry(flusher=flusher)
    return rt


def _dbos_config(settings: Settings) -> dict[str, Any]:
    return {
        "name": APP_NAME,
        "system_database_url": settings.dbos_database_url or "",
        "application_version": __version__,
        "log_level": os.environ.get("PRIMEVOD_DBOS_LOG_LEVEL", "WARNING"),
        # unique per process: DBOS recovers at launch only its own executor's workflows, and
        # a dead worker's are taken over through the heartbeat (pipeline/liveness.py)
        "executor_id": settings.worker_id,
        # its background threads wake this often; shutdown waits for them to notice
        "notification_listener_polling_interval_sec": 0.2,
    }


def _cancel_with_children(workflow_id: str) -> None:
    """An asset's workflow and the chunk encodes it queued."""
    from dbos import DBOS

    DBOS.cancel_workflow(workflow_id, cancel_children=True)


def start(
    settings: Settings | None = None, *, role: Literal["worker", "process"] = "worker"
) -> Runtime:
    """Adapters plus DBOS in this process, registered as a worker that heartbeats. A
    `worker` (serve, worker) runs the encode queue (at most `encode_concurrency` encodes at
    once here), the chunks queue and the schedules, and takes over the pending workflows of
    dead workers, `primevod process` runs included; its start removes the scratch folders
    dead workers left on this machine. A `process` run runs the workflows it starts and
    chunk encodes (its own titles' or others'); whatever it leaves unfinished a worker takes
    over."""
    from dbos import DBOS, SetWorkflowID

    from primevod.pipeline import liveness, schedules
    from primevod.pipeline.chunked_workflows import CHUNK_QUEUE
    from primevod.pipeline.workflows import QUEUE, asset_pipeline

    rt = setup_telemetry(build(settings))
    DBOS(config=_dbos_config(rt.settings))  # type: ignore[arg-type]
    DBOS.listen_queues([QUEUE, CHUNK_QUEUE, schedules.QUEUE] if role == "worker" else [CHUNK_QUEUE])
    DBOS.launch()
    DBOS.register_queue(
        CHUNK_QUEUE,
        worker_concurrency=rt.settings.chunk_concurrency or rt.settings.encode_concurrency,
        polling_interval_sec=0.5,
        on_conflict="always_update",
    )
    worker = liveness.register(rt, role)
    heartbeat = liveness.Heartbeat(rt, worker.id, takeover=role == "worker")
    heartbeat.start()
    if role == "process":
        rt.workflows = WorkflowControl(cancel=_cancel_with_children, heartbeat=heartbeat)
        return rt
    queue = DBOS.register_queue(
        QUEUE,
        worker_concurrency=rt.settings.encode_concurrency,
        polling_interval_sec=0.5,
        on_conflict="always_update",
    )

    def enqueue(workflow_id: str, asset_id: str) -> None:
        with SetWorkflowID(workflow_id):
            queue.enqueue(asset_pipeline, asset_id)

    rt.workflows = WorkflowControl(
        enqueue=enqueue, cancel=_cancel_with_children, runs_workers=True, heartbeat=heartbeat
    )
    liveness.take_over_dead(rt, worker.id)
    liveness.clean_dead_scratch(rt, worker.id)
    return rt


def connect(settings: Settings | None = None) -> Runtime:
    """Adapters plus a DBOS client: enqueue, cancel and inspect workflows that workers run."""
    from dbos import DBOSClient

    from primevod.pipeline.workflows import QUEUE

    rt = build(settings)
    client = DBOSClient(
        system_database_url=rt.settings.dbos_database_url, application_name=APP_NAME
    )

    def enqueue(workflow_id: str, asset_id: str) -> None:
        client.enqueue(
            {
                "queue_name": QUEUE,
                "workflow_name": "asset_pipeline",
                "workflow_id": workflow_id,
                "app_version": __version__,
            },
            asset_id,
        )

    rt.workflows = WorkflowControl(
        enqueue=enqueue,
        cancel=lambda workflow_id: client.cancel_workflow(workflow_id, cancel_children=True),
        close=client.destroy,
    )
    return rt


def stop(*, exiting: bool = False) -> None:
    """Shut DBOS down. `exiting`: the process ends right after (a one-shot command), so
    DBOS's daemon threads are left to end with it: its orderly shutdown waits for every
    poller to wake (about 0.2 s), and all workflow state is already committed."""
    rt = runtime()
    if rt.telemetry is not None and rt.telemetry.flusher is not None:
        rt.telemetry.flusher.stop()  # the last counts reach the store
        rt.telemetry.flusher = None
    if rt.workflows.heartbeat is not None:
        from primevod.pipeline import dbos_recovery

        unfinished = bool(dbos_recovery.pending_workflows(rt.settings.worker_id))
        rt.workflows.heartbeat.stop(unfinished=unfinished)
        rt.workflows.heartbeat = None
    if rt.workflows.runs_workers:
        from dbos import DBOS

        if not exiting:
            DBOS.destroy(destroy_registry=False)
    elif rt.workflows.close is not None:
        rt.workflows.close()
    rt.observability.engine.dispose()


def submit_file(
    path: Path,
    *,
    title: str | None = None,
    ladder: str | None = None,
    metadata: dict[str, Any] | None = None,
    description: str | None = None,
    tags: list[str] | None = None,
) -> Asset:
    """Put a local file into the source bucket and record its asset (workflow not started)."""
    rt = runtime()
    asset_id = new_asset_id()
    key = source_key(asset_id, path.name)
    rt.store.put_file(rt.settings.source_bucket, key, path)
    meta = dict(metadata or {})
    if ladder:
        meta["ladder"] = ladder
    return create_asset(
        rt.catalog,
        asset_id=asset_id,
        title=title or path.stem,
        description=description,
        tags=tags,
        metadata=meta,
        source_bucket=rt.settings.source_bucket,
        source_key=key,
    )
