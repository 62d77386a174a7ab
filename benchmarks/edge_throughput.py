"""The signed edge serving 1 MiB segments vs nginx serving the same files statically:
64 concurrent clients on loopback, wrk as the load generator.

    python benchmarks/edge_throughput.py [--seconds 10] [--connections 64] [--workers 2]

Needs `wrk` and `nginx` (Debian packages wrk, nginx-light). Every edge request carries the
signed cookies a player sends; the verifier's cache makes all but the first check a lookup.
Results: benchmarks/results/edge_throughput.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from primevod import wiring
from primevod.adapters.signing.key_store import KeyStore
from primevod.core.assets import Asset, AssetStatus
from primevod.core.signing import Signer
from primevod.settings import Settings

RESULTS = Path(__file__).parent / "results"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait(url: str) -> None:
    for _ in range(100):
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def wrk(url: str, seconds: int, connections: int, cookie: str | None = None) -> dict[str, float]:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if cookie:
        cmd[1:1] = ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {
        "requests_per_s": rps,
        "p99_ms": round(float(p99.group(1)) * scale, 2),
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    for tool in ("wrk", "nginx"):
        if not shutil.which(tool) and not Path(f"/usr/sbin/{tool}").exists():
            sys.exit(f"{tool} is needed (apt-get install wrk nginx-light)")
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        rt = wiring.build(Settings(home=home))
        asset_id = str(uuid.uuid4())
        prefix = f"assets/{asset_id}/1/"
        segment = os.urandom(1024 * 1024)
        for i in range(1, 21):
            rt.store.put(rt.settings.destination_bucket, f"{prefix}seg-{i:03d}.m4s", segment)
        rt.catalog.create_asset(
            Asset(
                id=asset_id,
                status=AssetStatus.READY,
                source_bucket="source",
                source_key="x",
                output_bucket=rt.settings.destination_bucket,
                output_prefix=prefix,
                hls_path=prefix + "master.m3u8",
            )
        )
        store = KeyStore(home / "signing-keys")
        store.create()
        key_id, private = store.signing_key()

        port = free_port()
        env = {**os.environ, "PRIMEVOD_HOME": str(home)}
        edge = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "primevod.cli.main",
                "edge",
                "--port",
                str(port),
                "--workers",
                str(args.workers),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}/vod/{asset_id}/"
        cookies = Signer(key_id, private).signed_cookies(base + "*", int(time.time()) + 3600)
        cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
        nginx_port = free_port()
        root = home / "store" / "buckets" / "destination"
        conf = Path(tmp) / "nginx.conf"
        conf.write_text(f"""user root;
worker_processes {args.workers};
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  sendfile on;
  server {{ listen 127.0.0.1:{nginx_port}; root {root}; }}
}}
""")
        nginx = subprocess.Popen(["nginx", "-c", str(conf), "-g", "daemon off;"])
        try:
            wait(f"http://127.0.0.1:{port}/healthz")
            wait(f"http://127.0.0.1:{nginx_port}/")
            check = httpx.get(base + "seg-001.m4s", headers={"Cookie": cookie})
            assert check.status_code == 200 and len(check.content) == len(segment)
            assert httpx.get(base + "seg-001.m4s").status_code == 403
            edge_result = wrk(base + "seg-001.m4s", args.seconds, args.connections, cookie)
            nginx_result = wrk(
                f"http://127.0.0.1:{nginx_port}/{prefix}seg-001.m4s", args.seconds, args.connections
            )
        finally:
            edge.terminate()
            nginx.terminate()
            edge.wait(timeout=20)
            nginx.wait(timeout=20)
        rt.catalog.engine.dispose()
    report = {
        "segment_bytes": len(segment),
        "connections": args.connections,
        "seconds": args.seconds,
        "workers": args.workers,
        "edge": edge_result,
        "nginx": nginx_result,
        "ratio": round(edge_result["requests_per_s"] / nginx_result["requests_per_s"], 3),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "edge_throughput.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
