"""One wrapper for every pipeline step: its record in the catalog (attempts, outcome), a
span, a JSON log line and a duration metric, and the mapping of errors to outcomes: a
permanent MediaError becomes a failed outcome (never retried), anything else is raised for
the step's retry policy."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from primevod.core.errors import MediaError
from primevod.core.execution import StepOutcome
from primevod.observability import instrument
from primevod.ports.catalog import Catalog

Outcome = TypeVar("Outcome", bound=StepOutcome)
CANCELLED_NOTE = "workflow.cancelled: cancelled on request"


def permanent_failure(step: str) -> Callable[[MediaError], StepOutcome | None]:
    """The default mapping: a permanent error ends the asset, others are retried."""

    def mapping(exc: MediaError) -> StepOutcome | None:
        return StepOutcome.failure(exc.code, step, exc.message) if exc.permanent else None

    return mapping


def _trace(catalog: Catalog, asset_id: str) -> tuple[str | None, str | None]:
    """The asset's trace id and the span that started it (see observability/tracing.py)."""
    try:
        meta = catalog.get_asset(asset_id).metadata
    except Exception:
        return None, None
    return meta.get("trace_id"), meta.get("trace_parent")


def _finish(catalog: Catalog, step_id: int, outcome: StepOutcome) -> None:
    if outcome.error is not None:
        catalog.step_finished(step_id, "failed", f"{outcome.error.code}: {outcome.error.message}")
    elif outcome.cancelled:
        catalog.step_finished(step_id, "failed", CANCELLED_NOTE)
    else:
        catalog.step_finished(step_id, "succeeded", outcome.note)


def run_step(
    catalog: Catalog,
    name: str,
    asset_id: str,
    execution_id: str,
    body: Callable[[], Outcome],
    *,
    on_media_error: Callable[[MediaError], Outcome | StepOutcome | None] | None = None,
    record_as: str | None = None,
) -> Outcome | StepOutcome:
    """Run `body` as the step `name` of the execution. `on_media_error` turns a MediaError
    into the outcome to return, or None to raise it (default: `permanent_failure`).
    `record_as`: the step's name in the catalog when steps of one kind run side by side
    (`chunk-3`; the catalog counts attempts by name); spans and metrics keep `name`."""
    mapping = on_media_error or permanent_failure(name)
    with instrument.step(name, asset_id, execution_id, *_trace(catalog, asset_id)) as status:
        step_id = catalog.step_started(execution_id, record_as or name)
        try:
            outcome: Outcome | StepOutcome = body()
        except MediaError as exc:
            catalog.step_finished(step_id, "failed", f"{exc.code}: {exc.message}")
            mapped = mapping(exc)
            if mapped is None:
                raise
            status["ok"] = mapped.ok
            return mapped
        except Exception as exc:
            catalog.step_finished(step_id, "failed", f"{type(exc).__name__}: {exc}")
            raise
        _finish(catalog, step_id, outcome)
        status["ok"] = outcome.ok
        return outcome
