"""The metrics the installation records: names, kinds, help and labels, the label text every
stored point carries, and the minute the points are counted in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from primevod.core.histograms import DURATION_BUCKETS, LATENCY_BUCKETS, SPEED_BUCKETS

PREFIX = "primevod_"
MINUTE = 60


class Kind(StrEnum):
    COUNTER = "counter"
    GAUGE = "gauge"
    HISTOGRAM = "histogram"


@dataclass(frozen=True)
class MetricDef:
    name: str
    kind: Kind
    help: str
    labels: tuple[str, ...] = ()
    buckets: tuple[float, ...] = ()


DEFINITIONS: tuple[MetricDef, ...] = (
    MetricDef(
        "primevod_workflow_executions_total",
        Kind.COUNTER,
        "Asset workflow executions by outcome (started, succeeded, failed, rejected: the "
        "source was refused, cancelled), stage and error code",
        ("status", "stage", "code"),
    ),
    MetricDef(
        "primevod_step_duration_seconds",
        Kind.HISTOGRAM,
        "Duration of workflow steps (ingest, process, quality, publish) by outcome",
        ("step", "status"),
        DURATION_BUCKETS,
    ),
    MetricDef(
        "primevod_encode_realtime_factor",
        Kind.HISTOGRAM,
        "Encode speed: seconds of media per second of wall time, per encode",
        (),
        SPEED_BUCKETS,
    ),
    MetricDef("primevod_queue_depth", Kind.GAUGE, "Workflows waiting or running", ("queue",)),
    MetricDef(
        "primevod_budget_used_ratio",
        Kind.GAUGE,
        "Share of the monthly budget spent (estimates of running jobs, actuals of done ones)",
        (),
    ),
    MetricDef(
        "primevod_queue_oldest_age_seconds",
        Kind.GAUGE,
        "Age of the oldest workflow waiting in the queue",
        ("queue",),
    ),
    MetricDef(
        "primevod_uploads_total",
        Kind.COUNTER,
        "Browser uploads by outcome (started, completed, aborted)",
        ("status",),
    ),
    MetricDef("primevod_upload_bytes_total", Kind.COUNTER, "Bytes received by completed uploads"),
    MetricDef(
        "primevod_delivery_requests_total",
        Kind.COUNTER,
        "Edge delivery requests by status class (2xx, 3xx, 4xx, 5xx)",
        ("class",),
    ),
    MetricDef("primevod_delivery_bytes_total", Kind.COUNTER, "Bytes sent by the edge"),
    MetricDef(
        "primevod_edge_cache_total",
        Kind.COUNTER,
        "Edge cache lookups (object metadata and files) by result (hit, miss)",
        ("result",),
    ),
    MetricDef(
        "primevod_origin_latency_seconds",
        Kind.HISTOGRAM,
        "Time the edge takes to answer a delivery request from the origin store",
        (),
        LATENCY_BUCKETS,
    ),
    MetricDef(
        "primevod_api_requests_total", Kind.COUNTER, "API requests by status class", ("class",)
    ),
    MetricDef(
        "primevod_beacons_total",
        Kind.COUNTER,
        "Player beacons by result (accepted; refused: malformed, oversized, unsigned, busy)",
        ("result",),
    ),
    MetricDef(
        "primevod_api_latency_seconds",
        Kind.HISTOGRAM,
        "API request latency",
        (),
        LATENCY_BUCKETS,
    ),
    MetricDef("primevod_canary_runs_total", Kind.COUNTER, "HLS canary runs by result", ("result",)),
    MetricDef(
        "primevod_lifecycle_runs_total",
        Kind.COUNTER,
        "Runs of the lifecycle workflow by result (applied; refused: the lifecycle document "
        "did not load, so nothing was deleted; skipped: the store applies its own rules)",
        ("result",),
    ),
    MetricDef(
        "primevod_lifecycle_actions_total",
        Kind.COUNTER,
        "Lifecycle actions applied (transition, expire, expire_version, abort_upload)",
        ("action",),
    ),
    MetricDef(
        "primevod_retention_pruned_total",
        Kind.COUNTER,
        "Rows and files removed at the end of their retention, by what they were",
        ("what",),
    ),
)
BY_NAME: dict[str, MetricDef] = {d.name: d for d in DEFINITIONS}


SOURCE_ERROR_PREFIX = "source."


def failure_outcome(code: str) -> str:
    """How an execution that ended in error counts: `rejected` when its source was refused
    (`source.*`: a corrupt, too long or unsupported upload, the uploader's to fix, not a
    fault of the pipeline), else `failed` (what the workflow-failures alarm watches)."""
    return "rejected" if code.startswith(SOURCE_ERROR_PREFIX) else "failed"


def label_string(labels: Mapping[str, str]) -> str:
    """Canonical label text, sorted by name: `a="1",b="x"` (quotes and backslashes escaped)."""
    parts = []
    for key in sorted(labels):
        value = str(labels[key]).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
        parts.append(f'{key}="{value}"')
    return ",".join(parts)


def parse_labels(text: str) -> dict[str, str]:
    """The inverse of label_string."""
    out: dict[str, str] = {}
    i = 0
    while i < len(text):
        eq = text.index("=", i)
        key = text[i:eq]
        j = eq + 2  # after ="
        value = []
        while text[j] != '"':
            if text[j] == "\\":
                j += 1
            value.append(text[j])
            j += 1
        out[key] = "".join(value)
        i = j + 2  # past the quote and the comma
    return out


def minute_of(ts: float) -> int:
    return int(ts // MINUTE * MINUTE)


def status_class(status: int) -> str:
    return f"{status // 100}xx" if 100 <= status < 600 else "5xx"
