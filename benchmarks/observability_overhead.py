"""What metrics and tracing cost: API latency and encode time with both on (tracing exported
over OTLP/HTTP to a local collector stand-in) against both off.

    python benchmarks/observability_overhead.py [--requests 1000] [--rounds 5] [--seconds 10]

API: the same server data served by `primevod serve` started alternately with
`metrics_enabled=false, tracing=off` and `metrics_enabled=true, tracing=otlp`; each round
sends `--requests` sequential keep-alive GETs of /api/v1/assets (a catalog read behind key
auth) and of one signed edge segment; medians and p95 per configuration.
Encode: `primevod process` of a `--seconds` 720p clip per configuration, alternated; the
FFmpeg wall time (`timings.encode`) and the step's total (`timings.process`).
Summaries are medians over the rounds (this shared 2-vCPU machine drifts between rounds by
more than the effect measured), next to the best round of each.
Instrumentation cost: what one API request's telemetry costs in CPU in-process (a server
span exported over OTLP/HTTP to a collector in another process, the counter and the latency
histogram), timed over many requests' worth, against the CPU of a request itself.
Results: benchmarks/results/observability_overhead.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from onepass_vs_separate import make_source  # type: ignore[import-not-found]
from support.server import Server  # type: ignore[import-not-found]

RESULTS = Path(__file__).parent / "results"
OFF = {"PRIMEVOD_METRICS_ENABLED": "false", "PRIMEVOD_TRACING": "off"}


class _Collector(BaseHTTPRequestHandler):
    """Accepts OTLP/HTTP exports and counts them (a stand-in for an OpenTelemetry Collector)."""

    received = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).received += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _timed(client: httpx.Client, url: str, n: int, headers: dict[str, str]) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        r = client.get(url, headers=headers)
        out.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200, r.text
    return out


def api_latency(home: Path, env: dict[str, str], n: int, asset: str) -> dict[str, float]:
    from primevod.adapters.signing.key_store import KeyStore
    from primevod.core.signing import Signer

    server = Server(home, **env, PRIMEVOD_CANARY_INTERVAL_MINUTES="0")
    try:
        headers = server.auth("viewer")
        key_id, private = KeyStore(home / "signing-keys").signing_key()
        from primevod.adapters.catalog.sql_catalog import SqlCatalog

        record = SqlCatalog(f"sqlite:///{home / 'catalog.db'}").get_asset(asset)
        package = home / "store" / "buckets" / (record.output_bucket or "destination")
        package = package / (record.output_prefix or "")
        segment = sorted(package.rglob("*.m4s"))[len(list(package.rglob("*.m4s"))) // 2]
        url = Signer(key_id, private).signed_url(
            f"{server.base}/vod/{asset}/{segment.relative_to(package).as_posix()}",
            int(time.time()) + 3600,
        )
        with httpx.Client(timeout=30) as client:
            _timed(client, f"{server.base}/api/v1/assets?limit=20", 100, headers)  # warm up
            api = _timed(client, f"{server.base}/api/v1/assets?limit=20", n, headers)
            _timed(client, url, 100, {})
            edge = _timed(client, url, n, {})
    finally:
        server.stop()
    return {
        "api_median_ms": round(statistics.median(api), 3),
        "api_p95_ms": round(_percentile(api, 0.95), 3),
        "edge_median_ms": round(statistics.median(edge), 3),
        "edge_p95_ms": round(_percentile(edge, 0.95), 3),
    }


def serve_collector() -> None:
    """`--collector`: the collector stand-in alone, in a process of its own (its port on
    stdout), so that its CPU is not counted in the in-process measurement."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    print(server.server_port, flush=True)
    server.serve_forever()


def instrumentation_cost(n: int) -> dict[str, float]:
    """CPU microseconds per API request of the span (with its OTLP export) and the metrics."""
    from primevod.observability import metrics, tracing

    collector = subprocess.Popen(
        [sys.executable, __file__, "--collector"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert collector.stdout is not None
        port = int(collector.stdout.readline())
        tracing.setup_tracing("otlp", f"http://127.0.0.1:{port}")

        def run(traced: bool, counted: bool) -> float:
            started = time.process_time()
            for i in range(n):
                if traced:
                    with tracing.span(
                        "GET /api/v1/assets", **{"http.method": "GET", "http.target": "/x"}
                    ) as span:
                        span.set_attribute("http.status_code", 200)
                    if i % 1000 == 999:  # export before the span queue (2048) overflows
                        tracing._state["provider"].force_flush()
                if counted:
                    metrics.inc("primevod_api_requests_total", **{"class": "2xx"})
                    metrics.observe("primevod_api_latency_seconds", 0.002)
            if traced:
                tracing._state["provider"].force_flush()
            return (time.process_time() - started) / n * 1e6

        run(True, True)  # warm up
        span_us = statistics.median(run(True, False) for _ in range(3))
        metrics_us = statistics.median(run(False, True) for _ in range(3))
        tracing.shutdown()
    finally:
        collector.kill()
    return {"span_with_export_us": round(span_us, 1), "metrics_us": round(metrics_us, 1)}


def request_cpu_us(home: Path, asset: str, n: int) -> float:
    """CPU of the server process per /api/v1/assets request, telemetry off."""
    server = Server(home, **OFF, PRIMEVOD_CANARY_INTERVAL_MINUTES="0")
    try:
        headers = server.auth("viewer")
        url = f"{server.base}/api/v1/assets?limit=20"
        with httpx.Client(timeout=30) as client:
            _timed(client, url, 100, headers)
            time.sleep(1.0)
            before = _cpu_seconds(server.proc.pid)
            _timed(client, url, n, headers)
            after = _cpu_seconds(server.proc.pid)
    finally:
        server.stop()
    return round((after - before) / n * 1e6, 1)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def encode(home: Path, env: dict[str, str], source: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-m", "primevod.cli.main", "process", str(source), "--json"],
        env={**os.environ, "PRIMEVOD_HOME": str(home), "PRIMEVOD_QUALITY_CHECK": "off", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    asset_id = json.loads(done.stdout)["asset_id"]
    from primevod.adapters.catalog.sql_catalog import SqlCatalog

    timings = SqlCatalog(f"sqlite:///{home / 'catalog.db'}").get_asset(asset_id).timings
    return {"encode_s": timings["encode"], "process_s": timings["process"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()

    collector = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    threading.Thread(target=collector.serve_forever, daemon=True).start()
    on = {
        "PRIMEVOD_METRICS_ENABLED": "true",
        "PRIMEVOD_TRACING": "otlp",
        "PRIMEVOD_OTLP_ENDPOINT": f"http://127.0.0.1:{collector.server_port}",
    }
    report: dict[str, object] = {"requests_per_round": args.requests, "rounds": args.rounds}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        source = work / "src720.mp4"
        name = make_source(source, args.seconds, 1280, 720)
        home = work / "home"
        env = {**os.environ, "PRIMEVOD_HOME": str(home), "PRIMEVOD_QUALITY_CHECK": "off"}
        first = subprocess.run(
            [sys.executable, "-m", "primevod.cli.main", "process", str(source), "--json"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        asset = json.loads(first.stdout)["asset_id"]
        latency: dict[str, list[dict[str, float]]] = {"off": [], "on": []}
        for _ in range(args.rounds):
            for label, cfg in (("off", OFF), ("on", on)):
                latency[label].append(api_latency(home, cfg, args.requests, asset))
        encodes: dict[str, list[dict[str, float]]] = {"off": [], "on": []}
        for i in range(args.rounds):
            for label, cfg in (("off", OFF), ("on", on)):
                encodes[label].append(encode(work / f"enc-{label}-{i}", cfg, source))
        per_request_cpu = request_cpu_us(home, asset, args.requests)
    cost = instrumentation_cost(20 * args.requests)
    cost["request_cpu_us"] = per_request_cpu
    cost["telemetry_share_of_request_cpu_pct"] = round(
        (cost["span_with_export_us"] + cost["metrics_us"]) / per_request_cpu * 100, 2
    )

    def pick(rows: list[dict[str, float]], key: str, how: Any) -> float:
        return round(how(r[key] for r in rows), 3)

    summaries: dict[str, dict[str, dict[str, float]]] = {}
    for label, how in (("median_of_rounds", statistics.median), ("best_of_rounds", min)):
        summary = summaries[label] = {}
        for rows, keys in (
            (latency, ("api_median_ms", "api_p95_ms", "edge_median_ms", "edge_p95_ms")),
            (encodes, ("encode_s", "process_s")),
        ):
            for key in keys:
                off, onv = pick(rows["off"], key, how), pick(rows["on"], key, how)
                pct = round((onv / off - 1) * 100, 2)
                summary[key] = {"off": off, "on": onv, "overhead_pct": pct}
    report.update(
        source=f"{name}, {args.seconds:g} s, 1280x720",
        summary_median_of_rounds=summaries["median_of_rounds"],
        summary_best_of_rounds=summaries["best_of_rounds"],
        instrumentation_cost=cost,
        latency_rounds=latency,
        encode_rounds=encodes,
        otlp_exports_received=_Collector.received,
    )
    collector.shutdown()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "observability_overhead.json").write_text(json.dumps(report, indent=2) + "\n")
    print(
        json.dumps(
            {
                "summary_median_of_rounds": summaries["median_of_rounds"],
                "summary_best_of_rounds": summaries["best_of_rounds"],
                "instrumentation_cost": cost,
                "otlp_exports_received": _Collector.received,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    if sys.argv[1:] == ["--collector"]:
        serve_collector()
    else:
        main()
