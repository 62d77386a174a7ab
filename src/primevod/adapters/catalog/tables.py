"""Table definitions. Each change to them comes with an Alembic revision in migrations/."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class AssetRow(Base):
    __tablename__ = "assets"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    title: Mapped[str | None] = mapped_column(String(500))
    checksum: Mapped[str | None] = mapped_column(String(64))
    execution_id: Mapped[str | None] = mapped_column(String(80))
    error_code: Mapped[str | None] = mapped_column(String(64))
    doc: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        Index("ix_assets_created", "created_at", "id"),
        Index("ix_assets_status_created", "status", "created_at", "id"),
        Index("ix_assets_checksum", "checksum"),
    )


class ExecutionRow(Base):
    __tablename__ = "executions"
    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    asset_id: Mapped[str] = mapped_column(String(36), index=True)
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class StepRow(Base):
    __tablename__ = "steps"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    execution_id: Mapped[str] = mapped_column(
        String(80), ForeignKey("executions.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(64))
    attempt: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    duration: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)


class EventRow(Base):
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(String(64))
    asset_id: Mapped[str | None] = mapped_column(String(36), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    dispatched: Mapped[bool] = mapped_column(Boolean, default=False, index=True)


class SubscriptionRow(Base):
    __tablename__ = "subscriptions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # webhook | queue
    name: Mapped[str | None] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(2000))
    secret: Mapped[str | None] = mapped_column(String(200))
    event_types: Mapped[list[str]] = mapped_column(JSON)
    pattern: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # an event pattern (rules)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DeliveryRow(Base):
    """A webhook delivery (pending, delivered or dead) or a queue message (ready, dead)."""

    __tablename__ = "deliveries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subscription_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("subscriptions.id", ondelete="CASCADE")
    )
    event_id: Mapped[int] = mapped_column(Integer, ForeignKey("events.id"))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    receipt: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        Index("ix_deliveries_due", "status", "next_attempt_at"),
        Index("ix_deliveries_subscription", "subscription_id", "status", "next_attempt_at"),
    )


class ApiKeyRow(Base):
    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)  # public part of the key
    hash: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    policy: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # None: the role's policy


class UploadRow(Base):
    __tablename__ = "uploads"
    upload_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    key: Mapped[str] = mapped_column(String(1024))
    asset_id: Mapped[str] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(16))
    doc: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    __table_args__ = (Index("ix_uploads_status_expires", "status", "expires_at"),)


class MetricPointRow(Base):
    """One series' value in one minute (counts add up; gauges keep the latest sample)."""

    __tablename__ = "metric_points"
    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    labels: Mapped[str] = mapped_column(String(400), primary_key=True)
    minute: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    __table_args__ = (Index("ix_metric_points_minute", "minute"),)


class MetricTotalRow(Base):
    """Running totals of counters since the installation began (what /metrics exposes)."""

    __tablename__ = "metric_totals"
    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    labels: Mapped[str] = mapped_column(String(400), primary_key=True)
    value: Mapped[float] = mapped_column(Float)


class AlarmStateRow(Base):
    __tablename__ = "alarm_states"
    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    state: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str] = mapped_column(Text)
    values: Mapped[list[Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CanaryRunRow(Base):
    __tablename__ = "canary_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    url: Mapped[str] = mapped_column(String(2000))
    asset_id: Mapped[str | None] = mapped_column(String(36))
    passed: Mapped[bool] = mapped_column(Boolean)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class WorkerRow(Base):
    __tablename__ = "workers"
    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))
    version: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    lost_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    taken_over_by: Mapped[str | None] = mapped_column(String(120))
    recovered: Mapped[list[str] | None] = mapped_column(JSON)
    __table_args__ = (Index("ix_workers_state_seen", "state", "last_seen"),)


class CostRow(Base):
    """One job's cost: the estimate before its encode, the actual after (USD at the
    configured target's prices; what they were made of in `estimate` and `actual`)."""

    __tablename__ = "costs"
    execution_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    asset_id: Mapped[str] = mapped_column(String(36), index=True)
    target: Mapped[str] = mapped_column(String(8))
    month: Mapped[str] = mapped_column(String(7))
    state: Mapped[str] = mapped_column(String(12))  # running, done, failed, refused
    estimate_usd: Mapped[float] = mapped_column(Float)
    actual_usd: Mapped[float | None] = mapped_column(Float)
    override: Mapped[bool] = mapped_column(Boolean, default=False)
    estimate: Mapped[dict[str, Any]] = mapped_column(JSON)
    actual: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        Index("ix_costs_month_state", "month", "state"),
        Index("ix_costs_created", "created_at"),
    )


class ContentKeyRow(Base):
    """An asset's content key for encrypted HLS: kept here, never in the destination bucket.
    `sealed` is the key as sql_content_keys stores it (a versioned text form, so a sealed
    form can replace the plain one without a schema change)."""

    __tablename__ = "content_keys"
    asset_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    method: Mapped[str] = mapped_column(String(16))
    sealed: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditRecordRow(Base):
    """One audit record in the hash chain (core/audit.py): seq is contiguous from 1, hash =
    SHA-256(prev_hash || canonical record). Never updated; pruned by whole digested periods."""

    __tablename__ = "audit_records"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    principal: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(128))
    route: Mapped[str] = mapped_column(String(200))
    resource: Mapped[str] = mapped_column(String(300))
    outcome: Mapped[str] = mapped_column(String(16))
    status: Mapped[int] = mapped_column(Integer)
    request_id: Mapped[str] = mapped_column(String(128))
    origin: Mapped[str] = mapped_column(String(8))
    source_ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(256))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    __table_args__ = (
        Index("ix_audit_records_time", "time"),
        Index("ix_audit_records_principal", "principal", "seq"),
        Index("ix_audit_records_action", "action", "seq"),
    )


class AuditDigestRow(Base):
    """A signed digest of a period's audit records (kept for good: a few rows an hour)."""

    __tablename__ = "audit_digests"
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    period_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    period_end: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    first_seq: Mapped[int] = mapped_column(Integer)
    last_seq: Mapped[int] = mapped_column(Integer)
    start_hash: Mapped[str] = mapped_column(String(64))
    last_hash: Mapped[str] = mapped_column(String(64))
    prev_digest_hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(32))
    signature: Mapped[str] = mapped_column(String(128))


class AuditHeadRow(Base):
    """The chain head, one row: every append and digest locks it first (a row lock on
    PostgreSQL, the write lock on SQLite), so concurrent writers cannot fork the chain."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    digest_number: Mapped[int] = mapped_column(Integer)


class BeaconEventRow(Base):
    """One playback event of a player's beacon (core/qoe.py), appended, never changed."""

    __tablename__ = "beacon_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    received_at: Mapped[float] = mapped_column(Float)  # epoch seconds at the server
    asset_id: Mapped[str] = mapped_column(String(36))
    session_id: Mapped[str] = mapped_column(String(64))
    player: Mapped[str] = mapped_column(String(16))
    type: Mapped[str] = mapped_column(String(16))
    t_ms: Mapped[float] = mapped_column(Float)
    value: Mapped[float | None] = mapped_column(Float)
    bitrate: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    dropped_frames: Mapped[int | None] = mapped_column(Integer)
    fatal: Mapped[bool | None] = mapped_column(Boolean)
    code: Mapped[str | None] = mapped_column(String(64))
    __table_args__ = (
        Index("ix_beacon_events_received", "received_at"),
        Index("ix_beacon_events_asset", "asset_id", "received_at"),
    )


class ConsoleSessionRow(Base):
    """A web console session or a one-time sign-in link (core/console_sessions.py): only the
    SHA-256 of its token is kept, tied to one API key until it expires."""

    __tablename__ = "console_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # session | link
    key_id: Mapped[str] = mapped_column(String(16))
    demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # a used link
    __table_args__ = (
        Index("ix_console_sessions_key", "key_id"),
        Index("ix_console_sessions_expires", "expires_at"),
    )
