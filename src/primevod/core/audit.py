"""The audit trail (CloudTrail's role): one record per API call and per state-changing CLI
command, appended to a hash chain, with signed digests (CloudTrail's log file integrity
validation). Pure: the record's canonical form, the chain hash, the digest's content and
signature check, and the verification that names the first bad record. No I/O.

    record n:  hash_n = SHA-256(prev_hash || canonical JSON of record n), prev_hash = hash_{n-1}
    digest k:  covers records first_seq..last_seq (contiguous with digest k-1), carries
               last_hash (hash of record last_seq), start_hash (= digest k-1's last_hash) and
               prev_digest_hash (SHA-256 of digest k-1's content and signature), signed with
               Ed25519 over its canonical JSON.

A modified record no longer matches its own hash; a deleted one leaves a gap in the sequence;
an inserted or reordered one breaks the sequence or the chain; a chain rewritten end to end
no longer matches the signed digests; a deleted digest leaves a gap in the digest numbers
(or, the newest one, disagrees with the chain head); records no digest covers past
DIGEST_DEADLINE are a missing digest."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

GENESIS = "0" * 64  # the prev_hash of record 1 and prev_digest_hash of digest 1
DIGEST_PERIOD = timedelta(hours=1)  # a digest every hour while a server runs
# a record older than this that no digest covers is a missing digest: the hourly digest
# plus an hour of slack (a restart, a busy schedule queue)
DIGEST_DEADLINE = DIGEST_PERIOD + timedelta(hours=1)
ANONYMOUS = "anonymous"
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")
# column widths: values are cut to these before hashing, so what is stored is what is hashed
LIMITS = {
    "principal": 128,
    "action": 128,
    "route": 200,
    "resource": 300,
    "source_ip": 64,
    "user_agent": 256,
    "request_id": 128,
}


def iso(value: datetime) -> str:
    """The canonical time: UTC, microseconds, `Z` (what both databases keep exactly)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(data: Mapping[str, object]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def outcome_of(status: int) -> str:
    """success (2xx, 3xx), denied (401, 403), failed (other 4xx), error (5xx)."""
    if status < 400:
        return "success"
    if status in (401, 403):
        return "denied"
    return "failed" if status < 500 else "error"


def sane_request_id(value: str | None) -> str | None:
    """A client's X-Request-ID, if it is short and plain enough to store and echo."""
    return value if value and REQUEST_ID.fullmatch(value) else None


@dataclass(frozen=True)
class AuditEntry:
    """What happened, before it has a place in the chain. No secrets, no bodies."""

    time: datetime
    principal: str
    action: str
    resource: str
    outcome: str
    status: int
    request_id: str
    origin: str = "api"  # api | cli
    route: str = ""  # METHOD /template (api) or the command (cli)
    source_ip: str | None = None
    user_agent: str | None = None

    def clipped(self) -> AuditEntry:
        values = {
            k: (v[:n] if isinstance(v := getattr(self, k), str) else v) for k, n in LIMITS.items()
        }
        return replace(self, **values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class AuditRecord:
    """An entry at its place in the chain."""

    seq: int
    entry: AuditEntry
    prev_hash: str
    hash: str

    def content(self) -> dict[str, object]:
        """The hashed fields: everything but the hashes themselves."""
        e = self.entry
        return {
            "seq": self.seq,
            "time": iso(e.time),
            "principal": e.principal,
            "action": e.action,
            "route": e.route,
            "resource": e.resource,
            "outcome": e.outcome,
            "status": e.status,
            "request_id": e.request_id,
            "origin": e.origin,
            "source_ip": e.source_ip,
            "user_agent": e.user_agent,
        }

    def as_json(self) -> dict[str, object]:
        return {**self.content(), "prev_hash": self.prev_hash, "hash": self.hash}


def chain_hash(prev_hash: str, content: Mapping[str, object]) -> str:
    return hashlib.sha256(bytes.fromhex(prev_hash) + canonical(content)).hexdigest()


def record_hash(record: AuditRecord) -> str:
    """What the record's hash must be, from its content and its prev_hash."""
    try:
        return chain_hash(record.prev_hash, record.content())
    except ValueError:  # a prev_hash that is not hex
        return ""


def seal(entry: AuditEntry, seq: int, prev_hash: str) -> AuditRecord:
    """The entry as record `seq`, chained to `prev_hash`."""
    unsealed = AuditRecord(seq, entry.clipped(), prev_hash, "")
    return replace(unsealed, hash=record_hash(unsealed))


@dataclass(frozen=True)
class AuditDigest:
    """A signed statement: records first_seq..last_seq end at last_hash, after digest
    number-1 (prev_digest_hash) whose last hash was start_hash."""

    number: int
    period_start: datetime
    period_end: datetime
    first_seq: int
    last_seq: int
    start_hash: str
    last_hash: str
    prev_digest_hash: str
    key_id: str
    signature: str = ""  # base64 Ed25519 over content()

    def content(self) -> dict[str, object]:
        data = asdict(self)
        data.pop("signature")
        data["period_start"], data["period_end"] = iso(self.period_start), iso(self.period_end)
        return data

    def message(self) -> bytes:
        return canonical(self.content())

    def as_json(self) -> dict[str, object]:
        return {**self.content(), "signature": self.signature, "hash": digest_hash(self)}


def digest_hash(digest: AuditDigest) -> str:
    """The link the next digest carries: its content and its signature."""
    return hashlib.sha256(digest.message() + digest.signature.encode()).hexdigest()


def next_digest(
    previous: AuditDigest | None,
    *,
    head_seq: int,
    head_hash: str,
    first_time: datetime,
    now: datetime,
    key_id: str,
) -> AuditDigest | None:
    """The unsigned digest of the records after `previous` up to the head (None: nothing
    new). Its period runs from the previous digest's end (or the first record) to `now`."""
    first_seq = previous.last_seq + 1 if previous else 1
    if head_seq < first_seq:
        return None
    return AuditDigest(
        number=previous.number + 1 if previous else 1,
        period_start=previous.period_end if previous else first_time,
        period_end=now,
        first_seq=first_seq,
        last_seq=head_seq,
        start_hash=previous.last_hash if previous else GENESIS,
        last_hash=head_hash,
        prev_digest_hash=digest_hash(previous) if previous else GENESIS,
        key_id=key_id,
    )


def key_id_of(public_raw: bytes) -> str:
    return hashlib.sha256(public_raw).hexdigest()[:16]


def signature_valid(digest: AuditDigest, keys: Mapping[str, bytes]) -> bool:
    """Whether the digest's signature verifies with its key (raw Ed25519 public keys by id)."""
    raw = keys.get(digest.key_id)
    if raw is None:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(raw).verify(
            base64.b64decode(digest.signature, validate=True), digest.message()
        )
    except (InvalidSignature, ValueError):
        return False
    return True


# -- verification ------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    kind: str  # record.modified | record.missing | record.unchained | record.unexpected |
    # digest.missing | digest.signature | digest.unchained | digest.mismatch | digest.overdue
    seq: int | None  # the first record it concerns
    message: str
    digest: int | None = None


IMPRECISE = frozenset({"digest.mismatch"})


@dataclass
class Verification:
    records: int = 0
    digests: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad(self) -> Problem | None:
        """The problem at the lowest record. A digest mismatch only says the chain was
        rewritten somewhere in its period, so a problem that names its record wins over it."""
        if not self.problems:
            return None
        return min(self.problems, key=lambda p: (p.kind in IMPRECISE, p.seq is None, p.seq or 0))

    def as_json(self) -> dict[str, object]:
        bad = self.first_bad
        return {
            "ok": self.ok,
            "records": self.records,
            "digests": self.digests,
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "first_bad_record": bad.seq if bad else None,
            "first_problem": asdict(bad) if bad else None,
            "problems": [asdict(p) for p in self.problems],
        }


@dataclass(frozen=True)
class Head:
    """The chain head as stored: the last record's seq and hash, the last digest's number."""

    seq: int
    hash: str
    digest_number: int


def check_digests(digests: Sequence[AuditDigest], keys: Mapping[str, bytes]) -> list[Problem]:
    """The digest chain from digest 1: numbers contiguous, each signed, each linked to the
    previous digest and starting where it ended."""
    problems: list[Problem] = []
    previous: AuditDigest | None = None
    for d in digests:
        expected = previous.number + 1 if previous else 1
        first = previous.last_seq + 1 if previous else 1
        if d.number != expected:
            gone = f"digests {expected}..{d.number - 1}" if d.number > expected + 1 else None
            problems.append(
                Problem(
                    "digest.missing",
                    first,
                    f"{gone or f'digest {expected}'} missing (deleted): records from {first} "
                    "are not covered by a signed digest",
                    expected,
                )
            )
        elif not signature_valid(d, keys):
            problems.append(
                Problem(
                    "digest.signature",
                    d.first_seq,
                    f"digest {d.number}: the signature does not verify with key {d.key_id}",
                    d.number,
                )
            )
        elif d.prev_digest_hash != (digest_hash(previous) if previous else GENESIS) or (
            d.first_seq != first or d.start_hash != (previous.last_hash if previous else GENESIS)
        ):
            problems.append(
                Problem(
                    "digest.unchained",
                    d.first_seq,
                    f"digest {d.number} does not follow digest {expected - 1}",
                    d.number,
                )
            )
        previous = d
    return problems


def check_records(
    records: Iterable[AuditRecord], start_seq: int, start_hash: str | None
) -> tuple[list[Problem], dict[int, str], AuditRecord | None]:
    """The records in seq order from `start_seq`, the first chained to `start_hash` (None: not
    known): each matches its own hash, seqs are contiguous, each chains to the one before.
    Returns the problems, the stored hash by seq and the last record."""
    problems: list[Problem] = []
    hashes: dict[int, str] = {}
    expected_seq, expected_prev = start_seq, start_hash
    last: AuditRecord | None = None
    for r in records:
        if r.seq > expected_seq:
            span = f"records {expected_seq}..{r.seq - 1}" if r.seq > expected_seq + 1 else None
            problems.append(
                Problem(
                    "record.missing",
                    expected_seq,
                    f"{span or f'record {expected_seq}'} missing (deleted or renumbered)",
                )
            )
            expected_prev = None  # the missing record's hash is unknown
        elif r.seq < expected_seq:
            problems.append(
                Problem("record.unexpected", r.seq, f"record {r.seq} is out of sequence")
            )
            continue
        self_ok = record_hash(r) == r.hash
        if not self_ok:
            problems.append(_altered(r, last))
        elif expected_prev is not None and r.prev_hash != expected_prev:
            # r itself is intact, so what it follows changed: the record before it (rehashed
            # after a change, inserted, or moved) unless r is the first checked
            culprit = last.seq if last is not None else r.seq
            problems.append(
                Problem(
                    "record.unchained",
                    culprit,
                    f"record {r.seq} does not chain to record {r.seq - 1}: record {culprit} "
                    "was changed, inserted or moved",
                )
            )
        hashes[r.seq] = r.hash
        expected_seq, expected_prev, last = r.seq + 1, r.hash, r
    return problems, hashes, last


def _renumbered_from(record: AuditRecord) -> int | None:
    """The seq a record's hash was made for, when it is a neighbour's (moved or renumbered)."""
    for seq in (record.seq - 1, record.seq + 1):
        if seq > 0 and record_hash(replace(record, seq=seq)) == record.hash:
            return seq
    return None


def _altered(record: AuditRecord, before: AuditRecord | None) -> Problem:
    """Why a record no longer matches its hash: renumbered after a record was inserted before
    it, moved, or modified."""
    seq, was = record.seq, _renumbered_from(record)
    if before is not None and before.hash == record.hash:
        return Problem(
            "record.inserted", seq, f"record {seq} was inserted: a copy of record {before.seq}"
        )
    if was == seq - 1 and before is not None and before.seq == seq - 1:
        return Problem(
            "record.inserted",
            before.seq,
            f"record {before.seq} was inserted: record {seq} was record {was} before it",
        )
    if was is not None:
        return Problem(
            "record.moved",
            seq,
            f"record {seq} was moved (it was record {was}): records reordered or renumbered",
        )
    return Problem(
        "record.modified", seq, f"record {seq} was modified: its content does not match its hash"
    )


def check_against_digests(
    digests: Sequence[AuditDigest], hashes: Mapping[int, str], lo: int, hi: int
) -> list[Problem]:
    """Every digest that ends within lo..hi must name the hash stored at its last record: a
    chain rewritten consistently (records inserted or removed and every hash recomputed)
    still differs from what was signed."""
    problems = []
    for d in digests:
        if lo <= d.last_seq <= hi and d.last_seq in hashes and hashes[d.last_seq] != d.last_hash:
            problems.append(
                Problem(
                    "digest.mismatch",
                    d.first_seq,
                    f"records {d.first_seq}..{d.last_seq} differ from signed digest {d.number}: "
                    f"the chain was rewritten at or after record {d.first_seq}",
                    d.number,
                )
            )
    return problems


def check_head(
    head: Head, last: AuditRecord | None, digests: Sequence[AuditDigest]
) -> list[Problem]:
    """The stored chain head must agree with the newest record and the newest digest: this
    catches the last record deleted, records appended behind the writer's back, and the
    newest digest deleted."""
    problems = []
    last_seq = last.seq if last else 0
    if head.seq > last_seq:
        problems.append(
            Problem(
                "record.missing",
                last_seq + 1,
                f"records {last_seq + 1}..{head.seq} missing at the end of the chain (deleted)",
            )
        )
    elif head.seq < last_seq or (last is not None and head.hash != last.hash):
        problems.append(
            Problem(
                "record.unexpected",
                head.seq + 1 if head.seq < last_seq else last_seq,
                "the end of the chain differs from the chain head (records appended or "
                "changed behind the writer's back)",
            )
        )
    newest = digests[-1] if digests else None
    if head.digest_number > (newest.number if newest else 0):
        first = newest.last_seq + 1 if newest else 1
        problems.append(
            Problem(
                "digest.missing",
                first,
                f"digest {head.digest_number} missing (deleted): "
                f"records from {first} are not covered by a signed digest",
                head.digest_number,
            )
        )
    return problems


def check_overdue(
    records: Sequence[AuditRecord],
    digests: Sequence[AuditDigest],
    now: datetime,
    deadline: timedelta = DIGEST_DEADLINE,
) -> list[Problem]:
    """The missing-digest rule: a record older than `deadline` that no digest covers."""
    covered = digests[-1].last_seq if digests else 0
    for r in records:
        if r.seq > covered and r.entry.time < now - deadline:
            return [
                Problem(
                    "digest.overdue",
                    r.seq,
                    f"record {r.seq} ({iso(r.entry.time)}) is older than {deadline} and no "
                    "digest covers it (missing digest; `primevod audit digest` makes one)",
                )
            ]
    return []


def check_pruned(
    oldest_seq: int, digests: Sequence[AuditDigest], now: datetime, retention: timedelta | None
) -> tuple[list[Problem], str | None]:
    """Records before the oldest stored one may be gone only as whole digested periods
    (pruning): the oldest record must start a digest, whose start_hash anchors the chain, and
    the pruned periods must have ended before the retention. Returns problems and the anchor
    (GENESIS for record 1; None when unknown)."""
    anchor = _boundary(digests, oldest_seq)
    if anchor is None:
        missing = (
            f"records before {oldest_seq} missing (deleted): {oldest_seq} is not where a "
            "digest starts"
        )
        return [
            Problem("record.missing", 1 if not digests else _first_of(digests, oldest_seq), missing)
        ], None
    pruned = [d for d in digests if d.last_seq < oldest_seq]
    if retention is not None and pruned and pruned[-1].period_end > now - retention:
        d = pruned[-1]
        return [
            Problem(
                "record.missing",
                pruned[0].first_seq,
                f"records {pruned[0].first_seq}..{d.last_seq} missing: deleted before their "
                f"retention ended (digest {d.number} ended {iso(d.period_end)})",
                d.number,
            )
        ], anchor
    return [], anchor


def _boundary(digests: Sequence[AuditDigest], seq: int) -> str | None:
    """The signed hash record `seq` must follow when it starts a digest period (or follows
    the newest digest); None when it is not at such a boundary."""
    if seq == 1:
        return GENESIS
    start = next((d for d in digests if d.first_seq == seq), None)
    if start is not None:
        return start.start_hash
    return digests[-1].last_hash if digests and digests[-1].last_seq + 1 == seq else None


def _first_of(digests: Sequence[AuditDigest], seq: int) -> int:
    """The first record of the digest period that holds `seq` (where deletion began at the
    latest); 1 before any."""
    for d in digests:
        if d.first_seq <= seq <= d.last_seq:
            return d.first_seq
    return digests[-1].last_seq + 1 if digests and seq > digests[-1].last_seq else 1


def verify(
    records: Sequence[AuditRecord],
    digests: Sequence[AuditDigest],
    keys: Mapping[str, bytes],
    *,
    now: datetime,
    head: Head | None = None,
    start_seq: int | None = None,
    retention: timedelta | None = None,
    deadline: timedelta = DIGEST_DEADLINE,
) -> Verification:
    """Verify `records` (seq order) against every digest (digest order, from digest 1).

    `start_seq`: the first seq of a window that starts at a digest boundary (`--from`),
    anchored at that digest's start_hash; None: the whole stored trail, whose oldest record
    must be record 1 or the start of a digested period pruned after its retention. `head`:
    given when the window reaches the end of the chain."""
    result = Verification(records=len(records), digests=len(digests))
    problems = check_digests(digests, keys)
    if start_seq is None:
        oldest = records[0].seq if records else (head.seq + 1 if head else 1)
        pruned, anchor = check_pruned(oldest, digests, now, retention)
        problems += pruned
        start_seq = oldest
    else:
        anchor = _boundary(digests, start_seq)
    chain, hashes, last = check_records(records, start_seq, anchor)
    problems += chain
    end = last.seq if last else start_seq - 1
    problems += check_against_digests(digests, hashes, start_seq, end)
    if head is not None:
        problems += check_head(head, last, digests)
        problems += check_overdue(records, digests, now, deadline)
    # one problem per cause, in record order
    seen: set[tuple[str, int | None]] = set()
    for p in sorted(problems, key=lambda p: (p.seq is None, p.seq or 0)):
        if (p.kind, p.seq) not in seen:
            seen.add((p.kind, p.seq))
            result.problems.append(p)
    result.first_seq = records[0].seq if records else None
    result.last_seq = last.seq if last else None
    return result


# -- search --------------------------------------------------------------------------------
_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_time(text: str, now: datetime) -> datetime:
    """An ISO 8601 time (UTC unless it says otherwise) or an age: `90m`, `24h`, `7d`."""
    match = _RELATIVE.fullmatch(text.strip())
    if match:
        try:
            return now - timedelta(seconds=float(match[1]) * _UNITS[match[2]])
        except (OverflowError, ValueError):  # an age beyond the calendar
            raise ValueError(f"{text!r}: an age of at most a few thousand years") from None
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{text!r}: give an ISO time (2026-01-31T12:00) or an age (24h, 7d)"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
