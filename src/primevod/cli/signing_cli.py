"""Signing keys (the key group) and `primevod sign`."""

from __future__ import annotations

import json
import time
from typing import Annotated

import typer

from primevod.cli.audited import audited
from primevod.cli.output import fail, out

keys_app = typer.Typer(help="RSA signing keys for signed URLs and cookies.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="signing-keys")
    app.command("sign")(sign)


def _store():
    from primevod.settings import Settings
    from primevod.wiring import make_key_store

    return make_key_store(Settings())  # private keys sealed with encryption at rest


@keys_app.command("create")
def create(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Make a new key pair; it signs new links, older active keys still verify."""
    audited(None, "signing:CreateKey", as_json=as_json)
    key = _store().create()
    print(json.dumps(key) if as_json else f"created {key['id']}")


@keys_app.command("list")
def list_keys(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Key-pair ids and states (active keys verify; the newest active key signs)."""
    keys = _store().list()
    if as_json:
        print(json.dumps(keys, indent=2))
        return
    for key in keys:
        out.print(f"{key['id']} {key['status']} created {key['created_at']}")


@keys_app.command("export-public")
def export_public(key_id: str) -> None:
    """Print a key's public half as PEM, as CloudFront's public keys take it (the AWS
    stack's `SigningPublicKey` parameter); the private half stays here, or goes into the
    stack's Secrets Manager secret."""
    try:
        print(_store().public_pem(key_id), end="")
    except KeyError:
        fail("key.not_found", f"no signing key {key_id}")


@keys_app.command("retire")
def retire(key_id: str) -> None:
    """Stop accepting links signed with this key."""
    audited(None, "signing:RetireKey", target=f"signing-key/{key_id}")
    try:
        _store().retire(key_id)
    except KeyError:
        fail("key.not_found", f"no signing key {key_id}")
    out.print(f"retired {key_id}")


def sign(
    url: str,
    expires_in: Annotated[int, typer.Option("--expires-in", help="seconds")] = 3600,
    resource: Annotated[str | None, typer.Option(help="policy resource, e.g. .../vod/ID/*")] = None,
    ip: Annotated[str | None, typer.Option(help="client address or CIDR")] = None,
    sha256: Annotated[bool, typer.Option("--sha256", help="Hash-Algorithm=SHA256")] = False,
) -> None:
    """Print a CloudFront-format signed URL (canned policy unless --resource or --ip)."""
    from primevod.core.signing import Signer

    if not url.startswith(("http://", "https://")):
        fail("request.invalid", "the URL must start with http:// or https://")
    if expires_in <= 0:
        fail("request.invalid", "--expires-in must be positive")
    try:
        key_id, private = _store().signing_key()
    except LookupError as exc:
        fail("key.none", str(exc))
    signer = Signer(key_id, private, "SHA256" if sha256 else "SHA1")
    print(signer.signed_url(url, int(time.time()) + expires_in, resource=resource, ip=ip))
