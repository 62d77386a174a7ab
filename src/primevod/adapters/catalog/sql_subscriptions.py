"""Subscriptions (SNS + SQS roles) on the catalog's tables: webhook deliveries with retries and
a dead-letter list, and pull queues with visibility timeouts and dead-lettering."""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from primevod.adapters.catalog.sql_catalog import NotFound, SqlCatalog, _aware
from primevod.adapters.catalog.tables import DeliveryRow, EventRow, SubscriptionRow
from primevod.core.assets import EVENT_TYPES, utcnow
from primevod.core.event_patterns import PatternError, validate_pattern
from primevod.core.webhooks import retry_delay

if TYPE_CHECKING:
    from primevod.adapters.crypto.sealed_files import Sealer


def _valid_types(event_types: list[str] | None) -> list[str]:
    types = event_types or ["*"]
    for t in types:
        if t != "*" and t not in EVENT_TYPES and not (t.endswith(".*") and t != ".*"):
            raise ValueError(f"unknown event type {t!r}")
    return types


def _event_body(ev: EventRow) -> dict[str, Any]:
    """An event as subscribers receive it (webhook body, queue message)."""
    return {
        "id": ev.id,
        "type": ev.type,
        "asset_id": ev.asset_id,
        "data": ev.data,
        "created_at": _aware(ev.created_at).isoformat(),
    }


def _valid_pattern(pattern: dict[str, Any] | None) -> dict[str, Any] | None:
    if pattern is None:
        return None
    try:
        validate_pattern(pattern)
    except PatternError as exc:
        raise ValueError(f"invalid event pattern: {exc}") from None
    return pattern


def _sub_dict(row: SubscriptionRow, *, with_secret: bool = False) -> dict[str, Any]:
    data = {
        "id": row.id,
        "kind": row.kind,
        "name": row.name,
        "url": row.url,
        "event_types": row.event_types,
        "pattern": row.pattern,
        "created_at": _aware(row.created_at).isoformat(),
    }
    if with_secret:
        data["secret"] = row.secret
    return data


class SqlSubscriptions:
    """`sealer`: webhook secrets are stored sealed (encryption at rest) and opened when a
    delivery is signed; plaintext ones stored before keep working."""

    def __init__(self, catalog: SqlCatalog, sealer: Sealer | None = None) -> None:
        self.catalog = catalog
        self.sealer = sealer

    def _open_secret(self, stored: str | None) -> str | None:
        if stored is None or self.sealer is None:
            return stored
        return self.sealer.open_text(stored)

    def reseal_secrets(self) -> int:
        """Key rotation: every webhook secret sealed with its data key wrapped under the
        current master (plaintext ones get sealed); returns how many were rewritten."""
        if self.sealer is None:
            return 0
        count = 0
        with self.catalog.session() as s:
            rows = s.execute(select(SubscriptionRow).where(SubscriptionRow.secret.is_not(None)))
            for row in rows.scalars():
                resealed = self.sealer.rewrap_text(row.secret)
                if resealed != row.secret:
                    row.secret = resealed
                    count += 1
        return count

    def sealed_secrets(self) -> list[str]:
        """The stored (sealed) webhook secrets, for the key census."""
        with self.catalog.session() as s:
            rows = s.execute(
                select(SubscriptionRow.secret).where(SubscriptionRow.secret.is_not(None))
            )
            return [secret for (secret,) in rows]

    # management --------------------------------------------------------------------------
    def add_webhook(
        self,
        url: str,
        event_types: list[str] | None = None,
        secret: str | None = None,
        name: str | None = None,
        pattern: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        if not url.startswith(("http://", "https://")):
            raise ValueError("webhook URL must start with http:// or https://")
        row = SubscriptionRow(
            id=str(uuid.uuid4()),
            kind="webhook",
            name=name,
            url=url,
            secret=secret or f"whsec_{secrets.token_urlsafe(24)}",
            event_types=_valid_types(event_types),
            pattern=_valid_pattern(pattern),
            created_at=utcnow(),
        )
        created = _sub_dict(row, with_secret=True)  # the plaintext secret, shown once
        if self.sealer is not None and row.secret:
            row.secret = self.sealer.seal_text(row.secret)
            if len(row.secret) > 200:  # the column's width
                raise ValueError("webhook secret too long to store sealed: 48 characters at most")
        with self.catalog.session() as s:
            s.add(row)
        return created

    def add_queue(
        self,
        name: str,
        event_types: list[str] | None = None,
        pattern: dict[str, Any] | None = None,
        *,
        kind: str = "queue",
    ) -> dict[str, Any]:
        row = SubscriptionRow(
            id=str(uuid.uuid4()),
            kind=kind,
            name=name,
            url=None,
            secret=None,
            event_types=_valid_types(event_types),
            pattern=_valid_pattern(pattern),
            created_at=utcnow(),
        )
        with self.catalog.session() as s:
            s.add(row)
        return _sub_dict(row)

    def add_log(
        self, name: str, event_types: list[str] | None = None, pattern: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """A rule whose target is the log: matching events become `primevod.events` log
        records (JSON lines with `log_format = "json"`)."""
        return self.add_queue(name, event_types, pattern, kind="log")

    def list(self) -> list[dict[str, Any]]:
        with self.catalog.session() as s:
            rows = s.execute(select(SubscriptionRow).order_by(SubscriptionRow.created_at))
            return [_sub_dict(r) for r in rows.scalars()]

    def get(self, sub_id: str) -> dict[str, Any]:
        with self.catalog.session() as s:
            row = s.get(SubscriptionRow, sub_id)
            if row is None:
                raise NotFound(f"no subscription {sub_id}")
            return _sub_dict(row)

    def remove(self, sub_id: str) -> None:
        with self.catalog.session() as s:
            row = s.get(SubscriptionRow, sub_id)
            if row is None:
                raise NotFound(f"no subscription {sub_id}")
            for d in s.execute(
                select(DeliveryRow).where(DeliveryRow.subscription_id == sub_id)
            ).scalars():
                s.delete(d)
            s.delete(row)

    # webhooks ----------------------------------------------------------------------------
    def claim_due_webhooks(
        self, limit: int = 20, lease_seconds: float = 60.0
    ) -> list[dict[str, Any]]:
        """Deliveries due now, leased for `lease_seconds` so no other worker sends them."""
        now = utcnow()
        out = []
        with self.catalog.session() as s:
            rows = s.execute(
                select(DeliveryRow, SubscriptionRow, EventRow)
                .join(SubscriptionRow, DeliveryRow.subscription_id == SubscriptionRow.id)
                .join(EventRow, DeliveryRow.event_id == EventRow.id)
                .where(
                    DeliveryRow.status == "pending",
                    DeliveryRow.next_attempt_at <= now,
                    SubscriptionRow.kind == "webhook",
                )
                .order_by(DeliveryRow.next_attempt_at)
                .limit(limit)
                .with_for_update()
            ).all()
            for delivery, sub, ev in rows:
                delivery.next_attempt_at = now + timedelta(seconds=lease_seconds)
                out.append(
                    {
                        "delivery_id": delivery.id,
                        "attempts": delivery.attempts,
                        "created_at": _aware(delivery.created_at),
                        "url": sub.url,
                        "secret": self._open_secret(sub.secret),
                        "subscription_id": sub.id,
                        "event": _event_body(ev),
                    }
                )
        return out

    def webhook_delivered(self, delivery_id: int) -> None:
        with self.catalog.session() as s:
            row = s.get(DeliveryRow, delivery_id)
            if row is not None:
                row.status = "delivered"
                row.attempts += 1
                row.updated_at = utcnow()
                row.last_error = None

    def webhook_failed(
        self, delivery_id: int, error: str, *, retry_window: float, retry_base: float = 5.0
    ) -> str:
        """Schedule the next try with backoff, or dead-letter after the retry window."""
        with self.catalog.session() as s:
            row = s.get(DeliveryRow, delivery_id)
            if row is None:
                return "gone"
            row.attempts += 1
            row.last_error = error[:2000]
            now = utcnow()
            row.updated_at = now
            nxt = now + timedelta(seconds=retry_delay(row.attempts, base=retry_base))
            if nxt > _aware(row.created_at) + timedelta(seconds=retry_window):
                row.status = "dead"
            else:
                row.next_attempt_at = nxt
            return row.status

    def deliveries(self, sub_id: str, status: str | None = None) -> list[dict[str, Any]]:
        with self.catalog.session() as s:
            query = select(DeliveryRow).where(DeliveryRow.subscription_id == sub_id)
            if status:
                query = query.where(DeliveryRow.status == status)
            return [
                {
                    "id": d.id,
                    "event_id": d.event_id,
                    "status": d.status,
                    "attempts": d.attempts,
                    "last_error": d.last_error,
                }
                for d in s.execute(query.order_by(DeliveryRow.id)).scalars()
            ]

    def replay_dead(self, sub_id: str) -> int:
        """Put every dead-lettered delivery or message of a subscription back in line."""
        now = utcnow()
        with self.catalog.session() as s:
            sub = s.get(SubscriptionRow, sub_id)
            if sub is None:
                raise NotFound(f"no subscription {sub_id}")
            rows = s.execute(
                select(DeliveryRow).where(
                    DeliveryRow.subscription_id == sub_id, DeliveryRow.status == "dead"
                )
            ).scalars()
            count = 0
            for row in rows:
                row.status = "pending" if sub.kind == "webhook" else "ready"
                row.attempts = 0
                row.created_at = now
                row.next_attempt_at = now
                row.receipt = None
                count += 1
            return count

    # pull queues -------------------------------------------------------------------------
    def receive(
        self,
        sub_id: str,
        *,
        max_messages: int = 10,
        visibility_timeout: float = 30.0,
        max_receives: int = 5,
    ) -> list[dict[str, Any]]:
        now = utcnow()
        out = []
        with self.catalog.session() as s:
            sub = s.get(SubscriptionRow, sub_id)
            if sub is None or sub.kind != "queue":
                raise NotFound(f"no queue subscription {sub_id}")
            visible = (
                DeliveryRow.subscription_id == sub_id,
                DeliveryRow.status == "ready",
                DeliveryRow.next_attempt_at <= now,
            )
            # received too often without being deleted: dead letters, before the page is
            # taken, so they never crowd out the messages behind them
            s.execute(
                update(DeliveryRow)
                .where(*visible, DeliveryRow.attempts >= max_receives)
                .values(status="dead", updated_at=now)
            )
            rows = s.execute(
                select(DeliveryRow, EventRow)
                .join(EventRow, DeliveryRow.event_id == EventRow.id)
                .where(*visible)
                .order_by(DeliveryRow.id)
                .limit(max(1, min(max_messages, 100)))
                .with_for_update()
            ).all()
            for msg, ev in rows:
                msg.attempts += 1
                msg.receipt = secrets.token_hex(16)
                msg.next_attempt_at = now + timedelta(seconds=visibility_timeout)
                msg.updated_at = now
                out.append(
                    {
                        "message_id": msg.id,
                        "receipt": msg.receipt,
                        "receive_count": msg.attempts,
                        "event": _event_body(ev),
                    }
                )
        return out

    def delete_message(self, sub_id: str, receipt: str) -> bool:
        with self.catalog.session() as s:
            row = s.execute(
                select(DeliveryRow).where(
                    DeliveryRow.subscription_id == sub_id,
                    DeliveryRow.receipt == receipt,
                    DeliveryRow.status == "ready",
                )
            ).scalar_one_or_none()
            if row is None:
                return False
            row.status = "deleted"
            row.updated_at = utcnow()
            return True
