"""The README's cost notes, computed from the benchmark results and the shipped price file:

- what a minute of 720p video costs to encode on MediaConvert per ladder (the job the AWS
  shape would submit, priced by core/cost.py; no encode runs for it);
- CPU-seconds and package megabytes per minute on this machine (benchmarks/results/
  cost_local.json, the default preset) per ladder;
- `auto` against `apple` per 1,000 minutes (benchmarks/results/ladder_bdrate.json, both at
  x264 medium): encode on MediaConvert, a month of S3 Standard storage, and CloudFront egress
  for each minute watched once at the top rung.

Run by hand after the two benchmarks (a few seconds):

    python benchmarks/cost_table.py [--out FILE]

Prints the Markdown tables for README.md and docs/cost.md and writes benchmarks/results/
cost_table.json (or --out)."""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from primevod.adapters.media.ffmpeg_binary import ffmpeg_exe
from primevod.adapters.media.pyav_probe import probe_file
from primevod.adapters.price_files import read_prices
from primevod.core.cost import estimate_title
from primevod.core.ladder import with_codecs
from primevod.core.policies import get_policy

RESULTS = Path(__file__).parent / "results"
LADDERS = ("default", "aws-vod", "apple", "auto")


def aws_per_minute(codecs: str, seconds: float = 60.0) -> dict[str, dict[str, Any]]:
    """MediaConvert's price of a minute of 720p25 per ladder with these codec families (a
    test card: the price does not depend on the picture for these ladders)."""
    prices = read_prices()
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "t720.mp4"
        lavfi = f"testsrc2=size=1280x720:rate=25:duration={seconds:g}"
        cmd = [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", lavfi]
        cmd += ["-f", "lavfi", "-i", f"sine=duration={seconds:g}", "-c:v", "libx264"]
        subprocess.run([*cmd, "-preset", "ultrafast", "-c:a", "aac", str(clip)], check=True)
        probe = probe_file(clip)
    out = {}
    for name in LADDERS:
        estimate = estimate_title(probe, with_codecs(get_policy(name), codecs), prices)
        out[name] = {"tier": estimate.tier, "usd_per_minute": estimate.total_usd / (seconds / 60)}
    return out


def local_per_minute(local: dict[str, Any]) -> dict[str, dict[str, float]]:
    by_ladder: dict[str, list[dict[str, Any]]] = {}
    for job in local["jobs"]:
        by_ladder.setdefault(job["ladder_name"], []).append(job)
    return {
        name: {
            "cpu_seconds_per_minute": statistics.median(
                j["cpu_seconds"] / j["duration"] * 60 for j in jobs
            ),
            "mb_per_minute": statistics.median(
                j["package_bytes"] / j["duration"] * 60 / 1e6 for j in jobs
            ),
        }
        for name, jobs in by_ladder.items()
    }


def auto_against_apple(bdrate: dict[str, Any], aws: dict[str, Any]) -> list[dict[str, Any]]:
    prices = read_prices()
    gb_month = prices.s3.storage_usd_per_gb_month["STANDARD"]
    egress = prices.cloudfront.egress_usd_per_gb[0].usd_per_gb
    rows = []
    for title in bdrate["titles"]:
        row: dict[str, Any] = {"title": title["title"]}
        for name in ("apple", "auto"):
            entry = title[name]
            per_minute = 60 / title["duration"]
            gb = entry["total_bytes"] * per_minute * 1000 / 1e9  # 1,000 minutes
            top_kbps = entry["rungs"][-1]["average_kbps"]
            watched_gb = top_kbps * 1000 / 8 * 60 * 1000 / 1e9
            row[name] = {
                "encode_usd": aws[name]["usd_per_minute"] * 1000,
                "storage_usd_month": gb * gb_month,
                "egress_usd": watched_gb * egress,
                "top_vmaf": entry["top_vmaf"],
                "gb": gb,
            }
        row["saved_usd"] = {
            k: row["apple"][k] - row["auto"][k]
            for k in ("encode_usd", "storage_usd_month", "egress_usd")
        }
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=RESULTS / "cost_table.json")
    args = parser.parse_args()
    local = json.loads((RESULTS / "cost_local.json").read_text())
    codecs = local.get("codecs", "h264")  # the families cost_local.py encoded
    aws = aws_per_minute(codecs)
    here = local_per_minute(local)
    bdrate = json.loads((RESULTS / "ladder_bdrate.json").read_text())
    # the BD-rate benchmark's two ladders are H.264 alone
    savings = auto_against_apple(bdrate, aws_per_minute("h264"))
    args.out.write_text(
        json.dumps(
            {"codecs": codecs, "aws": aws, "local": here, "auto_vs_apple": savings}, indent=2
        )
        + "\n"
    )
    print(
        f"| ladder ({codecs}) | MediaConvert tier | USD per minute (720p) | CPU-s per minute "
        f"here ({local['preset']}) | MB per minute |"
    )
    print("|---|---|---|---|---|")
    for name in LADDERS:
        cpu = here.get(name, {}).get("cpu_seconds_per_minute")
        mb = here.get(name, {}).get("mb_per_minute")
        print(
            f"| `{name}` | {aws[name]['tier']} | {aws[name]['usd_per_minute']:.4f} | "
            f"{'' if cpu is None else f'{cpu:.0f}'} | {'' if mb is None else f'{mb:.1f}'} |"
        )
    print()
    print("| title | top VMAF apple / auto | encode | storage a month | egress, watched once |")
    print("|---|---|---|---|---|")
    for row in savings:
        s = row["saved_usd"]
        print(
            f"| {row['title']} | {row['apple']['top_vmaf']:.1f} / {row['auto']['top_vmaf']:.1f} | "
            f"{s['encode_usd']:+.2f} | {s['storage_usd_month']:+.2f} | {s['egress_usd']:+.2f} |"
        )


if __name__ == "__main__":
    main()
