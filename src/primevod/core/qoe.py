"""Playback quality of experience: the beacon a player sends (a batch of events of one
playback session) and the rows they are stored as. Validation is strict and bounded, so a
malformed or oversized beacon is refused whole and nothing half-read is stored.

Events, with the one measure each carries in `value`:
    startup   ms from the play request to the first frame
    rebuffer  ms the picture stalled (sent when it resumes)
    switch    the new rendition: `bitrate`, `height`
    error     `fatal`, `code` (the player's error name)
    heartbeat cumulative watched seconds so far, `dropped_frames` so far
    end       the same, at page hide or the end of the title
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_BEACON_BYTES = 64 * 1024
MAX_EVENTS = 100
EVENT_TYPES = ("startup", "rebuffer", "switch", "error", "heartbeat", "end")
PLAYERS = ("hls.js", "dash.js", "native")
SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MAX_SECONDS = 7 * 24 * 3600.0  # a session longer than a week is not a session


class BeaconEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["startup", "rebuffer", "switch", "error", "heartbeat", "end"]
    t: float = Field(ge=0, le=MAX_SECONDS * 1000, description="ms since the session began")
    value: float | None = Field(None, ge=0, le=MAX_SECONDS * 1000)
    bitrate: int | None = Field(None, ge=0, le=10**9)
    height: int | None = Field(None, ge=0, le=10_000)
    dropped_frames: int | None = Field(None, ge=0, le=10**9)
    fatal: bool | None = None
    code: str | None = Field(None, max_length=64)


class Beacon(BaseModel):
    """One POST /api/v1/beacons body: events of one session of one asset, with the signed
    playback URL the player was given (proof that it may report on this asset)."""

    model_config = ConfigDict(extra="forbid")

    asset_id: str = Field(min_length=1, max_length=36)
    session_id: str = Field(pattern=SESSION_ID.pattern)
    player: Literal["hls.js", "dash.js", "native"]
    playback: str = Field(min_length=1, max_length=8192, description="the signed playback URL")
    events: list[BeaconEvent] = Field(min_length=1, max_length=MAX_EVENTS)


def rows(beacon: Beacon, received_at: float) -> list[tuple[object, ...]]:
    """The stored rows: one per event, in COLUMNS order."""
    return [
        (
            received_at,
            beacon.asset_id,
            beacon.session_id,
            beacon.player,
            e.type,
            e.t,
            e.value,
            e.bitrate,
            e.height,
            e.dropped_frames,
            e.fatal,
            e.code,
        )
        for e in beacon.events
    ]


COLUMNS = (
    "received_at",
    "asset_id",
    "session_id",
    "player",
    "type",
    "t_ms",
    "value",
    "bitrate",
    "height",
    "dropped_frames",
    "fatal",
    "code",
)


def quantile_cont(values: list[float], q: float) -> float | None:
    """The q-quantile with linear interpolation (DuckDB's quantile_cont, so the dashboard and
    the analytics views agree); None without values."""
    if not values:
        return None
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _ratio(stalled_s: float, watched_s: float) -> float:
    return stalled_s / (watched_s + stalled_s) if watched_s + stalled_s > 0 else 0.0


def _asset_row(asset_id: str, sessions: list[dict[str, Any]]) -> dict[str, Any]:
    startups = [s["startup_ms"] for s in sessions if s["startup_ms"] is not None]
    watched = sum(s["watch_seconds"] or 0.0 for s in sessions)
    stalled = sum(s["rebuffer_ms"] or 0.0 for s in sessions) / 1000
    return {
        "asset_id": asset_id,
        "plays": len(startups),
        "watch_seconds": watched,
        "startup_p95_ms": quantile_cont(startups, 0.95),
        "rebuffer_ratio": _ratio(stalled, watched),
        "errors": sum(s["errors"] for s in sessions),
    }


def summarize(sessions: list[dict[str, Any]], worst: int = 5) -> dict[str, Any]:
    """The viewers' window for the dashboard, from per-session rows (asset_id, startup_ms,
    watch_seconds, rebuffer_ms, errors): plays, watch time, startup p95, rebuffer ratio,
    errors, and the assets viewers fared worst on (most stalling, then slowest start, then
    most errors), the same definitions as the `asset_daily` view."""
    by_asset: dict[str, list[dict[str, Any]]] = {}
    for session in sessions:
        by_asset.setdefault(session["asset_id"], []).append(session)
    rows = [_asset_row(asset_id, group) for asset_id, group in by_asset.items()]
    total = _asset_row("*", sessions)
    rows.sort(key=lambda r: (-r["rebuffer_ratio"], -(r["startup_p95_ms"] or 0), -r["errors"]))
    return {
        "sessions": len(sessions),
        "plays": total["plays"],
        "watch_seconds": total["watch_seconds"],
        "startup_p95_ms": total["startup_p95_ms"],
        "rebuffer_ratio": total["rebuffer_ratio"],
        "errors": total["errors"],
        "worst_assets": rows[:worst],
    }
