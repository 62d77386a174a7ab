"""The Lambda code bundle, built without Docker: one folder with the `primevod` package and
the third-party packages its handlers import, as Linux x86_64 wheels for the Lambda runtime's
Python (LAMBDA_PYTHON).

    build_bundle(Path("~/.cache/primevod/lambda-bundle").expanduser())

Two layers, each cached by a hash of its inputs (a stamp file in the folder):
- `deps`: `pip install --target` of RUNTIME_REQUIREMENTS for the Lambda platform
  (manylinux2014 x86_64, CPython LAMBDA_PYTHON, wheels only). Pinned to the versions installed
  here when they are, so the handlers run on AWS with what the tests ran with. boto3 and
  botocore are left out: the Lambda runtime has them. About 10 s, once per requirement set.
- `package`: the `primevod` package without `web_dist/` (the browser app), compiled files and
  sample media; copied again whenever a source file changes (milliseconds).
- `aws-models/`: the service models of MODEL_SERVICES from the botocore installed here (the
  one the tests validate every MediaConvert request against), about 0.2 MB. The functions
  point `AWS_DATA_PATH` at it, and botocore searches that path before its own data: the
  runtime's boto3 then knows MediaConvert's `Probe` (added in 2025) even where it is older.

Why Python 3.12 on Lambda while the project runs on 3.11 and up: Lambda's `python3.11` runs
on Amazon Linux 2 and went with it (deprecated 2026-06-30, no new functions since
2026-07-31; cfn-lint reports E2533); `python3.12` runs on Amazon Linux 2023 (supported to
2028-10-31).

Bytecode: Lambda's file system is read-only, so without `.pyc` files every cold start
compiles pydantic again. When an interpreter of LAMBDA_PYTHON is at hand (this one,
`python3.12` on the PATH, or PRIMEVOD_LAMBDA_PYTHON), the bundle is compiled with it,
hash-based (no timestamps: the same inputs give the same bytes, and the same CDK asset).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import primevod

LAMBDA_PYTHON = (3, 12)
LAMBDA_RUNTIME = f"python{LAMBDA_PYTHON[0]}.{LAMBDA_PYTHON[1]}"  # Lambda's runtime identifier
# pydantic brings pydantic-core; httpx is the canary's HTTP client (adapters/media/http_fetcher)
RUNTIME_REQUIREMENTS = ("pydantic", "cryptography", "httpx")
PLATFORM_ARGS = (
    "--platform",
    "manylinux2014_x86_64",
    "--implementation",
    "cp",
    "--python-version",
    f"{LAMBDA_PYTHON[0]}.{LAMBDA_PYTHON[1]}",
    "--only-binary=:all:",
)
MODELS_DIR = "aws-models"  # AWS_DATA_PATH=/var/task/aws-models on Lambda
MODEL_SERVICES = ("mediaconvert",)
SKIPPED_DIRS = frozenset({"web_dist", "__pycache__"})
SKIPPED_SUFFIXES = (".pyc", ".mp4")  # compiled files are rebuilt; sample media is for the CLI
STAMP = ".primevod-bundle"


def requirements() -> list[str]:
    """RUNTIME_REQUIREMENTS pinned to the installed versions (unpinned when not installed)."""
    pinned = []
    for name in RUNTIME_REQUIREMENTS:
        try:
            pinned.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pinned.append(name)
    return pinned


def build_bundle(out: Path) -> Path:
    """Fill `out` with the Lambda bundle (reusing what is already current) and return it."""
    out.mkdir(parents=True, exist_ok=True)
    reqs = requirements()
    python = lambda_interpreter()
    deps_digest = _digest([*reqs, *PLATFORM_ARGS, f"compiled={python is not None}"])
    package_root = Path(primevod.__file__).parent
    package_digest = _digest([*_package_fingerprint(package_root), _botocore_version()])
    stamp = out / STAMP
    current = stamp.read_text().split() if stamp.exists() else []
    if not current and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty and holds no Lambda bundle: not touching it")
    if current == [deps_digest, package_digest]:
        return out
    if current[:1] != [deps_digest]:
        _install_deps(out, reqs, python)
    _copy_package(package_root, out / "primevod", python)
    _copy_models(out / MODELS_DIR)
    stamp.write_text(f"{deps_digest} {package_digest}\n")
    return out


def lambda_interpreter() -> str | None:
    """An interpreter of LAMBDA_PYTHON's version, to compile the bundle with (None: none)."""
    if sys.version_info[:2] == LAMBDA_PYTHON:
        return sys.executable
    for candidate in (os.environ.get("PRIMEVOD_LAMBDA_PYTHON"), shutil.which(LAMBDA_RUNTIME)):
        if candidate and _version_of(candidate) == LAMBDA_PYTHON:
            return candidate
    return None


def _version_of(python: str) -> tuple[int, int] | None:
    try:
        done = subprocess.run(
            [python, "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except OSError:
        return None
    major, _, minor = done.stdout.strip().partition(" ")
    ok = done.returncode == 0 and major.isdigit() and minor.isdigit()
    return (int(major), int(minor)) if ok else None


# what the Lambda Python runtime adds to the standard library
LAMBDA_RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3")


def runtime_stand_in(folder: Path) -> Path:
    """`folder` filled with links to this environment's copies of the packages the Lambda
    runtime provides (boto3 & co.), to run the bundle locally as Lambda would."""
    import importlib.util

    folder.mkdir(parents=True, exist_ok=True)
    for name in (*LAMBDA_RUNTIME_PACKAGES, "six"):
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise RuntimeError(f"{name} is not installed here")
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        link = folder / source.name
        if not link.exists():
            link.symlink_to(source)
    return folder


def bundle_size_zipped(path: Path) -> int:
    """The bundle's size as the deflated zip that CDK uploads (bytes)."""
    sink = _NullSink()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as archive:  # type: ignore[arg-type]
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            archive.write(file, file.relative_to(path).as_posix())
    return sink.tell()


class _NullSink:
    """A write-only file that keeps only its length: zip sizes without writing a zip."""

    def __init__(self) -> None:
        self._size = 0

    def write(self, data: bytes) -> int:
        self._size += len(data)
        return len(data)

    def tell(self) -> int:
        return self._size

    def flush(self) -> None:
        pass


def _digest(parts: list[str]) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def _package_files(root: Path) -> list[Path]:
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file()
        and not SKIPPED_DIRS.intersection(p.relative_to(root).parts)
        and not p.name.endswith(SKIPPED_SUFFIXES)
    )


def _package_fingerprint(root: Path) -> list[str]:
    return [
        f"{p.relative_to(root).as_posix()} {hashlib.sha256(p.read_bytes()).hexdigest()}"
        for p in _package_files(root)
    ]


def _botocore_version() -> str:
    return f"botocore=={metadata.version('botocore')}"


def _copy_models(target: Path) -> None:
    """The newest API version's `service-2` model of each of MODEL_SERVICES (only the model:
    endpoint rules stay the runtime's own, which its botocore knows how to read)."""
    import botocore

    shutil.rmtree(target, ignore_errors=True)
    data = Path(botocore.__file__).parent / "data"
    for service in MODEL_SERVICES:
        version = max(p.name for p in (data / service).iterdir() if p.is_dir())
        for model in (data / service / version).glob("service-2.json*"):
            destination = target / service / version / model.name
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(model, destination)


def _install_deps(out: Path, reqs: list[str], python: str | None) -> None:
    """A fresh deps layer: everything in `out` except the package goes, then pip fills it."""
    for child in out.iterdir():
        if child.name != "primevod":
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--no-warn-conflicts",
        "--target",
        str(out),
        *PLATFORM_ARGS,
        *reqs,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"pip could not build the Lambda bundle:\n{done.stderr[-4000:]}")
    shutil.rmtree(out / "bin", ignore_errors=True)  # console scripts: nothing runs them
    _compile(out, python)


def _copy_package(root: Path, target: Path, python: str | None) -> None:
    shutil.rmtree(target, ignore_errors=True)
    for file in _package_files(root):
        destination = target / file.relative_to(root)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(file, destination)
    _compile(target, python)


def _compile(path: Path, python: str | None) -> None:
    if python is None:
        return
    mode = ("--invalidation-mode", "unchecked-hash")
    subprocess.run(
        [python, "-m", "compileall", "-q", "-j", "0", *mode, str(path)],
        capture_output=True,
        timeout=600,
        check=False,  # a module that does not compile is left to compile at import, as before
    )
