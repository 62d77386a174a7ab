"""What one key may hand to another: a key that may create keys grants no more than it has,
and the last key that can do everything is not revoked (the console would have no admin).

A grant is within a caller's policy when every Allow statement of the grant (each action it
names × each resource pattern) is one the caller could use itself: the caller allows that
action on every name the pattern matches, and each of the caller's Deny statements that could
touch the pattern is carried over by a Deny of the grant. Patterns are compared as patterns
(`asset/*` is broader than `asset/a1`; `collection/c1/*` is within `collection/*`), never as
names, so `?` and `*` cannot smuggle in more. The comparison is careful rather than complete:
it may refuse an exotic grant the caller could in fact give, never the other way round.

    grant_excess(caller_policy, new_key_policy)  # None, or the first thing it cannot give

Pure: no I/O."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from primevod.core.access import ACTIONS, ROLE_POLICIES, Policy, PolicyStatement

ADMIN = ROLE_POLICIES["admin"]
LAST_ADMIN = (
    "this is the last active admin key: create another admin key before revoking it "
    "(without one, no key can manage keys)"
)


@lru_cache(maxsize=4096)
def covers(outer: str, inner: str) -> bool:
    """Every name `inner` (a pattern) matches is matched by `outer`: `*` is any run of
    characters, `?` one character; a name without wildcards is a pattern of itself."""
    if not outer:
        return not inner
    if outer[0] == "*":  # nothing of inner, or one more piece of inner, falls in this `*`
        return covers(outer[1:], inner) or (bool(inner) and covers(outer, inner[1:]))
    if not inner or inner[0] == "*":  # only a `*` of outer takes any run of characters
        return False
    if outer[0] == "?" or outer[0] == inner[0] != "?":
        return covers(outer[1:], inner[1:])
    return False


@lru_cache(maxsize=4096)
def overlaps(first: str, second: str) -> bool:
    """Some name matches both patterns."""
    if not first or not second:
        return first.strip("*") == "" and second.strip("*") == ""
    if first[0] == "*":
        return overlaps(first[1:], second) or overlaps(first, second[1:])
    if second[0] == "*":
        return overlaps(first, second[1:]) or overlaps(first[1:], second)
    same = first[0] == "?" or second[0] == "?" or first[0] == second[0]
    return same and overlaps(first[1:], second[1:])


def _actions(patterns: Iterable[str]) -> list[str]:
    """The policy actions a statement's action patterns name."""
    return [a for a in ACTIONS if any(covers(p, a) for p in patterns)]


def _about(policy: Policy, effect: str, action: str) -> list[PolicyStatement]:
    return [
        s
        for s in policy.Statement
        if s.Effect == effect and any(covers(a, action) for a in s.Action)
    ]


def _within(caller: Policy, grant: Policy, action: str, resource: str) -> bool:
    """Whether the caller may `action` on every name `resource` matches that the grant does
    not deny itself."""
    allowed = any(covers(r, resource) for s in _about(caller, "Allow", action) for r in s.Resource)
    if not allowed:
        return False
    carried = [r for s in _about(grant, "Deny", action) for r in s.Resource]
    for denied in (r for s in _about(caller, "Deny", action) for r in s.Resource):
        if overlaps(denied, resource) and not any(covers(g, denied) for g in carried):
            return False
    return True


def grant_excess(caller: Policy, grant: Policy) -> str | None:
    """The first action × resource the grant allows that the caller may not give (a
    sentence for the refusal), or None when the whole grant is within the caller's policy."""
    for statement in grant.Statement:
        if statement.Effect != "Allow":
            continue
        for action in _actions(statement.Action):
            for resource in statement.Resource:
                if not _within(caller, grant, action, resource):
                    return f"{action} on {resource}"
    return None


def is_admin(policy: Policy) -> bool:
    """A policy that allows everything the admin role does."""
    return grant_excess(policy, ADMIN) is None


def last_admin(key_id: str, active: dict[str, Policy]) -> bool:
    """Whether `key_id` is the only active key (id → its effective policy) that is an admin:
    revoking it would leave no key able to manage keys (the local CLI still can)."""
    admins = [k for k, policy in active.items() if is_admin(policy)]
    return admins == [key_id]
