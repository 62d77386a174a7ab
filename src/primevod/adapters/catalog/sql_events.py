"""The event outbox and its fan-out: an event is written, and matched to every subscription
(webhook deliveries, queue messages, the events log), in the transaction of the change that
caused it."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from primevod.adapters.catalog.sql_database import SqlDatabase, _aware
from primevod.adapters.catalog.tables import AssetRow, DeliveryRow, EventRow, SubscriptionRow
from primevod.core.assets import TERMINAL, Event, utcnow
from primevod.core.event_patterns import matches

_events_log = logging.getLogger("primevod.events")


class SqlEvents(SqlDatabase):
    def _emit(self, s: Session, ev: Event) -> None:
        row = EventRow(
            type=ev.type,
            asset_id=ev.asset_id,
            data=ev.data,
            created_at=ev.created_at,
            dispatched=True,
        )
        s.add(row)
        s.flush()
        now = utcnow()
        subs = s.execute(select(SubscriptionRow)).scalars().all()
        body = {
            "type": ev.type,
            "asset_id": ev.asset_id,
            "created_at": ev.created_at.isoformat(),
            "data": ev.data,
        }
        for sub in subs:
            if not _matches(sub.event_types, ev.type) or not matches(sub.pattern, body):
                continue
            if sub.kind == "log":
                _events_log.info(
                    "event %s matched rule %s",
                    ev.type,
                    sub.name,
                    extra={"event": {"id": row.id, **body}, "rule": sub.name},
                )
                continue
            s.add(
                DeliveryRow(
                    subscription_id=sub.id,
                    event_id=row.id,
                    status="pending" if sub.kind == "webhook" else "ready",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                    updated_at=now,
                )
            )

    def emit(self, ev: Event) -> None:
        with self.session() as s:
            self._emit(s, ev)

    def list_events(
        self, *, asset_id: str | None = None, after_id: int = 0, limit: int = 100
    ) -> list[Event]:
        with self.session() as s:
            query = select(EventRow).where(EventRow.id > after_id)
            if asset_id:
                query = query.where(EventRow.asset_id == asset_id)
            rows = s.execute(query.order_by(EventRow.id).limit(limit)).scalars().all()
            return [
                Event(
                    id=r.id,
                    type=r.type,
                    asset_id=r.asset_id,
                    data=r.data,
                    created_at=_aware(r.created_at),
                )
                for r in rows
            ]

    def prune_events(self, before: datetime) -> tuple[int, int]:
        """Remove events older than `before` with their deliveries and queue messages
        (delivered, dead or never taken alike), except those of assets still in their
        workflow. Returns (events, deliveries) removed."""
        with self.session() as s:
            busy = select(AssetRow.id).where(AssetRow.status.not_in([t.value for t in TERMINAL]))
            old = select(EventRow.id).where(
                EventRow.created_at < before,
                or_(EventRow.asset_id.is_(None), EventRow.asset_id.not_in(busy)),
            )
            quiet = {"synchronize_session": False}
            deliveries = s.execute(
                delete(DeliveryRow).where(DeliveryRow.event_id.in_(old)).execution_options(**quiet)
            ).rowcount
            events = s.execute(
                delete(EventRow).where(EventRow.id.in_(old)).execution_options(**quiet)
            ).rowcount
        return int(events or 0), int(deliveries or 0)


def _matches(patterns: list[str], event_type: str) -> bool:
    for pattern in patterns or ["*"]:
        if pattern in ("*", event_type) or (
            pattern.endswith(".*") and event_type.startswith(pattern[:-1])
        ):
            return True
    return False
