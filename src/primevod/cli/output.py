"""Shared CLI output: consoles, one-line errors, where a published file lives."""

from __future__ import annotations

import json
from typing import Any, NoReturn

import typer
from rich.console import Console

from primevod.core.assets import Asset
from primevod.core.errors import MediaError
from primevod.ports.object_store import FileBackedStore

out = Console()
err = Console(stderr=True)


def fail(
    code: str,
    message: str,
    *,
    as_json: bool = False,
    exit_code: int = 2,
    detail: Any = None,
    fields: dict[str, Any] | None = None,
) -> NoReturn:
    if as_json:
        error: dict[str, Any] = {"code": code, "message": message}
        if detail is not None:
            error["detail"] = detail
        print(json.dumps({"ok": False, **(fields or {}), "error": error}))
    err.print(f"[red]error[/red] {code}: {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(exit_code)


def fail_media(exc: MediaError, as_json: bool = False) -> NoReturn:
    detail: Any = None
    if exc.detail:
        try:
            detail = json.loads(exc.detail)
        except ValueError:
            detail = exc.detail
    fail(exc.code, exc.message, as_json=as_json, exit_code=2 if exc.permanent else 1, detail=detail)


def location(asset: Asset, key: str | None) -> str | None:
    """A published object as a file path (local store), an s3:// URL, or a public URL."""
    if not key:
        return None
    from primevod.pipeline.runtime import runtime

    rt = runtime()
    bucket = asset.output_bucket or rt.settings.destination_bucket
    if isinstance(rt.store, FileBackedStore):
        try:
            return str(rt.store.path_of(bucket, key))
        except Exception:
            return None
    return f"s3://{bucket}/{key}"


def asset_json(asset: Asset) -> dict[str, Any]:
    return {
        "asset_id": asset.id,
        "status": asset.status.value,
        "title": asset.title,
        "description": asset.description,
        "tags": asset.tags,
        "hls_path": location(asset, asset.hls_path),
        "dash_path": location(asset, asset.dash_path),
        "error": asset.error.model_dump() if asset.error else None,
        "execution_id": asset.execution_id,
        "duration": asset.duration,
        "renditions": [
            {
                k: r.get(k)
                for k in (
                    "kind",
                    "name",
                    "width",
                    "height",
                    "codecs",
                    "average_bitrate",
                    "peak_bitrate",
                    "bytes",
                )
            }
            for r in asset.renditions
        ],
    }
