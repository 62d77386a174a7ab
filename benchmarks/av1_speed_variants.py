"""Wall time of the whole multi-codec `auto` job under SVT-AV1 variants, against the Apple
H.264 ladder at x264 `medium`: how the AV1 preset and SVT-AV1's threading (`lp`) were
chosen (docs/quality.md, "Codec families").

A variant is `p<N>` (preset N for rungs of 720p's pixels and up, N-1 below, as the product
encodes) with optional suffixes: `-uniform` (preset N for every rung) and `-ownlp` (SVT-AV1
sizes its threads for the whole machine in every encoder, as before the product set `lp`).

    python benchmarks/av1_speed_variants.py [--title noisy] [--seconds 30]
        [--variants p8-uniform-ownlp,p9-uniform-ownlp,p10-uniform-ownlp,p8-uniform] [--out FILE]

Each variant runs once, after one Apple encode; run it on a quiet machine. Prints and writes
(benchmarks/results/av1_speed_variants_<title>.json) wall, analysis and encode seconds, the
encode's CPU-seconds and the ratio to the Apple encode's wall time.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from primevod.adapters.media import ffmpeg_command
from primevod.adapters.media.ffmpeg_command import EncodeOptions
from primevod.adapters.media.pyav_probe import probe_file
from primevod.adapters.media.transcoder import MediaEngine
from primevod.core.ladder import LadderPolicy, with_codecs
from primevod.core.policies import get_policy

sys.path.insert(0, str(Path(__file__).parent))
from ladder_bdrate import anchor_policy, make_titles  # type: ignore[import-not-found]

RESULTS = Path(__file__).parent / "results"
PRODUCT_LP = ffmpeg_command.svt_parallelism


class Uniform(EncodeOptions):
    """Every AV1 rung at `av1_preset`."""

    def av1_preset_for(self, rung: Any) -> int:
        return self.av1_preset


def options_of(variant: str) -> EncodeOptions:
    preset = int(variant.split("-")[0].removeprefix("p"))
    kind = Uniform if "-uniform" in variant else EncodeOptions
    ffmpeg_command.svt_parallelism = (  # type: ignore[assignment]
        (lambda encoders, cores=None: "") if "-ownlp" in variant else PRODUCT_LP
    )
    return kind(preset="medium", thumbnails=False, av1_preset=preset)


def timed(source: Path, out: Path, policy: LadderPolicy, options: EncodeOptions) -> dict[str, Any]:
    probe = probe_file(source)
    started = time.monotonic()
    result = MediaEngine(options).transcode(source, out, policy, probe=probe, overwrite=True)
    wall = time.monotonic() - started
    assert result.validation.passed, result.validation
    return {
        "wall": round(wall, 1),
        "analysis": round(result.analysis_seconds, 1),
        "encode": round(result.encode_seconds, 1),
        "encode_cpu": round(result.encode_cpu_seconds, 1),
        "av1_rungs": [f"{r.height}p/crf{r.crf}" for r in result.ladder.rungs if r.codec == "av1"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--title", default="noisy")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument(
        "--variants", default="p8-uniform-ownlp,p9-uniform-ownlp,p10-uniform-ownlp,p8-uniform"
    )
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    out = args.out or RESULTS / f"av1_speed_variants_{args.title}.json"
    report: dict[str, Any] = {"title": args.title, "seconds": args.seconds, "runs": {}}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        source = make_titles(work, args.seconds, [args.title])[args.title]
        apple = EncodeOptions(preset="medium", thumbnails=False)
        report["runs"]["apple"] = timed(source, work / "a", anchor_policy(), apple)
        print("apple", report["runs"]["apple"], flush=True)
        auto = with_codecs(get_policy("auto"), "h264,av1")
        for variant in args.variants.split(","):
            run = timed(source, work / "b", auto, options_of(variant))
            run["ratio"] = round(run["wall"] / report["runs"]["apple"]["wall"], 3)
            report["runs"][variant] = run
            print(variant, run, flush=True)
            out.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
