"""Every third-party package that `src/primevod` imports is declared in
[project.dependencies]: a plain `pip install .` then has all it needs (the `test` extra once
hid a missing `cryptography`). deptry maps import names to distributions from the installed
metadata and also fails an import that only arrives transitively."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _deptry() -> list[str]:
    found = shutil.which("deptry", path=str(Path(sys.executable).parent)) or shutil.which("deptry")
    assert found, "deptry is missing: pip install -e '.[test]'"
    return [found]


def test_every_imported_package_is_declared() -> None:
    done = subprocess.run(
        [*_deptry(), "src"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_check_catches_an_undeclared_import(tmp_path: Path) -> None:
    """The same check on a copy of the project with one more module, which imports a package
    that is installed (uvicorn brings it) but not declared."""
    project = tmp_path / "project"
    shutil.copytree(ROOT / "src", project / "src", ignore=shutil.ignore_patterns("*.egg-info"))
    shutil.copy(ROOT / "pyproject.toml", project / "pyproject.toml")
    (project / "src" / "primevod" / "extra.py").write_text("import h11\n")
    done = subprocess.run(
        [*_deptry(), "src"], cwd=project, capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0
    output = done.stdout + done.stderr  # deptry reports on stderr
    problems = [line for line in output.splitlines() if "DEP0" in line]
    assert len(problems) == 1 and "h11" in problems[0], output
