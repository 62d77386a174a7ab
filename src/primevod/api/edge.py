"""The delivery edge (CloudFront + OAC + key group role): destination objects only, and only
with a valid CloudFront-format signed URL or signed cookies. Byte ranges, ETag/304,
Cache-Control, gzip for manifests, HEAD, an access log line per request."""

from __future__ import annotations

import gzip
import json
import logging
import time
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from primevod.api.deps import RuntimeDep
from primevod.api.edge_cache import EdgeCache
from primevod.api.security_headers import ALWAYS
from primevod.core.assets import Asset, AssetStatus
from primevod.core.canary import USER_AGENT as CANARY_AGENT
from primevod.core.errors import NotFound
from primevod.core.metrics import status_class
from primevod.core.public_base import public_base as links_base
from primevod.core.signing import Rejected, Verifier
from primevod.core.storage import InvalidKey, ObjectNotFound, guess_type, validate_key
from primevod.observability import metrics
from primevod.observability.log_files import RotatingLogFile
from primevod.pipeline.runtime import Runtime, runtime
from primevod.ports.object_store import FileBackedStore, ObjectStore

router = APIRouter()
MANIFESTS = (".m3u8", ".mpd", ".vtt")
REASON_HEADER = "X-PrimeVOD-Reason"
_state: dict[str, Any] = {"verifier": None, "loaded": 0.0}
CACHE_SECONDS = 2.0  # how long an asset record and object metadata are reused per process
_cache: dict[tuple[str, ...], tuple[float, Any]] = {}


def _cached(key: tuple[str, ...], load: Any) -> Any:
    """A tiny TTL cache: a player's burst of segment requests costs one catalog read and one
    metadata read per object, not one per request. Invalidation shows within CACHE_SECONDS."""
    now = time.monotonic()
    hit = _cache.get(key)
    if hit is not None and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    value = load()
    if len(_cache) > 50_000:
        _cache.clear()
    _cache[key] = (now, value)
    return value


def _verifier(rt: Runtime) -> Verifier:
    """Public keys reloaded every 10 s, so rotation and retirement apply without a restart."""
    now = time.monotonic()
    if _state["verifier"] is None or now - _state["loaded"] > 10:
        _state["verifier"] = Verifier(rt.signing_keys.active_public_keys())
        _state["loaded"] = now
    return _state["verifier"]


def _access_log(rt: Runtime) -> logging.Logger:
    log = logging.getLogger("primevod.edge.access")
    if not log.handlers:
        folder = rt.settings.home / "logs"
        folder.mkdir(parents=True, exist_ok=True)
        # rotated by size and daily; the lifecycle workflow prunes the rotated files
        handler = RotatingLogFile(
            folder / "edge-access.log", int(rt.settings.log_rotate_mb * 2**20)
        )
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
    return log


def public_base(rt: Runtime, request: Request) -> str:
    """The base of the links this request's answer names (core/public_base.py)."""
    return links_base(rt.settings.public_url, f"{request.url.scheme}://{request.url.netloc}")


def delivery_layout(rt: Runtime, request: Request, asset_id: str, prefix: str) -> tuple[str, str]:
    """Where the asset's files are served from (the URL its playback signature covers, `*`
    after it) and the cookies' path: this server's edge (`/vod/<id>/`), or a CDN over the
    destination bucket (`<base>/<object prefix>`)."""
    cdn = rt.settings.playback_base_url
    if cdn:
        return f"{cdn.rstrip('/')}/{prefix}", f"/{prefix}"
    return f"{public_base(rt, request)}/vod/{asset_id}/", f"/vod/{asset_id}/"


def _log(
    rt: Runtime,
    request: Request,
    asset_id: str,
    path: str,
    status: int,
    sent: int,
    started: float,
    cache: str,
    reason: str = "",
) -> None:
    elapsed = time.perf_counter() - started
    metrics.inc("primevod_delivery_requests_total", **{"class": status_class(status)})
    if sent:
        metrics.inc("primevod_delivery_bytes_total", sent)
    # the hit ratio and origin latency describe viewers' traffic: the canary's is left out
    if cache in ("HIT", "MISS") and not request.headers.get("user-agent", "").startswith(
        CANARY_AGENT
    ):
        metrics.inc("primevod_edge_cache_total", result="hit" if cache == "HIT" else "miss")
        if cache == "MISS":
            metrics.observe("primevod_origin_latency_seconds", elapsed)
    _access_log(rt).info(
        json.dumps(
            {
                "ts": round(time.time(), 3),
                "ip": request.client.host if request.client else None,
                "method": request.method,
                "asset": asset_id,
                "path": path,
                "status": status,
                "bytes": sent,
                "ms": round(elapsed * 1000, 2),
                "cache": cache,
                "reason": reason or None,
                "agent": request.headers.get("user-agent"),
            }
        )
    )


def _deny(
    rt: Runtime,
    request: Request,
    asset_id: str,
    path: str,
    started: float,
    reason: str,
    detail: str,
    status: int = 403,
) -> Response:
    _log(rt, request, asset_id, path, status, 0, started, "DENY", reason)
    return JSONResponse(
        {"detail": detail, "reason": reason},
        status_code=status,
        headers={REASON_HEADER: reason, "Cache-Control": "no-store"},
    )


@router.api_route("/vod/{asset_id}/{path:path}", methods=["GET", "HEAD"], tags=["delivery"])
# async on purpose: the signature check and the lookups are cached and a segment comes from
# the page cache in well under a millisecond, less than a hop to the thread pool costs (the
# edge benchmark serves 1.6x the requests this way)
async def deliver(asset_id: str, path: str, request: Request, rt: RuntimeDep) -> Response:
    started = time.perf_counter()
    try:
        return _deliver(rt, asset_id, path, request, started)
    except Exception as exc:  # an origin failure: a logged, counted 5xx, never a bare crash
        logging.getLogger("primevod.edge").exception("delivery of %s/%s failed", asset_id, path)
        _log(rt, request, asset_id, path, 502, 0, started, "ERROR", type(exc).__name__)
        return JSONResponse(
            {"detail": "the origin could not serve this object", "reason": "origin-error"},
            status_code=502,
            headers={REASON_HEADER: "origin-error", "Cache-Control": "no-store"},
        )


def _deliver(rt: Runtime, asset_id: str, path: str, request: Request, started: float) -> Response:
    url = f"{public_base(rt, request)}{request.url.path}"
    if request.url.query:
        url += f"?{request.url.query}"
    try:
        _verifier(rt).check(
            url,
            cookies=dict(request.cookies),
            client_ip=request.client.host if request.client else None,
            now=time.time(),
        )
    except Rejected as exc:
        return _deny(rt, request, asset_id, path, started, exc.reason, str(exc))
    try:
        asset = _cached(("asset", asset_id), lambda: rt.catalog.get_asset(asset_id))
    except NotFound:
        return _deny(rt, request, asset_id, path, started, "not-found", "no such asset", 404)
    if asset.status is not AssetStatus.READY or not asset.output_prefix:
        return _deny(rt, request, asset_id, path, started, "not-ready", "asset not ready", 404)
    try:
        key = validate_key(asset.output_prefix + path)
    except InvalidKey:
        return _deny(rt, request, asset_id, path, started, "bad-path", "invalid path", 404)
    bucket = asset.output_bucket or rt.settings.destination_bucket
    try:
        info, local = _cached(("head", bucket, key), lambda: _locate(rt.store, bucket, key))
    except (ObjectNotFound, InvalidKey):
        return _deny(rt, request, asset_id, path, started, "not-found", "no such object", 404)
    cache = "-"  # a HEAD of a segment sends no body: no cache decision
    version = int(asset.metadata.get("delivery_version", 0))
    etag = f'"{info.etag.strip(chr(34))}-v{version}"'
    manifest = path.endswith(MANIFESTS)
    headers = {
        "ETag": etag,
        "Accept-Ranges": "bytes",
        "Content-Type": guess_type(key),
        "Cache-Control": "public, max-age=5" if manifest else "public, max-age=31536000, immutable",
        "Vary": "Accept-Encoding",
    }
    if request.headers.get("if-none-match") == etag:
        _log(rt, request, asset_id, path, 304, 0, started, "REVALIDATED")
        return Response(status_code=304, headers=headers)
    size = info.size
    range_header = request.headers.get("range")
    if range_header and not manifest:
        span = _parse_range(range_header, size)
        if span is None:
            _log(rt, request, asset_id, path, 416, 0, started, cache)
            return Response(status_code=416, headers={"Content-Range": f"bytes */{size}"})
        start, end = span
        body = b""
        if request.method != "HEAD":
            body, cache = _body(rt, bucket, key, info.etag, local, start, end)
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        headers["Content-Length"] = str(end - start + 1)
        _log(rt, request, asset_id, path, 206, len(body), started, cache)
        return Response(body, status_code=206, headers=headers)
    body = b""
    if request.method == "GET" or manifest:
        body, cache = _body(rt, bucket, key, info.etag, local)
    if manifest and "gzip" in request.headers.get("accept-encoding", ""):
        body = gzip.compress(body, compresslevel=5)
        headers["Content-Encoding"] = "gzip"
    if request.method == "HEAD":
        headers["Content-Length"] = str(len(body) if manifest else size)
        body = b""
    _log(rt, request, asset_id, path, 200, len(body), started, cache)
    return Response(body, status_code=200, headers=headers)


def _locate(store: ObjectStore, bucket: str, key: str) -> tuple[Any, Path | None]:
    """Object metadata and, for the local store, the file behind it (checked once, then
    read directly while cached)."""
    info = store.head(bucket, key)
    return info, (store.path_of(bucket, key) if isinstance(store, FileBackedStore) else None)


def forget(rt: Runtime, asset: Asset) -> None:
    """Drop what this process cached of an asset (its record, its objects' bytes); other
    processes see a change within CACHE_SECONDS."""
    _cache.pop(("asset", asset.id), None)
    content = _content_cache(rt)
    if content is not None and asset.output_prefix:
        bucket = asset.output_bucket or rt.settings.destination_bucket
        content.drop_prefix(bucket, asset.output_prefix)


def _content_cache(rt: Runtime) -> EdgeCache | None:
    if "content" not in _state:
        size = rt.settings.edge_cache_mb * 2**20
        _state["content"] = EdgeCache(size) if size > 0 else None
    cache: EdgeCache | None = _state["content"]
    return cache


def _body(
    rt: Runtime,
    bucket: str,
    key: str,
    etag: str,
    local: Path | None,
    start: int = 0,
    end: int | None = None,
) -> tuple[bytes, str]:
    """The object's bytes (or a range of them) and HIT when the content cache had them, MISS
    when they came from the origin store (a whole object is then kept for the next viewer)."""
    cache = _content_cache(rt)
    if cache is not None:
        whole = cache.get(bucket, key, etag)
        if whole is not None:
            return (whole if end is None else whole[start : end + 1]), "HIT"
        if end is None:
            body = _read(rt.store, bucket, key, local)
            cache.put(bucket, key, etag, body)
            return body, "MISS"
    return _read(rt.store, bucket, key, local, start, end), "MISS"


def _read(
    store: ObjectStore,
    bucket: str,
    key: str,
    local: Path | None,
    start: int = 0,
    end: int | None = None,
) -> bytes:
    if local is None:
        return store.get(bucket, key) if end is None else store.get_range(bucket, key, start, end)
    try:
        with open(local, "rb") as src:
            if end is None:
                return src.read()
            src.seek(start)
            return src.read(end - start + 1)
    except FileNotFoundError:
        _cache.pop(("head", bucket, key), None)
        raise ObjectNotFound(f"no object {bucket}/{key}") from None


def _parse_range(header: str, size: int) -> tuple[int, int] | None:
    """A single `bytes=` range within the object, else None (416)."""
    if not header.startswith("bytes=") or "," in header:
        return None
    first, _, last = header[6:].strip().partition("-")
    try:
        if first == "":
            length = int(last)
            if length <= 0:
                return None
            return max(0, size - length), size - 1
        start = int(first)
        end = int(last) if last else size - 1
    except ValueError:
        return None
    if start >= size or end < start:
        return None
    return start, min(end, size - 1)


class FastEdge:
    """ASGI wrapper: same-origin GET/HEAD requests under /vod/ go straight to `deliver`,
    skipping routing and middleware (a player's segment requests are most of the traffic);
    everything else, including cross-origin requests that need CORS headers, goes to the
    full application."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in ("GET", "HEAD")
            and scope["path"].startswith("/vod/")
            and not any(name == b"origin" for name, _ in scope["headers"])
        ):
            asset_id, _, path = scope["path"][5:].partition("/")
            if asset_id and path:
                response = await deliver(asset_id, path, Request(scope, receive), runtime())
                for name, value in ALWAYS.items():  # what SecurityHeaders adds elsewhere
                    response.headers.setdefault(name, value)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
