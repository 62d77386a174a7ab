"""Lifecycle documents: the one shipped in `primevod/lifecycle/default.json` (the seed's
rules), or a file of the user's own."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from primevod.core.lifecycle import LifecycleConfiguration, LifecycleError, load_lifecycle

DEFAULT = "default.json"


def read_lifecycle(path: Path | None = None) -> LifecycleConfiguration:
    if path is None:
        text = resources.files("primevod.lifecycle").joinpath(DEFAULT).read_text()
        return load_lifecycle(text, DEFAULT)
    try:
        text = path.read_text()
    except OSError as exc:
        raise LifecycleError(f"{path}: {exc.strerror or exc}") from None
    return load_lifecycle(text, str(path))
