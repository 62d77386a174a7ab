"""What the pipeline's steps run against: the adapters behind the ports, and how this process
hands workflows to DBOS. Built by the entry point (`primevod.wiring`); the DBOS step and
workflow functions, one FastAPI dependency and the CLI read it with `runtime()` and pass what
they need down as arguments."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from primevod.adapters.catalog.sql_audit import SqlAudit
    from primevod.adapters.catalog.sql_costs import SqlCosts
    from primevod.adapters.catalog.sql_observability import SqlObservability
    from primevod.adapters.catalog.sql_subscriptions import SqlSubscriptions
    from primevod.adapters.catalog.sql_workers import SqlWorkers
    from primevod.adapters.crypto.sealed_files import Sealer
    from primevod.observability.metrics import MetricsFlusher
    from primevod.ports.catalog import Catalog
    from primevod.ports.media import MediaEngine
    from primevod.ports.object_store import ObjectStore
    from primevod.ports.signing import SigningKeys
    from primevod.settings import Settings


def _not_wired(*_: object) -> None:
    raise RuntimeError("this process cannot start or cancel workflows (wiring.start or connect)")


class Liveness(Protocol):
    def stop(self, *, unfinished: bool = False) -> None: ...


@dataclass
class WorkflowControl:
    """How this process starts and cancels asset workflows: a worker enqueues on its own DBOS
    queue, a client through a DBOS client, a `primevod process` run only cancels."""

    enqueue: Callable[[str, str], None] = _not_wired  # (workflow id, asset id)
    cancel: Callable[[str], None] = _not_wired  # (workflow id)
    runs_workers: bool = False  # this process runs the encode queue (serve, worker)
    close: Callable[[], None] | None = None  # release a client's connections
    heartbeat: Liveness | None = None  # this process's heartbeat (workers and process runs)


@dataclass
class Telemetry:
    """This process's metrics flusher (None when metrics are off) and whether logging and
    tracing are set up."""

    flusher: MetricsFlusher | None = None


@dataclass
class Runtime:
    settings: Settings
    store: ObjectStore
    catalog: Catalog
    media: MediaEngine
    signing_keys: SigningKeys
    observability: SqlObservability
    subscriptions: SqlSubscriptions
    workers: SqlWorkers
    costs: SqlCosts
    audit: SqlAudit  # the audit trail (pipeline/audit.py)
    workflows: WorkflowControl = field(default_factory=WorkflowControl)
    telemetry: Telemetry | None = None  # set once by wiring.setup_telemetry
    sealer: Sealer | None = None  # secrets at rest are sealed (PRIMEVOD_ENCRYPT_AT_REST)


_current: Runtime | None = None


def set_runtime(runtime: Runtime) -> None:
    global _current
    _current = runtime


def runtime() -> Runtime:
    if _current is None:
        raise RuntimeError("the pipeline runtime is not set up (call primevod.wiring.start)")
    return _current
