"""The catalog port: assets, executions and their steps, the event outbox, upload sessions
and API keys, as the pipeline and the entry points use them (SQL implements it; a fake in
the tests keeps it in dictionaries)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, Protocol, Unpack

from primevod.core.access import Principal
from primevod.core.assets import (
    Asset,
    AssetChanges,
    AssetError,
    Event,
    Execution,
    Page,
    SortOrder,
)
from primevod.core.console_sessions import ConsoleSession, RedeemedLink
from primevod.core.search import Filters, Query
from primevod.core.uploads import UploadPage, UploadSession


class Catalog(Protocol):
    def create_asset(self, asset: Asset, *, event_type: str | None = "asset.created") -> Asset: ...

    def get_asset(self, asset_id: str) -> Asset:
        """Raises core.errors.NotFound."""
        ...

    def update_asset(
        self,
        asset_id: str,
        *,
        event_type: str | None = None,
        event_data: dict[str, Any] | None = None,
        **changes: Unpack[AssetChanges],
    ) -> Asset:
        """Apply the changes and, with `event_type`, write that event in the same transaction."""
        ...

    def delete_asset(self, asset_id: str) -> Asset: ...

    def list_assets(
        self,
        *,
        status: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
        order: SortOrder = "desc",
    ) -> Page:
        """By creation time, newest first (or oldest: "asc"); ValueError: a bad cursor."""
        ...

    def count_assets(self, status: str | None = None) -> int: ...

    def search_assets(
        self,
        query: Query,
        filters: Filters | None = None,
        *,
        limit: int = 20,
        cursor: str | None = None,
    ) -> Page:
        """Matches best first (newest first for an empty query); ValueError: a bad cursor."""
        ...

    def start_execution(self, execution_id: str, asset_id: str) -> None: ...

    def finish_execution(
        self, execution_id: str, status: str, error: AssetError | None = None
    ) -> None: ...

    def step_started(self, execution_id: str, name: str) -> int:
        """The new step record's id (an attempt of the step)."""
        ...

    def step_finished(self, step_id: int, status: str, error: str | None = None) -> None: ...

    def get_execution(self, execution_id: str) -> Execution: ...

    def list_executions(self, asset_id: str) -> list[Execution]: ...

    def emit(self, ev: Event) -> None: ...

    def list_events(
        self, *, asset_id: str | None = None, after_id: int = 0, limit: int = 100
    ) -> list[Event]: ...

    def prune_events(self, before: datetime) -> tuple[int, int]:
        """Events older than `before` and their deliveries, but those of assets still in
        their workflow; returns (events, deliveries) removed."""
        ...

    def prune_executions(self, before: datetime) -> tuple[int, int]:
        """Ended executions older than `before` and their steps, never an asset's current
        one nor those of an asset still in its workflow; returns (executions, steps)."""
        ...

    def create_upload(self, session: UploadSession) -> None: ...

    def get_upload(self, upload_id: str) -> UploadSession: ...

    def update_upload(self, upload_id: str, **changes: Any) -> UploadSession: ...

    def expired_uploads(self, now: datetime, limit: int = 100) -> list[UploadSession]: ...

    def list_uploads(self, owner: str, *, limit: int = 20, cursor: str | None = None) -> UploadPage:
        """The uploads `owner` (a key id) began, newest first; ValueError: a bad cursor."""
        ...

    def create_key(
        self, role: str, name: str | None = None, policy: dict[str, Any] | None = None
    ) -> str: ...

    def authenticate(self, key: str) -> Principal | None:
        """The key's principal (id, role, policy) if it is valid and not revoked."""
        ...

    def key_principal(self, key_id: str) -> Principal: ...

    def check_key(self, key: str) -> str | None: ...

    def list_keys(self) -> list[dict[str, Any]]: ...

    def revoke_key(self, key_id: str) -> None: ...

    def key_name(self, key_id: str) -> str | None: ...

    def create_session(
        self, key_id: str, seconds: float, *, demo: bool = False
    ) -> tuple[str, datetime]:
        """A web console session (core/console_sessions.py): (its token, its expiry)."""
        ...

    def console_session(self, token: str) -> ConsoleSession | None: ...

    def end_session(self, token: str) -> None: ...

    def end_sessions_of(self, key_id: str) -> int: ...

    def create_signin_link(self, key_id: str, seconds: float) -> str: ...

    def redeem_signin_link(self, token: str) -> RedeemedLink: ...

    def content_key(self, asset_id: str) -> bytes | None:
        """The asset's encrypted-HLS content key (None: it has none)."""
        ...

    def ensure_content_key(self, asset_id: str, method: str, make: bytes) -> bytes:
        """The asset's content key: the stored one, else `make`, stored now."""
        ...

    def delete_content_key(self, asset_id: str) -> bool: ...

    def append_beacon_events(self, rows: Sequence[tuple[object, ...]]) -> int: ...

    def beacon_events(
        self, *, since: float = 0.0, until: float | None = None, batch: int = 10_000
    ) -> Iterator[dict[str, Any]]: ...

    def export_events(self, since: datetime, batch: int = 10_000) -> Iterator[dict[str, Any]]: ...

    def export_executions(self, since: datetime) -> Iterator[dict[str, Any]]: ...

    def viewer_sessions(self, since: float) -> list[dict[str, Any]]: ...

    def prune_beacon_events(self, before: float) -> int:
        """Beacon events received before `before` (epoch seconds); how many went."""
        ...

    def sealed_content_keys(self) -> list[str]: ...

    def reseal_content_keys(self) -> int:
        """Encryption at rest: each stored content key re-wrapped under the current master."""
        ...
