"""Quality rules, pure: the content-adaptive (`auto`) ladder picked from probe encodes, the
Bjøntegaard delta rate between two ladders, and the quality-check verdict.

The rules live in the modules below; this one gathers their public names, the import path
the rest of the project uses."""

from __future__ import annotations

from primevod.core.auto_ladder import auto_policy, select_rungs
from primevod.core.bd_rate import bd_rate
from primevod.core.probe_encodes import ComplexityAnalysis, ProbePoint, even, probe_sizes
from primevod.core.quality_report import (
    Metric,
    QualityReport,
    RungQuality,
    family_tops,
    target_quality,
    verdict,
    verdict_by_family,
)
from primevod.core.rate_quality import RungChoice, frontier

__all__ = [
    "ComplexityAnalysis",
    "Metric",
    "ProbePoint",
    "QualityReport",
    "RungChoice",
    "RungQuality",
    "auto_policy",
    "bd_rate",
    "even",
    "family_tops",
    "frontier",
    "probe_sizes",
    "select_rungs",
    "target_quality",
    "verdict",
    "verdict_by_family",
]
