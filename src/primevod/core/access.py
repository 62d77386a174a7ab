"""Access policies (IAM's model): statements of Effect, Action and Resource, evaluated for one
action on one resource. An explicit Deny wins over any Allow; with no matching statement the
answer is no. Wildcards: `*` (any run of characters, `/` included) and `?` (one character),
in actions (`assets:*`) and resources (`asset/*`, `collection/course-1/*`).

An asset is known by two names: `asset/<id>` and, when it is in a collection,
`collection/<name>/asset/<id>`; a statement about either name is about the asset. Actions
that are not about one asset (alarms, subscriptions, keys) have the resource `*`.

    decision = decide(policy, "assets:Delete", asset_resources("a1", "course-1"))
    decision.allowed, decision.reason

The three roles of earlier keys are predefined policies (ROLE_POLICIES). Pure: no I/O."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from primevod.core.api_keys import CUSTOM, ROLES
from primevod.core.json_documents import load_document

T = TypeVar("T")

ACTIONS = (
    "assets:List",
    "assets:Get",
    "assets:Retry",
    "assets:Cancel",
    "assets:Delete",
    "assets:Update",
    "assets:Share",
    "analytics:Query",
    "analytics:Refresh",
    "uploads:Create",
    "uploads:List",
    "playback:Get",
    "playback:Invalidate",
    "events:List",
    "executions:Get",
    "subscriptions:List",
    "subscriptions:Create",
    "subscriptions:Delete",
    "subscriptions:Receive",
    "subscriptions:Replay",
    "alarms:Get",
    "alarms:Evaluate",
    "canary:Get",
    "canary:Run",
    "metrics:Get",
    "dashboard:Get",
    "keys:Create",
    "keys:List",
    "keys:Revoke",
    "budget:Override",
    "audit:Get",
    "audit:Digest",
    "signing:CreateKey",
    "signing:RetireKey",
    "lifecycle:Apply",
    "kms:Get",
    "kms:Rotate",
)
ANY = "*"
COLLECTION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def _one_or_many(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


class PolicyStatement(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    Sid: str | None = Field(None, max_length=128)
    Effect: Literal["Allow", "Deny"]
    Action: list[str] = Field(min_length=1)
    Resource: list[str] = Field(default_factory=lambda: [ANY], min_length=1)

    @field_validator("Action", "Resource", mode="before")
    @classmethod
    def _listed(cls, value: object) -> object:
        return _one_or_many(value) if isinstance(value, str | list) else value

    @field_validator("Action")
    @classmethod
    def _known_actions(cls, actions: list[str]) -> list[str]:
        for action in actions:
            if not any(_matches(action, known) for known in ACTIONS):
                raise ValueError(f"no action matches {action!r} (actions: {', '.join(ACTIONS)})")
        return actions


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    Version: Literal["2026-12-01"] = "2026-12-01"
    Statement: list[PolicyStatement] = Field(min_length=1, max_length=100)


class PolicyError(ValueError):
    """A policy document that cannot be used, with where it is wrong."""


def load_policy(text: str, name: str = "policy") -> Policy:
    return load_document(Policy, text, name, PolicyError)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    action: str
    resource: str  # the name that decided (the first name when none did)
    statement: int | None  # index of the deciding statement; None: no statement matched
    sid: str | None = None

    @property
    def reason(self) -> str:
        if self.statement is None:
            return f"no statement allows {self.action} on {self.resource} (implicit deny)"
        label = f"statement {self.statement}" + (f" ({self.sid})" if self.sid else "")
        verb = "allows" if self.allowed else "denies"
        return f"{label} {verb} {self.action} on {self.resource}"


@lru_cache(maxsize=4096)
def _pattern(glob: str) -> re.Pattern[str]:
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob)
    return re.compile("".join(parts), re.DOTALL)


def _matches(glob: str, value: str) -> bool:
    return _pattern(glob).fullmatch(value) is not None


def decide(policy: Policy, action: str, resources: str | Sequence[str] = ANY) -> Decision:
    """Whether `policy` lets `action` happen on the resource known by `resources`."""
    names = _one_or_many(resources) if isinstance(resources, str) else list(resources)
    allow: Decision | None = None
    for index, statement in enumerate(policy.Statement):
        if not any(_matches(a, action) for a in statement.Action):
            continue
        hit = next((n for n in names if any(_matches(r, n) for r in statement.Resource)), None)
        if hit is None:
            continue
        decision = Decision(statement.Effect == "Allow", action, hit, index, statement.Sid)
        if not decision.allowed:
            return decision  # an explicit deny wins
        allow = allow or decision
    return allow or Decision(False, action, names[0] if names else ANY, None)


def asset_resources(asset_id: str, collection: str | None = None) -> list[str]:
    """The names an asset is known by in statements."""
    names = [f"asset/{asset_id}"]
    if collection:
        names.append(f"collection/{collection}/asset/{asset_id}")
    return names


def listable(principal: Principal, assets: Iterable[T]) -> list[T]:
    """The assets a principal's policy lets it list (`assets:List` on each asset's names):
    a page of the library or of a search, as the API and the CLI show it."""
    return [
        a
        for a in assets
        if principal.decide("assets:List", asset_resources(a.id, a.collection)).allowed  # type: ignore[attr-defined]
    ]


def check_collection(name: str) -> str:
    if not COLLECTION.fullmatch(name):
        raise ValueError(
            f"collection {name!r}: 1-64 letters, digits, '.', '_' or '-', starting with a "
            "letter or digit"
        )
    return name


def _role(*actions: str) -> Policy:
    return Policy(Statement=[PolicyStatement(Sid="role", Effect="Allow", Action=list(actions))])


VIEWER_ACTIONS = (
    "assets:List",
    "assets:Get",
    "playback:Get",
    "events:List",
    "executions:Get",
    "alarms:Get",
    "canary:Get",
    "metrics:Get",
)
UPLOADER_ACTIONS = (
    *VIEWER_ACTIONS,
    "uploads:Create",
    "uploads:List",
    "assets:Retry",
    "assets:Cancel",
    "assets:Update",
    "assets:Share",  # a link anyone may watch with: people who publish, not every viewer
)
ROLE_POLICIES: dict[str, Policy] = {
    "admin": _role("*"),
    "uploader": _role(*UPLOADER_ACTIONS),
    "viewer": _role(*VIEWER_ACTIONS),
}


@dataclass(frozen=True)
class Principal:
    """Who calls: the key's id, its role, and the policy that decides for it."""

    key_id: str
    role: str
    policy: Policy

    def decide(self, action: str, resources: str | Sequence[str] = ANY) -> Decision:
        return decide(self.policy, action, resources)


def principal_of(key_id: str, role: str, policy: dict[str, object] | None) -> Principal:
    """A stored key as a principal: its own policy, else its role's (no role: nothing)."""
    if policy:
        return Principal(key_id, role, Policy.model_validate(policy))
    return Principal(key_id, role, ROLE_POLICIES.get(role, NOTHING))


NOTHING = Policy(Statement=[PolicyStatement(Effect="Deny", Action=["*"])])


def key_grant(
    role: str | None, policy_text: str | None, source: str = "policy"
) -> tuple[str, dict[str, object] | None]:
    """A new API key's role label and policy document, as `primevod keys create` and the
    API's key route take them: a role (admin, uploader, viewer), or a policy document (JSON)
    with an optional role as its label. ValueError (PolicyError: where the document is wrong)."""
    if role is None and policy_text is None:
        raise ValueError("give a role or a policy")
    if role is not None and role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    document = None
    if policy_text is not None:
        document = load_policy(policy_text, source).model_dump(exclude_none=True)
    return role or CUSTOM, document
