"""Lifecycle rules in S3's `LifecycleConfiguration` JSON (the API's field names), read once
and used twice: the AWS stack applies them to its source bucket, and the local lifecycle
engine evaluates them against the local store.

    config = load_lifecycle(text, "default.json")        # refused with the line or field
    actions = due_actions(config, objects, uploads, as_of=now)

S3's day arithmetic: an action is due at the object's creation time plus its days, rounded
up to the next midnight UTC (a noncurrent version counts from when it became noncurrent).
When an object is due for expiration, its transitions are moot. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from primevod.core.json_documents import load_document

# colder to the right: a transition never moves an object back to the left
STORAGE_CLASSES = (
    "STANDARD",
    "INTELLIGENT_TIERING",
    "STANDARD_IA",
    "ONEZONE_IA",
    "GLACIER_IR",
    "GLACIER",
    "DEEP_ARCHIVE",
)
TargetClass = Literal[
    "INTELLIGENT_TIERING", "STANDARD_IA", "ONEZONE_IA", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"
]


class _S3(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class S3Tag(_S3):
    Key: str = Field(min_length=1, max_length=128)
    Value: str = Field(max_length=256)


class AndFilter(_S3):
    Prefix: str | None = None
    Tags: list[S3Tag] = []


class RuleFilter(_S3):
    Prefix: str | None = None
    Tag: S3Tag | None = None
    And: AndFilter | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> RuleFilter:
        given = [k for k in ("Prefix", "Tag", "And") if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError(f"one of Prefix, Tag, And (not {' and '.join(given)}); use And")
        return self

    def matches(self, key: str, tags: dict[str, str]) -> bool:
        prefix = self.And.Prefix if self.And else self.Prefix
        wanted = self.And.Tags if self.And else ([self.Tag] if self.Tag else [])
        return key.startswith(prefix or "") and all(tags.get(t.Key) == t.Value for t in wanted)


class S3Transition(_S3):
    Days: int = Field(ge=0)
    StorageClass: TargetClass


class S3Expiration(_S3):
    Days: int = Field(ge=1)


class S3NoncurrentExpiration(_S3):
    NoncurrentDays: int = Field(ge=1)


class S3AbortUpload(_S3):
    DaysAfterInitiation: int = Field(ge=1)


class Rule(_S3):
    ID: str = Field(min_length=1, max_length=255)
    Status: Literal["Enabled", "Disabled"]
    Filter: RuleFilter = RuleFilter()
    Transitions: list[S3Transition] = []
    Expiration: S3Expiration | None = None
    NoncurrentVersionExpiration: S3NoncurrentExpiration | None = None
    AbortIncompleteMultipartUpload: S3AbortUpload | None = None

    @model_validator(mode="after")
    def _does_something(self) -> Rule:
        actions = (
            self.Transitions,
            self.Expiration,
            self.NoncurrentVersionExpiration,
            self.AbortIncompleteMultipartUpload,
        )
        if not any(actions):
            raise ValueError("a rule needs at least one action")
        if self.Expiration and any(t.Days >= self.Expiration.Days for t in self.Transitions):
            raise ValueError("a transition must come before the expiration")
        return self


class LifecycleConfiguration(_S3):
    Rules: list[Rule] = Field(min_length=1, max_length=1000)

    @model_validator(mode="after")
    def _unique_ids(self) -> LifecycleConfiguration:
        ids = [r.ID for r in self.Rules]
        if len(ids) != len(set(ids)):
            raise ValueError("rule IDs must be unique")
        return self


class LifecycleError(ValueError):
    """A lifecycle document that cannot be used, with where it is wrong."""


def load_lifecycle(text: str, name: str = "lifecycle") -> LifecycleConfiguration:
    return load_document(LifecycleConfiguration, text, name, LifecycleError)


# -- evaluation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ObjectFacts:
    """An object version as the rules see it: `noncurrent_since` is set for a version that a
    newer one replaced (None: the current version)."""

    key: str
    created: datetime
    storage_class: str = "STANDARD"
    tags: dict[str, str] = field(default_factory=dict)
    noncurrent_since: datetime | None = None
    version_id: str | None = None


@dataclass(frozen=True)
class UploadFacts:
    key: str
    upload_id: str
    initiated: datetime


@dataclass(frozen=True)
class Action:
    kind: Literal["transition", "expire", "expire_version", "abort_upload"]
    key: str
    rule: str
    due: datetime
    storage_class: str | None = None
    version_id: str | None = None
    upload_id: str | None = None


def due_at(start: datetime, days: int) -> datetime:
    """S3's rule: start plus the days, rounded up to the next midnight UTC."""
    moment = start.astimezone(UTC) + timedelta(days=days)
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight if midnight == moment else midnight + timedelta(days=1)


def due_actions(
    config: LifecycleConfiguration,
    objects: Iterable[ObjectFacts],
    uploads: Iterable[UploadFacts] = (),
    *,
    as_of: datetime,
) -> list[Action]:
    """What the enabled rules make due by `as_of`: at most one action per object version
    (an expiration, else the coldest transition due) and per upload."""
    rules = [r for r in config.Rules if r.Status == "Enabled"]
    actions = [a for o in objects if (a := _object_action(rules, o, as_of)) is not None]
    for upload in uploads:
        for rule in rules:
            abort = rule.AbortIncompleteMultipartUpload
            if abort and rule.Filter.matches(upload.key, {}):
                when = due_at(upload.initiated, abort.DaysAfterInitiation)
                if when <= as_of:
                    actions.append(
                        Action(
                            "abort_upload", upload.key, rule.ID, when, upload_id=upload.upload_id
                        )
                    )
                    break
    return actions


def _object_action(rules: list[Rule], obj: ObjectFacts, as_of: datetime) -> Action | None:
    matching = [r for r in rules if r.Filter.matches(obj.key, obj.tags)]
    if obj.noncurrent_since is not None:
        for rule in matching:
            gone = rule.NoncurrentVersionExpiration
            if gone and (when := due_at(obj.noncurrent_since, gone.NoncurrentDays)) <= as_of:
                return Action("expire_version", obj.key, rule.ID, when, version_id=obj.version_id)
        return None
    for rule in matching:
        if rule.Expiration and (when := due_at(obj.created, rule.Expiration.Days)) <= as_of:
            return Action("expire", obj.key, rule.ID, when)
    scheduled = [
        (STORAGE_CLASSES.index(t.StorageClass), due_at(obj.created, t.Days), t, rule)
        for rule in matching
        for t in rule.Transitions
    ]
    due = [d for d in scheduled if d[1] <= as_of]
    current = (
        STORAGE_CLASSES.index(obj.storage_class) if obj.storage_class in STORAGE_CLASSES else 0
    )
    colder = [d for d in due if d[0] > current]
    if not colder:
        return None
    _, when, transition, rule = max(colder, key=lambda d: d[0])
    return Action("transition", obj.key, rule.ID, when, storage_class=transition.StorageClass)


# -- S3's own limits -----------------------------------------------------------------------

# S3 refuses a lifecycle rule that moves objects younger than this into these classes
S3_MIN_TRANSITION_DAYS = {"STANDARD_IA": 30, "ONEZONE_IA": 30}


def deployable_on_s3(config: LifecycleConfiguration) -> tuple[LifecycleConfiguration, list[str]]:
    """The rules as S3 takes them, and what had to go: a transition to Standard-IA or One
    Zone-IA before day 30 (S3 refuses the rule), which the local engine still applies."""
    notes: list[str] = []
    rules = []
    for rule in config.Rules:
        kept = []
        for t in rule.Transitions:
            least = S3_MIN_TRANSITION_DAYS.get(t.StorageClass, 0)
            if t.Days < least:
                notes.append(
                    f"{rule.ID}: the transition to {t.StorageClass} at day {t.Days} is left out "
                    f"on S3, which needs {least} days in STANDARD first"
                )
            else:
                kept.append(t)
        rules.append(rule.model_copy(update={"Transitions": kept}))
    return LifecycleConfiguration(Rules=rules), notes
