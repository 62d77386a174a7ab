"""Effective configuration: defaults, then `primevod.toml`, then `PRIMEVOD_*` environment
variables (highest). Everything of the embedded default lives under `home`."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from primevod.core.alarms import AlarmSpec
from primevod.core.workers import new_worker_id

DEV_BUDGET_USD = 20.0  # the seed's AWS Budget, also the dev profile's


# the dev profile's retention: the shortest periods, for settings not given explicitly
DEV_RETENTION: dict[str, float] = {
    "metrics_retention_hours": 24.0,
    "events_retention_days": 1.0,
    "executions_retention_days": 1.0,
    "canary_retention_days": 1.0,
    "access_log_retention_days": 1.0,
    "log_retention_days": 1.0,
}


def _default_workers() -> int:
    return max(1, (os.cpu_count() or 2) // 2)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PRIMEVOD_", extra="ignore")

    home: Path = Field(Path("primevod-data"), description="data folder of the embedded default")
    profile: Literal["default", "dev"] = Field(
        "default", description="dev: sources of 30 s at most (test clips), a $20 budget"
    )
    database_url: str | None = Field(None, description="catalog; default SQLite in home")
    dbos_database_url: str | None = Field(None, description="workflow state; default SQLite")
    store: Literal["local", "s3"] = "local"
    source_bucket: str = "source"
    destination_bucket: str = "destination"
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    s3_kms_key_id: str | None = Field(
        None, description="S3 store: SSE-KMS with this KMS key (id, ARN or alias) on writes"
    )
    encrypt_at_rest: bool = Field(
        False,
        description="envelope-encrypt the source bucket (uploads, inbox drops) and the secrets "
        "at rest (signing private keys, upload signing secret, webhook secrets)",
    )
    master_key_file: Path | None = Field(
        None, description="the master key file (0600); unset: home/master.key, made on first use"
    )
    master_key: SecretStr | None = Field(
        None, description="a master key as base64 of 32 bytes instead of the file (no rotation)"
    )
    encode_concurrency: int = Field(default_factory=_default_workers, ge=1)
    chunk_seconds: float | None = Field(
        None,
        ge=0,
        description="encode titles in chunks of this length across workers; unset: 60 s "
        "chunks from 5 minutes of source on, 0: never",
    )
    chunk_concurrency: int | None = Field(
        None, ge=1, description="chunk encodes a worker runs at once; unset: encode_concurrency"
    )
    worker_id: str = Field(
        default_factory=lambda: new_worker_id(socket.gethostname(), os.getpid()),
        description="this process's worker (and DBOS executor) id; unique per process",
    )
    worker_dead_after_seconds: float = Field(
        30.0, gt=0, description="a worker whose heartbeat is older than this is dead"
    )
    db_pool_size: int = Field(5, ge=1, description="catalog connections kept per process")
    db_max_overflow: int = Field(10, ge=0, description="extra catalog connections at peaks")
    ladder: str = "default"
    codecs: str = Field(
        "h264,av1",
        description="codec families every title is encoded to, comma-separated: h264 "
        "(always included), hevc, av1; `--codecs` overrides it per call",
    )
    segment_seconds: float | None = None
    preset: str = "veryfast"
    cost_target: Literal["local", "aws"] = Field(
        "local",
        description="what the budget counts: local (CPU-hours and GB-months at the two rates "
        "below) or aws (MediaConvert, S3 and CloudFront at the price file's prices)",
    )
    budget_monthly_usd: float | None = Field(
        None,
        ge=0,
        description="jobs whose estimate takes the month past it are refused "
        "(budget.exceeded); a budget.threshold event at 80 %; unset: no budget (dev: 20)",
    )
    cost_cpu_hour_usd: float = Field(
        0.0446,
        ge=0,
        description="a CPU-hour of this machine in dollars (default: an on-demand cloud vCPU)",
    )
    cost_storage_gb_month_usd: float = Field(
        0.023, ge=0, description="a GB-month of the local store in dollars"
    )
    prices: Path | None = Field(None, description="a price file of your own for the aws target")
    cost_sample: bool = Field(
        True,
        description="the local estimate encodes a sample of the title first (accurate, but "
        "it costs CPU: docs/cost.md); false: from the ladder's work alone",
    )
    quality_check: Literal["off", "warn", "fail"] = Field(
        "warn", description="VMAF check of the encoded rungs before publishing"
    )
    quality_target_vmaf: float = Field(93.0, description="the top rung's minimum VMAF")
    quality_segments: int = Field(
        4, ge=1, description="spans spread over the title the check scores (docs/quality.md)"
    )
    quality_span_seconds: float = Field(
        1.0, ge=0, description="seconds scored in each span's segment (0: the whole segment)"
    )
    quality_subsample: int = Field(
        5, ge=1, description="the check scores every n-th frame of those spans"
    )
    quality_scope: Literal["sampled", "full"] = Field(
        "sampled", description="full: score every frame of the whole title (slow, exact)"
    )
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = Field(None, description="base URL the server is reached at")
    inbox_prefix: str = "inbox/"
    inbox_poll_seconds: float = 2.0
    webhook_allow_hosts: str = Field(
        "",
        description="comma-separated hosts (or addresses) webhooks may reach although they are "
        "loopback, link-local, private or otherwise not public (refused by default)",
    )
    webhook_timeout_seconds: float = 10.0
    webhook_retry_hours: float = 2.0
    queue_max_receives: int = 5
    upload_max_bytes: int = Field(50 * 2**30, description="largest accepted upload")
    upload_min_part_size: int = Field(5 * 2**20, description="every part but the last")
    upload_part_size: int = Field(16 * 2**20, description="part size offered to clients")
    upload_ttl_hours: float = Field(24.0, description="incomplete uploads are aborted after")
    upload_url_seconds: int = Field(3600, description="lifetime of a signed part URL")
    cors_origins: list[str] = Field(default_factory=lambda: ["*"])
    rate_limit_per_ip: str = Field(
        "600/minute",
        description="requests per client address to the API and the web app, e.g. "
        "'10/second;600/minute'; off: no limit (docs/security.md)",
    )
    rate_limit_per_key: str = Field(
        "1200/minute", description="requests per authenticated API key; off: no limit"
    )
    rate_limit_uploads: str = Field(
        "6000/minute",
        description="the upload routes' own budget, per address and per key (a signPart call "
        "and a part PUT per part); off: no limit",
    )
    rate_limit_beacons: str = Field(
        "12000/minute",
        description="player beacons per address (one a player every 10 s: many viewers behind "
        "one NAT share it); off: no limit",
    )
    rate_limit_signin: str = Field(
        "20/minute",
        description="web console sign-in attempts (pasted keys and sign-in links) per address; "
        "off: no limit",
    )
    session_hours: float = Field(
        12.0, gt=0, description="lifetime of a web console session (its cookie's Max-Age)"
    )
    body_limit_bytes: int = Field(
        2**20,
        ge=1,
        description="largest request body of the JSON API (part PUTs: the part size; an "
        "upload init: this plus twice the 768 KiB of inline subtitles it may carry)",
    )
    frame_ancestors: str = Field(
        "'self'", description="who may frame the web pages (CSP frame-ancestors sources)"
    )
    embed_frame_ancestors: str = Field(
        "*",
        description="who may frame the embeddable player pages /embed/... (CSP frame-ancestors "
        "sources; the console pages keep frame_ancestors)",
    )
    content_security_policy: str | None = Field(
        None, description="the web pages' CSP; unset: built from the settings (docs/security.md)"
    )
    playback_ttl_seconds: int = Field(4 * 3600, description="lifetime of playback links")
    playback_base_url: str | None = Field(
        None,
        description="sign playback for a CDN in front of the destination bucket (e.g. the AWS "
        "stack's CloudFront https://d....cloudfront.net): URLs are the base plus the object "
        "key (assets/<id>/<n>/...); unset: this server's edge, /vod/<id>/...",
    )
    playback_key_id: str | None = Field(
        None,
        description="the key pair id to sign with (CloudFront's K... id of the exported "
        "public key); unset: the local signing key's own id",
    )
    key_base_url: str | None = Field(
        None,
        description="encrypted HLS: the API server's URL written in EXT-X-KEY (set it when "
        "playback_base_url is a CDN on another origin); unset: the path /api/v1/keys/<id> on "
        "the origin serving the playlists. Baked into playlists at packaging time",
    )
    edge_cache_mb: int = Field(
        256, ge=0, description="memory for the edge's content cache per server process (0: off)"
    )
    metrics_enabled: bool = Field(True, description="record metrics (off only to compare)")
    metrics_flush_seconds: float = Field(10.0, gt=0, description="metrics to the store every")
    metrics_retention_hours: float = Field(168.0, gt=0, description="1-minute points kept for")
    observe_cron: str = Field(
        "0 * * * * *", description="when alarms are evaluated (DBOS cron, seconds first)"
    )
    default_alarms: bool = Field(True, description="ship the default alarms")
    alarms: list[AlarmSpec] = Field(
        default_factory=list, description="alarms added to (or replacing) the defaults by name"
    )
    canary_interval_minutes: int = Field(5, ge=0, description="scheduled canary; 0 = off")
    canary_urls: list[str] = Field(
        default_factory=list, description="canary targets; empty = every ready asset, in turn"
    )
    canary_max_assets: int = Field(3, ge=1, description="ready assets checked per canary run")
    log_format: Literal["text", "json"] = "text"
    log_level: str = "INFO"
    tracing: Literal["off", "console", "otlp"] = Field("off", description="span exporter")
    otlp_endpoint: str | None = Field(None, description="OTLP/HTTP traces URL, e.g. :4318")
    log_file: bool = Field(False, description="also write the logs to home/logs/primevod.log")
    lifecycle: Path | None = Field(
        None,
        description="a lifecycle document of your own (S3 LifecycleConfiguration JSON); "
        "unset: the shipped one (src/primevod/lifecycle/default.json)",
    )
    lifecycle_cron: str = Field(
        "0 30 3 * * *",
        description="when the lifecycle workflow applies the rules to the local store and "
        "prunes old history (DBOS cron, seconds first); also at a day's first start",
    )
    source_versioning: bool = Field(
        True,
        description="local store: replaced and deleted source objects stay as noncurrent "
        "versions, which the lifecycle rules expire",
    )
    events_retention_days: float = Field(
        30.0, gt=0, description="events, webhook deliveries and queue messages kept for"
    )
    executions_retention_days: float = Field(
        90.0, gt=0, description="ended executions, their steps and workflow records kept for"
    )
    canary_retention_days: float = Field(7.0, gt=0, description="canary runs kept for")
    access_log_retention_days: float = Field(
        30.0, gt=0, description="rotated edge access log files kept for"
    )
    log_retention_days: float = Field(14.0, gt=0, description="rotated log files kept for")
    beacon_retention_days: float = Field(
        90.0, gt=0, description="player beacon events (playback quality) kept for"
    )
    audit_retention_days: float = Field(
        365.0,
        gt=0,
        description="audit records kept for (whole digested periods are pruned; digests stay)",
    )
    log_rotate_mb: float = Field(
        64.0, gt=0, description="log files are rotated at this size, and daily"
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = Path(os.environ.get("PRIMEVOD_CONFIG", "primevod.toml"))
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=toml_file),
        )

    @field_validator("observe_cron", "lifecycle_cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        from croniter import croniter

        if not croniter.is_valid(value, second_at_beginning=True):
            raise ValueError(f"not a cron expression (seconds first): {value!r}")
        return value

    @field_validator("codecs")
    @classmethod
    def _codecs(cls, value: str) -> str:
        """An unknown codec fails at start; the value is kept normalised ("h264,av1")."""
        from primevod.core.codec_families import codecs_text, parse_codecs
        from primevod.core.errors import MediaError

        try:
            return codecs_text(parse_codecs(value))
        except MediaError as exc:
            raise ValueError(exc.message) from None

    @field_validator(
        "rate_limit_per_ip",
        "rate_limit_per_key",
        "rate_limit_uploads",
        "rate_limit_beacons",
        "rate_limit_signin",
    )
    @classmethod
    def _rate(cls, value: str) -> str:
        """A typo in a limit fails at start, not at the first request."""
        from limits import parse_many

        if value.strip().lower() not in ("", "0", "off", "none"):
            parse_many(value)  # ValueError: "couldn't parse rate limit string ..."
        return value

    @model_validator(mode="after")
    def _derive(self) -> Settings:
        self.home = self.home.expanduser().absolute()
        if self.profile == "dev" and "budget_monthly_usd" not in self.model_fields_set:
            self.budget_monthly_usd = DEV_BUDGET_USD
        if self.profile == "dev":
            for name, days in DEV_RETENTION.items():
                if name not in self.model_fields_set:
                    setattr(self, name, days)
        if not self.database_url:
            self.database_url = f"sqlite:///{self.home / 'catalog.db'}"
        if not self.dbos_database_url:
            self.dbos_database_url = f"sqlite:///{self.home / 'workflows.db'}"
        return self

    @property
    def webhook_allowed(self) -> list[str]:
        return [h.strip() for h in self.webhook_allow_hosts.split(",") if h.strip()]

    @property
    def store_dir(self) -> Path:
        """Root of the local object store: buckets under store/buckets/<bucket>/."""
        return self.home / "store"

    @property
    def master_key_path(self) -> Path:
        """The local key provider's key file."""
        return self.master_key_file or self.home / "master.key"

    @property
    def work_root(self) -> Path:
        """Scratch space of every worker on this machine: one folder per worker id."""
        return self.home / "work"

    @property
    def work_dir(self) -> Path:
        """This worker's scratch space (removed by the next start once it is dead)."""
        return self.work_root / self.worker_id

    def redacted(self) -> dict[str, object]:
        data = self.model_dump(mode="json")
        if self.s3_secret_access_key is not None:
            data["s3_secret_access_key"] = "***"
        if self.master_key is not None:
            data["master_key"] = "***"
        return data
