"""How close each tone curve brings an HDR picture back to its SDR original: a test card
(testsrc2, 1280x720) made HDR the standard way (BT.2408: SDR's white at the 203-nit HDR
reference white; BT.2020, PQ or HLG, 10-bit x265), then mapped back to SDR BT.709 by the
encode's filter chain with each of FFmpeg's curves. Prints the PSNR against the original
(FFmpeg's, over Y, U and V, every frame) and the mean RGB value of one frame of each;
writes benchmarks/results/tone_map_curves.json.

    python benchmarks/tone_map_curves.py
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import av

from primevod.adapters.media.ffmpeg_binary import ffmpeg_exe
from primevod.adapters.media.ffmpeg_command import tone_map_filter
from primevod.adapters.media.quality_meter import Comparison, compare

RESULTS = Path(__file__).parent / "results"
CURVES = ("mobius", "hable", "reinhard")
TRANSFERS = ("smpte2084", "arib-std-b67")


def run(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *args], check=True)


def mean_rgb(path: Path, n: int = 10) -> float:
    with av.open(str(path)) as container:
        for i, picture in enumerate(container.decode(video=0)):
            if i == n:
                return float(picture.to_ndarray(format="rgb24").mean())
    raise ValueError(f"{path} has fewer than {n + 1} frames")


def psnr(mapped: Path, original: Path) -> float:
    pair = Comparison(distorted=["-i", str(mapped)], reference=["-i", str(original)])
    return compare([pair], (1280, 720), metric="psnr")[0].mean


def make_hdr(sdr: Path, out: Path, transfer: str) -> None:
    to_hdr = (
        f"zscale=tin=bt709:min=bt709:pin=bt709:t={transfer}:m=bt2020nc:p=bt2020:npl=203,"
        "format=yuv420p10le"
    )
    params = f"log-level=error:colorprim=bt2020:transfer={transfer}:colormatrix=bt2020nc"
    run(
        *("-i", str(sdr), "-vf", to_hdr, "-c:v", "libx265", "-crf", "8"),
        *("-x265-params", params, str(out)),
    )


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory(prefix="tone-map-") as tmp:
        work = Path(tmp)
        sdr = work / "sdr.mkv"
        run(
            *("-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=25:duration=1"),
            *("-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv420p", str(sdr)),
        )
        original = round(mean_rgb(sdr), 1)
        for transfer in TRANSFERS:
            hdr = work / f"{transfer}.mp4"
            make_hdr(sdr, hdr, transfer)
            for curve in CURVES:
                chain = tone_map_filter(transfer).replace("tonemap=mobius", f"tonemap={curve}")
                out = work / f"{transfer}-{curve}.mkv"
                run("-i", str(hdr), "-vf", chain, "-c:v", "libx264", "-qp", "0", str(out))
                row = {
                    "transfer": transfer,
                    "curve": curve,
                    "psnr_db": round(psnr(out, sdr), 2),
                    "mean_rgb": round(mean_rgb(out), 1),
                    "original_mean_rgb": original,
                }
                rows.append(row)
                print(row, flush=True)
    (RESULTS / "tone_map_curves.json").write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
