"""The audit trail's operations over the runtime: record an entry, make a digest (hourly on
the schedule, on demand, and when a CLI command finds one overdue), verify, prune. The rules
are core/audit.py's; the store is adapters/catalog/sql_audit.py."""

from __future__ import annotations

import atexit
import base64
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from primevod.adapters.signing.audit_keys import AuditKeys
from primevod.core.audit import (
    DIGEST_PERIOD,
    AuditDigest,
    AuditEntry,
    AuditRecord,
    Verification,
    verify,
)
from primevod.pipeline.batch_writer import BatchWriter
from primevod.pipeline.runtime import Runtime

log = logging.getLogger("primevod.audit")


def keys(rt: Runtime) -> AuditKeys:
    return AuditKeys(rt.settings.home / "audit-keys")


def record(rt: Runtime, entry: AuditEntry) -> AuditRecord:
    """Append one record now (the CLI's: a command is rare and must leave its record)."""
    flush(rt)  # after what this process queued before it: the chain keeps the order
    return rt.audit.append(entry)


# API calls' records: appended every 0.2 s in one transaction (a commit per call cost 1.6 ms
# of CPU); a server killed outright loses at most that much of the trail (docs/security.md)
_writers: dict[int, BatchWriter[AuditEntry]] = {}
FLUSH_SECONDS = 0.2


def submit(rt: Runtime, entry: AuditEntry) -> None:
    """Queue an API call's record for the batched writer (pipeline/batch_writer.py)."""
    writer = _writers.get(id(rt))
    if writer is None:
        made = BatchWriter(rt.audit.append_many, name="audit-writer", flush_seconds=FLUSH_SECONDS)
        writer = _writers.setdefault(id(rt), made)
        atexit.register(writer.stop)
    writer.offer([entry])


def flush(rt: Runtime) -> None:
    """The records this process queued, appended before the trail is read or signed here."""
    writer = _writers.get(id(rt))
    if writer is not None:
        writer.flush()


def digest(rt: Runtime, now: datetime | None = None) -> AuditDigest | None:
    """Sign the records since the last digest (None when there are none)."""
    flush(rt)
    key_id, private = keys(rt).signer()
    made = rt.audit.add_digest(
        key_id=key_id,
        sign=lambda message: base64.b64encode(private.sign(message)).decode(),
        now=now or datetime.now(UTC),
    )
    if made is not None:
        log.info(
            "audit digest %d: records %d..%d", made.number, made.first_seq, made.last_seq,
            extra={"digest": made.number},
        )  # fmt: skip
    return made


def digest_if_due(rt: Runtime, now: datetime | None = None) -> AuditDigest | None:
    """A digest when records wait and the newest digest is over DIGEST_PERIOD old: where no
    server runs the schedule (CLI-only use), state-changing commands keep the trail signed."""
    now = now or datetime.now(UTC)
    head = rt.audit.head()
    newest = rt.audit.digest(head.digest_number)
    if head.seq <= (newest.last_seq if newest else 0):
        return None
    if newest is not None and newest.period_end > now - DIGEST_PERIOD:
        return None
    return digest(rt, now)


def _window(
    rt: Runtime, start: datetime | None, end: datetime | None
) -> tuple[int | None, int | None]:
    """The seq range for --from/--to, by the signed digest periods (a tampered record's own
    time cannot move it out of the window): from the first digest ending at or after `start`,
    to the last digest starting at or before `end` (or the head when `end` is past them)."""
    digests = rt.audit.digests()
    lo: int | None = None
    hi: int | None = None
    if start is not None:
        after = [d for d in digests if d.period_end >= start]
        lo = after[0].first_seq if after else (digests[-1].last_seq + 1 if digests else 1)
    if end is not None:
        before = [d for d in digests if d.period_start <= end]
        if before and before[-1].period_end >= end:
            hi = before[-1].last_seq
    return lo, hi


def verify_trail(
    rt: Runtime,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    now: datetime | None = None,
) -> Verification:
    """Check the stored trail (or the digest periods overlapping start..end)."""
    now = now or datetime.now(UTC)
    flush(rt)
    lo, hi = _window(rt, start, end)
    records = rt.audit.records(lo or 1, hi)
    return verify(
        records,
        rt.audit.digests(),
        keys(rt).public_keys(),
        now=now,
        head=rt.audit.head() if hi is None else None,
        start_seq=lo,
        retention=timedelta(days=rt.settings.audit_retention_days),
    )


def prune(rt: Runtime, now: datetime) -> int:
    """Remove whole digested periods older than the retention."""
    flush(rt)
    return rt.audit.prune(now - timedelta(days=rt.settings.audit_retention_days))


def search(
    rt: Runtime,
    *,
    principal: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    before: int | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    flush(rt)
    found = rt.audit.search(
        principal=principal, action=action, since=since, before_seq=before, limit=limit
    )
    return [r.as_json() for r in found]
