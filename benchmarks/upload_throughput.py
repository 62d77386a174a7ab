"""Upload throughput: a file in 16 MiB parts, 6 at a time, through signed part URLs into the
embedded store of a real `primevod serve` on loopback, with encryption at rest off and on
(PRIMEVOD_ENCRYPT_AT_REST; alternated over the rounds, medians reported); compared with
writing the same bytes to the same disk directly.

    python benchmarks/upload_throughput.py [--mib 1024] [--part-mib 16] [--parallel 6]
                                           [--rounds 3]

Results: benchmarks/results/upload_throughput.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))
from support.server import Server  # type: ignore[import-not-found]

RESULTS = Path(__file__).parent / "results"


def direct_write_s(folder: Path, size: int, block: bytes) -> float:
    """The baseline: the same bytes written to the same disk, part by part, fsynced."""
    started = time.monotonic()
    with open(folder / "direct.bin", "wb") as out:
        for _ in range(size // len(block)):
            out.write(block)
        out.flush()
        os.fsync(out.fileno())
    elapsed = time.monotonic() - started
    (folder / "direct.bin").unlink()
    return elapsed


def upload(
    home: Path, env: dict[str, str], size: int, block: bytes, parallel: int
) -> dict[str, float]:
    """One upload through a fresh server: seconds to send the parts, and with the complete."""
    part = len(block)
    server = Server(home, PRIMEVOD_UPLOAD_PART_SIZE=str(part), **env)
    try:
        auth = server.auth("uploader")
        client = httpx.Client(timeout=120, limits=httpx.Limits(max_connections=parallel))
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

        with ThreadPoolExecutor(parallel) as pool:
            parts = list(pool.map(send, range(1, session["max_parts"] + 1)))
        parts_s = time.monotonic() - started
        done = client.post(
            f"{server.base}/api/v1/uploads/complete", headers=auth, json={**ids, "parts": parts}
        )
        done.raise_for_status()
        total_s = time.monotonic() - started
        stored = home / "store" / "buckets" / "source" / session["key"]
        assert stored.stat().st_size >= size
    finally:
        server.stop()
    return {"parts_s": parts_s, "total_s": total_s}


CONFIGS = {"plain": {}, "encrypted": {"PRIMEVOD_ENCRYPT_AT_REST": "true"}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=1024)
    parser.add_argument("--part-mib", type=int, default=16)
    parser.add_argument("--parallel", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    size = args.mib * 2**20
    block = os.urandom(args.part_mib * 2**20)
    mb = size / 1e6
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in CONFIGS}
    direct: list[float] = []
    with tempfile.TemporaryDirectory(dir=str(Path.cwd())) as tmp:
        for round_ in range(args.rounds):
            direct.append(direct_write_s(Path(tmp), size, block))
            for name, env in CONFIGS.items():
                home = Path(tmp) / f"{name}-{round_}"
                runs[name].append(upload(home, env, size, block, args.parallel))
                shutil.rmtree(home)
    report: dict[str, object] = {
        "bytes": size,
        "part_size": len(block),
        "parallel": args.parallel,
        "rounds": args.rounds,
        "direct_mb_s": round(mb / statistics.median(direct), 1),
    }
    for name, rows in runs.items():
        parts_s = statistics.median(r["parts_s"] for r in rows)
        total_s = statistics.median(r["total_s"] for r in rows)
        report[name] = {
            "parts_mb_s": round(mb / parts_s, 1),
            "with_complete_mb_s": round(mb / total_s, 1),
            "rounds": [{k: round(v, 2) for k, v in r.items()} for r in rows],
        }
    plain, encrypted = report["plain"], report["encrypted"]
    report["encrypted_to_plain"] = {
        key: round(encrypted[key] / plain[key], 2)  # type: ignore[index]
        for key in ("parts_mb_s", "with_complete_mb_s")
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "upload_throughput.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
