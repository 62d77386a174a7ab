"""`primevod canary URL`: the synthetic HLS canary from the command line.
Exit 0 healthy, 1 unhealthy (each failed rule printed), 2 bad usage."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from primevod.cli.output import fail
from primevod.core.canary import CanaryResult


def register(app: typer.Typer) -> None:
    app.command("canary")(canary)


def canary(
    url: Annotated[str, typer.Argument(help="master playlist URL (http or https)")],
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
    sign: Annotated[
        bool, typer.Option("--sign", help="sign with the newest key of PRIMEVOD_HOME")
    ] = False,
    key_file: Annotated[
        Path | None, typer.Option("--key-file", help="RSA private key (PEM) to sign with")
    ] = None,
    key_pair_id: Annotated[
        str | None, typer.Option("--key-pair-id", help="key-pair id for --key-file")
    ] = None,
    segments: Annotated[
        int, typer.Option("--segments", help="segments downloaded per playlist (0 = all)")
    ] = 2,
    timeout: Annotated[float, typer.Option("--timeout", help="seconds per request")] = 10.0,
) -> None:
    """Check a served HLS package: playlists reachable, variant attributes, target duration,
    bitrate accuracy, keyframe at segment start, segments decodable."""
    from primevod.pipeline.canary import is_http_url, run_canary

    if not is_http_url(url):
        fail("request.invalid", f"{url!r} is not an http:// or https:// URL", as_json=as_json)
    if segments < 0:
        fail("request.invalid", "--segments must be 0 (all) or more", as_json=as_json)
    if timeout <= 0:
        fail("request.invalid", "--timeout must be positive", as_json=as_json)
    signer = _signer(sign, key_file, key_pair_id, as_json)
    result = run_canary(url, signer=signer, sample_segments=segments, timeout=timeout)
    if as_json:
        print(result.model_dump_json(indent=2))
    else:
        _print_human(result)
    raise typer.Exit(0 if result.passed else 1)


def _signer(sign: bool, key_file: Path | None, key_pair_id: str | None, as_json: bool):
    from primevod.core.signing import Signer

    if key_file is None and key_pair_id is None:
        if not sign:
            return None
        from primevod.settings import Settings
        from primevod.wiring import make_key_store

        try:
            return Signer(*make_key_store(Settings()).signing_key())
        except (LookupError, OSError, ValueError) as exc:
            fail("key.none", str(exc), as_json=as_json)
    if sign:
        fail("request.invalid", "use --sign or --key-file, not both", as_json=as_json)
    if key_file is None or not key_pair_id:
        fail("request.invalid", "--key-file and --key-pair-id go together", as_json=as_json)
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    try:
        private = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        fail("request.invalid", f"cannot load {key_file}: {exc}", as_json=as_json)
    if not isinstance(private, rsa.RSAPrivateKey):
        fail("request.invalid", f"{key_file} is not an RSA private key", as_json=as_json)
    return Signer(key_pair_id, private)


def _print_human(result: CanaryResult) -> None:
    folder = result.url.rsplit("/", 1)[0] + "/"

    def short(target: str) -> str:
        return target[len(folder) :] if target.startswith(folder) and target != folder else target

    if result.error:
        print(f"FAIL canary {result.url}: {result.error}")
    for f in result.failed:
        print(f"FAIL {f.rule} {short(f.target)}: {f.message}")
    state = "healthy" if result.passed else "UNHEALTHY"
    detail = (
        f"{len(result.failed)} of {result.checked} checks failed"
        if result.failed or not result.passed
        else f"{result.checked} checks passed"
    )
    warnings = f", {result.warnings} warning(s)" if result.warnings else ""
    print(
        f"{state}: {result.url}: {detail}{warnings}; {result.requests} requests, "
        f"{result.bytes:,} bytes in {result.duration_ms:.0f} ms"
    )
