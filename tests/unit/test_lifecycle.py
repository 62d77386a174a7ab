"""The lifecycle document (core/lifecycle.py, lifecycle/default.json): S3's format and day
arithmetic on a fake clock, the seed's rules, bad documents refused with the place named,
and what S3 itself would refuse."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from primevod.adapters.lifecycle_files import read_lifecycle
from primevod.core.lifecycle import (
    LifecycleError,
    ObjectFacts,
    UploadFacts,
    deployable_on_s3,
    due_actions,
    due_at,
    load_lifecycle,
)

DEFAULT = read_lifecycle()
CREATED = datetime(2026, 1, 1, 10, 30, tzinfo=UTC)


def day(n: int, hour: int = 0) -> datetime:
    """Midnight UTC n days after the creation day (S3 rounds up to midnight)."""
    return datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=n, hours=hour)


def actions_on(*objects: ObjectFacts, at: datetime) -> list[tuple[str, str, str | None]]:
    return [(a.kind, a.key, a.storage_class) for a in due_actions(DEFAULT, objects, as_of=at)]


def test_s3_rounds_the_due_time_up_to_the_next_midnight() -> None:
    assert due_at(CREATED, 7) == day(8)
    assert due_at(day(3), 7) == day(10)  # already at midnight: no rounding


def test_an_upload_moves_to_infrequent_access_at_day_7_and_expires_at_day_30() -> None:
    source = ObjectFacts("uploads/a1/film.mp4", CREATED)
    assert actions_on(source, at=day(8) - timedelta(seconds=1)) == []
    assert actions_on(source, at=day(8)) == [("transition", source.key, "STANDARD_IA")]
    moved = ObjectFacts(source.key, CREATED, storage_class="STANDARD_IA")
    assert actions_on(moved, at=day(20)) == []  # never moved twice
    assert actions_on(moved, at=day(31)) == [("expire", source.key, None)]
    assert actions_on(source, at=day(31)) == [("expire", source.key, None)]  # no pointless move


def test_the_inbox_follows_the_same_rules_and_packages_are_kept() -> None:
    inbox = ObjectFacts("inbox/film.mov", CREATED)
    package = ObjectFacts("assets/a1/1/master.m3u8", CREATED)
    assert actions_on(inbox, package, at=day(400)) == [("expire", inbox.key, None)]


def test_noncurrent_versions_expire_after_7_days() -> None:
    old = ObjectFacts(
        "assets/a1/1/master.m3u8", CREATED, noncurrent_since=day(100, 5), version_id="v1"
    )
    assert actions_on(old, at=day(107)) == []
    [action] = due_actions(DEFAULT, [old], as_of=day(108))
    assert (action.kind, action.version_id, action.due) == ("expire_version", "v1", day(108))


def test_abandoned_multipart_uploads_are_aborted_after_a_day() -> None:
    upload = UploadFacts("uploads/a2/big.mov", "u-1", CREATED)
    assert due_actions(DEFAULT, [], [upload], as_of=day(1)) == []
    [action] = due_actions(DEFAULT, [], [upload], as_of=day(2))
    assert (action.kind, action.upload_id) == ("abort_upload", "u-1")


def test_tags_and_disabled_rules() -> None:
    config = load_lifecycle(
        json.dumps(
            {
                "Rules": [
                    {
                        "ID": "drafts",
                        "Status": "Enabled",
                        "Filter": {
                            "And": {"Prefix": "uploads/", "Tags": [{"Key": "draft", "Value": "1"}]}
                        },
                        "Expiration": {"Days": 2},
                    },
                    {"ID": "off", "Status": "Disabled", "Expiration": {"Days": 1}},
                ]
            }
        )
    )
    draft = ObjectFacts("uploads/x/a.mp4", CREATED, tags={"draft": "1"})
    final = ObjectFacts("uploads/x/b.mp4", CREATED, tags={"draft": "0"})
    kinds = [(a.kind, a.key) for a in due_actions(config, [draft, final], as_of=day(10))]
    assert kinds == [("expire", draft.key)]


@pytest.mark.parametrize(
    ("rules", "named"),
    [
        ([{"ID": "a", "Status": "Enabled"}], "at least one action"),
        ([{"ID": "a", "Status": "On", "Expiration": {"Days": 1}}], r"Rules\.0\.Status"),
        ([{"ID": "a", "Status": "Enabled", "Expiration": {"Days": 0}}], r"Expiration\.Days"),
        (
            [{"ID": "a", "Status": "Enabled", "Expirations": {"Days": 3}}],
            r"Rules\.0\.Expirations",
        ),
        (
            [
                {
                    "ID": "a",
                    "Status": "Enabled",
                    "Filter": {"Prefix": "x/", "Tag": {"Key": "k", "Value": "v"}},
                    "Expiration": {"Days": 3},
                }
            ],
            "use And",
        ),
        (
            [
                {
                    "ID": "a",
                    "Status": "Enabled",
                    "Transitions": [{"Days": 40, "StorageClass": "GLACIER"}],
                    "Expiration": {"Days": 30},
                }
            ],
            "before the expiration",
        ),
        (
            [
                {"ID": "a", "Status": "Enabled", "Expiration": {"Days": 3}},
                {"ID": "a", "Status": "Enabled", "Expiration": {"Days": 4}},
            ],
            "unique",
        ),
        (
            [
                {
                    "ID": "a",
                    "Status": "Enabled",
                    "Transitions": [{"Days": 3, "StorageClass": "COLD"}],
                }
            ],
            r"StorageClass",
        ),
    ],
)
def test_a_bad_document_is_refused_naming_the_place(rules: list, named: str) -> None:
    with pytest.raises(LifecycleError, match=named):
        load_lifecycle(json.dumps({"Rules": rules}), "mine.json")


def test_malformed_json_is_refused_with_its_line() -> None:
    with pytest.raises(LifecycleError, match=r"^mine\.json: line 2, column"):
        load_lifecycle('{"Rules": [\n  oops ]}', "mine.json")


def test_what_s3_refuses_is_left_out_of_the_deployed_rules_with_a_note() -> None:
    deployed, notes = deployable_on_s3(DEFAULT)
    uploads = next(r for r in deployed.Rules if r.ID.startswith("uploads"))
    assert uploads.Transitions == [] and uploads.Expiration is not None
    assert len(notes) == 2 and all("30 days" in n for n in notes)
    glacier = load_lifecycle(
        json.dumps(
            {
                "Rules": [
                    {
                        "ID": "g",
                        "Status": "Enabled",
                        "Transitions": [{"Days": 7, "StorageClass": "GLACIER_IR"}],
                    }
                ]
            }
        )
    )
    assert deployable_on_s3(glacier) == (glacier, [])
