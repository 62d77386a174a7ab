"""Where an asset's objects live, and how its id is made: the one home of the storage
layout that the uploads, the inbox, the CLI, the steps and the edge share. Pure."""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath

_NAMESPACE = uuid.UUID("6f1c1a8e-5f55-4bd6-9d0e-2b8b8f0a7c11")  # the inbox's since 0.1


def new_asset_id(seed: str | None = None) -> str:
    """A random id; with `seed`, the same id for the same seed every time (the inbox takes a
    dropped file once, even when it looks twice)."""
    return str(uuid.uuid5(_NAMESPACE, seed) if seed is not None else uuid.uuid4())


def is_asset_id(text: str) -> bool:
    """Whether `text` is an asset id as `new_asset_id` makes them (a UUID, lower case)."""
    try:
        return str(uuid.UUID(text)) == text
    except ValueError:
        return False


def source_key(asset_id: str, filename: str) -> str:
    """The source object's key in the source bucket: `uploads/<asset>/<file name>`."""
    return f"uploads/{asset_id}/{PurePosixPath(filename).name}"


def asset_of_source(key: str) -> str | None:
    """The asset id in a source key made by `source_key` (None for any other key)."""
    parts = key.split("/")
    return parts[1] if len(parts) == 3 and parts[0] == "uploads" and parts[1] else None


def asset_prefix(asset_id: str) -> str:
    """Everything of an asset in the destination bucket."""
    return f"assets/{asset_id}/"


def attempt_of(execution_id: str) -> str:
    """`<asset>.<n>` -> `n` (the execution's number; the whole id when it has none)."""
    return execution_id.rsplit(".", 1)[-1]


def package_prefix(asset_id: str, execution_id: str) -> str:
    """One prefix per execution, `assets/<asset>/<n>/`: a retry never overwrites the package
    players are using, and a staged package is not live until the catalog points at it."""
    return f"{asset_prefix(asset_id)}{attempt_of(execution_id)}/"


def chunk_prefix(asset_id: str, execution_id: str) -> str:
    """Where a chunked execution keeps its encoded chunks, their thumbnails and the title's
    audio until the stitch: `assets/<asset>/chunks/<n>/`, beside (never inside) the package
    prefixes."""
    return f"{asset_prefix(asset_id)}chunks/{attempt_of(execution_id)}/"


def edge_base(public_base: str, asset_id: str) -> str:
    """The delivery folder of an asset on the edge: `<base>/vod/<asset>/`."""
    return f"{public_base.rstrip('/')}/vod/{asset_id}/"


def relative_to_package(key: str, prefix: str) -> str:
    """An output key as a path under the package (what players request on the edge)."""
    return key[len(prefix) :] if prefix and key.startswith(prefix) else key


def sidecar_key(batch: str, number: int) -> str:
    """A subtitle file given with a source (`subtitles` at upload init, `--subtitles`), in
    the source bucket: `subtitles/<batch>/<n>.txt` (WebVTT or SRT text; the batch is made
    before the asset has an id)."""
    return f"subtitles/{batch}/{number}.txt"


def is_sidecar_key(key: str) -> bool:
    """Whether `key` is one `sidecar_key` makes (32 hex digits, a number)."""
    parts = key.split("/")
    return (
        len(parts) == 3
        and parts[0] == "subtitles"
        and len(parts[1]) == 32
        and all(c in "0123456789abcdef" for c in parts[1])
        and parts[2].removesuffix(".txt").isdigit()
        and parts[2].endswith(".txt")
    )
