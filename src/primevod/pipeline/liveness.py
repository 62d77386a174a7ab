"""Worker liveness: every process that runs workflows registers itself and heartbeats to
the catalog; a live worker takes over the pending workflows of a dead one. A worker is dead
when its heartbeat is older than `worker_dead_after_seconds`, or at once when it ran on
this host and its process is gone. The claim is one conditional UPDATE (one winner), the
recovery re-enqueues on DBOS's queue (one runner), and the takeover leaves a `worker.lost`
event naming the workflows taken over."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from primevod import __version__
from primevod.core.assets import Event
from primevod.core.errors import NotFound
from primevod.core.workers import WorkerInfo, dead_cutoff
from primevod.pipeline import dbos_recovery
from primevod.pipeline.runtime import Runtime

log = logging.getLogger("primevod.workers")
SWEEP_SECONDS = 60.0  # how often a worker looks for scratch of finished executions


def _now() -> datetime:
    return datetime.now(UTC)


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def register(rt: Runtime, role: str) -> WorkerInfo:
    now = _now()
    worker = WorkerInfo(
        id=rt.settings.worker_id,
        host=socket.gethostname(),
        pid=os.getpid(),
        role=role,
        version=__version__,
        started_at=now,
        last_seen=now,
    )
    rt.workers.register_worker(worker)
    return worker


def _dead_workers(rt: Runtime, me: str, now: datetime) -> list[tuple[WorkerInfo, datetime]]:
    """Each dead-looking live worker with the heartbeat bound its claim must check."""
    host = socket.gethostname()
    cutoff = dead_cutoff(now, rt.settings.worker_dead_after_seconds)
    dead = []
    for worker in rt.workers.list_workers(states=("live",)):
        if worker.id == me:
            continue
        if worker.last_seen < cutoff:
            dead.append((worker, cutoff))
        elif worker.host == host and not process_alive(worker.pid):
            dead.append((worker, now + timedelta(days=1)))  # gone: no need to wait
    return dead


def take_over_dead(rt: Runtime, me: str) -> list[str]:
    """Claim every dead worker (exactly one live worker wins each) and re-enqueue its
    pending workflows; the ids taken over."""
    taken: list[str] = []
    now = _now()
    for worker, seen_before in _dead_workers(rt, me, now):
        if not rt.workers.claim_worker(worker.id, me, now, seen_before):
            continue  # another live worker claimed it first
        workflows = dbos_recovery.recover([worker.id])
        rt.workers.record_takeover(worker.id, workflows)
        if worker.host == socket.gethostname():  # its scratch is on this disk
            shutil.rmtree(rt.settings.work_root / worker.id, ignore_errors=True)
        rt.catalog.emit(
            Event(
                type="worker.lost",
                data={
                    "worker_id": worker.id,
                    "host": worker.host,
                    "last_seen": worker.last_seen.isoformat(),
                    "taken_over_by": me,
                    "workflows": workflows,
                },
            )
        )
        log.warning(
            "worker %s lost (last seen %s); %d workflow(s) taken over: %s",
            worker.id,
            worker.last_seen.isoformat(),
            len(workflows),
            ", ".join(workflows) or "none",
            extra={"worker_id": worker.id, "workflows": workflows},
        )
        taken += workflows
    return taken


def clean_dead_scratch(rt: Runtime, me: str) -> int:
    """Remove the work folders of this machine's workers that are no longer live: what a
    dead attempt left on disk is never published and never read again."""
    root = rt.settings.work_root
    if not root.is_dir():
        return 0
    live = {w.id for w in rt.workers.list_workers(states=("live",))} | {me}
    removed = 0
    for folder in root.iterdir():
        if folder.is_dir() and folder.name not in live:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def clean_finished_scratch(rt: Runtime) -> int:
    """Remove this worker's work folders of executions that have finished: a worker that ran
    chunks of another worker's asset keeps a copy of its source for its next chunk, and only
    learns here that there will be none."""
    root = rt.settings.work_dir
    removed = 0
    for folder in (f for a in _subfolders(root) for f in _subfolders(a)):
        try:
            finished = rt.catalog.get_execution(folder.name).status != "running"
        except NotFound:
            finished = False  # not recorded yet, or not an execution's folder
        if finished:
            shutil.rmtree(folder, ignore_errors=True)
            with contextlib.suppress(OSError):
                folder.parent.rmdir()
            removed += 1
    return removed


def _subfolders(folder: Path) -> list[Path]:
    return [f for f in folder.iterdir() if f.is_dir()] if folder.is_dir() else []


class Heartbeat:
    """Heartbeats every `interval` seconds and, when `takeover` is on (workers, not one-shot
    runs), takes over dead workers on the same beat."""

    def __init__(self, rt: Runtime, worker_id: str, *, takeover: bool) -> None:
        self.rt = rt
        self.worker_id = worker_id
        self.takeover = takeover
        dead_after = rt.settings.worker_dead_after_seconds
        self.interval = max(0.5, min(5.0, dead_after / 3))
        self.sweep_every = max(1, round(SWEEP_SECONDS / self.interval))
        self.beats = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def beat(self) -> None:
        if not self.rt.workers.heartbeat(self.worker_id, _now()):
            log.error("worker %s was declared lost while running", self.worker_id)
        if self.takeover:
            take_over_dead(self.rt, self.worker_id)
        self.beats += 1
        if self.beats % self.sweep_every == 0:
            clean_finished_scratch(self.rt)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.beat()
            except Exception:
                log.exception("heartbeat failed")

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
        self._thread.start()

    def stop(self, *, unfinished: bool = False) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
        self.rt.workers.stop_worker(self.worker_id, _now(), unfinished=unfinished)
