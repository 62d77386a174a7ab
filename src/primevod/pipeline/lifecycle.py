"""The local lifecycle engine: the rules of the lifecycle document (S3's
`LifecycleConfiguration`, core/lifecycle.py) applied to the local store's source and
destination buckets, as S3 applies a bucket's rules.

    plan = plan_actions(rt, read_rules(rt.settings), as_of=now)   # what is due, nothing changed
    outcome = apply_plan(rt, plan)                                # and now done

A transition moves the object to its class's tier; an expiration deletes the object (in a
versioned bucket it becomes a noncurrent version, which a NoncurrentVersionExpiration rule
removes later) and records an event: `source.expired` on the asset whose source it was,
`object.expired` for anything else and for old versions; an abort removes an abandoned
multipart upload (and closes its upload session). The source of an asset still in its
workflow is never expired. An asset whose source expired keeps its package and plays; a new
encode of it fails with `source.expired` (`require_source`)."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from primevod.adapters.lifecycle_files import DEFAULT, read_lifecycle
from primevod.core.assets import TERMINAL, Asset, Event
from primevod.core.errors import MediaError, NotFound
from primevod.core.layout import asset_of_source
from primevod.core.lifecycle import (
    Action,
    LifecycleConfiguration,
    ObjectFacts,
    UploadFacts,
    due_actions,
)
from primevod.core.storage import StoreError, UploadNotFound
from primevod.observability import metrics
from primevod.pipeline.runtime import Runtime
from primevod.ports.object_store import LifecycleStore

log = logging.getLogger("primevod.lifecycle")
SOURCE_EXPIRED = "source_expired"  # the asset metadata key that records it


class LifecycleUnsupported(RuntimeError):
    """The store keeps no storage classes or versions of its own (S3 applies its bucket's
    lifecycle configuration itself)."""


@dataclass(frozen=True)
class PlannedAction:
    """One due action in one bucket, with the object's class and size now; `held` says why
    it waits (the source of an asset still in its workflow)."""

    bucket: str
    action: Action
    current_class: str | None = None  # None for a multipart upload
    size: int = 0
    held: str | None = None

    def row(self) -> dict[str, Any]:
        a = self.action
        return {
            "bucket": self.bucket,
            "key": a.key,
            "action": a.kind,
            "rule": a.rule,
            "due": a.due.isoformat(),
            "storage_class": a.storage_class,
            "current_class": self.current_class,
            "version_id": a.version_id,
            "upload_id": a.upload_id,
            "size": self.size,
            "held": self.held,
        }


@dataclass
class Plan:
    as_of: datetime
    document: str
    actions: list[PlannedAction] = field(default_factory=list)
    # (bucket, class) -> [objects, bytes] of the current objects
    classes: dict[tuple[str, str], list[int]] = field(default_factory=dict)

    def class_rows(self) -> list[dict[str, Any]]:
        return [
            {"bucket": bucket, "storage_class": cls, "objects": n, "bytes": size}
            for (bucket, cls), (n, size) in sorted(self.classes.items())
        ]


@dataclass
class Outcome:
    applied: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self.applied:
            counts[row["action"]] = counts.get(row["action"], 0) + 1
        return counts


def read_rules(settings: Any) -> tuple[LifecycleConfiguration, str]:
    """The configured document (`lifecycle`, PRIMEVOD_LIFECYCLE) or the shipped one, and its
    name. Raises core.lifecycle.LifecycleError naming the line or the field."""
    path = settings.lifecycle
    return read_lifecycle(path), str(path) if path else DEFAULT


def lifecycle_buckets(rt: Runtime) -> list[str]:
    """The buckets the rules apply to: both media buckets, like the AWS stack's."""
    settings = rt.settings
    return list(dict.fromkeys([settings.source_bucket, settings.destination_bucket]))


def _store(rt: Runtime) -> LifecycleStore:
    if not isinstance(rt.store, LifecycleStore):
        raise LifecycleUnsupported(
            f"store = {rt.settings.store!r}: an S3 bucket applies its own lifecycle "
            "configuration (the AWS stack sets it from the same document)"
        )
    return rt.store


def plan_actions(
    rt: Runtime, config: LifecycleConfiguration, *, as_of: datetime, document: str = DEFAULT
) -> Plan:
    """What the rules make due by `as_of` in each bucket; changes nothing."""
    store = _store(rt)
    plan = Plan(as_of=as_of, document=document)
    for bucket in lifecycle_buckets(rt):
        sizes: dict[tuple[str, str | None], tuple[str, int]] = {}
        objects: list[ObjectFacts] = []
        for info in rt.store.list(bucket):
            objects.append(ObjectFacts(info.key, info.last_modified, info.storage_class, info.tags))
            sizes[(info.key, None)] = (info.storage_class, info.size)
            tally = plan.classes.setdefault((bucket, info.storage_class), [0, 0])
            tally[0] += 1
            tally[1] += info.size
        for old in store.noncurrent_versions(bucket):
            v = old.info
            objects.append(
                ObjectFacts(
                    v.key,
                    v.last_modified,
                    v.storage_class,
                    v.tags,
                    noncurrent_since=old.noncurrent_since,
                    version_id=v.version_id,
                )
            )
            sizes[(v.key, v.version_id)] = (v.storage_class, v.size)
        uploads = [
            UploadFacts(u.key, u.upload_id, u.initiated)
            for u in rt.store.list_multipart_uploads(bucket)
        ]
        for action in due_actions(config, objects, uploads, as_of=as_of):
            current, size = sizes.get((action.key, action.version_id), (None, 0))
            plan.actions.append(
                PlannedAction(
                    bucket,
                    action,
                    current_class=None if action.kind == "abort_upload" else current,
                    size=size,
                    held=_held(rt, bucket, action),
                )
            )
    plan.actions.sort(key=lambda p: (p.action.due, p.bucket, p.action.key))
    return plan


def _source_asset(rt: Runtime, bucket: str, key: str) -> Asset | None:
    """The asset whose current source this object is, if any."""
    asset_id = asset_of_source(key)
    if asset_id is None or bucket != rt.settings.source_bucket:
        return None
    try:
        asset = rt.catalog.get_asset(asset_id)
    except NotFound:
        return None
    return asset if (asset.source_bucket, asset.source_key) == (bucket, key) else None


def _held(rt: Runtime, bucket: str, action: Action) -> str | None:
    if action.kind != "expire":
        return None
    asset = _source_asset(rt, bucket, action.key)
    if asset is not None and asset.status not in TERMINAL:
        return f"the source of asset {asset.id}, which is {asset.status.value}"
    return None


def apply_plan(rt: Runtime, plan: Plan) -> Outcome:
    """Carry the plan out, action by action: one that fails is reported and the rest go on."""
    store = _store(rt)
    outcome = Outcome()
    for planned in plan.actions:
        if planned.held:
            continue
        row = planned.row()
        try:
            _apply(rt, store, planned)
        except (StoreError, OSError) as exc:
            outcome.failed.append({**row, "error": str(exc)})
            log.warning(
                "lifecycle %s of %s/%s failed: %s", row["action"], planned.bucket, row["key"], exc
            )
            continue
        outcome.applied.append(row)
        metrics.inc("primevod_lifecycle_actions_total", action=planned.action.kind)
    if outcome.applied or outcome.failed:
        log.info(
            "lifecycle as of %s: %s%s",
            plan.as_of.isoformat(),
            ", ".join(f"{n} {kind}" for kind, n in sorted(outcome.counts().items())) or "nothing",
            f", {len(outcome.failed)} failed" if outcome.failed else "",
        )
    return outcome


def _apply(rt: Runtime, store: LifecycleStore, planned: PlannedAction) -> None:
    a, bucket = planned.action, planned.bucket
    if a.kind == "transition":
        store.set_storage_class(bucket, a.key, a.storage_class or "STANDARD")
    elif a.kind == "expire":
        # recorded first: a crash in between leaves the object for the next run, never an
        # asset whose source vanished without a word
        _record_expiry(rt, planned)
        rt.store.delete(bucket, a.key)
    elif a.kind == "expire_version":
        store.delete_version(bucket, a.key, a.version_id or "null")
        _record_expiry(rt, planned)
    else:
        with contextlib.suppress(UploadNotFound):  # gone meanwhile
            rt.store.abort_multipart(bucket, a.key, a.upload_id or "")
        _close_upload_session(rt, a.upload_id or "")


def _record_expiry(rt: Runtime, planned: PlannedAction) -> None:
    a = planned.action
    data = {
        "bucket": planned.bucket,
        "key": a.key,
        "rule": a.rule,
        "due": a.due.isoformat(),
        "version_id": a.version_id,
        "storage_class": planned.current_class,
        "size": planned.size,
    }
    asset = None if a.version_id else _source_asset(rt, planned.bucket, a.key)
    if asset is None:
        rt.catalog.emit(Event(type="object.expired", data=data))
        return
    rt.catalog.update_asset(
        asset.id,
        metadata={**asset.metadata, SOURCE_EXPIRED: data},
        event_type="source.expired",
        event_data=data,
    )


def _close_upload_session(rt: Runtime, upload_id: str) -> None:
    try:
        session = rt.catalog.get_upload(upload_id)
    except NotFound:
        return  # a multipart upload no session started (or the S3 API's own)
    if session.status == "open":
        rt.catalog.update_upload(upload_id, status="expired")


def require_source(rt: Runtime, asset: Asset) -> None:
    """Raise `source.expired` when the lifecycle rules removed the asset's source: its
    package still plays, but it cannot be encoded again."""
    expired = asset.metadata.get(SOURCE_EXPIRED)
    if not expired or rt.store.exists(asset.source_bucket, asset.source_key):
        return
    raise MediaError(
        "source.expired",
        f"the source {asset.source_bucket}/{asset.source_key} of asset {asset.id} was "
        f"expired by lifecycle rule {expired.get('rule')!r} (due {expired.get('due')}); the "
        "published package is kept and still plays, but the asset cannot be encoded again",
    )
