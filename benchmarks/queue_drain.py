"""1,000 asset workflows enqueued at once: how long the enqueue takes, and that the queue
drains with every asset ready (none lost, none run twice).

    python benchmarks/queue_drain.py [--count 1000] [--workers 2]

Each asset is a real tiny clip (64x36, 0.5 s) run through the real workflow (ingest, encode,
package, validate, publish) on the embedded default. Results:
benchmarks/results/queue_drain.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from primevod import wiring
from primevod.adapters.media.samples import make_sample
from primevod.core.assets import AssetStatus
from primevod.pipeline import workflows
from primevod.settings import Settings

RESULTS = Path(__file__).parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        rt = wiring.start(Settings(home=home, preset="ultrafast", encode_concurrency=args.workers))
        clip = make_sample(Path(tmp) / "tiny.mp4", seconds=0.5, width=64, height=36)
        started = time.monotonic()
        assets = [wiring.submit_file(clip, title=f"tiny {i}") for i in range(args.count)]
        created_s = time.monotonic() - started
        started = time.monotonic()
        for asset in assets:
            workflows.start(rt, asset.id)
        enqueue_s = time.monotonic() - started
        started = time.monotonic()
        pending = {a.id for a in assets}
        while pending:
            time.sleep(1.0)
            for asset_id in list(pending):
                if rt.catalog.get_asset(asset_id).status in (AssetStatus.READY, AssetStatus.FAILED):
                    pending.discard(asset_id)
        drain_s = time.monotonic() - started
        statuses = [rt.catalog.get_asset(a.id).status.value for a in assets]
        executions = [len(rt.catalog.list_executions(a.id)) for a in assets]
        wiring.stop()
    report = {
        "workflows": args.count,
        "encode_concurrency": args.workers,
        "assets_created_s": round(created_s, 2),
        "enqueue_s": round(enqueue_s, 2),
        "drain_s": round(drain_s, 1),
        "per_minute": round(args.count / drain_s * 60, 1),
        "ready": statuses.count("ready"),
        "failed": statuses.count("failed"),
        "executions_per_asset": sorted(set(executions)),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "queue_drain.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
