"""`primevod share ID`: a link that plays one asset without an API key until it expires (the
same signed token as `POST /api/v1/assets/{id}/share`)."""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

import typer

from primevod.cli.audited import asset_names, audited
from primevod.cli.output import fail, out
from primevod.core.public_base import local_server, public_base

JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON object")]


def register(app: typer.Typer) -> None:
    app.command("share")(share)


def _base(rt: Any) -> str:
    """The links' base as the API would give it: the public URL, else this machine's server
    (never a wildcard bind address such as 0.0.0.0)."""
    settings = rt.settings
    return public_base(settings.public_url, local_server(settings.host, settings.port))


def share(
    asset_id: Annotated[str, typer.Argument(help="the asset to share")],
    expires_in: Annotated[
        int | None,
        typer.Option(
            "--expires-in", help="seconds the link works (60 s to 90 days; default 7 days)"
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Print a watch link (and embed code with --json) that plays ASSET_ID without an API
    key until it expires; set PRIMEVOD_PUBLIC_URL to the address viewers reach."""
    from primevod import wiring
    from primevod.core.assets import AssetStatus
    from primevod.core.errors import NotFound
    from primevod.core.sharing import SHARE_DEFAULT_SECONDS, check_expires_in, new_share
    from primevod.core.signing import Signer

    if expires_in is None:
        expires_in = SHARE_DEFAULT_SECONDS
    try:
        check_expires_in(expires_in)
    except ValueError as exc:
        fail("request.invalid", str(exc), as_json=as_json)
    rt = wiring.build()
    audited(rt, "assets:Share", asset_names(rt, asset_id), as_json=as_json)
    try:
        asset = rt.catalog.get_asset(asset_id)
    except NotFound:
        fail("asset.not_found", f"no asset {asset_id}", as_json=as_json)
    if asset.status is not AssetStatus.READY:
        fail(
            "asset.conflict",
            f"asset {asset_id} is {asset.status.value}, not ready to share",
            as_json=as_json,
        )
    try:
        key_id, private = rt.signing_keys.signing_key()
    except LookupError as exc:
        fail("key.none", str(exc), as_json=as_json)
    expires = int(time.time()) + expires_in
    link = new_share(Signer(key_id, private), _base(rt), asset_id, asset.title, expires)
    if as_json:
        print(json.dumps(link, indent=2))
        return
    out.print(link["url"], soft_wrap=True)
    out.print(f"expires {link['expires_at']}; embed: {link['embed_url']}", soft_wrap=True)
