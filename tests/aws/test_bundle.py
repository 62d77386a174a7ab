"""The Lambda bundle (src/primevod/aws/bundle.py): the package and the wheels its handlers
need, for the Lambda runtime's Python on x86_64, built once and then reused, small enough to
deploy quickly; and every handler string of the stack imports from it with nothing but the
standard library and what the Lambda runtime ships (boto3 and its dependencies)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from primevod.aws.bundle import (
    LAMBDA_PYTHON,
    MODELS_DIR,
    STAMP,
    build_bundle,
    bundle_size_zipped,
    lambda_interpreter,
    runtime_stand_in,
)

MAX_ZIPPED_BYTES = 15_000_000
HANDLERS = [
    "primevod.aws.handlers.start.handler",
    "primevod.aws.handlers.tasks.ingest_handler",
    "primevod.aws.handlers.tasks.plan_handler",
    "primevod.aws.handlers.tasks.validate_handler",
    "primevod.aws.handlers.tasks.publish_handler",
    "primevod.aws.handlers.tasks.failure_handler",
    "primevod.aws.handlers.uploads.handler",
    "primevod.aws.handlers.playback.handler",
    "primevod.aws.handlers.authorizer.handler",
    "primevod.aws.handlers.canary.handler",
    "primevod.aws.handlers.search_indexer.handler",  # the optional search's (flag off by default)
]


def test_the_bundle_holds_the_package_and_linux_wheels(lambda_bundle: Path) -> None:
    assert (lambda_bundle / "primevod" / "aws" / "handlers" / "__init__.py").is_file()
    assert (lambda_bundle / "primevod" / "core" / "mediaconvert.py").is_file()
    assert not (lambda_bundle / "primevod" / "web_dist").exists()
    assert not list((lambda_bundle / "primevod").rglob("*.mp4"))
    tag = f"cpython-{LAMBDA_PYTHON[0]}{LAMBDA_PYTHON[1]}-x86_64-linux-gnu.so"
    assert list((lambda_bundle / "pydantic_core").glob(f"*{tag}"))
    assert (lambda_bundle / "cryptography").is_dir()
    for runtime_package in ("boto3", "botocore"):  # the Lambda runtime has them
        assert not (lambda_bundle / runtime_package).exists()


def test_a_second_build_reuses_the_first(lambda_bundle: Path) -> None:
    stamp = (lambda_bundle / STAMP).read_text()
    started = time.perf_counter()
    assert build_bundle(lambda_bundle) == lambda_bundle
    assert time.perf_counter() - started < 3.0
    assert (lambda_bundle / STAMP).read_text() == stamp


def test_the_zipped_bundle_is_under_15_mb(lambda_bundle: Path) -> None:
    size = bundle_size_zipped(lambda_bundle)
    print(f"Lambda bundle: {size / 1e6:.1f} MB zipped")
    assert 1_000_000 < size < MAX_ZIPPED_BYTES


def test_a_folder_that_is_not_a_bundle_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(FileExistsError):
        build_bundle(tmp_path)
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def _lambda_python() -> str | None:
    """An interpreter of the Lambda runtime's version: the bundle's own choice, else one
    that pyenv installed."""
    found = lambda_interpreter()
    if found:
        return found
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    major, minor = LAMBDA_PYTHON
    candidates = sorted(root.glob(f"versions/{major}.{minor}.*/bin/python{major}.{minor}"))
    return str(candidates[-1]) if candidates else None


_IMPORT_ALL = """
import importlib, json, sys
results = {}
for handler in json.loads(sys.argv[1]):
    module, _, name = handler.rpartition(".")
    try:
        results[handler] = callable(getattr(importlib.import_module(module), name))
    except Exception as exc:
        results[handler] = f"{type(exc).__name__}: {exc}"
print(json.dumps(results))
"""


def test_every_handler_imports_from_the_bundle_on_the_lambda_python(
    lambda_bundle: Path, tmp_path: Path
) -> None:
    python = _lambda_python()
    if python is None:
        pytest.skip(f"no Python {LAMBDA_PYTHON[0]}.{LAMBDA_PYTHON[1]} here to run the bundle")
    runtime = runtime_stand_in(tmp_path / "lambda-runtime")
    bootstrap = f"import sys; sys.path[:0] = {[str(lambda_bundle), str(runtime)]!r}\n"
    done = subprocess.run(
        [python, "-I", "-S", "-c", bootstrap + _IMPORT_ALL, json.dumps(HANDLERS)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert results == dict.fromkeys(HANDLERS, True), results


def test_the_bundles_models_teach_an_older_botocore_probe(
    lambda_bundle: Path, tmp_path: Path
) -> None:
    """A runtime whose botocore predates MediaConvert's Probe (stood in for by the model
    here with Probe taken out) knows it once AWS_DATA_PATH names the bundle's models."""
    import gzip

    import botocore
    from botocore.loaders import Loader

    [model] = (lambda_bundle / MODELS_DIR / "mediaconvert").glob("*/service-2.json.gz")
    builtin = Path(botocore.__file__).parent / "data" / "mediaconvert" / model.parent.name
    old = json.loads(gzip.decompress((builtin / model.name).read_bytes()))
    del old["operations"]["Probe"]
    old_data = tmp_path / "old-botocore-data"
    (old_data / "mediaconvert" / model.parent.name).mkdir(parents=True)
    (old_data / "mediaconvert" / model.parent.name / "service-2.json").write_text(json.dumps(old))

    def operations(*paths: Path) -> set[str]:
        loader = Loader(
            extra_search_paths=[str(p) for p in paths], include_default_search_paths=False
        )
        return set(loader.load_service_model("mediaconvert", "service-2")["operations"])

    assert "Probe" not in operations(old_data)  # the old runtime alone
    assert {"Probe", "CreateJob", "GetJob"} <= operations(lambda_bundle / MODELS_DIR, old_data)
    assert bundle_size_zipped(lambda_bundle / MODELS_DIR) < 500_000
