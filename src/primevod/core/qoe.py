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
from typing import Literal

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
