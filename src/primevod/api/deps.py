"""The one FastAPI dependency through which routes reach the runtime (the adapters the
entry point wired): `rt: RuntimeDep` in a route's signature."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from primevod.pipeline.runtime import Runtime, runtime


def get_runtime() -> Runtime:
    return runtime()


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
