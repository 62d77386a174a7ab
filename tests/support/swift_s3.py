"""A throwaway one-machine OpenStack Swift cluster serving the S3 API (Swift's s3api
middleware): a real S3-compatible server for the object-store tests, besides moto.

Debian's packages (swift-proxy, swift-account, swift-container, swift-object) bring the
servers; they run on the system Python, not the project's. Everything lives in one temporary
folder that is removed afterwards: a swift.conf with a random hash prefix and suffix,
one-replica account, container and object rings (swift-ring-builder's commands) on loopback
ports, a devices folder (mount_check off), the four server configs and one log per server.
The proxy's pipeline puts s3api before tempauth (user test:tester, key testing, admin of its
account) and adds slo (multipart uploads) and versioned_writes with object versioning on
(bucket versioning).

Swift (2.30 in Debian 12) reads swift.conf from /etc/swift only: there is no environment
variable for it, and a server's swift_dir option moves the rings, not swift.conf. So the
servers start through swift_boot.py, which points Swift at the temporary swift.conf and then
does what /usr/bin/swift-<kind>-server does, with the config file given explicitly. Nothing is
read from /etc/swift and nothing is written outside the temporary folder.

    with swift_s3_server() as swift:
        boto3.client("s3", **swift.client_kwargs())

Test modules use the session fixture: `from support.swift_s3 import swift_s3`.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

SERVERS = ("account", "container", "object", "proxy")
RINGS = ("account", "container", "object")
PACKAGES = ("swift-proxy", "swift-account", "swift-container", "swift-object")
ACCESS_KEY_ID = "test:tester"
SECRET_ACCESS_KEY = "testing"
REGION = "us-east-1"

BOOT = Path(__file__).with_name("swift_boot.py")

_PROXY_PIPELINE = (
    "catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk s3api tempauth "
    "copy slo dlo versioned_writes symlink proxy-logging proxy-server"
)


class SwiftNotInstalled(RuntimeError):
    """The Swift servers this module starts are not on this machine."""


@dataclass(frozen=True)
class SwiftS3:
    endpoint_url: str
    access_key_id: str
    secret_access_key: str
    region: str
    root: Path
    startup_seconds: float

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for boto3.client("s3", ...): path-style, SigV4."""
        from botocore.config import Config

        return {
            "endpoint_url": self.endpoint_url,
            "aws_access_key_id": self.access_key_id,
            "aws_secret_access_key": self.secret_access_key,
            "region_name": self.region,
            "config": Config(s3={"addressing_style": "path"}, signature_version="s3v4"),
        }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def swift_python() -> str:
    """The interpreter the Swift binaries run on, from swift-proxy-server's #! line; raises
    SwiftNotInstalled, naming what is missing, when the binaries are not there."""
    names = ["swift-ring-builder", *(f"swift-{kind}-server" for kind in SERVERS)]
    missing = [name for name in names if shutil.which(name) is None]
    if missing:
        raise SwiftNotInstalled(
            f"OpenStack Swift is not installed (missing {', '.join(missing)}). The S3 contract "
            f"tests run against a real Swift server; .ci/run installs Debian's packages: "
            f"apt-get install {' '.join(PACKAGES)}"
        )
    first = Path(str(shutil.which("swift-proxy-server"))).read_text().splitlines()[0]
    python = first.removeprefix("#!").strip().split()[0]
    if not Path(python).is_file():
        raise SwiftNotInstalled(f"swift-proxy-server names {python}, which does not exist")
    return python


def _env() -> dict[str, str]:
    # the system Python, untouched by the project's interpreter settings; no DNS resolver
    # set-up in eventlet (everything is on 127.0.0.1), which halves Swift's import time
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    return {**env, "EVENTLET_NO_GREENDNS": "yes"}


def _write_configs(root: Path, ports: dict[str, int]) -> None:
    swift_dir = root / "etc"
    (root / "srv" / "d1").mkdir(parents=True)
    (swift_dir / "swift.conf").write_text(
        "[swift-hash]\n"
        f"swift_hash_path_prefix = {secrets.token_hex(16)}\n"
        f"swift_hash_path_suffix = {secrets.token_hex(16)}\n\n"
        "[storage-policy:0]\nname = Policy-0\ndefault = yes\n"
    )
    common = (
        "[DEFAULT]\n"
        "bind_ip = 127.0.0.1\n"
        "bind_port = {port}\n"
        "workers = 0\n"
        f"user = {pwd.getpwuid(os.geteuid()).pw_name}\n"
        f"swift_dir = {swift_dir}\n"
        f"devices = {root / 'srv'}\n"
        "mount_check = false\n"
        "disable_fallocate = true\n"
        "fallocate_reserve = 0\n"
        "log_level = WARNING\n\n"
    )
    for kind in RINGS:
        (swift_dir / f"{kind}-server.conf").write_text(
            common.format(port=ports[kind])
            + f"[pipeline:main]\npipeline = healthcheck {kind}-server\n\n"
            f"[app:{kind}-server]\nuse = egg:swift#{kind}\n\n"
            "[filter:healthcheck]\nuse = egg:swift#healthcheck\n"
        )
    filters = {
        name: f"[filter:{name}]\nuse = egg:swift#{name.replace('-', '_')}\n"
        for name in _PROXY_PIPELINE.split()
        if name not in ("proxy-server", "cache")
    }
    filters["cache"] = "[filter:cache]\npaste.filter_factory = memory_cache:filter_factory\n"
    filters["s3api"] += f"location = {REGION}\nmax_upload_part_num = 10000\n"
    account, user = ACCESS_KEY_ID.split(":")
    filters["tempauth"] += f"user_{account}_{user} = {SECRET_ACCESS_KEY} .admin\n"
    filters["versioned_writes"] += "allow_object_versioning = true\n"
    (swift_dir / "proxy-server.conf").write_text(
        common.format(port=ports["proxy"]) + f"[pipeline:main]\npipeline = {_PROXY_PIPELINE}\n\n"
        "[app:proxy-server]\nuse = egg:swift#proxy\naccount_autocreate = true\n\n"
        + "\n".join(filters.values())
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """The server's whole process group: SIGTERM, then SIGKILL after a grace period."""
    for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def _logs(root: Path) -> str:
    parts = []
    for kind in SERVERS:
        log = root / "log" / f"{kind}-server.log"
        text = log.read_text(errors="replace") if log.exists() else ""
        parts.append(f"--- {kind}-server ---\n{text[-3000:]}")
    return "\n".join(parts)


def _wait_ready(
    root: Path, ports: dict[str, int], procs: dict[str, subprocess.Popen[bytes]], timeout: float
) -> None:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    deadline = time.monotonic() + timeout
    waiting = set(SERVERS)

    def check_alive() -> None:
        for kind, proc in procs.items():
            if proc.poll() is not None:
                raise RuntimeError(
                    f"swift {kind}-server exited with {proc.returncode}\n{_logs(root)}"
                )
        if time.monotonic() > deadline:
            raise RuntimeError(f"swift did not answer within {timeout:.0f} s\n{_logs(root)}")

    while waiting:
        check_alive()
        for kind in sorted(waiting):
            try:
                url = f"http://127.0.0.1:{ports[kind]}/healthcheck"
                with urllib.request.urlopen(url, timeout=1) as resp:
                    if resp.status == 200:
                        waiting.discard(kind)
            except (OSError, urllib.error.URLError):
                pass
        if waiting:
            time.sleep(0.1)
    s3 = boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{ports['proxy']}",
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
        region_name=REGION,
        config=Config(
            s3={"addressing_style": "path"},
            retries={"max_attempts": 1},
            connect_timeout=2,
            read_timeout=5,
        ),
    )
    while True:
        check_alive()
        try:
            s3.list_buckets()
            return
        except (BotoCoreError, ClientError):
            time.sleep(0.1)


def _start(python: str, root: Path, command: list[str], log: str) -> subprocess.Popen[bytes]:
    with open(root / "log" / log, "wb") as out:
        return subprocess.Popen(
            [python, str(BOOT), str(root / "etc"), *command],
            env=_env(),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as a whole
        )


@contextmanager
def swift_s3_server(*, timeout: float = 60.0) -> Iterator[SwiftS3]:
    """Start a throwaway Swift cluster with the S3 API on loopback; stop it and remove its
    folder on exit. Raises SwiftNotInstalled when the Swift binaries are missing."""
    python = swift_python()
    started = time.monotonic()
    with ExitStack() as stack:
        root = Path(tempfile.mkdtemp(prefix="primevod-swift-"))
        stack.callback(shutil.rmtree, root, ignore_errors=True)
        ports = {kind: _free_port() for kind in SERVERS}
        (root / "etc").mkdir()
        (root / "log").mkdir()
        _write_configs(root, ports)
        procs: dict[str, subprocess.Popen[bytes]] = {}
        # the storage servers do not read the rings: they start while the rings are built
        for kind in RINGS:
            procs[kind] = _start(python, root, [f"{kind}-server"], f"{kind}-server.log")
            stack.callback(_stop, procs[kind])
        rings = _start(python, root, ["rings", *(str(ports[k]) for k in RINGS)], "rings.log")
        stack.callback(_stop, rings)
        if rings.wait(timeout=timeout) != 0:
            raise RuntimeError(
                "building the rings failed:\n" + (root / "log" / "rings.log").read_text()
            )
        procs["proxy"] = _start(python, root, ["proxy-server"], "proxy-server.log")
        stack.callback(_stop, procs["proxy"])
        _wait_ready(root, ports, procs, timeout)
        yield SwiftS3(
            endpoint_url=f"http://127.0.0.1:{ports['proxy']}",
            access_key_id=ACCESS_KEY_ID,
            secret_access_key=SECRET_ACCESS_KEY,
            region=REGION,
            root=root,
            startup_seconds=time.monotonic() - started,
        )


_shared: dict[str, Any] = {"users": 0, "server": None, "stack": None}


@contextmanager
def shared_swift_s3_server() -> Iterator[SwiftS3]:
    """One server for all users in this process: the first starts it, the last one out stops
    it (the test modules' session fixtures are torn down together at the session's end)."""
    if _shared["users"] == 0:
        stack = ExitStack()
        _shared["server"] = stack.enter_context(swift_s3_server())
        _shared["stack"] = stack
    _shared["users"] += 1
    try:
        yield _shared["server"]
    finally:
        _shared["users"] -= 1
        if _shared["users"] == 0:
            stack, _shared["stack"], _shared["server"] = _shared["stack"], None, None
            stack.close()


@pytest.fixture(scope="session")
def swift_s3() -> Iterator[SwiftS3]:
    """OpenStack Swift's S3 API on loopback (a few seconds to start, once per session). Import
    it into a test module to use it: `from support.swift_s3 import swift_s3`."""
    with shared_swift_s3_server() as server:
        yield server
