"""Beacon ingest: how many player beacons one `primevod serve` process accepts per second on
loopback, each a batch of four events signed for its asset, with every event stored.

    python benchmarks/beacon_ingest.py [--seconds 20] [--connections 8] [--rounds 3]

`--connections` keep-alive connections from one asyncio client (raw HTTP/1.1: a Python HTTP
client library would cost more CPU per request than the server, and both share the
machine's two cores) each send the beacon again as soon as it is answered. Each round counts
the 202s in `--seconds`, then waits for the writer and checks that the table holds every
accepted event. Results: benchmarks/results/beacon_ingest.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from support.server import Server  # type: ignore[import-not-found]

RESULTS = Path(__file__).parent / "results"
EVENTS = [
    {"type": "startup", "t": 0, "value": 420.5},
    {"type": "switch", "t": 900, "bitrate": 800000, "height": 360},
    {"type": "rebuffer", "t": 3000, "value": 250},
    {"type": "heartbeat", "t": 10000, "value": 9.6, "dropped_frames": 2},
]


async def _connection(port: int, request: bytes, deadline: float, counts: Counter[int]) -> None:
    """One keep-alive connection sending the beacon again as soon as it is answered."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    while time.monotonic() < deadline:
        writer.write(request)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            (int(line.split(b":")[1]) for line in head.split(b"\r\n")
             if line.lower().startswith(b"content-length:")),
            0,
        )  # fmt: skip
        if length:
            await reader.readexactly(length)
        counts[int(head.split(b" ", 2)[1])] += 1
    writer.close()


async def _load(port: int, body: bytes, seconds: float, connections: int) -> Counter[int]:
    request = (
        f"POST /api/v1/beacons HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: text/plain\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    counts: Counter[int] = Counter()
    deadline = time.monotonic() + seconds
    await asyncio.gather(
        *(_connection(port, request, deadline, counts) for _ in range(connections))
    )
    return counts


def one_round(server: Server, body: bytes, seconds: float, connections: int) -> dict[str, object]:
    before = server.catalog.count_beacon_events()
    counts = asyncio.run(_load(server.port, body, seconds, connections))
    accepted = counts.get(202, 0)
    deadline = time.monotonic() + 30
    expected = before + accepted * len(EVENTS)
    while server.catalog.count_beacon_events() < expected and time.monotonic() < deadline:
        time.sleep(0.2)
    stored = server.catalog.count_beacon_events() - before
    return {
        "beacons_per_s": round(accepted / seconds, 1),
        "accepted": accepted,
        "other_statuses": {str(k): v for k, v in counts.items() if k != 202},
        "events_stored": stored,
        "all_stored": stored == accepted * len(EVENTS),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        env = {**os.environ, "PRIMEVOD_HOME": str(home), "PRIMEVOD_PRESET": "ultrafast"}
        run = [sys.executable, "-m", "primevod.cli.main"]
        clip = Path(tmp) / "clip.mp4"
        subprocess.run([*run, "sample", str(clip), "--seconds", "2", "--size", "320x180"],
                       env=env, check=True, capture_output=True)  # fmt: skip
        done = subprocess.run([*run, "process", str(clip), "--json"],
                              env=env, check=True, capture_output=True, text=True)  # fmt: skip
        asset_id = json.loads(done.stdout)["asset_id"]
        server = Server(
            home,
            PRIMEVOD_RATE_LIMIT_PER_IP="off",
            PRIMEVOD_RATE_LIMIT_PER_KEY="off",
            PRIMEVOD_RATE_LIMIT_BEACONS="off",
            PRIMEVOD_CANARY_INTERVAL_MINUTES="0",
        )
        try:
            links = httpx.get(
                f"{server.base}/api/v1/assets/{asset_id}/playback", headers=server.auth("viewer")
            ).json()
            beacon = {
                "asset_id": asset_id,
                "session_id": "bench-session-0001",
                "player": "hls.js",
                "playback": links["hls_url"],
                "events": EVENTS,
            }
            body = json.dumps(beacon).encode()
            rounds = [
                one_round(server, body, args.seconds, args.connections) for _ in range(args.rounds)
            ]
        finally:
            server.stop()
    report = {
        "seconds_per_round": args.seconds,
        "connections": args.connections,
        "events_per_beacon": len(EVENTS),
        "beacon_bytes": len(body),
        "median_beacons_per_s": statistics.median(r["beacons_per_s"] for r in rounds),
        "rounds": rounds,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "beacon_ingest.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
