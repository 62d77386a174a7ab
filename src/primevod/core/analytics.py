"""SQL over what the product records (Glue and Athena's role, on DuckDB): the tables the export
writes as Parquet, one folder per day, and the views shipped over them. Engine-free text: the
adapter (adapters/analytics/duck_lake.py) runs it.

Tables (all with `day`, the UTC day the row happened, as the partition):
    beacons     one row per player event (core/qoe.py)
    access_log  one row per edge request (api/edge.py: ts, ip, method, asset, path, status...)
    events      the asset event log (asset.ready, budget.exceeded...)
    executions  one row per workflow execution, with its asset's media length
Views:
    sessions           one row per playback session: watch time, startup, rebuffering, errors
    asset_daily        per asset and day: plays, watch seconds, egress bytes, startup p50/p95,
                       rebuffer ratio, errors
    player_errors      per day, player and error code: errors, fatal ones, sessions hit
    encode_daily       per day: executions, succeeded, failed, worker and media minutes
"""

from __future__ import annotations

from typing import Final

# column -> DuckDB type, in the order the export writes them
TABLES: Final[dict[str, dict[str, str]]] = {
    "beacons": {
        "received_at": "DOUBLE",
        "asset_id": "VARCHAR",
        "session_id": "VARCHAR",
        "player": "VARCHAR",
        "type": "VARCHAR",
        "t_ms": "DOUBLE",
        "value": "DOUBLE",
        "bitrate": "BIGINT",
        "height": "INTEGER",
        "dropped_frames": "BIGINT",
        "fatal": "BOOLEAN",
        "code": "VARCHAR",
    },
    "access_log": {
        "ts": "DOUBLE",
        "ip": "VARCHAR",
        "method": "VARCHAR",
        "asset": "VARCHAR",
        "path": "VARCHAR",
        "status": "INTEGER",
        "bytes": "BIGINT",
        "ms": "DOUBLE",
        "cache": "VARCHAR",
        "reason": "VARCHAR",
        "agent": "VARCHAR",
    },
    "events": {
        "id": "BIGINT",
        "type": "VARCHAR",
        "asset_id": "VARCHAR",
        "created_at": "TIMESTAMPTZ",
        "data": "JSON",
    },
    "executions": {
        "id": "VARCHAR",
        "asset_id": "VARCHAR",
        "status": "VARCHAR",
        "error_code": "VARCHAR",
        "started_at": "TIMESTAMPTZ",
        "finished_at": "TIMESTAMPTZ",
        "media_seconds": "DOUBLE",
    },
}

# the epoch-seconds (or timestamp) column each table's day comes from
DAY_OF: Final[dict[str, str]] = {
    "beacons": "CAST(to_timestamp(received_at) AT TIME ZONE 'UTC' AS DATE)",
    "access_log": "CAST(to_timestamp(ts) AT TIME ZONE 'UTC' AS DATE)",
    "events": "CAST(created_at AT TIME ZONE 'UTC' AS DATE)",
    "executions": "CAST(started_at AT TIME ZONE 'UTC' AS DATE)",
}

VIEWS: Final[dict[str, str]] = {
    "sessions": """
        SELECT asset_id, day, session_id, any_value(player) AS player,
            max(value) FILTER (WHERE type IN ('heartbeat', 'end')) AS watch_seconds,
            min(value) FILTER (WHERE type = 'startup') AS startup_ms,
            coalesce(sum(value) FILTER (WHERE type = 'rebuffer'), 0) / 1000.0
                AS rebuffer_seconds,
            count(*) FILTER (WHERE type = 'rebuffer') AS rebuffers,
            count(*) FILTER (WHERE type = 'switch') AS switches,
            count(*) FILTER (WHERE type = 'error') AS errors,
            max(dropped_frames) AS dropped_frames
        FROM beacons GROUP BY asset_id, day, session_id""",
    "asset_daily": """
        WITH viewing AS (
            SELECT asset_id, day,
                count(*) FILTER (WHERE startup_ms IS NOT NULL) AS plays,
                coalesce(sum(watch_seconds), 0) AS watch_seconds,
                quantile_cont(startup_ms, 0.5) AS startup_p50_ms,
                quantile_cont(startup_ms, 0.95) AS startup_p95_ms,
                sum(rebuffer_seconds) AS rebuffer_seconds,
                sum(errors) AS errors
            FROM sessions GROUP BY asset_id, day),
        egress AS (
            SELECT asset AS asset_id, day, sum(bytes) AS egress_bytes
            FROM access_log WHERE asset IS NOT NULL GROUP BY asset, day)
        SELECT coalesce(v.asset_id, e.asset_id) AS asset_id, coalesce(v.day, e.day) AS day,
            coalesce(v.plays, 0) AS plays,
            coalesce(v.watch_seconds, 0) AS watch_seconds,
            coalesce(e.egress_bytes, 0) AS egress_bytes,
            v.startup_p50_ms, v.startup_p95_ms,
            CASE WHEN coalesce(v.watch_seconds, 0) + coalesce(v.rebuffer_seconds, 0) > 0
                THEN v.rebuffer_seconds / (v.watch_seconds + v.rebuffer_seconds)
                ELSE 0 END AS rebuffer_ratio,
            coalesce(v.errors, 0) AS errors
        FROM viewing v FULL OUTER JOIN egress e ON v.asset_id = e.asset_id AND v.day = e.day""",
    "player_errors": """
        SELECT day, player, code, count(*) AS errors,
            count(*) FILTER (WHERE fatal) AS fatal, count(DISTINCT session_id) AS sessions
        FROM beacons WHERE type = 'error' GROUP BY day, player, code""",
    "encode_daily": """
        SELECT day, count(*) AS executions,
            count(*) FILTER (WHERE status = 'succeeded') AS succeeded,
            count(*) FILTER (WHERE status = 'failed') AS failed,
            coalesce(sum(epoch(finished_at) - epoch(started_at)), 0) / 60 AS worker_minutes,
            coalesce(sum(media_seconds) FILTER (WHERE status = 'succeeded'), 0) / 60
                AS media_minutes
        FROM executions GROUP BY day""",
}
