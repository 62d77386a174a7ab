"""What the pipeline's steps run against: set once per process by the entry point."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from primevod.adapters.catalog.sql_catalog import SqlCatalog
    from primevod.adapters.media.transcoder import MediaEngine
    from primevod.ports.object_store import ObjectStore
    from primevod.settings import Settings


@dataclass
class Runtime:
    settings: Settings
    store: ObjectStore
    catalog: SqlCatalog
    media: MediaEngine
    extras: dict[str, object] = field(default_factory=dict)


_current: Runtime | None = None


def set_runtime(runtime: Runtime) -> None:
    global _current
    _current = runtime


def runtime() -> Runtime:
    if _current is None:
        raise RuntimeError("the pipeline runtime is not set up (call primevod.wiring.start)")
    return _current
