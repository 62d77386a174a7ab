"""Split-and-stitch on DBOS: the chunk encodes and the title's audio are child workflows on
the `chunks` queue, so any worker may take any of them, and the asset's workflow waits for
them, then stitches. Why a queue of its own: the asset's workflow holds a slot of the
`encode` queue while it waits, so chunks queued there could wait for slots their own parent
holds; on `chunks` they never do.

Each child is one durable step (with the pipeline's retry policy) and returns its outcome
as JSON, a failure included: the parent never has to unpickle another worker's exception.
A child's id comes from its parent's (DBOS), so a recovered parent finds the children it
queued instead of queueing them again."""

from __future__ import annotations

from typing import Any

from dbos import DBOS
from dbos._error import DBOSWorkflowCancelledError

from primevod.core.assets import AssetError
from primevod.core.chunks import Chunk
from primevod.core.errors import MediaError
from primevod.core.execution import AudioOutcome, ChunkOutcome, PlanOutcome
from primevod.core.outputs import EncodePlan
from primevod.pipeline import chunked
from primevod.pipeline.runtime import runtime
from primevod.pipeline.step_policy import RETRY, cancelled, transient

CHUNK_QUEUE = "chunks"


def failure(stage: str, exc: Exception) -> dict[str, Any]:
    """A step's exception (its retries exhausted) as the error the asset records."""
    if isinstance(exc, MediaError):
        return AssetError(code=exc.code, step=stage, message=exc.message).model_dump()
    message = f"{stage} failed after retries: {type(exc).__name__}: {exc}"
    return AssetError(code="workflow.step_failed", step=stage, message=message).model_dump()


@DBOS.step(name="plan", should_retry=transient, **RETRY)
def plan_step(asset_id: str, execution_id: str) -> dict[str, Any]:
    return chunked.plan(runtime(), asset_id, execution_id).model_dump(mode="json")


@DBOS.step(name="chunk", should_retry=transient, **RETRY)
def chunk_step(
    asset_id: str, execution_id: str, plan: dict[str, Any], chunk: dict[str, Any]
) -> dict[str, Any]:
    outcome = chunked.encode_chunk(
        runtime(),
        asset_id,
        execution_id,
        EncodePlan.model_validate(plan),
        Chunk.model_validate(chunk),
        lambda: cancelled(execution_id),
    )
    return outcome.model_dump(mode="json")


@DBOS.step(name="audio", should_retry=transient, **RETRY)
def audio_step(asset_id: str, execution_id: str, plan: dict[str, Any]) -> dict[str, Any]:
    outcome = chunked.title_audio(
        runtime(),
        asset_id,
        execution_id,
        EncodePlan.model_validate(plan),
        lambda: cancelled(execution_id),
    )
    return outcome.model_dump(mode="json")


@DBOS.workflow(name="chunk_encode")
def chunk_workflow(
    asset_id: str, execution_id: str, plan: dict[str, Any], chunk: dict[str, Any]
) -> dict[str, Any]:
    try:
        return chunk_step(asset_id, execution_id, plan, chunk)
    except DBOSWorkflowCancelledError:
        raise
    except Exception as exc:  # retries exhausted on a transient error
        return {"ok": False, "error": failure(chunked.CHUNK, exc)}


@DBOS.workflow(name="title_audio")
def audio_workflow(asset_id: str, execution_id: str, plan: dict[str, Any]) -> dict[str, Any]:
    try:
        return audio_step(asset_id, execution_id, plan)
    except DBOSWorkflowCancelledError:
        raise
    except Exception as exc:
        return {"ok": False, "error": failure(chunked.AUDIO, exc)}


@DBOS.step(name="chunk_progress")
def progress_step(asset_id: str, done: int, total: int) -> None:
    chunked.record_progress(runtime(), asset_id, done, total)


@DBOS.step(name="stitch", should_retry=transient, **RETRY)
def stitch_step(
    asset_id: str,
    execution_id: str,
    planned: dict[str, Any],
    chunks: list[dict[str, Any]],
    audio: dict[str, Any],
) -> dict[str, Any]:
    outcome = chunked.stitch(
        runtime(),
        asset_id,
        execution_id,
        PlanOutcome.model_validate(planned),
        [ChunkOutcome.model_validate(c) for c in chunks],
        AudioOutcome.model_validate(audio),
        lambda: cancelled(execution_id),
    )
    return outcome.model_dump(mode="json")


def process_in_chunks(asset_id: str, execution_id: str, planned: dict[str, Any]) -> dict[str, Any]:
    """Workflow code of the asset's workflow: queue the title's audio and every chunk, wait
    for them in title order (progress as they finish), then stitch. A failed child cancels
    its siblings and ends the asset with its error."""
    plan = planned["plan"]
    audio = DBOS.enqueue_workflow(CHUNK_QUEUE, audio_workflow, asset_id, execution_id, plan)
    handles = [
        DBOS.enqueue_workflow(CHUNK_QUEUE, chunk_workflow, asset_id, execution_id, plan, chunk)
        for chunk in planned["chunks"]
    ]
    children = [audio.get_workflow_id(), *(h.get_workflow_id() for h in handles)]
    done: list[dict[str, Any]] = []
    for handle in handles:
        outcome = handle.get_result()
        if not outcome["ok"]:
            DBOS.cancel_workflows(children)
            return outcome
        done.append(outcome)
        progress_step(asset_id, len(done), len(handles))
    audio_outcome = audio.get_result()
    if not audio_outcome["ok"]:
        return audio_outcome
    return stitch_step(asset_id, execution_id, planned, done, audio_outcome)
