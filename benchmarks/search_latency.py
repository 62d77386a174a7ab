"""Search latency over a large library: `--assets` assets written through the catalog (so the
index is the one the product keeps), then a mix of queries timed through the catalog and
through `GET /api/v1/search` of a real server; p50 and p95 per kind of query.

    python benchmarks/search_latency.py [--assets 100000] [--queries 300] [--postgres URL|auto]

Titles, descriptions and tags are drawn from a vocabulary of 3,000 made-up words with a
Zipf-like frequency (a few words are in many titles, most in few), so that common prefixes
match tens of thousands of assets, as in a real library. Kinds of query: a common word's
2-letter prefix (the worst case: the box's first keystrokes), a 4-letter prefix, two words,
a phrase, a word with a status filter, and no words with a duration filter.
Results: benchmarks/results/search_latency.json (or search_latency_postgres.json).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from support.server import Server  # type: ignore[import-not-found]

from primevod.adapters.catalog.sql_catalog import SqlCatalog
from primevod.core.assets import Asset, AssetStatus
from primevod.core.search import Filters, parse

RESULTS = Path(__file__).parent / "results"
SYLLABLES = ["ka", "lo", "mi", "ra", "to", "ne", "su", "vi", "de", "po", "la", "ri", "go", "ba"]


def vocabulary(rng: random.Random, size: int = 3000) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def pick(rng: random.Random, words: list[str], n: int) -> list[str]:
    # Zipf-like: index ~ exponential, so the first words are common and the tail rare
    return [words[min(len(words) - 1, int(rng.expovariate(1 / 150)))] for _ in range(n)]


def fill(catalog: SqlCatalog, n: int, words: list[str], rng: random.Random) -> float:
    started = time.monotonic()
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    statuses = [AssetStatus.READY] * 8 + [AssetStatus.FAILED, AssetStatus.PROCESSING]
    for i in range(n):
        catalog.create_asset(
            Asset(
                id=f"a{i:07d}",
                source_bucket="source",
                source_key=f"a{i:07d}/in.mp4",
                title=" ".join(pick(rng, words, rng.randint(2, 5))).capitalize(),
                description=" ".join(pick(rng, words, rng.randint(8, 30))),
                tags=pick(rng, words, rng.randint(1, 4)),
                status=rng.choice(statuses),
                duration=round(rng.uniform(5, 3600), 1),
                created_at=t0 + timedelta(seconds=i * 30),
            ),
            event_type=None,
        )
    return time.monotonic() - started


def queries(rng: random.Random, words: list[str], n: int) -> list[tuple[str, str, Filters]]:
    common = words[:40]
    kinds = [
        ("prefix-2", lambda: (rng.choice(common)[:2], Filters())),
        ("prefix-4", lambda: (rng.choice(words[:600])[:4], Filters())),
        ("two-words", lambda: (" ".join(pick(rng, words, 2)), Filters())),
        ("phrase", lambda: ('"' + " ".join(pick(rng, words, 2)) + '"', Filters())),
        ("word+status", lambda: (pick(rng, words, 1)[0], Filters(status="ready"))),
        ("filter-only", lambda: ("", Filters(min_duration=600, max_duration=900))),
    ]
    out = []
    for i in range(n):
        kind, make = kinds[i % len(kinds)]
        q, filters = make()
        out.append((kind, q, filters))
    return out


def _summary(times: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    out = {}
    for kind, values in sorted(times.items()):
        ordered = sorted(values)
        out[kind] = {
            "p50_ms": round(statistics.median(ordered), 2),
            "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 2),
        }
    every = sorted(v for values in times.values() for v in values)
    out["all"] = {
        "p50_ms": round(statistics.median(every), 2),
        "p95_ms": round(every[int(0.95 * len(every))], 2),
    }
    return out


def time_catalog(catalog: SqlCatalog, mix: list[tuple[str, str, Filters]]) -> dict:
    times: dict[str, list[float]] = {}
    for kind, q, filters in mix:
        started = time.perf_counter()
        catalog.search_assets(parse(q), filters, limit=20)
        times.setdefault(kind, []).append((time.perf_counter() - started) * 1000)
    return _summary(times)


def time_api(server: Server, mix: list[tuple[str, str, Filters]]) -> dict:
    times: dict[str, list[float]] = {}
    headers = server.auth("viewer")
    with httpx.Client(timeout=30) as client:
        for kind, q, filters in mix:
            params: dict[str, object] = {"q": q, "limit": 20}
            params.update({k: v for k, v in vars(filters).items() if v is not None})
            started = time.perf_counter()
            response = client.get(f"{server.base}/api/v1/search", params=params, headers=headers)
            times.setdefault(kind, []).append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
    return _summary(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument(
        "--postgres",
        help="a PostgreSQL URL (an empty database) instead, or `auto`: a throwaway cluster",
    )
    args = parser.parse_args()
    if args.postgres == "auto":
        from support.postgres import postgres_cluster  # type: ignore[import-not-found]

        with postgres_cluster() as new_database:
            args.postgres = new_database()
            run(args)
        return
    run(args)


def run(args: argparse.Namespace) -> None:
    rng = random.Random(7)
    words = vocabulary(rng)
    mix = queries(rng, words, args.queries)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        url = args.postgres or f"sqlite:///{home / 'catalog.db'}"
        catalog = SqlCatalog(url)
        fill_s = fill(catalog, args.assets, words, rng)
        if args.postgres:  # the planner's statistics, as autovacuum's analyze would make them
            from sqlalchemy import text

            with catalog.engine.begin() as conn:
                conn.execute(text("ANALYZE asset_search"))
        time_catalog(catalog, mix[:30])  # warm the caches
        in_process = time_catalog(catalog, mix)
        env = {"PRIMEVOD_DATABASE_URL": args.postgres} if args.postgres else {}
        server = Server(
            home, PRIMEVOD_RATE_LIMIT_PER_IP="off", PRIMEVOD_RATE_LIMIT_PER_KEY="off", **env
        )
        try:
            time_api(server, mix[:30])
            api = time_api(server, mix)
        finally:
            server.stop()
    report = {
        "engine": "postgresql" if args.postgres else "sqlite",
        "assets": args.assets,
        "queries": args.queries,
        "fill_seconds": round(fill_s, 1),
        "catalog": in_process,
        "api": api,
    }
    RESULTS.mkdir(exist_ok=True)
    name = "search_latency_postgres.json" if args.postgres else "search_latency.json"
    (RESULTS / name).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
