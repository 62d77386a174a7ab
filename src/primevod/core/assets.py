"""Assets, executions, steps and events: the catalog's records (the DynamoDB table's role)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal, TypedDict

from pydantic import BaseModel, Field


def utcnow() -> datetime:
    return datetime.now(UTC)


class AssetStatus(StrEnum):
    INGESTING = "ingesting"
    PROCESSING = "processing"
    PUBLISHING = "publishing"
    READY = "ready"
    FAILED = "failed"


TERMINAL = {AssetStatus.READY, AssetStatus.FAILED}


class AssetError(BaseModel):
    code: str
    step: str | None = None
    message: str


class Asset(BaseModel):
    id: str
    status: AssetStatus = AssetStatus.INGESTING
    title: str | None = None
    description: str | None = None
    tags: list[str] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)
    source_bucket: str
    source_key: str
    source_size: int | None = None
    checksum: str | None = Field(None, description="sha256 of the source")
    probe: dict[str, Any] | None = None
    ladder: dict[str, Any] | None = None
    renditions: list[dict[str, Any]] = Field(default_factory=list)
    output_bucket: str | None = None
    output_prefix: str | None = None
    hls_path: str | None = None
    dash_path: str | None = None
    thumbnails: dict[str, Any] = Field(default_factory=dict)
    validation: dict[str, Any] | None = None
    quality: dict[str, Any] | None = Field(None, description="per-rung VMAF and the verdict")
    cost: dict[str, Any] | None = Field(
        None, description="the job's estimate (with the budget's verdict) and its actual"
    )
    timings: dict[str, float] = Field(default_factory=dict)
    progress: float = 0.0
    activity: str | None = Field(
        None, description="what the running step is doing: 'encoding 4 renditions 1080p…240p'"
    )
    duration: float | None = None
    error: AssetError | None = None
    execution_id: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    @property
    def collection(self) -> str | None:
        """The collection the asset was placed in at upload (`metadata.collection`)."""
        value = self.metadata.get("collection")
        return str(value) if value else None


class AssetChanges(TypedDict, total=False):
    """The fields of an asset a catalog update may change (everything but its id)."""

    status: AssetStatus
    title: str | None
    description: str | None
    tags: list[str]
    metadata: dict[str, Any]
    source_bucket: str
    source_key: str
    source_size: int | None
    checksum: str | None
    probe: dict[str, Any] | None
    ladder: dict[str, Any] | None
    renditions: list[dict[str, Any]]
    output_bucket: str | None
    output_prefix: str | None
    hls_path: str | None
    dash_path: str | None
    thumbnails: dict[str, Any]
    validation: dict[str, Any] | None
    quality: dict[str, Any] | None
    cost: dict[str, Any] | None
    timings: dict[str, float]
    progress: float
    activity: str | None
    duration: float | None
    error: AssetError | None
    execution_id: str | None


def check_changes(changes: Mapping[str, Any]) -> None:
    """Raises TypeError for a field an update may not change (a typo would otherwise be
    dropped without a word by the model's validation)."""
    unknown = set(changes) - set(AssetChanges.__annotations__)
    if unknown:
        raise TypeError(f"not changeable asset field(s): {', '.join(sorted(unknown))}")


class StepRecord(BaseModel):
    name: str
    attempt: int = 1
    status: str  # running, succeeded, failed
    started_at: datetime
    finished_at: datetime | None = None
    duration: float | None = None
    error: str | None = None


class Execution(BaseModel):
    id: str
    asset_id: str
    status: str  # running, succeeded, failed, cancelled
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    error: AssetError | None = None
    steps: list[StepRecord] = Field(default_factory=list)


class Event(BaseModel):
    id: int | None = None
    type: str  # asset.ingested, asset.processing, asset.ready, asset.failed, ...
    asset_id: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime = Field(default_factory=utcnow)


EVENT_TYPES = (
    "asset.created",
    "asset.ingested",
    "asset.processing",
    "asset.progress",
    "asset.subtitles_skipped",  # source subtitle streams left out of the package
    "asset.publishing",
    "asset.ready",
    "asset.failed",
    "asset.retrying",
    "asset.deleted",
    "alarm.state_changed",
    "budget.threshold",
    "budget.exceeded",
    "budget.override",
    "worker.lost",
    "source.expired",  # the lifecycle rules deleted an asset's source
    "object.expired",  # ... any other object, or an old version of one
)


SortOrder = Literal["desc", "asc"]  # by creation time: newest first, or oldest first


class Page(BaseModel):
    items: list[Asset]
    next_cursor: str | None = None
