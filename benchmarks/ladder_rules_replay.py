"""The `auto` rungs that today's selection rules pick from the probe analyses a
`ladder_bdrate.py` run stored, with and without the knee and gap rules: which titles a rule
change moves, without encoding anything (the analyses are deterministic measurements).

    python benchmarks/ladder_rules_replay.py [RESULTS.json ...]

Defaults to benchmarks/results/ladder_bdrate_families_20s.json. Prints each title's
predicted rungs per family (size/CRF @ kb/s -> VMAF), marked where the rules change them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from primevod.core.auto_ladder import family_choices
from primevod.core.codec_families import CodecFamily
from primevod.core.ladder import AutoLadderConfig
from primevod.core.probe_encodes import ComplexityAnalysis
from primevod.core.rate_quality import RungChoice

RESULTS = Path(__file__).parent / "results"
BEFORE = AutoLadderConfig(knee_vmaf=0.0, max_bitrate_ratio=1e9)  # the rules before the two


def rungs(analysis: ComplexityAnalysis, config: AutoLadderConfig) -> dict[str, str]:
    h264 = family_choices(analysis, config, CodecFamily.H264)
    picked = {"h264": h264}
    for family in analysis.codecs:
        if family is not CodecFamily.H264:
            picked[family.value] = family_choices(analysis, config, family, reach_kbps=h264[0].kbps)
    return {family: shown(choices) for family, choices in picked.items()}


def shown(choices: list[RungChoice]) -> str:
    return " ".join(f"{c.height}p/{c.crf}@{c.kbps:.0f}->{c.quality:.1f}" for c in choices)


def main() -> None:
    files = [Path(a) for a in sys.argv[1:]] or [RESULTS / "ladder_bdrate_families_20s.json"]
    for file in files:
        for title in json.loads(file.read_text())["titles"]:
            stored = (title.get("auto") or {}).get("auto")
            if not stored:
                continue
            analysis = ComplexityAnalysis.model_validate(stored["analysis"])
            now, before = rungs(analysis, AutoLadderConfig()), rungs(analysis, BEFORE)
            for family, line in now.items():
                mark = "same" if line == before[family] else f"was: {before[family]}"
                print(f"{title['title']:8s} {family:5s} {line}  [{mark}]")


if __name__ == "__main__":
    main()
