"""The audit trail in the catalog database: hash-chained records, signed digests and the
chain head (core/audit.py says what they mean).

An append is one short transaction that writes first: it bumps the chain head's seq (a row
lock on PostgreSQL, SQLite's write lock), inserts the record chained to the head's hash and
stores the new hash in the head. Writers in many processes therefore take turns and the
chain cannot fork; nothing is read before the lock is held."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, replace
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from primevod.adapters.catalog.sql_catalog import SqlCatalog
from primevod.adapters.catalog.sql_database import _aware
from primevod.adapters.catalog.tables import AuditDigestRow, AuditHeadRow, AuditRecordRow
from primevod.core.audit import (
    GENESIS,
    AuditDigest,
    AuditEntry,
    AuditRecord,
    Head,
    next_digest,
    seal,
)

HEAD_ID = 1


class SqlAudit:
    def __init__(self, catalog: SqlCatalog) -> None:
        self.catalog = catalog
        self.engine = catalog.engine
        self._head_ready = False

    # -- writing -----------------------------------------------------------------------------
    def _ensure_head(self) -> None:
        """The head row, inserted once (by whichever process gets there first)."""
        if self._head_ready:
            return
        try:
            with self.catalog.session() as s:
                if s.get(AuditHeadRow, HEAD_ID) is None:
                    s.add(AuditHeadRow(id=HEAD_ID, seq=0, hash=GENESIS, digest_number=0))
        except IntegrityError:  # another process inserted it meanwhile
            pass
        self._head_ready = True

    def _lock_head(self, s: Session, *, bump: int) -> Head:
        """Write the head first (its seq + bump), which locks it until commit, and read it
        back in the same statement."""
        seq, hash_, digest_number = s.execute(
            update(AuditHeadRow)
            .where(AuditHeadRow.id == HEAD_ID)
            .values(seq=AuditHeadRow.seq + bump)
            .returning(AuditHeadRow.seq, AuditHeadRow.hash, AuditHeadRow.digest_number)
        ).one()
        return Head(seq, hash_, digest_number)

    @staticmethod
    def _set_head(s: Session, **values: object) -> None:
        s.execute(update(AuditHeadRow).where(AuditHeadRow.id == HEAD_ID).values(**values))

    def append(self, entry: AuditEntry) -> AuditRecord:
        """Add one record at the end of the chain."""
        return self.append_many([entry])[0]

    def append_many(self, entries: list[AuditEntry]) -> list[AuditRecord]:
        """Add records at the end of the chain, in order, in one transaction (the API's
        writer batches a burst of calls into one commit)."""
        if not entries:
            return []
        self._ensure_head()
        with self.catalog.session() as s:
            head = self._lock_head(s, bump=len(entries))
            records, prev = [], head.hash
            for seq, entry in enumerate(entries, start=head.seq - len(entries) + 1):
                record = seal(entry, seq, prev)
                records.append(record)
                prev = record.hash
            s.add_all([_row(r) for r in records])
            s.flush()
            self._set_head(s, hash=prev)
        return records

    def add_digest(
        self, *, key_id: str, sign: Callable[[bytes], str], now: datetime
    ) -> AuditDigest | None:
        """Sign the records after the newest digest up to the head (None: nothing new)."""
        self._ensure_head()
        with self.catalog.session() as s:
            head = self._lock_head(s, bump=0)
            previous = _digest(s.get(AuditDigestRow, head.digest_number))
            first_seq = previous.last_seq + 1 if previous else 1
            first = s.get(AuditRecordRow, first_seq)
            digest = next_digest(
                previous,
                head_seq=head.seq,
                head_hash=head.hash,
                first_time=_aware(first.time) if first else now,  # type: ignore[arg-type]
                now=now,
                key_id=key_id,
            )
            if digest is None:
                return None
            signed = replace(digest, signature=sign(digest.message()))
            s.add(AuditDigestRow(**asdict(signed)))
            s.flush()
            self._set_head(s, digest_number=signed.number)
        return signed

    def prune(self, before: datetime) -> int:
        """Delete the records of the digested periods that ended before `before` (whole
        periods only, so the oldest remaining record starts a digest period and that
        digest's signed start_hash anchors the chain). Digests are kept."""
        with self.catalog.session() as s:
            last = s.execute(
                select(func.max(AuditDigestRow.last_seq)).where(AuditDigestRow.period_end < before)
            ).scalar()
            if not last:
                return 0
            result = s.execute(delete(AuditRecordRow).where(AuditRecordRow.seq <= last))
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    # -- reading -----------------------------------------------------------------------------
    def head(self) -> Head:
        with self.catalog.session() as s:
            row = s.get(AuditHeadRow, HEAD_ID)
            if row is None:
                return Head(0, GENESIS, 0)
            return Head(row.seq, row.hash, row.digest_number)

    def records(self, first_seq: int = 1, last_seq: int | None = None) -> list[AuditRecord]:
        """The stored records in seq order, first_seq..last_seq."""
        query = (
            select(AuditRecordRow)
            .where(AuditRecordRow.seq >= first_seq)
            .order_by(AuditRecordRow.seq)
        )
        if last_seq is not None:
            query = query.where(AuditRecordRow.seq <= last_seq)
        with self.catalog.session() as s:
            return [_record(r) for r in s.execute(query).scalars()]

    def digest(self, number: int) -> AuditDigest | None:
        with self.catalog.session() as s:
            return _digest(s.get(AuditDigestRow, number))

    def digests(self) -> list[AuditDigest]:
        with self.catalog.session() as s:
            rows = s.execute(select(AuditDigestRow).order_by(AuditDigestRow.number)).scalars()
            return [d for d in map(_digest, rows) if d is not None]

    def search(
        self,
        *,
        principal: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        before_seq: int | None = None,
        limit: int = 100,
    ) -> list[AuditRecord]:
        """Records newest first. `action` matches the action exactly, or as a prefix when it
        ends in `*` (`assets:*`); `before_seq` pages."""
        query = select(AuditRecordRow).order_by(AuditRecordRow.seq.desc()).limit(limit)
        if principal:
            query = query.where(AuditRecordRow.principal == principal)
        if action:
            if action.endswith("*"):
                prefix = action[:-1].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                query = query.where(AuditRecordRow.action.like(prefix + "%", escape="\\"))
            else:
                query = query.where(AuditRecordRow.action == action)
        if since is not None:
            query = query.where(AuditRecordRow.time >= since)
        if before_seq is not None:
            query = query.where(AuditRecordRow.seq < before_seq)
        with self.catalog.session() as s:
            return [_record(r) for r in s.execute(query).scalars()]


def _row(record: AuditRecord) -> AuditRecordRow:
    e = record.entry
    return AuditRecordRow(
        seq=record.seq,
        time=e.time,
        principal=e.principal,
        action=e.action,
        route=e.route,
        resource=e.resource,
        outcome=e.outcome,
        status=e.status,
        request_id=e.request_id,
        origin=e.origin,
        source_ip=e.source_ip,
        user_agent=e.user_agent,
        prev_hash=record.prev_hash,
        hash=record.hash,
    )


def _record(row: AuditRecordRow) -> AuditRecord:
    entry = AuditEntry(
        time=_aware(row.time),  # type: ignore[arg-type]
        principal=row.principal,
        action=row.action,
        route=row.route,
        resource=row.resource,
        outcome=row.outcome,
        status=row.status,
        request_id=row.request_id,
        origin=row.origin,
        source_ip=row.source_ip,
        user_agent=row.user_agent,
    )
    return AuditRecord(row.seq, entry, row.prev_hash, row.hash)


def _digest(row: AuditDigestRow | None) -> AuditDigest | None:
    if row is None:
        return None
    return AuditDigest(
        number=row.number,
        period_start=_aware(row.period_start),  # type: ignore[arg-type]
        period_end=_aware(row.period_end),  # type: ignore[arg-type]
        first_seq=row.first_seq,
        last_seq=row.last_seq,
        start_hash=row.start_hash,
        last_hash=row.last_hash,
        prev_digest_hash=row.prev_digest_hash,
        key_id=row.key_id,
        signature=row.signature,
    )
