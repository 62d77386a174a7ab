"""The README's first command on a plain install: a new virtual environment, `pip install .`
with no extras, then, with only what that installed:

- `primevod demo --no-serve --json` reaches `ready`;
- `primevod serve` starts and `/healthz` answers 200;
- a viewer key's playback API call returns a signed URL, and the master playlist, a media
  playlist and one segment are fetched through the edge with it;
- `primevod canary` passes against that signed URL.

Standard library only, so nothing of the test environment leaks into the check. Run from
the repository root: `python3 .ci/fresh_install.py` (exit 0 when every step passed).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urljoin

ROOT = Path(__file__).resolve().parents[1]


def step(text: str) -> None:
    print(f"fresh-install: {text}", flush=True)


def run(cmd: list[str], env: dict[str, str], cwd: Path, timeout: float = 600) -> str:
    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise SystemExit(
            f"fresh-install: FAILED {' '.join(cmd[-4:])} (exit {done.returncode})\n"
            f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return done.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def with_query(url: str, query: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{query}" if query else url


def install(work: Path) -> Path:
    venv = work / "venv"
    step(f"python -m venv; pip install . (no extras) from {ROOT.name}")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "--disable-pip-version-check", str(ROOT)], check=True, timeout=1200)
    return venv / "bin" / "primevod"


def wait_healthy(base: str, server: subprocess.Popen[bytes], limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"fresh-install: FAILED serve exited with {server.returncode}")
        try:
            if get(f"{base}/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit("fresh-install: FAILED /healthz did not answer 200 within 60 s")


def check_playback(base: str, asset_id: str, viewer_key: str) -> str:
    status, body = get(
        f"{base}/api/v1/assets/{asset_id}/playback",
        {"Authorization": f"Bearer {viewer_key}"},
    )
    if status != 200:
        raise SystemExit(f"fresh-install: FAILED playback API {status}: {body[:300]!r}")
    hls_url = json.loads(body)["hls_url"]
    if "Signature=" not in hls_url or "Key-Pair-Id=" not in hls_url:
        raise SystemExit(f"fresh-install: FAILED playback URL is not signed: {hls_url}")
    bare, _, query = hls_url.partition("?")
    if get(bare)[0] != 403:
        raise SystemExit("fresh-install: FAILED the edge served the master without a signature")
    status, master = get(hls_url)
    if status != 200 or not master.startswith(b"#EXTM3U"):
        raise SystemExit(f"fresh-install: FAILED master playlist through the edge: {status}")
    media_uri = next(
        line for line in master.decode().splitlines() if line and not line.startswith("#")
    )
    status, media = get(with_query(urljoin(bare, media_uri), query))
    if status != 200:
        raise SystemExit(f"fresh-install: FAILED media playlist {media_uri}: {status}")
    segment = next(
        line for line in media.decode().splitlines() if line and not line.startswith("#")
    )
    status, data = get(with_query(urljoin(urljoin(bare, media_uri), segment), query))
    if status != 200 or not data:
        raise SystemExit(f"fresh-install: FAILED segment {segment}: {status}")
    step(f"edge served master, {media_uri} and {segment} ({len(data):,} bytes) signed")
    return hls_url


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="primevod-fresh-"))
    server: subprocess.Popen[bytes] | None = None
    try:
        primevod = install(work)
        home = work / "home"
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("PRIMEVOD_", "PYTHON", "VIRTUAL_ENV"))
        }
        env.update(PRIMEVOD_HOME=str(home), PATH=f"{primevod.parent}:{env.get('PATH', '')}")
        step("primevod demo --no-serve --json")
        demo = json.loads(run([str(primevod), "demo", "--no-serve", "--json"], env, work))
        if demo.get("status") != "ready":
            raise SystemExit(f"fresh-install: FAILED demo ended {demo.get('status')}: {demo}")
        asset_id = demo["asset_id"]
        viewer_key = run([str(primevod), "keys", "create", "--role", "viewer"], env, work).strip()
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        step(f"primevod serve --port {port}")
        server = subprocess.Popen(
            [str(primevod), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=work,
            stdout=subprocess.DEVNULL,
            stderr=open(work / "serve.log", "wb"),  # noqa: SIM115 - lives as long as the server
        )
        wait_healthy(base, server)
        hls_url = check_playback(base, asset_id, viewer_key)
        step("primevod canary on the signed URL")
        print(run([str(primevod), "canary", hls_url, "--segments", "2"], env, work), end="")
        step("passed")
    except SystemExit:
        log = work / "serve.log"
        if log.is_file():
            print(log.read_text(errors="replace")[-4000:], file=sys.stderr)
        raise
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
