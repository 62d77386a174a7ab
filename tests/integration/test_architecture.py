"""The dependency rule of docs/architecture.md, enforced: import-linter's contracts in
pyproject.toml ([tool.importlinter]) over the whole package."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _lint_imports() -> str:
    found = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which(
        "lint-imports"
    )
    assert found, "import-linter is missing: pip install -e '.[test]'"
    return found


def test_layering_contracts_hold() -> None:
    done = subprocess.run(
        [_lint_imports(), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_a_core_module_importing_an_adapter_breaks_the_contract(tmp_path: Path) -> None:
    """The same contracts on a copy of the package whose core imports an adapter."""
    shutil.copytree(ROOT / "src", tmp_path / "src", ignore=shutil.ignore_patterns("*.egg-info"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "src" / "primevod" / "core" / "leak.py").write_text(
        "from primevod.adapters.storage import local_store  # noqa: F401\n"
    )
    done = subprocess.run(
        [_lint_imports(), "--no-cache"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(tmp_path / "src"), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode != 0
    assert "core is pure" in done.stdout and "BROKEN" in done.stdout, done.stdout
