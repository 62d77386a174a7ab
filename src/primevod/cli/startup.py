"""Start-up without the cyclic garbage collector.

Importing the stack (SQLAlchemy, DBOS, pydantic models, PyAV) and wiring the adapters allocate
a few hundred thousand long-lived objects and almost no garbage; the collector, triggered by
the allocations, scans them again and again. On a 2-core machine that was 0.3 s of a 0.9 s
start (`benchmarks/pipeline_overhead.py`). While loading, the collector is off; afterwards
everything loaded is frozen (never scanned again) and collection resumes as before."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def loading() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
