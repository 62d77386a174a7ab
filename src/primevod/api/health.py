"""The health route: the catalog and the object store answer."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from primevod import __version__
from primevod.api.deps import RuntimeDep
from primevod.core.assets import AssetStatus

router = APIRouter()


@router.get("/healthz", tags=["health"])
def healthz(
    rt: RuntimeDep,
) -> dict[str, Any]:
    checks = {"catalog": "ok", "store": "ok"}
    try:
        rt.catalog.count_assets(status=AssetStatus.READY.value)
    except Exception as exc:  # report, do not raise: this is the health route
        checks["catalog"] = f"error: {type(exc).__name__}"
    try:
        rt.store.exists(rt.settings.destination_bucket, "healthz")
    except Exception as exc:
        checks["store"] = f"error: {type(exc).__name__}"
    ok = all(v == "ok" for v in checks.values())
    return {"status": "ok" if ok else "degraded", "version": __version__, **checks}
