"""In-memory fakes of the ports, for testing the pipeline's step logic in milliseconds: a
catalog of dictionaries that keeps every event and step record, and an object store of
bytes. They implement only what the steps under test call, with the real semantics."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from primevod.core.assets import Asset, AssetError, Event
from primevod.core.errors import NotFound


@dataclass
class StepRow:
    execution_id: str
    name: str
    status: str = "running"
    error: str | None = None


class FakeCatalog:
    def __init__(self) -> None:
        self.assets: dict[str, Asset] = {}
        self.events: list[Event] = []
        self.steps: dict[int, StepRow] = {}
        self.executions: dict[str, tuple[str, AssetError | None]] = {}
        self._ids = itertools.count(1)

    def create_asset(self, asset: Asset, *, event_type: str | None = "asset.created") -> Asset:
        self.assets[asset.id] = asset
        if event_type:
            self.events.append(Event(type=event_type, asset_id=asset.id, data={}))
        return asset

    def get_asset(self, asset_id: str) -> Asset:
        try:
            return self.assets[asset_id]
        except KeyError:
            raise NotFound(asset_id) from None

    def update_asset(
        self,
        asset_id: str,
        *,
        event_type: str | None = None,
        event_data: dict[str, Any] | None = None,
        **changes: Any,
    ) -> Asset:
        asset = self.get_asset(asset_id).model_copy(update=changes)
        self.assets[asset_id] = asset
        if event_type:
            self.events.append(Event(type=event_type, asset_id=asset_id, data=event_data or {}))
        return asset

    def step_started(self, execution_id: str, name: str) -> int:
        step_id = next(self._ids)
        self.steps[step_id] = StepRow(execution_id, name)
        return step_id

    def step_finished(self, step_id: int, status: str, error: str | None = None) -> None:
        self.steps[step_id].status, self.steps[step_id].error = status, error

    def finish_execution(
        self, execution_id: str, status: str, error: AssetError | None = None
    ) -> None:
        self.executions[execution_id] = (status, error)

    def event_types(self) -> list[str]:
        return [e.type for e in self.events]


@dataclass
class FakeStore:
    objects: dict[tuple[str, str], bytes] = field(default_factory=dict)

    def put_file(self, bucket: str, key: str, path: Path, **_: Any) -> None:
        self.objects[(bucket, key)] = Path(path).read_bytes()

    def delete_prefix(self, bucket: str, prefix: str) -> int:
        gone = [k for k in self.objects if k[0] == bucket and k[1].startswith(prefix)]
        for k in gone:
            del self.objects[k]
        return len(gone)

    def keys(self, bucket: str) -> list[str]:
        return sorted(k for b, k in self.objects if b == bucket)


class FakeCosts:
    """The cost ledger's calls the steps make, recorded."""

    def __init__(self) -> None:
        self.failed: list[str] = []

    def mark_failed(self, execution_id: str) -> None:
        self.failed.append(execution_id)
