"""What a workflow step hands back to the workflow: its durable (DBOS-recorded) output.
JSON-able by design, so the same outputs can travel between Step Functions states. Pure."""

from __future__ import annotations

from pydantic import BaseModel, Field

from primevod.core.assets import AssetError
from primevod.core.chunks import Chunk
from primevod.core.outputs import EncodePlan, PackageResult


class StepOutcome(BaseModel):
    """ok=False with `error`: a permanent failure the workflow records (never retried);
    a transient failure is raised instead, and the step's retry policy takes it."""

    ok: bool = True
    error: AssetError | None = None
    skipped: bool = Field(False, description="nothing to do (a check turned off, audio only)")
    cancelled: bool = Field(False, description="the workflow was cancelled while it ran")
    passed: bool | None = Field(None, description="a check's verdict, where the step makes one")
    note: str | None = Field(None, description="kept on the step record (a warning)")

    @classmethod
    def failure(cls, code: str, step: str, message: str) -> StepOutcome:
        return cls(ok=False, error=AssetError(code=code, step=step, message=message))


class StagedPackage(BaseModel):
    """A validated package in the object store, under its execution's own prefix: any worker
    can read it, and it is live only once publish points the catalog at it."""

    bucket: str
    prefix: str
    result: PackageResult

    def key(self, relative: str) -> str:
        return self.prefix + relative


class ProcessOutcome(StepOutcome):
    package: StagedPackage | None = None


class PlanOutcome(StepOutcome):
    """The plan of a chunked encode (`plan` and its `chunks`), or neither: encode the title
    in one pass. `started_at`: when the plan step began (epoch seconds), for the timings."""

    plan: EncodePlan | None = None
    chunks: list[Chunk] = Field(default_factory=list)
    started_at: float = 0.0

    @property
    def chunked(self) -> bool:
        return self.plan is not None and len(self.chunks) > 1


class ChunkOutcome(StepOutcome):
    """One chunk encoded and stored: a key per rung (ladder order) in the destination
    bucket, its thumbnails' keys, the frames of each rung, the encode's seconds and the
    worker that ran it."""

    index: int = 0
    keys: list[str] = Field(default_factory=list)
    thumb_keys: list[str] = Field(default_factory=list)
    frames: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    worker: str = ""


class AudioOutcome(StepOutcome):
    """The title's audio renditions stored for the stitch (None: the title has no audio)."""

    audio_key: str | None = None
