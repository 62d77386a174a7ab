"""Access policies (core/access.py): deny always wins, no statement no access, wildcards as
IAM reads them, the roles as predefined policies, and bad documents refused by name."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from primevod.core.access import (
    ACTIONS,
    ROLE_POLICIES,
    Policy,
    PolicyError,
    PolicyStatement,
    asset_resources,
    check_collection,
    decide,
    load_policy,
)

names = st.from_regex(r"[a-z0-9][a-z0-9-]{0,8}", fullmatch=True)
actions = st.sampled_from(ACTIONS)
action_globs = st.one_of(actions, st.just("*"), actions.map(lambda a: a.split(":")[0] + ":*"))
resource_globs = st.one_of(
    st.just("*"),
    st.just("asset/*"),
    names.map(lambda n: f"asset/{n}"),
    names.map(lambda n: f"collection/{n}/*"),
)
statements = st.builds(
    PolicyStatement,
    Effect=st.sampled_from(["Allow", "Deny"]),
    Action=st.lists(action_globs, min_size=1, max_size=3),
    Resource=st.lists(resource_globs, min_size=1, max_size=3),
)
policies = st.lists(statements, min_size=1, max_size=6).map(lambda s: Policy(Statement=s))


@given(policies, actions, names, st.none() | names)
def test_an_explicit_deny_always_wins(policy: Policy, action: str, asset: str, coll) -> None:
    resources = asset_resources(asset, coll)
    denied = any(
        s.Effect == "Deny"
        and decide(
            Policy(Statement=[s.model_copy(update={"Effect": "Allow"})]), action, resources
        ).allowed
        for s in policy.Statement
    )
    decision = decide(policy, action, resources)
    if denied:
        assert not decision.allowed and decision.statement is not None
    assert decision.allowed == (
        not denied
        and any(
            s.Effect == "Allow" and decide(Policy(Statement=[s]), action, resources).allowed
            for s in policy.Statement
        )
    )


@given(policies, actions, names)
def test_no_matching_statement_is_no_access(policy: Policy, action: str, asset: str) -> None:
    unrelated = Policy(
        Statement=[s for s in policy.Statement if s.Effect == "Deny"]
        or [PolicyStatement(Effect="Deny", Action=["*"], Resource=["nothing/here"])]
    )
    decision = decide(unrelated, action, asset_resources(asset))
    assert not decision.allowed


def test_a_collection_statement_covers_its_assets_and_no_other() -> None:
    policy = load_policy(
        json.dumps(
            {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["assets:*", "playback:Get"],
                        "Resource": "collection/course-1/*",
                    },
                    {"Sid": "keep", "Effect": "Deny", "Action": "assets:Delete", "Resource": "*"},
                ]
            }
        )
    )
    mine, other = asset_resources("a1", "course-1"), asset_resources("a2", "course-2")
    assert decide(policy, "assets:Get", mine).allowed
    assert decide(policy, "playback:Get", mine).allowed
    assert not decide(policy, "assets:Get", other).allowed
    assert not decide(policy, "assets:Get", asset_resources("a3")).allowed  # no collection
    delete = decide(policy, "assets:Delete", mine)
    assert (
        not delete.allowed
        and delete.reason == "statement 1 (keep) denies assets:Delete on asset/a1"
    )
    assert not decide(policy, "alarms:Evaluate").allowed


def test_the_roles_are_policies() -> None:
    viewer, uploader, admin = (ROLE_POLICIES[r] for r in ("viewer", "uploader", "admin"))
    anything = asset_resources("a1", "c")
    assert decide(viewer, "assets:Get", anything).allowed
    assert not decide(viewer, "assets:Retry", anything).allowed
    assert decide(uploader, "uploads:Create").allowed
    assert not decide(uploader, "assets:Delete", anything).allowed
    assert all(decide(admin, a, anything).allowed for a in ACTIONS)


@pytest.mark.parametrize(
    ("document", "named"),
    [
        ({"Statement": [{"Effect": "Allow", "Action": "nope:Get"}]}, "Statement.0.Action"),
        ({"Statement": [{"Effect": "Permit", "Action": "*"}]}, "Statement.0.Effect"),
        ({"Statement": []}, "Statement"),
        ({"Statement": [{"Effect": "Allow", "Action": "*", "Extra": 1}]}, "Statement.0.Extra"),
    ],
)
def test_a_bad_policy_is_refused_naming_the_place(document: dict, named: str) -> None:
    with pytest.raises(PolicyError, match=rf"^mine\.json: {named}"):
        load_policy(json.dumps(document), "mine.json")


def test_collection_names_are_checked() -> None:
    assert check_collection("course-1") == "course-1"
    for bad in ("", "-x", "a/b", "a" * 65, "a*"):
        with pytest.raises(ValueError, match="collection"):
            check_collection(bad)
