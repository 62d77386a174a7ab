"""What a key may grant (core/key_grants.py): pattern containment and overlap checked against
real names, grants within and beyond a caller's policy, denies carried over, and the last
admin key."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from primevod.core.access import ROLE_POLICIES, Policy, PolicyStatement
from primevod.core.key_grants import covers, grant_excess, is_admin, last_admin, overlaps

pieces = st.sampled_from(["a", "b", "/", "*", "?"])
patterns = st.lists(pieces, max_size=6).map("".join)
names = st.lists(st.sampled_from(["a", "b", "/"]), max_size=7).map("".join)


def matches(pattern: str, name: str) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, name, re.DOTALL) is not None


@given(patterns, patterns, names)
def test_a_covered_pattern_matches_nothing_its_cover_does_not(outer, inner, name) -> None:
    if covers(outer, inner) and matches(inner, name):
        assert matches(outer, name)


@given(patterns, patterns, names)
def test_two_patterns_that_match_one_name_overlap(first, second, name) -> None:
    if matches(first, name) and matches(second, name):
        assert overlaps(first, second)


def test_patterns_compared_as_patterns_not_names() -> None:
    assert covers("collection/*", "collection/c1/*")
    assert not covers("collection/c1/*", "collection/*")
    assert not covers("asset/?", "asset/*")  # `?` is one character, `*` any run
    assert covers("asset/*", "asset/?")
    assert not overlaps("asset/a*", "asset/b*")
    assert overlaps("asset/a*", "*b")


def policy(*statements: dict) -> Policy:
    return Policy(Statement=[PolicyStatement.model_validate(s) for s in statements])


def allow(action: str | list[str], resource: str = "*") -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def deny(action: str, resource: str) -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource}


def test_a_grant_within_the_callers_policy_passes() -> None:
    caller = policy(allow(["keys:Create", "assets:*"], "collection/c1/*"))
    assert grant_excess(caller, policy(allow("assets:Get", "collection/c1/asset/*"))) is None
    assert grant_excess(ROLE_POLICIES["admin"], ROLE_POLICIES["admin"]) is None


def test_a_grant_beyond_the_callers_policy_names_what_it_may_not_give() -> None:
    caller = policy(allow(["keys:Create", "assets:*"], "collection/c1/*"))
    assert grant_excess(caller, ROLE_POLICIES["viewer"]) == "assets:List on *"
    assert grant_excess(caller, policy(allow("assets:Get", "collection/*"))) == (
        "assets:Get on collection/*"
    )
    assert grant_excess(caller, policy(allow("kms:*"))) == "kms:Get on *"


def test_a_callers_deny_must_be_carried_over() -> None:
    caller = policy(allow("assets:*"), deny("assets:Delete", "collection/archive/*"))
    assert grant_excess(caller, policy(allow("assets:*"))) == "assets:Delete on *"
    carried = policy(allow("assets:*"), deny("assets:*", "collection/*"))
    assert grant_excess(caller, carried) is None
    apart = policy(allow("assets:Delete", "collection/news/*"))  # never touches the archive
    assert grant_excess(caller, apart) is None


def test_the_last_admin() -> None:
    admin, viewer = ROLE_POLICIES["admin"], ROLE_POLICIES["viewer"]
    everything = policy(allow("*"))
    assert is_admin(everything) and not is_admin(viewer)
    assert last_admin("a", {"a": admin, "v": viewer})
    assert not last_admin("a", {"a": admin, "b": everything})
    assert not last_admin("v", {"a": admin, "v": viewer})
