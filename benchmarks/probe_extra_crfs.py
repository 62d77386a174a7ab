"""Where a family's quality stops on a title: the analysis' probe encodes (its samples, its
lossless reference, its scoring) at CRFs below the ladder's range, and SVT-AV1 with extra
parameters. Used to show that SVT-AV1 does not reach x264's VMAF on the grainy `pan` title
whatever the CRF (docs/quality.md, "Codec families").

    python benchmarks/probe_extra_crfs.py [--title pan] [--seconds 20]
        [--x264-crfs 7,10,13] [--av1-crfs 3,9,15,21] [--av1-params ,enable-tf=0,tune=0]

The two largest probe sizes of the title; x264 at the probes' preset (`veryfast`), SVT-AV1
at the probes' preset 12. Prints (family, params, size, CRF, kb/s, VMAF) per probe and
writes benchmarks/results/probe_extra_crfs_<title>.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from primevod.adapters.media.complexity import scan_title
from primevod.adapters.media.complexity_probes import AV1_PROBE_PRESET, Probe, ProbeRun, rung_sizes
from primevod.adapters.media.pyav_probe import probe_file
from primevod.core.codec_families import CodecFamily
from primevod.core.ladder import AutoLadderConfig, output_frame_rate

sys.path.insert(0, str(Path(__file__).parent))
from ladder_bdrate import make_titles  # type: ignore[import-not-found]

RESULTS = Path(__file__).parent / "results"


class ParamsRun(ProbeRun):
    """The analysis' probe run with extra `-svtav1-params` for its AV1 probes."""

    extra: str = ""

    def encoder_args(self, probe: Probe) -> list[str]:
        args = super().encoder_args(probe)
        if probe.family is CodecFamily.AV1 and self.extra:
            at = args.index("-svtav1-params") + 1
            args[at] = f"{args[at]}:{self.extra}"
        return args


def measure(source: Path, outs: list[Probe], extra: str, work: Path) -> list[dict[str, Any]]:
    probe = probe_file(source)
    video = probe.primary_video
    assert video is not None
    fps = output_frame_rate(video)
    timing: dict[str, float] = {}
    title = scan_title(source, probe, AutoLadderConfig(), fps, float(probe.duration), timing)
    run = ParamsRun.plan(source, video, title.samples, fps, "veryfast", work, "vmaf", timing)
    run.extra = extra
    run.encode(outs, 0)
    points = run.score(outs, 0, static=False)
    return [
        {
            "family": str(p.codec),
            "params": extra if p.codec is CodecFamily.AV1 else "",
            "size": f"{p.width}x{p.height}",
            "crf": p.crf,
            "kbps": p.kbps,
            "vmaf": round(p.quality, 2),
        }
        for p in points
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--title", default="pan")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--x264-crfs", default="7,10,13")
    parser.add_argument("--av1-crfs", default="3,9,15,21")
    parser.add_argument("--av1-params", default=",enable-tf=0,tune=0", help="comma-separated")
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        source = make_titles(work, args.seconds, [args.title])[args.title]
        sizes = rung_sizes(probe_file(source), AutoLadderConfig())[-2:]
        x264 = [int(c) for c in args.x264_crfs.split(",") if c]
        av1 = [int(c) for c in args.av1_crfs.split(",") if c]
        for n, extra in enumerate(args.av1_params.split(",")):
            outs = [Probe(CodecFamily.AV1, w, h, c) for w, h in sizes for c in av1]
            if n == 0:
                outs += [Probe(CodecFamily.H264, w, h, c) for w, h in sizes for c in x264]
            folder = work / f"run{n}"
            folder.mkdir()
            rows += measure(source, outs, extra, folder)
    for row in rows:
        print(
            f"{row['family']:5s} {row['params'] or '-':12s} {row['size']:10s} "
            f"CRF {row['crf']:>4} {row['kbps']:>9.1f} kb/s  VMAF {row['vmaf']}"
        )
    report = {"title": args.title, "seconds": args.seconds, "av1_preset": AV1_PROBE_PRESET}
    out = RESULTS / f"probe_extra_crfs_{args.title}.json"
    out.write_text(json.dumps({**report, "probes": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
