"""The state machine's definition, rendered from the template's `Fn::Join` into JSON, passes
npm's `asl-validator` (the Amazon States Language schema, Next/Default targets, paths), and
the validator does catch a broken definition (a `Next` to a state that does not exist)."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("aws_cdk")


def _validate(command: Path, definition: dict[str, Any], tmp_path: Path) -> tuple[int, str]:
    path = tmp_path / "definition.json"
    path.write_text(json.dumps(definition))
    done = subprocess.run(
        [str(command), "--json-path", str(path)], capture_output=True, text=True, timeout=120
    )
    return done.returncode, done.stdout + done.stderr


def test_the_rendered_definition_is_valid_asl(
    asl_validator: Path, definition: dict[str, Any], tmp_path: Path
) -> None:
    code, output = _validate(asl_validator, definition, tmp_path)
    assert code == 0, output


def test_a_next_to_a_missing_state_is_rejected(
    asl_validator: Path, definition: dict[str, Any], tmp_path: Path
) -> None:
    broken = copy.deepcopy(definition)
    broken["States"]["Plan"]["Next"] = "Transcode"  # no such state
    code, output = _validate(asl_validator, broken, tmp_path)
    assert code != 0
    assert "Transcode" in output, output
