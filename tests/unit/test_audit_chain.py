"""The audit trail's rules (core/audit.py): a clean chain with its signed digests verifies;
any single modification, deletion, insertion or swap of records is detected and the first
bad record named; a deleted or forged digest, a chain rewritten end to end, and a record
waiting too long for a digest are found; pruning whole digested periods stays verifiable."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from primevod.core.audit import (
    GENESIS,
    AuditDigest,
    AuditEntry,
    AuditRecord,
    Head,
    key_id_of,
    next_digest,
    outcome_of,
    parse_time,
    sane_request_id,
    seal,
    verify,
)

T0 = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
PRIVATE = Ed25519PrivateKey.generate()
RAW = PRIVATE.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
KEY_ID = key_id_of(RAW)
KEYS = {KEY_ID: RAW}


def entry(i: int, minutes: float = 0.0) -> AuditEntry:
    return AuditEntry(
        time=T0 + timedelta(minutes=minutes),
        principal=f"k{i % 3}",
        action=["assets:Get", "assets:Delete", "keys:Create"][i % 3],
        resource=f"asset/a{i}",
        outcome="success",
        status=200,
        request_id=f"r{i}",
        route="GET /api/v1/assets/{asset_id}",
        source_ip="127.0.0.1",
        user_agent="test",
    )


def chain(n: int, start: int = 1, prev: str = GENESIS, minutes: float = 0.0) -> list[AuditRecord]:
    records = []
    for seq in range(start, start + n):
        record = seal(entry(seq, minutes + seq / 60), seq, prev)
        records.append(record)
        prev = record.hash
    return records


def sign(d: AuditDigest) -> AuditDigest:
    return replace(d, signature=base64.b64encode(PRIVATE.sign(d.message())).decode())


def digests_for(records: list[AuditRecord], cuts: list[int]) -> list[AuditDigest]:
    """Digests ending at the given seqs."""
    made: list[AuditDigest] = []
    by_seq = {r.seq: r for r in records}
    for i, cut in enumerate(cuts):
        d = next_digest(
            made[-1] if made else None,
            head_seq=cut,
            head_hash=by_seq[cut].hash,
            first_time=records[0].entry.time,
            now=T0 + timedelta(hours=i + 1),
            key_id=KEY_ID,
        )
        assert d is not None
        made.append(sign(d))
    return made


def check(records, digests, *, head=None, now=T0 + timedelta(minutes=30), **kw):
    if head is None and records:
        head = Head(records[-1].seq, records[-1].hash, digests[-1].number if digests else 0)
    return verify(records, digests, KEYS, now=now, head=head, **kw)


def test_a_clean_chain_verifies() -> None:
    records = chain(12)
    digests = digests_for(records, [4, 9])
    result = check(records, digests)
    assert result.ok, result.problems
    assert (result.records, result.digests, result.first_seq, result.last_seq) == (12, 2, 1, 12)
    assert check([], [], head=Head(0, GENESIS, 0)).ok


N = 10
positions = st.integers(min_value=1, max_value=N)


@settings(max_examples=60, deadline=None)
@given(seq=positions, field=st.sampled_from(["principal", "action", "resource", "status"]))
def test_any_modification_is_detected_at_that_record(seq: int, field: str) -> None:
    records = chain(N)
    digests = digests_for(records, [5])
    value = 500 if field == "status" else "evil"
    records[seq - 1] = replace(
        records[seq - 1], entry=replace(records[seq - 1].entry, **{field: value})
    )
    result = check(records, digests, head=Head(N, chain(N)[-1].hash, 1))
    assert not result.ok and result.first_bad.seq == seq
    assert result.first_bad.kind == "record.modified"


@settings(max_examples=60, deadline=None)
@given(seq=positions)
def test_a_modified_and_rehashed_record_is_named(seq: int) -> None:
    """Rehashing the changed record moves the break to the next link: still named. The last
    record of the chain has no next link: the signed digest (or the head) catches it, naming
    the digest's period."""
    records = chain(N)
    digests = digests_for(records, [N])
    changed = replace(records[seq - 1].entry, action="keys:Revoke")
    records[seq - 1] = seal(changed, seq, records[seq - 1].prev_hash)
    result = check(records, digests, head=Head(N, records[-1].hash, 1))
    assert not result.ok and result.first_bad.seq == (seq if seq < N else 1)
    assert result.first_bad.kind == ("record.unchained" if seq < N else "digest.mismatch")


@settings(max_examples=60, deadline=None)
@given(seq=positions)
def test_any_deletion_is_detected(seq: int) -> None:
    original = chain(N)
    digests = digests_for(original, [3, 7])
    records = [r for r in original if r.seq != seq]
    result = check(records, digests, head=Head(N, original[-1].hash, 2))
    assert not result.ok and result.first_bad.seq == seq
    assert result.first_bad.kind == "record.missing"


@settings(max_examples=60, deadline=None)
@given(seq=positions)
def test_a_deleted_record_without_digests_is_named(seq: int) -> None:
    original = chain(N)
    records = [r for r in original if r.seq != seq]
    result = check(records, [], head=Head(N, original[-1].hash, 0))
    assert not result.ok and result.first_bad.seq == seq


@settings(max_examples=60, deadline=None)
@given(seq=positions)
def test_any_insertion_is_detected(seq: int) -> None:
    """A forged record at `seq`, the later ones renumbered after it (and the head moved)."""
    original = chain(N)
    digests = digests_for(original, [N])
    before = original[: seq - 1]
    forged = seal(entry(99), seq, before[-1].hash if before else GENESIS)
    later = [replace(r, seq=r.seq + 1) for r in original[seq - 1 :]]
    records = [*before, forged, *later]
    result = check(records, digests, head=Head(N + 1, records[-1].hash, 1))
    assert not result.ok and result.first_bad.seq == seq


@settings(max_examples=60, deadline=None)
@given(seq=st.integers(min_value=1, max_value=N - 1))
def test_any_swap_of_neighbours_is_detected(seq: int) -> None:
    original = chain(N)
    digests = digests_for(original, [N])
    records = list(original)
    a, b = records[seq - 1], records[seq]
    records[seq - 1], records[seq] = replace(b, seq=a.seq), replace(a, seq=b.seq)
    result = check(records, digests, head=Head(N, original[-1].hash, 1))
    assert not result.ok and result.first_bad.seq == seq


def test_a_chain_rewritten_end_to_end_differs_from_the_signed_digest() -> None:
    original = chain(N)
    digests = digests_for(original, [6])
    # record 3 removed and every later record renumbered and rehashed: self-consistent
    kept = [r.entry for r in original if r.seq != 3]
    records, prev = [], GENESIS
    for seq, e in enumerate(kept, start=1):
        records.append(seal(e, seq, prev))
        prev = records[-1].hash
    result = check(records, digests, head=Head(N - 1, prev, 1))
    assert not result.ok
    assert result.first_bad.kind == "digest.mismatch" and result.first_bad.seq == 1


def test_a_deleted_digest_is_detected() -> None:
    records = chain(N)
    digests = digests_for(records, [3, 6, 9])
    middle = check(records, [digests[0], digests[2]], head=Head(N, records[-1].hash, 3))
    assert middle.first_bad.kind == "digest.missing" and middle.first_bad.seq == 4
    newest = check(records, digests[:2], head=Head(N, records[-1].hash, 3))
    assert newest.first_bad.kind == "digest.missing" and newest.first_bad.seq == 7
    first = check(records, digests[1:], head=Head(N, records[-1].hash, 3))
    assert first.first_bad.kind == "digest.missing" and first.first_bad.seq == 1


def test_a_forged_digest_does_not_verify() -> None:
    records = chain(N)
    digests = digests_for(records, [5, N])
    forged = replace(digests[1], last_seq=N - 1)  # content changed, old signature
    result = check(records, [digests[0], forged], head=Head(N, records[-1].hash, 2))
    assert result.first_bad.kind == "digest.signature" and result.first_bad.seq == 6
    other = Ed25519PrivateKey.generate()
    resigned = replace(forged, signature=base64.b64encode(other.sign(forged.message())).decode())
    assert not check(records, [digests[0], resigned]).ok


def test_a_record_waiting_too_long_for_a_digest_is_a_missing_digest() -> None:
    records = chain(4)
    fresh = check(records, [], now=T0 + timedelta(minutes=30))
    assert fresh.ok
    late = check(records, [], now=T0 + timedelta(hours=3))
    assert late.first_bad.kind == "digest.overdue" and late.first_bad.seq == 1
    assert check(records, digests_for(records, [4]), now=T0 + timedelta(hours=3)).ok


def test_pruned_periods_keep_the_chain_verifiable() -> None:
    records = chain(N)
    digests = digests_for(records, [4, 8])
    kept = records[4:]  # digest 1's records pruned
    now = T0 + timedelta(days=30)
    head = Head(N, records[-1].hash, 2)
    result = check(kept, digests, head=head, now=now, retention=timedelta(days=7))
    # intact; only records 9 and 10 wait (too long) for a digest
    assert [(p.kind, p.seq) for p in result.problems] == [("digest.overdue", 9)]
    assert check(
        kept,
        [*digests, *digests_for(records, [4, 8, N])[2:]],
        head=Head(N, records[-1].hash, 3),
        now=now,
        retention=timedelta(days=7),
    ).ok
    # not a whole period: deletion
    inside = check(records[5:], digests, head=head, now=now, retention=timedelta(days=7))
    assert inside.first_bad.kind == "record.missing" and inside.first_bad.seq == 5
    # pruned inside the retention: deletion, not pruning
    early = check(
        kept, digests, head=head, now=T0 + timedelta(hours=3), retention=timedelta(days=7)
    )
    assert early.first_bad.kind == "record.missing" and early.first_bad.seq == 1


def test_a_window_starts_at_a_digest_boundary() -> None:
    records = chain(N)
    digests = digests_for(records, [4, 8])
    window = verify(records[4:8], digests, KEYS, now=T0, start_seq=5)
    assert window.ok
    tampered = [*records[4:6], replace(records[6], hash="0" * 64), records[7]]
    assert verify(tampered, digests, KEYS, now=T0, start_seq=5).first_bad.seq == 7


def test_entries_are_clipped_and_helpers() -> None:
    long = replace(entry(1), user_agent="x" * 1000)
    assert len(seal(long, 1, GENESIS).entry.user_agent or "") == 256
    assert [outcome_of(s) for s in (200, 302, 401, 403, 404, 500)] == [
        "success", "success", "denied", "denied", "failed", "error",
    ]  # fmt: skip
    assert sane_request_id("abc-123") == "abc-123"
    assert sane_request_id("a b") is None and sane_request_id("x" * 200) is None
    assert parse_time("2h", T0) == T0 - timedelta(hours=2)
    assert parse_time("2026-12-05T08:00", T0) == datetime(2026, 12, 5, 8, tzinfo=UTC)
    with pytest.raises(ValueError):
        parse_time("yesterday", T0)


def test_an_age_beyond_the_calendar_is_refused() -> None:
    from datetime import UTC, datetime

    from primevod.core.audit import parse_time

    for text in ("99999999d", "9" * 30 + "d", "1000000000h"):
        with pytest.raises(ValueError, match="at most"):
            parse_time(text, datetime.now(UTC))
