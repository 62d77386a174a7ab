"""Upload throughput: a 1 GiB file in 16 MiB parts, 6 at a time, through signed part URLs
into the embedded store of a real `primevod serve` on loopback; compared with writing the
same bytes to the same disk directly.

    python benchmarks/upload_throughput.py [--mib 1024] [--part-mib 16] [--parallel 6]

Results: benchmarks/results/upload_throughput.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))
from conftest import Server  # type: ignore[import-not-found]

RESULTS = Path(__file__).parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=1024)
    parser.add_argument("--part-mib", type=int, default=16)
    parser.add_argument("--parallel", type=int, default=6)
    args = parser.parse_args()
    size = args.mib * 2**20
    part = args.part_mib * 2**20
    with tempfile.TemporaryDirectory(dir=str(Path.cwd())) as tmp:
        home = Path(tmp) / "home"
        block = os.urandom(part)
        # the baseline: the same bytes written to the same disk, part by part, fsynced
        started = time.monotonic()
        with open(Path(tmp) / "direct.bin", "wb") as out:
            for _ in range(size // part):
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
        direct_s = time.monotonic() - started
        (Path(tmp) / "direct.bin").unlink()

        server = Server(home, PRIMEVOD_UPLOAD_PART_SIZE=str(part))
        auth = server.auth("uploader")
        client = httpx.Client(timeout=120, limits=httpx.Limits(max_connections=args.parallel))
        started = time.monotonic()
        session = client.post(
            f"{server.base}/api/v1/uploads/init",
            headers=auth,
            json={"filename": "big.mp4", "content_type": "video/mp4", "size": size},
        ).json()
        ids = {"upload_id": session["upload_id"], "key": session["key"]}

        def send(n: int) -> dict[str, object]:
            url = client.post(
                f"{server.base}/api/v1/uploads/signPart",
                headers=auth,
                json={**ids, "part_number": n},
            ).json()["url"]
            r = client.put(url, content=block)
            r.raise_for_status()
            return {"PartNumber": n, "ETag": r.headers["ETag"]}

        with ThreadPoolExecutor(args.parallel) as pool:
            parts = list(pool.map(send, range(1, session["max_parts"] + 1)))
        parts_s = time.monotonic() - started
        done = client.post(
            f"{server.base}/api/v1/uploads/complete", headers=auth, json={**ids, "parts": parts}
        )
        done.raise_for_status()
        total_s = time.monotonic() - started
        stored = home / "store" / "buckets" / "source" / session["key"]
        assert stored.stat().st_size == size
        server.stop()
    mb = size / 1e6
    report = {
        "bytes": size,
        "part_size": part,
        "parallel": args.parallel,
        "direct_write_s": round(direct_s, 2),
        "direct_mb_s": round(mb / direct_s, 1),
        "parts_uploaded_s": round(parts_s, 2),
        "parts_mb_s": round(mb / parts_s, 1),
        "with_complete_s": round(total_s, 2),
        "with_complete_mb_s": round(mb / total_s, 1),
        "ratio_parts_to_direct": round((mb / parts_s) / (mb / direct_s), 2),
        "ratio_with_complete_to_direct": round((mb / total_s) / (mb / direct_s), 2),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "upload_throughput.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
