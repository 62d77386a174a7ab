"""An asset's live state as the asset page shows it: its status, the four stages of its
workflow (ingest, process, quality, publish) with where each stands, the progress, what the
running step is doing and, for a failed asset, its error. Built from the asset and its
current execution's step records. Pure."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from primevod.core.assets import Asset, AssetStatus, Execution, StepRecord

Stage = Literal["ingest", "process", "quality", "publish"]
StageStatus = Literal["pending", "running", "succeeded", "failed", "skipped"]
STAGES: tuple[Stage, ...] = ("ingest", "process", "quality", "publish")

# the recorded steps of each stage (a chunked encode runs plan, chunk-N, audio and stitch)
_STEP_STAGE: dict[str, Stage] = {
    "ingest": "ingest",
    "budget": "ingest",
    "plan": "process",
    "process": "process",
    "audio": "process",
    "stitch": "process",
    "quality": "quality",
    "publish": "publish",
}


def stage_of(step: str) -> Stage | None:
    """The stage a recorded step belongs to (`chunk-3` is the process stage's)."""
    if step.startswith("chunk"):
        return "process"
    return _STEP_STAGE.get(step)


class AssetState(BaseModel):
    asset_id: str
    status: AssetStatus
    stage: Stage | None  # the stage running now, or where it failed
    stages: dict[Stage, StageStatus]
    progress: float  # 0..1 of the whole workflow (the encode is 95 % of it)
    percent: int
    activity: str | None  # "encoding 4 renditions 1080p…240p"
    error_code: str | None = None
    error_message: str | None = None
    execution_id: str | None = None


def _stage_status(records: list[StepRecord]) -> StageStatus:
    """Where a stage stands from its steps' records (the latest attempt of each step)."""
    latest: dict[str, StepRecord] = {}
    for record in records:
        latest[record.name] = record  # records come in the order they were started
    states = {r.status for r in latest.values()}
    if "running" in states:
        return "running"
    if "failed" in states:
        return "failed"
    return "succeeded"


def _stages(asset: Asset, execution: Execution | None) -> dict[Stage, StageStatus]:
    by_stage: dict[Stage, list[StepRecord]] = {s: [] for s in STAGES}
    for record in execution.steps if execution else []:
        stage = stage_of(record.name)
        if stage is not None:
            by_stage[stage].append(record)
    stages: dict[Stage, StageStatus] = {
        s: _stage_status(records) if records else "pending" for s, records in by_stage.items()
    }
    if asset.status is AssetStatus.READY:  # a stage with no record was not needed
        stages = {s: ("skipped" if v == "pending" else v) for s, v in stages.items()}
    elif asset.status is AssetStatus.FAILED:
        failed = stage_of(asset.error.step or "") if asset.error else None
        if failed is not None:
            stages[failed] = "failed"
        stages = {s: ("failed" if v == "running" else v) for s, v in stages.items()}
    return stages


def _current(asset: Asset, stages: dict[Stage, StageStatus]) -> Stage | None:
    if asset.status is AssetStatus.FAILED:
        failed = [s for s in STAGES if stages[s] == "failed"]
        return failed[-1] if failed else None
    running = [s for s in STAGES if stages[s] == "running"]
    if running:
        return running[-1]
    if asset.status is AssetStatus.READY:
        return None
    done = [s for s in STAGES if stages[s] == "succeeded"]  # between two steps
    following = STAGES.index(done[-1]) + 1 if done else 0
    return STAGES[min(following, len(STAGES) - 1)]


def asset_state(asset: Asset, execution: Execution | None) -> AssetState:
    """The state of `asset` whose current execution (its step records) is `execution`."""
    stages = _stages(asset, execution)
    progress = max(0.0, min(1.0, asset.progress))
    return AssetState(
        asset_id=asset.id,
        status=asset.status,
        stage=_current(asset, stages),
        stages=stages,
        progress=round(progress, 4),
        percent=int(progress * 100),
        activity=asset.activity,
        error_code=asset.error.code if asset.error else None,
        error_message=asset.error.message if asset.error else None,
        execution_id=asset.execution_id,
    )


def state_document(state: AssetState) -> dict[str, Any]:
    return state.model_dump(mode="json")
